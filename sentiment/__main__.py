"""Entry point: ``python -m sentiment ...``."""

import sys

from sentiment.cli import main

sys.exit(main())
