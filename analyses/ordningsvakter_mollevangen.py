"""Ordningsvakter Möllevången (security guards from June 2021): did crime and insecurity fall?

The entry point of the evaluation. The analysis itself — the script with its steps and the
default configuration — ships with the package, so that it runs the same from a clone and from
an installed wheel: ``src/utvardering/analyses/ordningsvakter_mollevangen.py`` and ``ordningsvakter_mollevangen.toml``.

Run from the repository::

    python analyses/ordningsvakter_mollevangen.py [--quick] [--config FILE] [--out DIR] [--lang sv]

which is ``utvardering run ordningsvakter_mollevangen ...`` (see ``utvardering run --help``).
"""

import sys

from utvardering.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "ordningsvakter_mollevangen", *sys.argv[1:]]))
