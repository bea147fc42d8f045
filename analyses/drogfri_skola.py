"""Drogfri skola (narcotics-dog searches in schools, spring 2019): did drug crime and drug use change?

The entry point of the evaluation. The analysis itself — the script with its steps and the
default configuration — ships with the package, so that it runs the same from a clone and from
an installed wheel: ``src/utvardering/analyses/drogfri_skola.py`` and ``drogfri_skola.toml``.

Run from the repository::

    python analyses/drogfri_skola.py [--quick] [--config FILE] [--out DIR] [--lang sv]

which is ``utvardering run drogfri_skola ...`` (see ``utvardering run --help``).
"""

import sys

from utvardering.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "drogfri_skola", *sys.argv[1:]]))
