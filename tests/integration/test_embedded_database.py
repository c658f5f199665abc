"""The embedded server: idempotent start, one server, data survives, clean stop."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import psutil
import psycopg
import pytest
from cli_process import run_mdm

from mdm import db
from mdm.db import embedded
from mdm.settings import load_settings

pytestmark = pytest.mark.integration


def _mdm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_mdm(*args, env=env, timeout=180)


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


def _refused(**params: object) -> str:
    """The error of a connection attempt that must fail (passfile: not the user's ~/.pgpass)."""
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(passfile="/nonexistent", connect_timeout=5, **params).close()
    return str(refused.value)


def _no_password_is_refused(settings) -> None:  # type: ignore[no-untyped-def]
    info = embedded.status(settings)
    assert info is not None
    tcp = {"host": info.host, "port": info.port, "user": "postgres", "dbname": "mdm"}
    assert "no password supplied" in _refused(**tcp)
    assert "password authentication failed" in _refused(**tcp, password="postgres")  # noqa: S106
    # The socket in the data directory asks for the password too.
    if (settings.pgdata_dir / f".s.PGSQL.{info.port}").exists():
        socket = {**tcp, "host": str(settings.pgdata_dir)}
        assert "no password supplied" in _refused(**socket)
    # The password from $MDM_HOME/secrets, carried by the URLs we build, is let in.
    with psycopg.connect(db.warehouse_url(settings)) as conn:
        assert conn.execute("select current_user").fetchone() == ("postgres",)


@pytest.mark.skipif(
    bool(os.environ.get("MDM_DATABASE_URL")), reason="the session uses an external server"
)
def test_the_session_server_refuses_connections_without_the_password(settings):
    _no_password_is_refused(settings)
    secret = embedded.password_file(settings)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.parent.stat().st_mode) == 0o700
    password = embedded.superuser_password(settings)
    assert password in db.warehouse_url(settings)
    # What is printed carries no password: the passfile (0600) holds it for psql.
    shown = db.display_url(settings, settings.warehouse_db)
    assert password not in shown and "passfile=" in shown
    assert password not in repr(embedded.status(settings))
    with psycopg.connect(shown) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def _make_like_the_old_code(settings) -> None:  # type: ignore[no-untyped-def]
    """Turn a stopped cluster into what the older code made: trust, no password, no secret."""
    embedded._pg(
        "postgres",
        ["--single", "-D", str(settings.pgdata_dir), "postgres"],
        settings,
        stdin="alter role postgres password null;\n",
    )
    hba = settings.pgdata_dir / "pg_hba.conf"
    hba.write_text(
        "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"
    )
    shutil.rmtree(settings.home / "secrets")


def _start_like_the_old_code(settings) -> None:  # type: ignore[no-untyped-def]
    port = embedded._recorded_port(settings)
    embedded._pg(
        "pg_ctl",
        ["-D", str(settings.pgdata_dir), "-w", "-l", str(embedded._log_file(settings)),
         "-o", f"-h 127.0.0.1 -p {port} -k ''", "start"],
        settings,
    )  # fmt: skip


def test_a_data_directory_of_the_old_code_is_secured_by_db_start(private_home):
    """An existing .mdm/ (trust auth) keeps its data and needs the password after `db start`,
    whether its server was running (converted live) or stopped (converted before start)."""
    settings = load_settings(private_home)
    assert _mdm("db", "start", env=private_home).returncode == 0
    with psycopg.connect(db.warehouse_url(settings)) as conn:
        conn.execute("create table kept (id int primary key)")
        conn.execute("insert into kept values (1)")
    embedded.stop(settings)

    for running in (True, False):
        _make_like_the_old_code(settings)
        if running:
            _start_like_the_old_code(settings)
            info = embedded.status(settings)
            assert info is not None
            # The old state: anyone on the machine is superuser without a password.
            with psycopg.connect(
                host=info.host, port=info.port, user="postgres", dbname="mdm", passfile="/x"
            ) as conn:
                assert conn.execute("select count(*) from kept").fetchone() == (1,)
        started = _mdm("db", "start", env=private_home)
        assert started.returncode == 0, started.stderr
        assert "let any local user in (trust)" in started.stderr
        _no_password_is_refused(settings)
        with psycopg.connect(db.warehouse_url(settings)) as conn:
            assert conn.execute("select count(*) from kept").fetchone() == (1,)
        assert embedded.superuser_password(settings) not in started.stdout + started.stderr
        embedded.stop(settings)


def test_a_failed_step_is_stored_in_the_run_log_without_a_password(warehouse_url):
    from mdm.runlog import logged_step

    with pytest.raises(RuntimeError), logged_step(warehouse_url, "redaction", "connect"):
        raise RuntimeError("could not connect to postgresql://u@h/d?password=hunter2")
    with psycopg.connect(warehouse_url) as conn:
        error = conn.execute(
            "select detail->>'error' from ops.run_log where run_id = 'redaction'"
        ).fetchone()
    assert error == ("RuntimeError: could not connect to postgresql://u@h/d?password=***",)


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as another OS user only as root")
def test_as_root_a_closed_mdm_home_is_not_opened_to_every_user(monkeypatch):
    """MDM_HOME under a 0700 folder: the data directory goes where the server's user may
    enter, binaries it cannot reach are copied there; no parent directory is chmodded."""
    import tempfile
    from pathlib import Path

    closed = Path(tempfile.mkdtemp(prefix="mdm-closed-"))  # 0700, root's
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MDM_", "AIRFLOW"))}
    env["MDM_HOME"] = str(closed / "home")
    settings = load_settings(env)
    relocated = None
    try:
        started = _mdm("db", "start", env=env)
        assert started.returncode == 0, started.stderr
        assert stat.S_IMODE(closed.stat().st_mode) == 0o700
        assert settings.pgdata_dir.is_symlink()
        relocated = settings.pgdata_dir.resolve()
        assert relocated.is_relative_to(embedded.ROOT_STATE_DIR)
        assert relocated.owner() == embedded.SERVER_OS_USER_WHEN_ROOT
        _no_password_is_refused(settings)
        # Binaries under a closed folder: a copy the server's user can run.
        install = closed / "pginstall"
        shutil.copytree(embedded._package_install_dir(), install, symlinks=True)
        monkeypatch.setattr(embedded, "_package_install_dir", lambda: install)
        bin_dir = embedded._bin_dir()
        assert bin_dir.is_relative_to(embedded.ROOT_STATE_DIR)
        assert "PostgreSQL" in embedded._pg("pg_ctl", ["--version"], settings)
        monkeypatch.undo()
        shutil.rmtree(bin_dir.parent)
    finally:
        embedded.stop(settings)
        shutil.rmtree(closed, ignore_errors=True)
        if relocated is not None:
            shutil.rmtree(relocated.parent, ignore_errors=True)


def test_a_lost_password_file_is_replaced_at_the_next_start(private_home):
    settings = load_settings(private_home)
    embedded.start(settings)
    db.ensure_databases(settings)
    old = embedded.superuser_password(settings)
    shutil.rmtree(settings.home / "secrets")
    # While the server runs it keeps the old password: say what to do.
    with pytest.raises(embedded.EmbeddedDatabaseError, match="run `mdm db stop`"):
        embedded.start(settings)
    embedded.stop(settings)
    embedded.start(settings)
    new = embedded.superuser_password(settings)
    assert new != old
    with psycopg.connect(db.warehouse_url(settings)) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    info = embedded.status(settings)
    assert info is not None
    assert "password authentication failed" in _refused(
        host=info.host, port=info.port, user="postgres", dbname="mdm", password=old
    )


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
