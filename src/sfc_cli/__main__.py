"""``python -m sfc_cli``: the same as the ``sfc`` command."""

import sys

from sfc_cli.main import main

sys.exit(main())
