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
- ``MDM_FRONTEND_OVERLAP_MINUTES`` (default 10): a front-end pull re-reads the rows
  stamped up to this long before its mark (late commits, skewed clocks, lowered GXSJ);
  ``MDM_FRONTEND_MARK_LAG_MINUTES`` (default 5): the mark never passes the source's
  own clock minus this; ``MDM_FRONTEND_RECONCILE_HOURS`` (default 24, 0 = only on
  request): how often a pull compares the whole front-end table with ``raw``.
- ``MDM_ENVIRONMENT``: ``development`` (default) or ``production``. Production
  refuses to start the embedded server (``MDM_DATABASE_URL`` is required) and
  refuses placeholder secrets (``change-me`` of ``.env.example``).
- ``MDM_SHARE_LOG_LOOPBACK``: how the database server reaches itself to write the share
  read log (libpq URL or keywords; default: the address and port the platform's own
  connection arrived on). With ``user`` and ``password`` it names a log-writer login a DBA
  made; without, the platform generates ``mdm_share_log_writer`` and its password.
- ``MDM_SPLINK_BACKEND``: where Splink runs, ``duckdb`` (in process, default) or
  ``spark``; ``MDM_SPARK_MASTER`` names the Spark master (default ``local[2]``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

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
ENVIRONMENTS = ("development", "production")
# The values of .env.example and their usual friends: never a secret in production.
PLACEHOLDER_SECRETS = frozenset(
    {"change-me", "changeme", "change_me", "changethis", "replace-me", "secret", "password",
     "example", "xxx", "todo", "test", "admin", "postgres"}
)  # fmt: skip
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|_KEY$", re.IGNORECASE)
# Airflow connection ids; deployments set AIRFLOW_CONN_<ID> or a secrets backend.
WAREHOUSE_CONN_ID = "mdm_warehouse"
FRONTEND_CONN_ID = "frontend_db"
# The Airflow pool of the tasks that work in the warehouse: nineteen ingestion DAGs at 06:00
# take turns instead of opening nineteen loads at once (docs/adr/0024). Created with this many
# slots when missing (MDM_WAREHOUSE_POOL_SLOTS); an operator's later change in the UI stays.
WAREHOUSE_POOL = "mdm_warehouse"
DEFAULT_WAREHOUSE_POOL_SLOTS = 4


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
    frontend_overlap: dt.timedelta = dt.timedelta(minutes=10)
    frontend_mark_lag: dt.timedelta = dt.timedelta(minutes=5)
    frontend_reconcile_every: dt.timedelta | None = dt.timedelta(hours=24)  # None: on request
    environment: str = "development"
    share_log_loopback: str | None = None

    @property
    def uses_embedded_database(self) -> bool:
        return self.external_database_url is None

    @property
    def is_production(self) -> bool:
        """Production needs MDM_DATABASE_URL and real secrets (MDM_ENVIRONMENT=production)."""
        return self.environment == "production"

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
    def outbox_dir(self) -> Path:
        """The platform's outbound file drops (standard 6): correction requests. Shared: the
        task that writes them may run on any worker."""
        return self.shared_dir / "outbox"

    @property
    def spark_checkpoint_dir(self) -> Path:
        return self.shared_dir / "spark-checkpoints"

    @property
    def database_names(self) -> tuple[str, str, str]:
        return (self.warehouse_db, self.airflow_db, self.frontend_db)


def _duration(env: Mapping[str, str], name: str, default: float, unit: str) -> dt.timedelta:
    text = (env.get(name) or "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise ValueError(f"{name}={text!r} is not a number of {unit} >= 0: set it or unset it")
    return dt.timedelta(**{unit: value})


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
    environment = (env.get("MDM_ENVIRONMENT") or "development").strip().lower()
    if environment not in ENVIRONMENTS:
        raise ValueError(
            f"MDM_ENVIRONMENT={environment!r}: set it to one of {', '.join(ENVIRONMENTS)}"
        )
    return Settings(
        home=home,
        environment=environment,
        landing_dir=landing,
        shared_dir=Path(env.get("MDM_SHARED_DIR") or home / "shared").expanduser().resolve(),
        splink_backend=backend,
        spark_master=env.get("MDM_SPARK_MASTER") or "local[2]",
        frontend_overlap=_duration(env, "MDM_FRONTEND_OVERLAP_MINUTES", 10, "minutes"),
        frontend_mark_lag=_duration(env, "MDM_FRONTEND_MARK_LAG_MINUTES", 5, "minutes"),
        frontend_reconcile_every=(
            _duration(env, "MDM_FRONTEND_RECONCILE_HOURS", 24, "hours") or None
        ),
        share_log_loopback=env.get("MDM_SHARE_LOG_LOOPBACK") or None,
        external_database_url=external,
        warehouse_db=warehouse_db or DEFAULT_WAREHOUSE_DB,
        airflow_db=env.get("MDM_AIRFLOW_DB") or DEFAULT_AIRFLOW_DB,
        frontend_db=env.get("MDM_FRONTEND_DB") or DEFAULT_FRONTEND_DB,
    )


class InsecureConfigurationError(RuntimeError):
    """A production start-up with a placeholder secret or without its own database."""


def _secrets_in(name: str, value: str) -> Iterator[str]:
    """The secrets a variable carries: its value when its name says so, the passwords of a URL."""
    if _SECRET_NAME.search(name):
        yield value
    if "://" in value:
        try:
            parts = urlsplit(value)
            password = parts.password
        except ValueError:
            return
        if password is not None:
            yield password
        yield from (v for k, v in parse_qsl(parts.query) if "password" in k.lower())


def placeholder_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Names of the variables whose secret is a placeholder (``change-me``, ...)."""
    env = os.environ if environ is None else environ
    return sorted(
        name
        for name, value in env.items()
        if any(secret.strip().lower() in PLACEHOLDER_SECRETS for secret in _secrets_in(name, value))
    )


def refuse_placeholder_secrets(environ: Mapping[str, str] | None = None) -> None:
    """Raise :class:`InsecureConfigurationError` naming every variable with a placeholder."""
    found = placeholder_secrets(environ)
    if found:
        raise InsecureConfigurationError(
            f"MDM_ENVIRONMENT=production refuses placeholder secrets in {', '.join(found)} "
            "(the values of .env.example): set real ones in .env, e.g. "
            '`python -c "import secrets; print(secrets.token_urlsafe(32))"`, and start again'
        )


def write_secret_file(path: Path, value: str, *, replace: bool = True) -> None:
    """Write ``value`` to ``path`` readable by its owner only (0600, in a 0700 folder).

    The file never exists with wider permissions, not even for a moment. With
    ``replace=False`` an existing file wins (two processes creating one secret agree)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # a leftover of a crash: never reuse its mode
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    try:
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if another process made the file first
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
