"""The embedded server: idempotent start, one server, data survives, clean stop."""

from __future__ import annotations

import subprocess
import sys

import psutil
import psycopg
import pytest

from mdm import db
from mdm.db import embedded
from mdm.settings import load_settings

pytestmark = pytest.mark.integration


def _mdm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mdm.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


@pytest.fixture
def private_home(tmp_path_factory, monkeypatch):
    """A second MDM_HOME with its own embedded server (stopped afterwards)."""
    import os
    import tempfile
    from pathlib import Path

    home = Path(tempfile.mkdtemp(prefix="mdm-dbtest-"))
    home.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MDM_", "AIRFLOW"))}
    env["MDM_HOME"] = str(home)
    yield env
    embedded.stop(load_settings(env))
    import shutil

    shutil.rmtree(home, ignore_errors=True)


def test_start_twice_is_one_server_and_stop_leaves_no_process(private_home):
    first = _mdm("db", "start", env=private_home)
    assert first.returncode == 0, first.stderr
    second = _mdm("db", "start", env=private_home)
    assert second.returncode == 0, second.stderr
    # Both print the same URL: the second start attached to the first server.
    assert first.stdout.splitlines()[-1] == second.stdout.splitlines()[-1]

    settings = load_settings(private_home)
    info = embedded.status(settings)
    assert info is not None
    pgdata = str(settings.pgdata_dir)
    postmasters = [
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "postgres" and pgdata in " ".join(p.info["cmdline"] or [])
    ]
    assert len(postmasters) == 1

    # The three databases exist and the warehouse is migrated.
    with psycopg.connect(db.server_url(settings, "postgres")) as conn:
        names = {r[0] for r in conn.execute("select datname from pg_database")}
    assert {"mdm", "airflow", "frontend"} <= names

    status = _mdm("db", "status", env=private_home)
    assert status.returncode == 0 and f":{info.port}" in status.stdout

    stop = _mdm("db", "stop", env=private_home)
    assert stop.returncode == 0 and "stopped" in stop.stdout
    assert not psutil.pid_exists(info.pid)
    assert embedded.status(settings) is None
    assert _mdm("db", "status", env=private_home).returncode == 1
    with pytest.raises(db.DatabaseUnavailableError, match="mdm db start"):
        db.warehouse_url(settings)


def test_data_survives_a_restart(private_home):
    settings = load_settings(private_home)
    embedded.start(settings)
    db.ensure_databases(settings)
    with psycopg.connect(db.warehouse_url(settings)) as conn:
        conn.execute("create table kept (id int primary key, name text)")
        conn.execute("insert into kept values (1, '韦小宝'), (2, 'O''Brien; drop table kept;--')")
    embedded.stop(settings)
    embedded.start(settings)
    with psycopg.connect(db.warehouse_url(settings)) as conn:
        rows = conn.execute("select id, name from kept order by id").fetchall()
    assert rows == [(1, "韦小宝"), (2, "O'Brien; drop table kept;--")]


def test_session_database_is_reachable_and_migrated(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("create temporary table probe (n int)")
        conn.execute("insert into probe select generate_series(1, 100)")
        assert conn.execute("select sum(n) from probe").fetchone() == (5050,)
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace")}
        versions = [r[0] for r in conn.execute("select version from ops.schema_migration")]
    assert {
        "raw",
        "ops",
        "quarantine",
        "staging",
        "resolve",
        "mdm",
        "analyst",
        "quality",
    } <= schemas
    assert "0001" in versions


def test_a_port_taken_between_choosing_and_binding_is_retried(private_home, monkeypatch):
    import socket

    settings = load_settings(private_home)
    # Another program takes the chosen port before the server binds it.
    taker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taker.bind((embedded.HOST, 0))
    taker.listen()
    taken = taker.getsockname()[1]
    chosen = iter([taken])
    real_free_port = embedded._free_port
    monkeypatch.setattr(embedded, "_free_port", lambda: next(chosen, None) or real_free_port())
    try:
        info = embedded.start(settings)
    finally:
        taker.close()
    assert info.port != taken
    assert embedded.status(settings) == info
    with psycopg.connect(db.server_url(settings, "postgres")) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
