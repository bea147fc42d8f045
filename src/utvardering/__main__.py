"""``python -m utvardering ...``: the command line (the same as the ``utvardering`` command)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
