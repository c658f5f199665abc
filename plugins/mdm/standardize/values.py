"""The code lists of the standardisation rules, for the Python that needs them.

The rules are SQL functions of schema ``std`` that dbt builds, one file per rule in
``dbt_project/functions`` (ADR 0013); their code lists and rename tables are the seeds in
``dbt_project/seeds/std``. Python reads the same seeds: the generator writes names back in
traditional characters and addresses with old county names, the registry checks delivered
ethnicity codes. Each list has one home, the seed.
"""

from __future__ import annotations

import csv
import functools
import logging

from mdm.settings import DBT_PROJECT_DIR

logger = logging.getLogger(__name__)

SEEDS_DIR = DBT_PROJECT_DIR / "seeds" / "std"


@functools.cache
def seed_rows(name: str) -> tuple[dict[str, str], ...]:
    """The rows of the seed ``dbt_project/seeds/std/<name>.csv``, in file order."""
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as seed:
        return tuple(csv.DictReader(seed))


# Traditional -> simplified, for matching keys only (std.name_key).
TRADITIONAL_CHARS = "".join(row["traditional"] for row in seed_rows("traditional_characters"))
SIMPLIFIED_CHARS = "".join(row["simplified"] for row in seed_rows("traditional_characters"))
# Old county names in addresses -> today's (std.clean_address).
OLD_COUNTY_NAMES = {row["old_name"]: row["new_name"] for row in seed_rows("county_renames")}
