"""Publish the open resources (公共数据开放, standard 6.2; docs/adr/0023).

dbt builds them into schema ``open_build`` from the published repositories
(``dbt_project/models/open/``). Here each is checked against the catalogue (none made from a
resource marked 不予开放, no field above grade 2), the statistics are suppressed (cells below
10 and their complements: :mod:`mdm.opendata.suppression`), every value is scanned for
anything that validates as an ID number or a mobile, and the publication is written as
``$MDM_HOME/open/<YYYYMMDD-NN>/<resource code>/`` (``data.csv``, ``data.jsonl``,
``metadata.json``) with ``_manifest.json`` (every file's rows and sha256) written last, and
into schema ``open`` (one transaction), recorded in ``ops.open_publication``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from mdm.catalogue import Resource, openable, static_resources
from mdm.connections import ConnParams, conninfo
from mdm.opendata.publish_text import cell_text, json_value
from mdm.opendata.suppression import THRESHOLD, suppress
from mdm.runlog import logged_step
from mdm.settings import TIMEZONE, Settings

logger = logging.getLogger(__name__)

OPEN_MODELS = ["--select", "path:models/open"]
TOTAL = "合计"
SEXES = ("男", "女")
AGE_BANDS = ("00-14", "15-29", "30-44", "45-59", "60+")
# The statistics: resource -> the dimension that makes the table's rows (None: one row).
STATISTICS = {"population_by_county": "age_band", "individual_taxpayers_by_county": None}


class OpenDataLeakError(RuntimeError):
    """A value of an open resource looks like a natural person's identifier: not published."""


def open_root(settings: Settings) -> Path:
    return settings.home / "open"


# --- suppression of one statistical resource (pure) -----------------------------------------


def suppress_statistics(rows: list[dict[str, Any]], by: str | None) -> list[dict[str, Any]]:
    """The released rows of a statistical resource: per county its cells (``by`` x sex, or
    sex alone), their totals (``合计``) and, with ``by``, the totals per sex and the county's;
    a suppressed count is None with ``suppressed`` true."""
    released: list[dict[str, Any]] = []
    counties: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
    for row in rows:
        cell = (row[by] if by else "", row["sex"])
        counties.setdefault((row["county_code"], row["county_name"]), {})[cell] = row["persons"]
    bands = AGE_BANDS if by else ("",)
    for (code, name), cells in sorted(counties.items()):
        matrix = [[cells.get((band, sex), 0) for sex in SEXES] for band in bands]
        mask = suppress(matrix)
        rows_out = [*bands, TOTAL] if by else [""]
        for i, band in enumerate(rows_out):
            values = [*matrix[i], sum(matrix[i])] if i < len(bands) else None
            if values is None:
                values = [sum(r[j] for r in matrix) for j in range(len(SEXES))]
                values.append(sum(values))
            for j, sex in enumerate([*SEXES, TOTAL]):
                hidden = mask[i][j]
                out = {"county_code": code, "county_name": name, "sex": sex}
                if by:
                    out[by] = band
                released.append(
                    out | {"persons": None if hidden else values[j], "suppressed": hidden}
                )
    return released


# --- scanning for identifiers (pure) --------------------------------------------------------


# A mainland mobile (13x-19x), not part of a longer code (a credit code's digits after "11")
MOBILE = re.compile(r"(?<![0-9A-Za-z])(1[3-9][0-9]{9})(?![0-9A-Za-z])")


def _is_id_number(value: str) -> bool:
    """Validates as a resident ID number: a division's first digit, a real birth date since
    1900, and (18 characters) the right check character. A credit code of digits only can
    have a check character that fits, but not a birth date where an ID number has one."""
    from mdm.standardize.identifiers import id_check_char

    long_form = len(value) == 18
    birth = value[6:14] if long_form else "19" + value[6:12]
    try:
        born = dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        return False
    if value[0] not in "12345678" or not dt.date(1900, 1, 1) <= born <= dt.date.today():  # noqa: DTZ011
        return False
    return not long_form or id_check_char(value[:17]) == value[17].upper()


def identifier_like(text: str) -> list[str]:
    """The runs of ``text`` that validate as an ID number (:func:`_is_id_number`) or look
    like a mainland mobile number (:data:`MOBILE`)."""
    from mdm.access.masking import ID_NUMBER

    found = [m.group(1) for m in ID_NUMBER.finditer(text) if _is_id_number(m.group(1))]
    return found + MOBILE.findall(text)


