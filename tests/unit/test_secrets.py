"""Secrets: one redaction for everything printed or logged, placeholder secrets refused in
production, the embedded server refused in production, secret files 0600."""

from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from cli_process import run_mdm

from mdm import db
from mdm.connections import RedactingFilter, redact_url
from mdm.db import embedded
from mdm.settings import (
    PLACEHOLDER_SECRETS,
    PROJECT_ROOT,
    InsecureConfigurationError,
    load_settings,
    placeholder_secrets,
    refuse_placeholder_secrets,
    write_secret_file,
)

pytestmark = pytest.mark.unit

SECRET = "s3cr3t-Value_9"  # noqa: S105 - a test value to find in outputs


UNCHANGED = (
    'password authentication failed for user "u"',
    "fe_sendauth: no password supplied",
    "postgresql://u@h/d?passfile=/home/u/.mdm/secrets/pgpass",
    "AIRFLOW_ADMIN_USER=admin",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://u:s3cr3t-Value_9@h:1/d", "postgresql://u:***@h:1/d"),
        ("postgresql://u@h/d", "postgresql://u@h/d"),
        ("postgresql://h:5432/d", "postgresql://h:5432/d"),
        # query-string passwords, which the old redact_url missed
        (
            "postgresql://u@h/d?password=s3cr3t-Value_9&sslmode=require",
            "postgresql://u@h/d?password=***&sslmode=require",
        ),
        ("postgresql://u@h/d?sslpassword=s3cr3t-Value_9#x", "postgresql://u@h/d?sslpassword=***#x"),
        ("postgresql://u@h/d?PASSWORD=s3cr3t-Value_9", "postgresql://u@h/d?PASSWORD=***"),
        # a password with an unencoded "@": everything up to the host goes
        ("postgresql+psycopg2://a:s3cr3t@Value_9@pg:5432/af", "postgresql+psycopg2://a:***@pg:5432/af"),
        ("redis://:s3cr3t-Value_9@redis:6379/0", "redis://:***@redis:6379/0"),
        # libpq conninfo strings, quoted or not
        ("host=h password=s3cr3t-Value_9 dbname=d", "host=h password=*** dbname=d"),
        ("host=h password = 's3cr3t Value\\'9' dbname=d", "host=h password = *** dbname=d"),
        # key/value listings: dict reprs, environment exports
        ("{'user': 'u', 'password': 's3cr3t-Value_9'}", "{'user': 'u', 'password': ***}"),
        ("export AIRFLOW__API_AUTH__JWT_SECRET='s3cr3t-Value_9'",
         "export AIRFLOW__API_AUTH__JWT_SECRET=***"),
        ("PGPASSWORD=s3cr3t-Value_9 psql", "PGPASSWORD=*** psql"),
        ("MDM_PSEUDONYM_KEY=s3cr3t-Value_9", "MDM_PSEUDONYM_KEY=***"),
        (
            "cannot reach MDM_DATABASE_URL (postgresql://u:s3cr3t-Value_9@127.0.0.1:1/x): refused",
            "cannot reach MDM_DATABASE_URL (postgresql://u:***@127.0.0.1:1/x): refused",
        ),
        # messages without a secret stay as they are
        *((same, same) for same in UNCHANGED),
    ],
)  # fmt: skip
def test_redaction_hides_every_form_of_password(text, expected):
    assert redact_url(text) == expected
    assert "s3cr3t" not in redact_url(text)
    assert db.redact_url is redact_url  # one function, whichever module it is imported from


def test_log_records_are_redacted_by_the_cli_filter(caplog):
    logger = logging.getLogger("mdm.test_secrets")
    handler = logging.Handler()
    records: list[str] = []
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("connecting to %s", f"postgresql://u@h/d?password={SECRET}")
        logger.warning("dsn: %s", {"password": SECRET})
    finally:
        logger.removeHandler(handler)
    assert records == ["connecting to postgresql://u@h/d?password=***", "dsn: {'password': ***}"]


