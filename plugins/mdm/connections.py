"""Connection parameters for the warehouse and the front-end database.

Inside Airflow tasks they come from Airflow connections (``mdm_warehouse``,
``frontend_db``), so a deployment can keep them in a secrets backend; outside
Airflow (CLI, tests) from the settings. Both give the same libpq keywords.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo

logger = logging.getLogger(__name__)

ConnParams = dict[str, Any]

REDACTED = "***"
# scheme://user:PASSWORD@host: the password runs to the last "@" before the path.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/?#@]*:)[^\s/?#]*@")
# key=value (conninfo, URL query), key: value (YAML, dict reprs) for any key naming a secret:
# password, sslpassword, AIRFLOW__API_AUTH__JWT_SECRET, token, MDM_PSEUDONYM_KEY, ...
_SECRET_VALUE = re.compile(
    r"""(?P<head>\b[\w.-]*(?:password|passwd|pwd|secret|token|fernet_key|pseudonym_key)[\w.-]*
        ['"]?\s*[=:]\s*)
        (?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s&#,;'"}]+)""",
    re.IGNORECASE | re.VERBOSE,
)


def redact_url(text: str) -> str:
    """``text`` (a URL, a libpq conninfo, a log line or an error message) without secrets.

    The one redaction used for everything printed or logged: passwords in a URL's
    userinfo and in query parameters (``?password=``, ``sslpassword=``), and
    ``password=...`` in conninfo strings and key/value listings."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED + "@", text)
    return _SECRET_VALUE.sub(lambda m: m.group("head") + REDACTED, text)


class RedactingFilter(logging.Filter):
    """A logging filter that passes every record through :func:`redact_url`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_url(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def params_from_url(url: str) -> ConnParams:
    """libpq keywords (host, port, user, password, dbname) parsed from a URL or DSN."""
    return {key: value for key, value in conninfo_to_dict(url).items() if value is not None}


def params_from_airflow(conn_id: str) -> ConnParams:
    """libpq keywords for an Airflow connection (only callable where Airflow is configured)."""
    from airflow.sdk import Connection

    conn = Connection.get(conn_id)
    params: ConnParams = {
        "host": conn.host,
        "port": conn.port,
        "user": conn.login,
        "password": conn.password,
        "dbname": conn.schema,
    }
    return {key: value for key, value in params.items() if value not in (None, "")}


def conninfo(params: ConnParams) -> str:
    """A libpq connection string for psycopg."""
    return make_conninfo(**{k: str(v) for k, v in params.items()})
