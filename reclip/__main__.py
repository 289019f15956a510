"""``python -m reclip``: the command line (see reclip.cli.main)."""

import sys

from reclip.cli import main

sys.exit(main())