# --- files ------------------------------------------------------------------------------------


def data_files(resource: Resource, rows: Sequence[dict[str, Any]]) -> dict[str, bytes]:
    names = [f.name for f in resource.fields]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([cell_text(row[n]) for n in names] for row in rows)
    jsonl = "".join(
        json.dumps({n: json_value(row[n]) for n in names}, ensure_ascii=False) + "\n"
        for row in rows
    )
    return {"data.csv": buffer.getvalue().encode("utf-8"), "data.jsonl": jsonl.encode("utf-8")}


def metadata(resource: Resource, version: str, day: dt.date, rows: int) -> dict[str, Any]:
    return {
        "resource_code": resource.code,
        "title": resource.name,
        "summary": resource.summary,
        "provider": resource.provider,
        "domain": resource.extra["domain"],
        "open_type": resource.open_type,
        "update_cycle": resource.update_cycle,
        "version": version,
        "version_date": day.isoformat(),
        "row_count": rows,
        "licence": resource.extra["licence"],
        "fields": [{"name": f.name, "meaning": f.meaning, "type": f.type} for f in resource.fields],
    }


def _next_version(root: Path, day: dt.date) -> str:
    taken = {p.name for p in root.glob(f"{day:%Y%m%d}-*")} if root.is_dir() else set()
    return next(
        f"{day:%Y%m%d}-{n:02d}" for n in range(1, 100) if f"{day:%Y%m%d}-{n:02d}" not in taken
    )


# --- the publication ----------------------------------------------------------------------------


def _rows(conn: psycopg.Connection, resource: Resource) -> list[dict[str, Any]]:
    names = [f.name for f in resource.fields]
    table = sql.Identifier("open_build", f"open_{resource.key}")
    cursor = conn.execute(
        sql.SQL("select {} from {} order by {}").format(
            sql.SQL(", ").join(map(sql.Identifier, names)),
            table,
            sql.SQL(", ").join(map(sql.Identifier, names)),
        )  # fmt: skip
    )
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def release(
    conn: psycopg.Connection, everything: list[Resource]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[str]]]:
    """The rows each open resource the catalogue allows releases (statistics suppressed,
    every string scanned), and why the others are withheld."""
    withheld: dict[str, list[str]] = {}
    released: dict[str, list[dict[str, Any]]] = {}
    for resource in (r for r in everything if r.kind == "open"):
        problems = openable(resource, everything)
        if problems:
            withheld[resource.code] = problems
            logger.warning("open resource %s withheld: %s", resource.code, "; ".join(problems))
            continue
        rows = _rows(conn, resource)
        if resource.key in STATISTICS:
            rows = suppress_statistics(rows, STATISTICS[resource.key])
        check_release(resource, rows)
        released[resource.key] = rows
    return released, withheld


def check_release(resource: Resource, rows: Sequence[dict[str, Any]]) -> None:
    """Raise unless every count is at least 10 and no string looks like an identifier."""
    small = [
        r for r in rows if isinstance(r.get("persons"), int) and r["persons"] < THRESHOLD
    ]  # fmt: skip
    if small:
        raise OpenDataLeakError(f"{resource.code}: released counts below {THRESHOLD}")
    leaks = [
        name
        for row in rows
        for name, value in row.items()
        if isinstance(value, str) and identifier_like(value)
    ]
    if leaks:
        raise OpenDataLeakError(
            f"{resource.code}: {len(leaks)} values look like a person's ID number or mobile "
            f"(fields {sorted(set(leaks))}): nothing published"
        )


