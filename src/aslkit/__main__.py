import sys

from aslkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
