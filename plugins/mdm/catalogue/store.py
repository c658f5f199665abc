"""The catalogue in the warehouse (schema ``catalogue``, migration 0024) and its export
(standard 6.3: ``<outbox>/catalogue/<YYYYMMDD-NN>/catalogue.json`` + ``catalogue.csv``,
``_manifest.json`` last). The shares are the share views there are (``catalogue.share_field``)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from mdm.catalogue import Field, Resource, static_resources
from mdm.settings import TIMEZONE

logger = logging.getLogger(__name__)

CSV_COLUMNS = [
    "resource_code", "resource_name", "kind", "provider", "maintainer", "share_type",
    "open_type", "update_cycle", "field_name", "meaning", "data_type", "grade",
]  # fmt: skip
_LOCK_ID = 0x4D444D43  # arbitrary: serialises concurrent loads


def _shared_as(resource: Resource) -> str | None:
    if resource.kind != "source":
        return None
    from mdm.access.sharing import ShareRefusedError, shareable

    try:
        return shareable(resource.key).relation
    except ShareRefusedError:
        return None


def load(conn: psycopg.Connection) -> dict[str, int]:
    """Make schema catalogue equal to the code's catalogue, in one transaction; return the
    numbers of resources and fields."""
    resources = static_resources()
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        conn.execute("delete from catalogue.resource")
        with conn.cursor() as cur:
            cur.executemany(
                """insert into catalogue.resource (resource_code, resource_key, kind, name,
                       provider, maintainer, summary, share_type, open_type, update_cycle,
                       relation, shared_as, detail)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                [
                    (r.code, r.key, r.kind, r.name, r.provider, r.maintainer, r.summary,
                     r.share_type, r.open_type, r.update_cycle, r.relation, _shared_as(r),
                     Jsonb(r.extra))
                    for r in resources
                ],
            )  # fmt: skip
            cur.executemany(
                """insert into catalogue.field (resource_code, position, field_name, meaning,
                       data_type, grade) values (%s, %s, %s, %s, %s, %s)""",
                [
                    (r.code, position, f.name, f.meaning, f.type, f.grade)
                    for r in resources
                    for position, f in enumerate(r.fields, start=1)
                ],
            )
    counts = {"resources": len(resources), "fields": sum(len(r.fields) for r in resources)}
    logger.info("catalogue loaded: %(resources)d resources, %(fields)d fields", counts)
    return counts


def share_resources(conn: psycopg.Connection) -> list[Resource]:
    """Each share view (its newest grant) as a resource of the catalogue (有条件共享), its
    columns graded as what they read."""
    from mdm.catalogue import document, maintainer_of

    platform = document()["platform"]
    grants: dict[int, dict[str, Any]] = {}
    for row in conn.execute(
        """select grant_id, view_name, consumer, dataset, relation, expires_at, approval,
                  field_name, meaning, data_type, grade
           from catalogue.share_field order by grant_id, position"""
    ).fetchall():
        grant = grants.setdefault(
            row[0],
            {"view": row[1], "consumer": row[2], "dataset": row[3], "relation": row[4],
             "expires": row[5], "approval": row[6], "fields": []},
        )  # fmt: skip
        grant["fields"].append(Field(row[7], row[8], row[9], int(row[10])))
    return [
        Resource(
            code=f"GX-DSJ-GX-{grant_id:04d}",
            key=grant["view"],
            kind="share",
            name=f"{grant['dataset']} 共享给 {grant['consumer']}",
            provider=platform["provider"],
            maintainer=maintainer_of(platform["department"]),
            summary=f"有条件共享:{grant['relation']} 的授权列,至 {grant['expires']:%Y-%m-%d}",
            share_type="有条件共享",
            open_type="不予开放",
            update_cycle="实时",
            relation=grant["view"],
            fields=tuple(grant["fields"]),
            extra={"reads": grant["relation"], "approval": grant["approval"]},
        )
        for grant_id, grant in grants.items()
    ]


def current(conn: psycopg.Connection) -> list[Resource]:
    """The whole catalogue now: the loaded static resources and the live shares."""
    by_code: dict[str, Resource] = {}
    for row in conn.execute(
        """select resource_code, resource_key, kind, name, provider, maintainer, summary,
                  share_type, open_type, update_cycle, relation, detail
           from catalogue.resource order by kind, resource_code"""
    ).fetchall():
        names = ("code", "key", "kind", "name", "provider", "maintainer", "summary",
                 "share_type", "open_type", "update_cycle", "relation")  # fmt: skip
        by_code[row[0]] = Resource(
            **dict(zip(names, row[:11], strict=True)), fields=(), extra=row[11]
        )
    fields: dict[str, list[Field]] = {}
    for code, name, meaning, kind, grade in conn.execute(
        "select resource_code, field_name, meaning, data_type, grade from catalogue.field "
        "order by resource_code, position"
    ).fetchall():
        fields.setdefault(code, []).append(Field(name, meaning, kind, int(grade)))
    static = [
        Resource(**{**r.__dict__, "fields": tuple(fields.get(r.code, []))})
        for r in by_code.values()
    ]
    return [*static, *share_resources(conn)]


def as_json(resources: list[Resource]) -> list[dict[str, Any]]:
    return [
        {
            "resource_code": r.code,
            "resource_name": r.name,
            "kind": r.kind,
            "platform_name": r.key,
            "relation": r.relation,
            "provider": r.provider,
            "maintainer": r.maintainer,
            "summary": r.summary,
            "share_type": r.share_type,
            "open_type": r.open_type,
            "update_cycle": r.update_cycle,
            **({k: v for k, v in r.extra.items() if k in ("domain", "of", "licence", "reads")}),
            "fields": [
                {"name": f.name, "meaning": f.meaning, "type": f.type, "grade": f.grade}
                for f in r.fields
            ],
        }
        for r in resources
    ]


def as_csv(resources: list[Resource]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in resources:
        for f in r.fields:
            writer.writerow(
                [r.code, r.name, r.kind, r.provider, r.maintainer, r.share_type, r.open_type,
                 r.update_cycle, f.name, f.meaning, f.type, f.grade]
            )  # fmt: skip
    return buffer.getvalue()


def export(conn: psycopg.Connection, outbox: Path, day: dt.date | None = None) -> Path:
    """Write the catalogue as a 6.3 file drop; return its folder."""
    from mdm.corrections import _next_delivery_id

    day = day or dt.datetime.now(ZoneInfo(TIMEZONE)).date()
    resources = current(conn)
    delivery_id = _next_delivery_id(outbox / "catalogue", day)
    folder = outbox / "catalogue" / delivery_id
    folder.mkdir(parents=True)
    files = {
        "catalogue.json": (
            json.dumps(as_json(resources), ensure_ascii=False, indent=2, default=str) + "\n"
        ).encode("utf-8"),
        "catalogue.csv": as_csv(resources).encode("utf-8"),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    manifest = {
        "dataset": "catalogue",
        "delivery_id": delivery_id,
        "provider": resources[0].provider if resources else "",
        "extract_time": dt.datetime.now(ZoneInfo(TIMEZONE)).isoformat(timespec="seconds"),
        "mode": "catalogue",
        "encoding": "UTF-8",
        "files": [
            {
                "name": name,
                "rows": len(resources) if name.endswith(".json") else data.count(b"\n") - 1,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for name, data in files.items()
        ],
    }
    (folder / "_manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    logger.info("catalogue exported: %d resources to %s", len(resources), folder)
    return folder
