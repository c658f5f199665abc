"""``python -m mdm.cli``: the ``mdm`` command."""

import sys

from mdm.cli import main

sys.exit(main())
