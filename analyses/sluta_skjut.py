"""Sluta skjut (Malmö's group violence intervention, from October 2018): did it reduce shootings?

The entry point of the evaluation. The analysis itself — the script with its steps and the
default configuration — ships with the package, so that it runs the same from a clone and from
an installed wheel: ``src/utvardering/analyses/sluta_skjut.py`` and ``sluta_skjut.toml``.

Run from the repository::

    python analyses/sluta_skjut.py [--quick] [--config FILE] [--out DIR] [--lang sv]

which is ``utvardering run sluta_skjut ...`` (see ``utvardering run --help``).
"""

import sys

from utvardering.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "sluta_skjut", *sys.argv[1:]]))
