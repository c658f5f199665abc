"""Warehouse DDL as ordered SQL files, applied once each and recorded.

Files live in ``mdm/db/migrations/NNNN_<what>.sql``. A file is applied in its
own transaction together with its row in ``ops.schema_migration``; an advisory
lock keeps concurrent callers (several Airflow workers) from racing. A file
that changed after it was applied is an error: add a new file instead, with one exception:
a migration listed in ``SUPERSEDED`` had its content moved elsewhere, and the checksum it was
applied with is accepted (and recorded anew) for the file that is left.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources

import psycopg

logger = logging.getLogger(__name__)

# Arbitrary constant: the advisory lock id that guards migrations.
_MIGRATION_LOCK_ID = 0x4D444D01


# Migrations whose content moved out, with the checksum of the file as it was applied. The
# std functions 0003 and 0007 created are dbt's now (dbt_project/functions, ADR 0013): a
# database that applied them keeps them until dbt replaces them with the same definitions.
SUPERSEDED = {
    "0003": "5058821b88b79154d06310dc4632ca88ce88072af52b31b0b160498bc5c76a95",
    "0007": "69f213b7170827784714c62be0c597832dc75fb3e2759bcdba6011c6a8fbe0c3",
}


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    folder = resources.files("mdm.db") / "migrations"
    migrations = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        version, _, rest = entry.name.partition("_")
        migrations.append(Migration(version, rest.removesuffix(".sql"), entry.read_text("utf-8")))
    return migrations


def apply_migrations(conn: psycopg.Connection) -> list[str]:
    """Apply pending migrations on ``conn`` (not in autocommit); return the versions applied."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_ID,))
        conn.execute("create schema if not exists ops")
        conn.execute(
            """create table if not exists ops.schema_migration (
                   version    text primary key,
                   name       text not null,
                   checksum   text not null,
                   applied_at timestamptz not null default now())"""
        )
        done: dict[str, str] = dict(
            conn.execute("select version, checksum from ops.schema_migration").fetchall()
        )
        for migration in available_migrations():
            if migration.version in done:
                if done[migration.version] == SUPERSEDED.get(migration.version):
                    logger.info("warehouse migration %s is superseded", migration.version)
                    conn.execute(
                        "update ops.schema_migration set checksum = %s where version = %s",
                        (migration.checksum, migration.version),
                    )
                elif done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version}_{migration.name}.sql changed after it was "
                        "applied; never edit an applied migration, add a new one"
                    )
                continue
            logger.info("applying warehouse migration %s_%s", migration.version, migration.name)
            conn.execute(migration.sql.encode())  # our own file, not user input
            conn.execute(
                "insert into ops.schema_migration (version, name, checksum) values (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied_now.append(migration.version)
    return applied_now
