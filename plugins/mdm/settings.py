"""Where things live and which database to use, read from the environment.

Every process (CLI, Airflow scheduler, task workers, tests) resolves the same
settings from the same variables, so they all find the same database:

- ``MDM_HOME``: local state (embedded database, Airflow home, dbt artefacts);
  default ``.mdm/`` in the checkout.
- ``MDM_DATABASE_URL``: an existing PostgreSQL server to use instead of the
  embedded one (the database named in the URL is the warehouse).
- ``MDM_LANDING_DIR``: the landing zone for department file drops.
- ``MDM_WAREHOUSE_DB`` / ``MDM_AIRFLOW_DB`` / ``MDM_FRONTEND_DB``: database names
  on the server (defaults ``mdm``, ``airflow``, ``frontend``).
- ``MDM_SHARED_DIR``: files every worker must see (the quality reports, Spark's
  checkpoints); default ``$MDM_HOME/shared``. With more than one worker it is a
  shared volume, like the landing zone.
- ``MDM_SHARE_LOG_LOOPBACK``: how the database server reaches itself to write the share
  read log (libpq URL or keywords; default: the address and port the platform's own
  connection arrived on). With ``user`` and ``password`` it names a log-writer login a DBA
  made; without, the platform generates ``mdm_share_log_writer`` and its password.
- ``MDM_SPLINK_BACKEND``: where Splink runs, ``duckdb`` (in process, default) or
  ``spark``; ``MDM_SPARK_MASTER`` names the Spark master (default ``local[2]``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

# plugins/mdm/settings.py -> the checkout root
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = PROJECT_ROOT / "dags"
PLUGINS_DIR = PROJECT_ROOT / "plugins"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

DEFAULT_WAREHOUSE_DB = "mdm"
DEFAULT_AIRFLOW_DB = "airflow"
DEFAULT_FRONTEND_DB = "frontend"
TIMEZONE = "Asia/Shanghai"
SPLINK_BACKENDS = ("duckdb", "spark")
# Airflow connection ids; deployments set AIRFLOW_CONN_<ID> or a secrets backend.
WAREHOUSE_CONN_ID = "mdm_warehouse"
FRONTEND_CONN_ID = "frontend_db"


@dataclass(frozen=True)
class Settings:
    home: Path
    landing_dir: Path
    external_database_url: str | None
    warehouse_db: str
    airflow_db: str
    frontend_db: str
    shared_dir: Path
    splink_backend: str = "duckdb"
    spark_master: str = "local[2]"
    share_log_loopback: str | None = None

    @property
    def uses_embedded_database(self) -> bool:
        return self.external_database_url is None

    @property
    def pgdata_dir(self) -> Path:
        return self.home / "pgdata"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def dbt_target_dir(self) -> Path:
        return self.home / "dbt" / "target"

    @property
    def dbt_log_dir(self) -> Path:
        return self.home / "dbt" / "logs"

    @property
    def reports_dir(self) -> Path:
        return self.shared_dir / "reports"

    @property
    def spark_checkpoint_dir(self) -> Path:
        return self.shared_dir / "spark-checkpoints"

    @property
    def database_names(self) -> tuple[str, str, str]:
        return (self.warehouse_db, self.airflow_db, self.frontend_db)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("MDM_HOME") or PROJECT_ROOT / ".mdm").expanduser().resolve()
    landing = Path(env.get("MDM_LANDING_DIR") or home / "landing").expanduser().resolve()
    external = env.get("MDM_DATABASE_URL") or None
    warehouse_db = env.get("MDM_WAREHOUSE_DB") or ""
    if external and not warehouse_db:
        # The database named in MDM_DATABASE_URL is the warehouse.
        warehouse_db = urlsplit(external).path.lstrip("/")
    backend = (env.get("MDM_SPLINK_BACKEND") or "duckdb").strip().lower()
    if backend not in SPLINK_BACKENDS:
        raise ValueError(
            f"MDM_SPLINK_BACKEND={backend!r} is not a Splink backend we run: "
            f"set it to one of {', '.join(SPLINK_BACKENDS)}"
        )
    return Settings(
        home=home,
        landing_dir=landing,
        shared_dir=Path(env.get("MDM_SHARED_DIR") or home / "shared").expanduser().resolve(),
        splink_backend=backend,
        spark_master=env.get("MDM_SPARK_MASTER") or "local[2]",
        share_log_loopback=env.get("MDM_SHARE_LOG_LOOPBACK") or None,
        external_database_url=external,
        warehouse_db=warehouse_db or DEFAULT_WAREHOUSE_DB,
        airflow_db=env.get("MDM_AIRFLOW_DB") or DEFAULT_AIRFLOW_DB,
        frontend_db=env.get("MDM_FRONTEND_DB") or DEFAULT_FRONTEND_DB,
    )
