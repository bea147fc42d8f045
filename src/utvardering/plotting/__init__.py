"""matplotlib figures, one module per figure family; they read Effects and never fit models."""
