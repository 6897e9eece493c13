"""`python -m runtime`: the same command line as `python app.py`."""

import sys

from runtime.cli import main

sys.exit(main())
