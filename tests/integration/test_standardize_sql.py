"""The standardisation rules (SQL functions of schema std, built by dbt) on the case tables.

Every case row runs against the implementation the pipeline uses: the std functions here,
the few Python-only functions (the generator's arithmetic) in tests/unit/test_identifiers.py
(tests/unit/test_standardize.py checks that no case table function is left out).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import yaml

from mdm.connections import params_from_url
from mdm.db.migrate import SUPERSEDED, MigrationError, apply_migrations
from mdm.transform import build_std_functions, std_function_names

pytestmark = pytest.mark.integration

CASES_DIR = Path(__file__).parents[1] / "cases"


def _table(name: str) -> list[tuple[str, object, object]]:
    cases = yaml.safe_load((CASES_DIR / name).read_text())
    return [(fn, inp, out) for fn, rows in cases.items() for inp, out in rows]


ALL = _table("identifiers.yaml") + _table("standardize.yaml")
TABLE = [c for c in ALL if c[0] in std_function_names()]


@pytest.fixture(scope="module")
def conn(settings, warehouse_url):  # type: ignore[no-untyped-def]
    build_std_functions(settings, params_from_url(warehouse_url))  # the rules as dbt has them
    # Autocommit: an open transaction that read a seed would block dbt reloading it.
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        yield connection


@pytest.mark.parametrize(("function", "value", "expected"), TABLE)
def test_sql_function_matches_case_table(conn, function, value, expected):
    if function == "parse_date":
        row = conn.execute(
            "select iso, flag from std.parse_date(%s, date '2026-11-27')", (value,)
        ).fetchone()
        result: object = [row[0].isoformat() if row[0] else None, row[1]]
    else:
        result = conn.execute(f"select std.{function}(%s)", (value,)).fetchone()[0]  # noqa: S608
        if isinstance(result, dt.date):
            result = result.isoformat()
        elif isinstance(result, Decimal):  # amounts: as text, so that the scale is checked
            result = str(result)
    assert result == expected


# The rules hold their seeds' lists whole (dbt writes them into the bodies when it builds).
SEEDED = {
    "ethnicity": "select code, name from std.ethnicity_gb3304 "
    "where std.ethnicity_code(name) is distinct from code "
    "or std.ethnicity_code(ltrim(code, '0')) is distinct from code",
    "sex": "select spelling, code from std.sex_spellings "
    "where std.sex_code(lower(spelling)) is distinct from code",
    "traditional": "select traditional, simplified from std.traditional_characters "
    "where std.name_key(traditional) is distinct from simplified",
    "prefectures": "select name, '' from std.prefectures "
    "where std.clean_address(name || '1号') <> '广西壮族自治区' || name || '1号'",
    "company_forms": "select suffix, kept::text from std.company_forms "
    "where std.strip_company_form('某某' || suffix) is distinct from "
    "case when kept then '某某' || translate(suffix, '()', '') else '某某' end",
    "counties": "select old_name, new_name from std.county_renames "
    "where std.clean_address('广西壮族自治区' || old_name || '1号') "
    "<> '广西壮族自治区' || new_name || '1号'",
}


@pytest.mark.parametrize("rule", sorted(SEEDED))
def test_every_seed_row_reaches_its_rule(conn, rule):
    assert conn.execute(SEEDED[rule]).fetchall() == []  # noqa: S608


def test_the_rules_are_immutable_parallel_safe_and_read_no_table(conn):
    rows = conn.execute(
        "select p.proname, p.provolatile, p.proparallel from pg_proc p "
        "join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'std'"
    ).fetchall()
    assert {name for name, *_ in rows} == std_function_names()
    stable = {"parse_date", "date_value", "date_flag"}  # they know today's date
    assert {name for name, volatility, _ in rows if volatility != "i"} == stable
    assert {name for name, _, parallel in rows if parallel != "s"} == set()


def test_a_warehouse_that_applied_the_old_rule_migrations_migrates(settings):
    """0003/0007 held the rules once: their old checksums are accepted and recorded anew."""
    from mdm import db

    name = f"{settings.warehouse_db}_superseded"
    with psycopg.connect(db.server_url(settings, "postgres"), autocommit=True) as server:
        server.execute(f"drop database if exists {name}")
        server.execute(f"create database {name}")
    try:
        with psycopg.connect(db.server_url(settings, name)) as conn:
            apply_migrations(conn)
            for version, checksum in SUPERSEDED.items():
                conn.execute(
                    "update ops.schema_migration set checksum = %s where version = %s",
                    (checksum, version),
                )
            conn.commit()
            assert apply_migrations(conn) == []
            ledger = dict(conn.execute("select version, checksum from ops.schema_migration"))
            assert all(ledger[version] != old for version, old in SUPERSEDED.items())
            conn.execute("update ops.schema_migration set checksum = 'x' where version = '0003'")
            conn.commit()
            with pytest.raises(MigrationError, match="0003_standardize_functions.sql changed"):
                apply_migrations(conn)
    finally:
        with psycopg.connect(db.server_url(settings, "postgres"), autocommit=True) as server:
            server.execute(f"drop database if exists {name}")


def test_a_missing_rule_is_built_before_python_calls_it(settings, warehouse_url):
    """prepare_database (every mdm command, the test session) builds what is missing."""
    from mdm.transform import ensure_std_functions

    params = params_from_url(warehouse_url)
    assert not ensure_std_functions(settings, params)  # all there: no dbt run
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop function std.legacy_taxpayer_org_code(text)")
    assert ensure_std_functions(settings, params)
    with psycopg.connect(warehouse_url) as conn:
        code = conn.execute("select std.legacy_taxpayer_org_code('350100M000100Y4')").fetchone()
    assert code == ("M000100Y4",)
