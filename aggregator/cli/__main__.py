"""``python -m aggregator.cli``: the same as the ``aggregator`` command."""

import sys

from aggregator.cli import main

sys.exit(main())
