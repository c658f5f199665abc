"""The certificate repository in use (issue 20, ADR 0018).

- :func:`holder_certificates`: a holder's valid certificates (亮证: a citizen or enterprise
  shows its certificates instead of paper), by person id, legal person id, ID number or
  credit code, from ``mdm.certificate``; who asked is written to
  ``access.certificate_read_log`` in the transaction that reads them, before anything is
  returned (no log, no list).
- :func:`rate_table` / :func:`types_below_target`: the structured aggregation rate per
  certificate type and prefecture of a quarter (``quality.quality_certificate_rate``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import psycopg
from psycopg.rows import dict_row

from mdm.connections import ConnParams, conninfo

logger = logging.getLogger(__name__)

RATE_TABLE = "quality.quality_certificate_rate"
PROVINCE = "450000"  # the rate table's row of a type's whole province
_PERSON_ID = re.compile(r"^P\d{6,}$")
_LEGAL_PERSON_ID = re.compile(r"^L\d{6,}$")
_ID_NUMBER = re.compile(r"^(\d{17}[\dX]|\d{15})$")
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NP-RTUWXY]{18}$")

# Per kind of holder query: the column of mdm.certificate and the SQL that brings the value
# to its form there (std functions: the same rules as the repositories').
_LOOKUP = {
    "person_id": ("holder_person_id", "%s"),
    "legal_person_id": ("holder_legal_person_id", "%s"),
    "id_number": ("holder_code", "std.normalize_id_number(%s)"),
    "credit_code": ("holder_code", "std.clean_code(%s)"),
}


def holder_query_kind(query: str) -> str:
    """What a holder query names: ``person_id``, ``legal_person_id``, ``id_number`` (18 or
    15 characters, a lower-case x allowed), ``credit_code`` (18 characters of GB 32100) or
    ``unknown``."""
    text = re.sub(r"\s", "", query).upper()
    if _PERSON_ID.match(text):
        return "person_id"
    if _LEGAL_PERSON_ID.match(text):
        return "legal_person_id"
    if _ID_NUMBER.match(text):
        return "id_number"
    if _CREDIT_CODE.match(text):
        return "credit_code"
    return "unknown"


def holder_certificates(
    warehouse: ConnParams, query: str, asked_by: str, purpose: str | None = None
) -> dict[str, Any]:
    """:func:`list_certificates` on a connection of its own (the CLI)."""
    with psycopg.connect(conninfo(warehouse)) as conn:
        return list_certificates(conn, query, asked_by, purpose)


def list_certificates(
    conn: psycopg.Connection, query: str, asked_by: str, purpose: str | None = None
) -> dict[str, Any]:
    """The valid certificates (status valid, not expired, one per certificate aggregated
    twice) of the holder ``query`` names, newest first, and the read logged with
    ``asked_by`` and committed before they are returned:
    ``{"query_kind", "holder_kind", "holder_id", "certificates": [...]}``."""
    if not asked_by.strip():
        raise ValueError("say who asks (the clerk, office or application): it goes to the log")
    kind = holder_query_kind(query)
    with conn.cursor(row_factory=dict_row) as cur:
        rows: list[dict[str, Any]] = []
        if kind in _LOOKUP:
            column, value = _LOOKUP[kind]
            rows = cur.execute(
                f"""select c.certificate_id, c.certificate_type, t.name as certificate_name,
                           c.certificate_number, c.holder_kind,
                           coalesce(c.holder_person_id, c.holder_legal_person_id) as holder_id,
                           c.holder_name, c.issuer_name, c.issue_date,
                           case when c.is_permanent then '长期' else c.valid_until::text end
                               as valid_until,
                           c.is_structured
                    from mdm.certificate c
                    left join std.certificate_type t on t.code = c.certificate_type
                    where c.{column} = {value} and c.status = 'valid' and c.duplicate_of is null
                      and (c.valid_until is null or c.valid_until >= current_date)
                    order by c.issue_date desc nulls last, c.certificate_id""",  # noqa: S608
                (re.sub(r"\s", "", query).upper(),),
            ).fetchall()
        holder = rows[0] if rows else {}
        cur.execute(
            """insert into access.certificate_read_log
                   (asked_by, purpose, query_kind, holder_kind, holder_id, row_count)
               values (%s, %s, %s, %s, %s, %s)""",
            (
                asked_by,
                purpose,
                kind,
                holder.get("holder_kind"),
                holder.get("holder_id"),
                len(rows),
            ),
        )
    conn.commit()  # the log first: a read that cannot be logged shows nothing
    logger.info("certificates of a %s holder: %d, asked by %s", kind, len(rows), asked_by)
    return {
        "query_kind": kind,
        "holder_kind": holder.get("holder_kind"),
        "holder_id": holder.get("holder_id"),
        "certificates": rows,
    }


def latest_rate_quarter(cur: psycopg.Cursor[dict[str, Any]]) -> str | None:
    """The latest quarter with a certificate rate, or None (not built yet)."""
    if cur.execute("select to_regclass(%s) as t", (RATE_TABLE,)).fetchone() == {"t": None}:
        return None
    return (cur.execute(f"select max(quarter) as q from {RATE_TABLE}").fetchone() or {}).get("q")  # noqa: S608


def rate_table(cur: psycopg.Cursor[dict[str, Any]], quarter: str) -> list[dict[str, Any]]:
    """The rate rows of ``quarter``: per type its province row, then its prefectures."""
    if cur.execute("select to_regclass(%s) as t", (RATE_TABLE,)).fetchone() == {"t": None}:
        return []
    return cur.execute(
        f"""select * from {RATE_TABLE} where quarter = %s
            order by certificate_type, prefecture_code <> %s, prefecture_code""",  # noqa: S608
        (quarter, PROVINCE),
    ).fetchall()


def types_below_target(cur: psycopg.Cursor[dict[str, Any]], quarter: str) -> list[dict[str, Any]]:
    """The certificate types whose province-wide rate is below the target, worst first."""
    return sorted(
        (r for r in rate_table(cur, quarter) if r["prefecture_code"] == PROVINCE
         and not r["meets_target"]),
        key=lambda r: (r["structured_rate"] is not None, r["structured_rate"] or 0),
    )  # fmt: skip


def format_rate_table(rows: list[dict[str, Any]], province_only: bool = False) -> list[str]:
    """The rate table as text lines (``mdm certificates --quarter``, ``mdm demo``)."""
    lines = [
        f"{'type':<11} {'prefecture':<10} {'expected':>8} {'library':>7} {'valid':>6} "
        f"{'struct.':>7} {'rate':>7}  80%  main reasons"
    ]
    for row in rows:
        if province_only and row["prefecture_code"] != PROVINCE:
            continue
        rate = row["structured_rate"]
        place = "province" if row["prefecture_code"] == PROVINCE else row["prefecture_code"]
        lines.append(
            f"{row['certificate_type']:<11} {place:<10} {row['expected']:>8} "
            f"{row['in_library']:>7} {row['valid']:>6} {row['structured']:>7} "
            f"{'-' if rate is None else f'{float(rate):.1%}':>7}  "
            f"{'yes' if row['meets_target'] else 'NO ':<4} {row['main_reasons'] or ''}"
        )
    return lines


def rates(
    warehouse: ConnParams, quarter: str | None = None
) -> tuple[str | None, list[dict[str, Any]]]:
    """(quarter, its rate rows); the latest quarter when none is given."""
    with psycopg.connect(conninfo(warehouse)) as conn, conn.cursor(row_factory=dict_row) as cur:
        quarter = quarter or latest_rate_quarter(cur)
        return quarter, rate_table(cur, quarter) if quarter else []
