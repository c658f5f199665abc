"""``python -m mdm.cli``: the ``mdm`` command."""

import sys

from mdm.cli import main

# Airflow's plugin manager imports every file under plugins/ (this one too, by path):
# only ``python -m`` runs the command.
if __name__ == "__main__":
    sys.exit(main())