def _example_env() -> dict[str, str]:
    env = {}
    for line in (PROJECT_ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def test_every_placeholder_of_env_example_is_refused_and_real_secrets_pass():
    example = _example_env()
    secrets_in_example = {k for k in example if re.search("PASSWORD|KEY|SECRET", k)}
    assert secrets_in_example, ".env.example lists the secrets"
    assert {v.lower() for k, v in example.items() if k in secrets_in_example} <= PLACEHOLDER_SECRETS
    assert set(placeholder_secrets(example)) == secrets_in_example
    # Inside URLs too, in the query string as well as the userinfo.
    assert placeholder_secrets(
        {
            "MDM_DATABASE_URL": "postgresql://mdm:change-me@postgres:5432/mdm",
            "AIRFLOW__CELERY__BROKER_URL": "redis://:CHANGE-ME@redis:6379/0",
            "AIRFLOW_CONN_FRONTEND_DB": "postgres://r@fe:5432/q?password=change-me",
            "AIRFLOW_ADMIN_USER": "admin",  # a user name, not a secret
        }
    ) == ["AIRFLOW_CONN_FRONTEND_DB", "AIRFLOW__CELERY__BROKER_URL", "MDM_DATABASE_URL"]
    real = {
        "MDM_DB_PASSWORD": "Zq3-kd8_vW0pLr",
        "MDM_DATABASE_URL": "postgresql://mdm:Zq3-kd8_vW0pLr@postgres:5432/mdm",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": "/opt/airflow/logs/passwords.json",
    }
    assert placeholder_secrets(real) == []
    refuse_placeholder_secrets(real)
    with pytest.raises(InsecureConfigurationError, match="MDM_PSEUDONYM_KEY") as refused:
        refuse_placeholder_secrets(example)
    assert "change-me" not in str(refused.value).split("(")[0], "names variables, not values"


def _mdm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_mdm(*args, env=env, timeout=120)


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MDM_", "AIRFLOW"))}
    return {**env, "MDM_HOME": str(tmp_path / "home"), **extra}


def test_production_refuses_placeholder_secrets_at_start_up(tmp_path):
    env = _clean_env(
        tmp_path,
        MDM_ENVIRONMENT="production",
        MDM_DATABASE_URL="postgresql://mdm:change-me@127.0.0.1:1/mdm",
        MDM_PSEUDONYM_KEY="change-me",
    )
    result = _mdm("db", "start", env=env)
    assert result.returncode == 4  # environment
    assert "refuses placeholder secrets in MDM_DATABASE_URL, MDM_PSEUDONYM_KEY" in result.stderr
    assert "cannot reach" not in result.stderr, "refused before connecting to anything"


def test_production_refuses_an_embedded_server(tmp_path):
    settings = load_settings({"MDM_HOME": str(tmp_path), "MDM_ENVIRONMENT": "production"})
    assert settings.is_production
    with pytest.raises(embedded.EmbeddedDatabaseError, match="MDM_DATABASE_URL is not set"):
        embedded.start(settings)
    with pytest.raises(embedded.EmbeddedDatabaseError, match="not for production"):
        db.warehouse_url(settings)
    assert not settings.pgdata_dir.exists()
    result = _mdm("db", "start", env=_clean_env(tmp_path, MDM_ENVIRONMENT="production"))
    assert result.returncode == 4  # environment
    assert "MDM_DATABASE_URL is not set" in result.stderr
    assert not (tmp_path / "home" / "pgdata").exists()
    with pytest.raises(ValueError, match="MDM_ENVIRONMENT='prod'"):
        load_settings({"MDM_ENVIRONMENT": "prod"})
    assert not load_settings({"MDM_HOME": str(tmp_path)}).is_production


def test_secret_files_are_private_from_their_first_byte(tmp_path):
    path = tmp_path / "secrets" / "s.password"
    write_secret_file(path, "one", replace=False)
    write_secret_file(path, "two", replace=False)  # an existing secret wins
    assert path.read_text() == "one\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    settings = load_settings({"MDM_HOME": str(tmp_path / "home")})
    with pytest.raises(embedded.EmbeddedDatabaseError, match="`mdm db start` makes it"):
        embedded.superuser_password(settings)
    password = embedded._ensure_password(settings)
    assert len(password) >= 40 and embedded.superuser_password(settings) == password
    assert stat.S_IMODE(embedded.password_file(settings).stat().st_mode) == 0o600
    assert db.superuser_password(settings) == password


def test_scram_verifier_has_postgresqls_format_and_no_password_in_it():
    verifier = embedded.scram_verifier(SECRET, salt=b"0123456789abcdef")
    assert re.fullmatch(
        r"SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}", verifier
    )
    assert SECRET not in verifier
    assert verifier == embedded.scram_verifier(SECRET, salt=b"0123456789abcdef")
    assert verifier != embedded.scram_verifier(SECRET)  # a fresh salt each time


def test_no_parent_directory_is_opened_for_the_server_user():
    """As root the server runs as another OS user: a closed parent is reported, not chmodded."""
    import shutil
    import tempfile

    nobody = 65534
    top = Path(tempfile.mkdtemp(prefix="mdm-parents-"))  # under /tmp, which anyone may enter
    try:
        top.chmod(0o755)
        closed = top / "closed"
        (closed / "home" / "pgdata").mkdir(parents=True)
        closed.chmod(0o700)
        assert embedded.blocking_directory(closed / "home" / "pgdata", nobody, {nobody}) == closed
        assert stat.S_IMODE(closed.stat().st_mode) == 0o700
        closed.chmod(0o711)  # search permission is enough
        assert embedded.blocking_directory(closed / "home" / "pgdata", nobody, {nobody}) is None
    finally:
        shutil.rmtree(top)
    source = (PROJECT_ROOT / "plugins" / "mdm" / "db" / "embedded.py").read_text()
    assert "ensure_prefix_permissions" not in source
