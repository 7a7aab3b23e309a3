import sys

from txlint.cli import main

sys.exit(main())
