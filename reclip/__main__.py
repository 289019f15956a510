"""``python -m reclip``: the command line (see reclip.cli)."""

import sys

from reclip.cli import main

sys.exit(main())
