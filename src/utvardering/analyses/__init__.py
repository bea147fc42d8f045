"""The three Malmö evaluations, shipped with the package.

Each analysis is a script ``<name>.py`` defining ``run(ctx)`` (and optionally ``STEPS``) with
its default configuration ``<name>.toml`` beside it. Run one with ``utvardering run <name>``
(or ``python -m utvardering.analyses.<name>``); :func:`utvardering.report.run_analysis`
loads them from this folder, or from a folder given explicitly with ``--analyses-dir``.
Nothing here is imported by ``import utvardering``.
"""
