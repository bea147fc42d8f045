"""Reports: provenance records, small-count suppression, Markdown and HTML writers."""
