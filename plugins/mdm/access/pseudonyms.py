"""Pseudonyms analysts join and count on: a keyed hash the warehouse cannot reverse.

``HMAC-SHA256(key, ID number)`` (the person id for people without one, or whose ID
number another person already holds), first 20 hex characters. The key comes from
``MDM_PSEUDONYM_KEY``; without it, a random key is created once in
``$MDM_HOME/secrets/pseudonym.key`` (mode 600). It is never stored in the warehouse:
whoever can read the database cannot recompute or reverse a pseudonym. Whoever holds the
key can: an ID number has too few possible values (a birth year and a division leave
~180,000) to resist trying them all. So the key must be long and random (a short or
placeholder key is refused) and is given to no analyst.
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
MIN_KEY_BYTES = 32
# Values seen in templates and tutorials; a key containing one is not a secret.
PLACEHOLDERS = ("change-me", "changeme", "change_me", "secret", "password", "placeholder")
MIN_DISTINCT_CHARACTERS = 8  # "aaaa…", "abab…": long but guessable
GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class WeakPseudonymKeyError(ValueError):
    """The pseudonym key is short or a placeholder: pseudonyms made with it are reversible."""


def check_key(key: bytes, source: str) -> bytes:
    """Return ``key`` if it is fit to make pseudonyms; else say what is wrong and what to do."""
    text = key.decode("utf-8", errors="replace").lower()
    problem = None
    if len(key) < MIN_KEY_BYTES:
        problem = f"is {len(key)} bytes long, at least {MIN_KEY_BYTES} are needed"
    elif any(word in text for word in PLACEHOLDERS):
        problem = "is a placeholder, not a secret"
    elif len(set(key)) < MIN_DISTINCT_CHARACTERS:
        problem = f"uses fewer than {MIN_DISTINCT_CHARACTERS} distinct characters"
    if problem:
        raise WeakPseudonymKeyError(
            f"the pseudonym key from {source} {problem}: anyone who guesses it can re-identify "
            f"every analyst's row. Set {KEY_ENV} to a random value of {MIN_KEY_BYTES}+ bytes "
            f"from your secrets store (e.g. {GENERATE_HINT}), the same on every worker; "
            "changing the key changes every pseudonym (empty access.person_pseudonym first)."
        )
    return key


def pseudonym_key(home: Path) -> bytes:
    value = os.environ.get(KEY_ENV)
    if value:
        return check_key(value.encode("utf-8"), KEY_ENV)
    path = home / "secrets" / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
        logger.warning("created a pseudonym key in %s; set %s in production", path, KEY_ENV)
    return check_key(path.read_text().strip().encode("utf-8"), str(path))


def pseudonym(key: bytes, identity: str) -> str:
    return hmac.new(key, identity.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def refresh_pseudonyms(warehouse: ConnParams, key: bytes) -> int:
    """Pseudonyms for the persons that have none yet (ids are stable, so are pseudonyms).

    An ID number held by two persons (a resolution error for stewards to fix) gives neither
    of the new ones its pseudonym: they get the pseudonym of their person id. A person who
    already had it keeps it, and a pseudonym already taken (the ID number moved to another
    person) is never handed out twice: its newcomer falls back to the person id as well.
    """
    with psycopg.connect(conninfo(warehouse)) as conn:
        rows = conn.execute(
            """select p.person_id, case when p.holders = 1 then p.id_number end
               from (select person_id, id_number,
                            count(*) over (partition by id_number) as holders
                     from mdm.natural_person) as p
               where not exists (select 1 from access.person_pseudonym s
                                 where s.person_id = p.person_id)"""
        ).fetchall()
        if not rows:
            return 0
        conn.execute(
            "create temporary table new_pseudonym (person_id text, by_id_number text, "
            "by_person_id text) on commit drop"
        )
        with conn.cursor().copy("copy new_pseudonym from stdin") as copy:
            for person_id, id_number in rows:
                by_person = pseudonym(key, person_id)
                copy.write_row(
                    (person_id, pseudonym(key, id_number) if id_number else by_person, by_person)
                )
        added = conn.execute(
            """insert into access.person_pseudonym (person_id, pseudonym)
               select n.person_id,
                      case when exists (select 1 from access.person_pseudonym s
                                        where s.pseudonym = n.by_id_number)
                           then n.by_person_id else n.by_id_number end
               from new_pseudonym n
               on conflict do nothing"""
        ).rowcount
        conn.commit()
    if added < len(rows):
        logger.error(
            "%d persons got no pseudonym (a collision); analysts see them by interim key",
            len(rows) - added,
        )
    logger.info("pseudonyms added: %d", added)
    return added
