"""Pseudonyms analysts join and count on: a keyed hash the warehouse cannot reverse.

``HMAC-SHA256(key, ID number)`` (the person id for people without one),
first 20 hex characters. The key comes from ``MDM_PSEUDONYM_KEY``; without it,
a random key is created once in ``$MDM_HOME/secrets/pseudonym.key`` (mode 600).
It is never stored in the warehouse: whoever can read the database cannot
recompute or reverse a pseudonym, and a department holding the same key can
join its own pseudonymised data.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

import psycopg

from mdm.connections import ConnParams, conninfo

logger = logging.getLogger(__name__)

KEY_ENV = "MDM_PSEUDONYM_KEY"


def pseudonym_key(home: Path) -> bytes:
    value = os.environ.get(KEY_ENV)
    if value:
        return value.encode("utf-8")
    path = home / "secrets" / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
        logger.warning("created a pseudonym key in %s; set %s in production", path, KEY_ENV)
    return path.read_text().strip().encode("utf-8")


def pseudonym(key: bytes, identity: str) -> str:
    return hmac.new(key, identity.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def refresh_pseudonyms(warehouse: ConnParams, key: bytes) -> int:
    """Pseudonyms for the persons that have none yet (ids are stable, so are pseudonyms)."""
    with psycopg.connect(conninfo(warehouse)) as conn:
        rows = conn.execute(
            # An ID number shared by two persons (a resolution error to be fixed) must not
            # give them one pseudonym: then the person id stands in.
            """select p.person_id,
                      case when count(*) over (partition by p.id_number) = 1
                           then coalesce(p.id_number, p.person_id) else p.person_id end
               from mdm.natural_person p
               where not exists (select 1 from access.person_pseudonym s
                                 where s.person_id = p.person_id)"""
        ).fetchall()
        statement = "copy access.person_pseudonym (person_id, pseudonym) from stdin"
        with conn.cursor().copy(statement) as copy:
            for person_id, identity in rows:
                copy.write_row((person_id, pseudonym(key, identity)))
        conn.commit()
    logger.info("pseudonyms added: %d", len(rows))
    return len(rows)