def write_publication(
    root: Path, day: dt.date, resources: list[Resource],
    released: dict[str, list[dict[str, Any]]], withheld: dict[str, list[str]],
) -> tuple[str, Path, dict[str, Any]]:  # fmt: skip
    """The version's folder: per resource its data and metadata, the portal, and last the
    manifest with every file's rows and sha256. Returns version, folder, rows per resource."""
    from mdm.opendata.portal import portal_files

    version = _next_version(root, day)
    folder = root / version
    folder.mkdir(parents=True)
    by_key = {r.key: r for r in resources}
    produced: dict[str, Any] = {}
    files: dict[str, tuple[bytes, int]] = {}
    for key, rows in released.items():
        resource = by_key[key]
        for name, data in data_files(resource, rows).items():
            files[f"{resource.code}/{name}"] = (data, len(rows))
        meta = metadata(resource, version, day, len(rows))
        files[f"{resource.code}/metadata.json"] = (
            (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
            1,
        )
        produced[resource.code] = {"key": key, "rows": len(rows)}
    opened = [(by_key[k], rows) for k, rows in released.items()]
    for name, data in portal_files(version, day, opened, withheld).items():
        files[name] = (data, 1)
    for name, (data, _) in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    manifest = {
        "dataset": "open",
        "delivery_id": version,
        "provider": resources[0].provider if resources else "",
        "extract_time": dt.datetime.now(ZoneInfo(TIMEZONE)).isoformat(timespec="seconds"),
        "mode": "open",
        "encoding": "UTF-8",
        "files": [
            {"name": name, "rows": rows, "sha256": hashlib.sha256(data).hexdigest()}
            for name, (data, rows) in sorted(files.items())
        ],
        "withheld": withheld,
    }
    (folder / "_manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    return version, folder, produced


def publish(
    conn: psycopg.Connection, root: Path, run_id: str, day: dt.date | None = None,
    catalogue: list[Resource] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Check, suppress, scan and write every open resource the catalogue allows, then schema
    open; return the version, its folder and per resource the rows (or why withheld)."""
    day = day or dt.datetime.now(ZoneInfo(TIMEZONE)).date()
    everything = catalogue or static_resources()
    resources = [r for r in everything if r.kind == "open"]
    released, withheld = release(conn, everything)
    version, folder, produced = write_publication(root, day, resources, released, withheld)
    by_key = {r.key: r for r in resources}
    _publish_tables(conn, by_key, released, version, run_id, folder, produced, withheld)
    logger.info("open resources %s published to %s: %s", version, folder, produced)
    return {"version": version, "folder": str(folder), "resources": produced, "withheld": withheld}


def _publish_tables(
    conn: psycopg.Connection, by_key: dict[str, Resource],
    released: dict[str, list[dict[str, Any]]],
    version: str, run_id: str, folder: Path, produced: dict[str, Any],
    withheld: dict[str, list[str]],
) -> None:  # fmt: skip
    """Schema open equal to this publication, in one transaction (readers see the previous
    one until the commit); a resource withheld now is dropped."""
    with conn.transaction():
        for key, resource in by_key.items():
            table = sql.Identifier("open", key)
            conn.execute(sql.SQL("drop table if exists {}").format(table))
            if key not in released:
                continue
            conn.execute(
                sql.SQL("create table {} ({})").format(
                    table,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(f.type))
                        for f in resource.fields
                    ),
                )
            )
            names = [f.name for f in resource.fields]
            with (
                conn.cursor() as cur,
                cur.copy(
                    sql.SQL("copy {} ({}) from stdin").format(
                        table, sql.SQL(", ").join(map(sql.Identifier, names))
                    )
                ) as copy,
            ):
                for row in released[key]:
                    copy.write_row([row[n] for n in names])
            conn.execute(sql.SQL("grant select on {} to public").format(table))
        conn.execute(
            """insert into ops.open_publication (version, run_id, folder, resources, withheld)
               values (%s, %s, %s, %s, %s)""",
            (version, run_id, str(folder), Jsonb(produced), Jsonb(withheld)),
        )


def build_open(settings: Settings, warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """The catalogue loaded, the open models built by dbt from what is published, then the
    publication (DAG mdm_open, ``mdm open publish``)."""
    from mdm.catalogue.store import load
    from mdm.transform import node_summary, run_dbt

    with psycopg.connect(conninfo(warehouse)) as conn:
        published = conn.execute("select to_regclass('mdm.legal_person') is not null").fetchone()
    if not (published and published[0]):
        logger.info("open resources: nothing published yet, nothing to open")
        return {"skipped": "no published repositories yet"}
    with logged_step(conninfo(warehouse), run_id, "publish_open") as outcome:
        with psycopg.connect(conninfo(warehouse)) as conn:
            load(conn)
        nodes = run_dbt(settings, warehouse, ["build", *OPEN_MODELS])
        with psycopg.connect(conninfo(warehouse)) as conn:
            result = publish(conn, open_root(settings), run_id)
        outcome.rows_affected = sum(r["rows"] for r in result["resources"].values())
        outcome.detail = result | {"nodes": node_summary(nodes)}
    return result
