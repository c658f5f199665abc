"""MDM_DATABASE_URL: another PostgreSQL is used for everything, nothing embedded starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from cli_process import run_mdm

from mdm.db import embedded
from mdm.db.migrate import available_migrations
from mdm.settings import load_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def other_server():
    """A separate PostgreSQL server standing in for a real external one."""
    home = Path(tempfile.mkdtemp(prefix="mdm-ext-"))
    home.chmod(0o755)
    settings = load_settings({"MDM_HOME": str(home)})
    info = embedded.start(settings)
    yield info.url("postgres")
    embedded.stop(settings)
    shutil.rmtree(home, ignore_errors=True)


def _mdm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_mdm(*args, env=env, timeout=300)


def test_everything_uses_the_external_server(other_server, tmp_path):
    external_url = other_server.rsplit("/", 1)[0] + "/warehouse_ext"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MDM_", "AIRFLOW"))}
    env.update({"MDM_HOME": str(tmp_path / "home"), "MDM_DATABASE_URL": external_url})

    # The warehouse database must exist on a real server; the others we create.
    with psycopg.connect(other_server, autocommit=True) as conn:
        conn.execute("create database warehouse_ext")

    started = _mdm("db", "start", env=env)
    assert started.returncode == 0, started.stderr
    assert "external PostgreSQL" in started.stdout
    assert not (tmp_path / "home" / "pgdata").exists(), "an embedded server was initialised"

    url = _mdm("db", "url", "--database", "frontend", "--show-password", env=env)
    assert url.stdout.strip() == external_url.rsplit("/", 1)[0] + "/frontend"
    # Without --show-password, and in `db start`'s output, the password is redacted.
    password = psycopg.conninfo.conninfo_to_dict(external_url)["password"]
    assert password and password not in _mdm("db", "url", env=env).stdout
    assert password not in started.stdout + started.stderr

    airflow_env = _mdm("airflow", "env", env=env).stdout
    assert f"{external_url.rsplit('/', 1)[0].split('://')[1]}/airflow" in airflow_env
    assert "AIRFLOW_CONN_MDM_WAREHOUSE='postgres://" in airflow_env

    built = _mdm("dbt", "build", "--select", "staging.ops", env=env)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]

    with psycopg.connect(external_url) as conn:
        assert conn.execute("select count(*) from staging.stg_ops__run_log").fetchone() == (0,)
        applied = [
            v for (v,) in conn.execute("select version from ops.schema_migration order by 1")
        ]
        assert applied == [m.version for m in available_migrations()] and applied[0] == "0001"
    with psycopg.connect(other_server) as conn:
        names = {r[0] for r in conn.execute("select datname from pg_database")}
    assert {"warehouse_ext", "airflow", "frontend"} <= names

    # Not ours to stop: the external server keeps running.
    assert "not ours to stop" in _mdm("db", "stop", env=env).stdout
    with psycopg.connect(external_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_unreachable_external_server_is_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MDM_", "AIRFLOW"))}
    env.update(
        {"MDM_HOME": str(tmp_path), "MDM_DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:1/x"}
    )
    result = _mdm("db", "start", env=env)
    assert result.returncode == 4  # environment
    assert "cannot reach MDM_DATABASE_URL" in result.stderr
    assert "hunter2" not in result.stderr
