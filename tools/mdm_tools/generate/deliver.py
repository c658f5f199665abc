"""Write the world's deliveries as the interface standard specifies, plus the truth.

File drops: ``<landing>/<dataset>/<YYYYMMDD-NN>/part-*.csv|jsonl`` and
``_manifest.json`` written last. Front-end tables: ``swj_grnsr`` and
``swj_dwnsr`` in the front-end database, upserted to the state of the last
day. Truth: ``records.csv``, ``relations.csv``, ``persons.csv``,
``organisations.csv``, ``deliveries.json`` in a
folder outside the landing zone.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdm.registry import Dataset, dataset
from mdm_tools.generate import noise
from mdm_tools.generate.events import DayChanges, simulate_day
from mdm_tools.generate.render import Renderer, Row, Truth, relations
from mdm_tools.generate.world import World, build_world, stream

logger = logging.getLogger(__name__)

ENCODINGS = {"UTF-8": "utf-8", "UTF-8-BOM": "utf-8-sig", "GB18030": "gb18030"}
MANIFEST = "_manifest.json"


@dataclass
class GenerateConfig:
    persons: int
    orgs: int
    days: int = 1
    seed: int = 1
    start: dt.date = dt.date(2026, 11, 1)
    defects: bool = False
    # Register records cancelled by a CZBS = D delta row from day 2 on (off by default: the
    # worlds of existing seeds stay byte for byte the same).
    deletes: bool = False
    rates: noise.NoiseRates = field(default_factory=noise.NoiseRates)


@dataclass
class Delivery:
    dataset: str
    delivery_id: str
    mode: str
    files: dict[str, bytes]
    declared_encoding: str
    extract_time: str
    rows: dict[str, int]
    expected: str = "load"  # load | reject | quarantine_rows | ignore_incomplete
    defect: str | None = None
    write_manifest: bool = True
    sha256_override: str | None = None  # a manifest checksum that does not match (defect)
    # Arrival order: wave 1 is everything the scheduler finds at once; wave 2 arrives after
    # a first ingestion (a re-send, a full that comes after its delta). ``mdm generate``
    # writes both; tests write them apart to see the second arrival.
    wave: int = 1


@dataclass
class GenerateSummary:
    deliveries: list[Delivery]
    frontend_rows: dict[str, list[Row]]
    truth: Truth
    world: World


def _csv_bytes(columns: list[str], rows: Iterable[Row], encoding: str) -> tuple[bytes, int]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if encoding != "utf-8" else "\n")
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
        n += 1
    return buffer.getvalue().encode(ENCODINGS[encoding]), n


def _jsonl_bytes(rows: Iterable[Row]) -> tuple[bytes, int]:
    lines = [
        json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False)
        for row in rows
    ]
    return ("".join(line + "\n" for line in lines)).encode("utf-8"), len(lines)


def make_delivery(
    spec: Dataset, day_date: dt.date, seq: int, mode: str, parts: dict[str, list[Row]]
) -> Delivery:
    encoding = spec.encoding or "UTF-8"
    files, counts = {}, {}
    for part, rows in parts.items():
        if spec.format == "jsonl":
            files[f"part-{part}.jsonl"], counts[f"part-{part}.jsonl"] = _jsonl_bytes(rows)
        else:
            data, n = _csv_bytes(spec.file_columns(mode), rows, encoding)
            files[f"part-{part}.csv"], counts[f"part-{part}.csv"] = data, n
    declared = "GB18030" if encoding == "GB18030" else "UTF-8"
    extract = dt.datetime.combine(day_date, dt.time(2)).isoformat() + "+08:00"
    return Delivery(
        spec.code, f"{day_date:%Y%m%d}-{seq:02d}", mode, files, declared, extract, counts
    )


def _by_city(rows: list[Row], division_column: str) -> dict[str, list[Row]]:
    parts: dict[str, list[Row]] = {}
    for row in rows:
        parts.setdefault(str(row.get(division_column) or "450100")[:4] + "00", []).append(row)
    return dict(sorted(parts.items()))


def _insured_full(world: World, r: Renderer, day: int) -> Delivery:
    """Social insurance: a weekly full, split into one part file per prefecture city."""
    persons = [p for p in world.persons.values() if p.grbh]
    insured = [row for p in persons for row in r.rst_cbry(p, day)]
    divisions = {p.grbh: p.hukou.code for p in persons}
    for row in insured:
        row["_city"] = divisions[row["GRBH"]]
    return make_delivery(
        dataset("rst_cbry"), world.day_date(day), 1, "full", _by_city(insured, "_city")
    )


def _full_deliveries(world: World, r: Renderer, day: int) -> list[Delivery]:
    date = world.day_date(day)
    persons = list(world.persons.values())
    orgs = list(world.organisations.values())
    out = []
    register = [r.gat_czrk(p, day, None) for p in persons if p.rybh]
    out.append(make_delivery(dataset("gat_czrk"), date, 1, "full", {"all": register}))
    history = [r.mzt_hydj(m, day) for m in world.marriages if m.day <= day]
    out.append(make_delivery(dataset("mzt_hydj"), date, 1, "delta", {"all": history}))
    out.append(_insured_full(world, r, day))
    newborns = [
        r.wjw_csyxzm(p, day) for p in persons if (world.start - p.birth).days < 365 and p.mother
    ]
    out.append(make_delivery(dataset("wjw_csyxzm"), date, 1, "delta", {"all": newborns}))
    students = [
        r.jyt_xsxj(p, day)
        for p in persons
        if 6 * 365 <= (date - p.birth).days < 18 * 365
        and p.status == "0"
        and p.nationality == "CHN"
    ]
    out.append(make_delivery(dataset("jyt_xsxj"), date, 1, "full", {"all": students}))
    enterprises = [r.scjgj_qydj(o, day, None) for o in orgs if o.source_key.startswith("PRI")]
    out.append(make_delivery(dataset("scjgj_qydj"), date, 1, "full", {"all": enterprises}))
    institutions = [r.bb_sydwdj(o, day) for o in orgs if o.source_key.startswith("SYDW")]
    out.append(make_delivery(dataset("bb_sydwdj"), date, 1, "full", {"all": institutions}))
    social = [r.mzt_shzz(o, day) for o in orgs if o.source_key.startswith("SHZZ")]
    out.append(make_delivery(dataset("mzt_shzz"), date, 1, "full", {"all": social}))
    return out


def _delta_deliveries(world: World, r: Renderer, changes: DayChanges) -> list[Delivery]:
    day, date = changes.day, world.day_date(changes.day)
    persons, orgs = world.persons, world.organisations
    rows_by_dataset = {
        "gat_czrk": [
            r.gat_czrk(persons[pid], day, op) for pid, op in sorted(changes.register.items())
        ],
        "mzt_hydj": [r.mzt_hydj(m, day) for m in changes.marriages],
        "wjw_csyxzm": [r.wjw_csyxzm(persons[pid], day) for pid in changes.births],
        "scjgj_qydj": [
            r.scjgj_qydj(orgs[oid], day, op) for oid, op in sorted(changes.enterprises.items())
        ],
    }
    out = [
        make_delivery(dataset(code), date, 1, "delta", {"all": rows})
        for code, rows in rows_by_dataset.items()
    ]
    if day % 7 == 1:  # weekly full of social insurance
        out.append(_insured_full(world, r, day))
    return out


def _cancel_registrations(world: World, changes: DayChanges, scale: int) -> list[Any]:
    """Registrations the police cancel today (a duplicate registration found, a person who
    moved out of the province): a ``CZBS = D`` row each in the day's register delta."""
    rng = stream(world.seed, "deletes", changes.day)
    registered = sorted(
        (p for p in world.persons.values() if p.rybh and p.pid not in changes.register),
        key=lambda p: p.pid,
    )
    cancelled = rng.sample(registered, min(len(registered), max(1, scale // 2000)))
    for person in cancelled:
        changes.register[person.pid] = "D"
    return cancelled


def _defect_deliveries(world: World, r: Renderer, day: int) -> list[Delivery]:
    """Delivery-level defects of section 5, each a delivery of its own with the expected outcome."""
    rng = stream(world.seed, "defects", day)
    date = world.day_date(day)
    orgs = [o for o in world.organisations.values() if o.source_key.startswith("SHZZ")]
    institutions = [o for o in world.organisations.values() if o.source_key.startswith("SYDW")]
    spec_sh, spec_bb = dataset("mzt_shzz"), dataset("bb_sydwdj")
    out: list[Delivery] = []

    def add(delivery: Delivery, defect: str, expected: str) -> Delivery:
        delivery.defect, delivery.expected = defect, expected
        out.append(delivery)
        return delivery

    def social(seq: int) -> Delivery:
        return make_delivery(
            spec_sh, date, seq, "full", {"all": [r.mzt_shzz(o, day) for o in orgs]}
        )

    d = add(social(11), "bad_checksum", "reject")
    d.sha256_override = "0" * 64
    d = add(social(12), "row_count_mismatch", "reject")
    d.rows = {name: n + 3 for name, n in d.rows.items()}
    d = add(social(13), "wrong_declared_encoding", "reject")
    d.declared_encoding = "UTF-8"  # the bytes are GB18030
    d = add(social(14), "truncated_last_line", "reject")
    d.files = {name: data[: data.rstrip(b"\r\n").rfind(b",")] for name, data in d.files.items()}
    d = add(make_delivery(spec_sh, date, 15, "full", {"all": []}), "empty_file", "reject")
    d.files = {name: b"" for name in d.files}
    d.rows = {name: 0 for name in d.files}
    rows = [r.bb_sydwdj(o, day) for o in institutions]
    d = add(
        make_delivery(
            spec_bb,
            date,
            16,
            "full",
            {"all": [{k: v for k, v in row.items() if k != "DWMC"} for row in rows]},
        ),
        "missing_required_column",
        "reject",
    )
    d.files = {n: _drop_column(data, "DWMC") for n, data in d.files.items()}
    d = add(make_delivery(spec_bb, date, 17, "full", {"all": rows}), "extra_column", "load")
    d.files = {n: _add_column(data, "BZ", "备注") for n, data in d.files.items()}
    d = add(make_delivery(spec_bb, date, 18, "full", {"all": rows}), "bad_rows", "quarantine_rows")
    d.files = {n: _corrupt_rows(data, rng) for n, data in d.files.items()}
    d = add(
        make_delivery(spec_bb, date, 19, "full", {"all": rows}), "no_manifest", "ignore_incomplete"
    )
    d.write_manifest = False
    # Extracted nine days ago, delivered only now (wave 2): older id, loaded out of order.
    late = date - dt.timedelta(days=9)
    d = add(make_delivery(spec_bb, late, 20, "full", {"all": rows}), "late_delivery", "load")
    d.wave = 2
    # Market supervision's full of the day arrives after the delta that follows it.
    enterprises = [o for o in world.organisations.values() if o.source_key.startswith("PRI")]
    spec_qy = dataset("scjgj_qydj")
    full = [r.scjgj_qydj(o, day, None) for o in enterprises]
    d = add(make_delivery(spec_qy, date, 2, "full", {"all": full}), "full_after_its_delta", "load")
    d.wave = 2
    updated = [r.scjgj_qydj(o, day, "U") for o in enterprises[:3]]
    add(make_delivery(spec_qy, date, 3, "delta", {"all": updated}), "delta_before_full", "load")
    return out


def _drop_column(data: bytes, column: str) -> bytes:
    text = data.decode("gb18030")
    rows = list(csv.reader(io.StringIO(text)))
    idx = rows[0].index(column)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([r[:idx] + r[idx + 1 :] for r in rows])
    return buffer.getvalue().encode("gb18030")


def _add_column(data: bytes, column: str, value: str) -> bytes:
    text = data.decode("gb18030")
    rows = list(csv.reader(io.StringIO(text)))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(
        [rows[0] + [column]] + [r + [value] for r in rows[1:]]
    )
    return buffer.getvalue().encode("gb18030")


def _corrupt_rows(data: bytes, rng: Any) -> bytes:
    """Two rows with a wrong field count, one with an unparseable GXSJ."""
    lines = data.decode("gb18030").split("\r\n")
    if len(lines) > 4:
        lines[1] = lines[1] + ",多余字段"
        lines[2] = ",".join(lines[2].split(",")[:3])
        lines[3] = lines[3].rsplit(",", 1)[0] + ",不是时间"
    return "\r\n".join(lines).encode("gb18030")


def write_delivery(landing: Path, delivery: Delivery, provider: str) -> Path:
    folder = landing / delivery.dataset / delivery.delivery_id
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    entries = []
    for name, data in delivery.files.items():
        (folder / name).write_bytes(data)
        sha = delivery.sha256_override or hashlib.sha256(data).hexdigest()
        entries.append({"name": name, "rows": delivery.rows[name], "sha256": sha})
    if delivery.write_manifest:
        manifest = {
            "dataset": delivery.dataset,
            "delivery_id": delivery.delivery_id,
            "provider": provider,
            "extract_time": delivery.extract_time,
            "mode": delivery.mode,
            "encoding": delivery.declared_encoding,
            "files": entries,
        }
        (folder / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8"
        )
    # Files carry the simulated arrival time (two hours after the extract; a late delivery
    # days later; a re-send a day later), so timeliness can be measured on generated data
    # and generating twice gives the same landing zone.
    arrival = dt.datetime.fromisoformat(delivery.extract_time) + dt.timedelta(hours=2)
    arrival += {
        "late_delivery": dt.timedelta(days=9),
        "duplicate_resend": dt.timedelta(days=1),
    }.get(delivery.defect or "", dt.timedelta(0))
    for path in folder.iterdir():
        os.utime(path, (arrival.timestamp(), arrival.timestamp()))
    return folder


def resend(folder: Path) -> None:
    """A department re-sends a delivery unchanged (same id, same checksums): must be a no-op."""
    for path in sorted(folder.iterdir()):
        path.write_bytes(path.read_bytes())


def generate(config: GenerateConfig) -> GenerateSummary:
    world = build_world(config.seed, config.persons, config.orgs, config.start)
    truth = Truth()
    renderer = Renderer(world, config.rates, truth)
    deliveries = _full_deliveries(world, renderer, 1)
    person_changed = {p.pid: 1 for p in world.persons.values() if p.tax_djxh}
    org_changed = {o.oid: 1 for o in world.organisations.values() if o.tax_djxh}
    for day in range(2, config.days + 1):
        changes = simulate_day(world, day, config.persons)
        cancelled = _cancel_registrations(world, changes, config.persons) if config.deletes else []
        deliveries += _delta_deliveries(world, renderer, changes)
        for person in cancelled:  # gone from the register: no live record, no later row
            truth.withdraw("gat_czrk", person.rybh or "")
            person.rybh = None
        person_changed |= {pid: day for pid in changes.tax_persons}
        person_changed |= {
            pid: day
            for pid, op in changes.register.items()
            if world.persons[pid].status != "0" and world.persons[pid].tax_djxh
        }
        org_changed |= {oid: day for oid in changes.tax_orgs}
    if config.defects:
        deliveries += _defect_deliveries(world, renderer, config.days)
        # Day one's register sent again unchanged, after it was loaded: a recorded no-op.
        first = next(d for d in deliveries if d.dataset == "gat_czrk")
        deliveries.append(
            dataclasses.replace(first, defect="duplicate_resend", expected="duplicate", wave=2)
        )
    frontend = {
        "swj_grnsr": [
            renderer.swj_grnsr(world.persons[pid], d) for pid, d in sorted(person_changed.items())
        ],
        "swj_dwnsr": [
            renderer.swj_dwnsr(world.organisations[oid], d)
            for oid, d in sorted(org_changed.items())
        ],
    }
    for table, rows in frontend.items():
        for row in rows:
            if row["scbz"] == "1":  # pulled as a delete: never a live record
                truth.withdraw(table, str(row["djxh"]))
    truth.relations |= set(relations(world))
    truth.decide_representatives()
    return GenerateSummary(deliveries, frontend, truth, world)


def write_truth(summary: GenerateSummary, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "records.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["dataset", "record_key", "entity_type", "entity_id"])
        writer.writerows(
            sorted((ds, key, kind, eid) for (ds, key), (kind, eid) in summary.truth.records.items())
        )
    with open(folder / "relations.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["relation_type", "from_id", "to_id", "valid_from", "valid_to"])
        writer.writerows(sorted(summary.truth.relations))
    with open(folder / "persons.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["person_id", "id_number", "sex", "birth_date"])
        writer.writerows(
            (p.pid, p.id_number or "", p.sex, p.birth.isoformat())
            for p in summary.world.persons.values()
        )
    with open(folder / "organisations.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["organisation_id", "name", "uscc", "status", "legal_rep"])
        writer.writerows(
            (o.oid, o.name, o.uscc or "", o.status, o.legal_rep)
            for o in summary.world.organisations.values()
        )
    with open(folder / "hard_cases.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["dataset", "record_key", "hard_case"])
        writer.writerows(
            sorted(
                (ds, key, case)
                for (ds, key), cases in summary.truth.cases.items()
                for case in cases
            )
        )
    deliveries = [
        {
            "dataset": d.dataset,
            "delivery_id": d.delivery_id,
            "mode": d.mode,
            "defect": d.defect,
            "expected": d.expected,
            "wave": d.wave,
            "rows": sum(d.rows.values()),
        }
        for d in summary.deliveries
    ]
    (folder / "deliveries.json").write_text(
        json.dumps(deliveries, ensure_ascii=False, indent=1) + "\n"
    )


def write_frontend(conninfo: str, frontend_rows: dict[str, list[Row]]) -> dict[str, int]:
    """Create the front-end tables if missing and upsert the rows by ``djxh``."""
    import psycopg
    from psycopg import sql

    counts = {}
    with psycopg.connect(conninfo) as conn:
        for table, rows in frontend_rows.items():
            spec = dataset(table)
            columns = [c.name.lower() for c in spec.columns]
            ddl = sql.SQL("create table if not exists public.{} ({}, primary key (djxh))").format(
                sql.Identifier(table),
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(
                        sql.Identifier(c.name.lower()), sql.SQL(c.sql_type or "varchar")
                    )
                    for c in spec.columns
                ),
            )
            conn.execute(ddl)
            conn.execute(
                sql.SQL("create temporary table incoming (like public.{}) on commit drop").format(
                    sql.Identifier(table)
                )
            )
            with conn.cursor().copy(
                sql.SQL("copy incoming ({}) from stdin").format(
                    sql.SQL(", ").join(map(sql.Identifier, columns))
                )
            ) as copy:
                for row in rows:
                    copy.write_row([row.get(c) for c in columns])
            # Only rows whose content changed get the newer GXSJ: an unchanged row is left alone.
            conn.execute(
                sql.SQL(
                    "insert into public.{t} select * from incoming "
                    "on conflict (djxh) do update set {sets} "
                    "where public.{t}.gxsj < excluded.gxsj"
                ).format(
                    t=sql.Identifier(table),
                    sets=sql.SQL(", ").join(
                        sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c))
                        for c in columns
                        if c != "djxh"
                    ),
                )
            )
            counts[table] = len(rows)
            conn.commit()
    return counts


def write_all(
    summary: GenerateSummary, landing: Path, truth_dir: Path, waves: Iterable[int] = (1, 2)
) -> list[Path]:
    """Write the deliveries of ``waves`` (arrival order) and the truth."""
    paths = []
    for wave in sorted(waves):
        for delivery in summary.deliveries:
            if delivery.wave == wave:
                paths.append(write_delivery(landing, delivery, dataset(delivery.dataset).provider))
    write_truth(summary, truth_dir)
    return paths
