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

from mdm.registry import Dataset
from mdm_tools.generate import certificates as certs
from mdm_tools.generate import corrections, credit, justice, noise
from mdm_tools.generate.corrections import ANSWER_COLUMNS, Answer, Request
from mdm_tools.generate.events import DayChanges, simulate_day
from mdm_tools.generate.gaps import (
    Gaps,
    apply_file_gaps,
    freeze_day,
    frontend_truth,
    replace_parts,
)
from mdm_tools.generate.render import DEFECT_COLUMNS, Renderer, Row, Truth, relations
from mdm_tools.generate.specs import spec as dataset
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
    # The platform's outbox (standard 6.1): correction requests that ``jcfk`` answers on a
    # later day; None or a folder without requests: no answers.
    outbox: Path | None = None
    # Deliveries that never came, a frozen front-end table, a missing city part, blanked
    # columns (truth/delivery_gaps.json); None: none.
    gaps: Gaps | None = None


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
    # Manifest fields written as they are (v2 defects: a malformed extract_time, mode or
    # provider), and the record keys of the rows a value-level defect was planted in.
    manifest_overrides: dict[str, Any] = field(default_factory=dict)
    defect_keys: list[str] = field(default_factory=list)
    # Arrival order: wave 1 is everything the scheduler finds at once; wave 2 arrives after
    # a first ingestion (a re-send, a full that comes after its delta). ``mdm generate``
    # writes both; tests write them apart to see the second arrival.
    wave: int = 1


@dataclass
class Sources2:
    """The world as the v2 sources see it (standard 4.11-4.19)."""

    justice: justice.Justice
    credit: credit.Credit
    library: certs.Library = field(default_factory=certs.Library)


@dataclass
class GenerateSummary:
    deliveries: list[Delivery]
    frontend_rows: dict[str, list[Row]]
    truth: Truth
    world: World
    v2: Sources2 | None = None
    # Front-end rows that arrive after a first pull (v2 defects, ``--defects``): rows to
    # write as they are (late commits, GXSJ corrected downwards) and keys deleted outright.
    frontend_late: dict[str, list[Row]] = field(default_factory=dict)
    frontend_deleted: dict[str, list[str]] = field(default_factory=dict)
    # The gaps planted (truth/delivery_gaps.json), when the world has any.
    gaps: dict[str, Any] = field(default_factory=dict)


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


def _v2_day_one(world: World, r: Renderer) -> tuple[Sources2, list[Delivery]]:
    """The v2 sources' first deliveries (standard 4.11-4.18)."""
    v2 = Sources2(
        justice.build_justice(world, len(world.organisations)), credit.build_credit(world)
    )
    date, j, c = world.day_date(1), v2.justice, v2.credit
    issues = certs.day_one_issues(world, j)
    rows_by_dataset = {
        "sft_jgdj": ("full", [justice.sft_jgdj(r, j, o, 1) for o in j.institutions.values()]),
        "sft_zyry": ("full", [justice.sft_zyry(r, j, p, 1) for p in j.practitioners]),
        "dzzz_zzxx": ("delta", certs.certificate_rows(r, v2.library, issues, 1, orphans=True)),
        "gjj_dwjc": ("full", [credit.gjj_dwjc(r, dwzh, oid, 1) for dwzh, oid in c.accounts]),
        "xyb_xzcf": ("delta", [credit.xyb_xzcf(r, p, 1, "I") for p in c.penalties]),
        "xyd_sq": ("delta", [credit.xyd_sq(r, a, 1, "I") for a in c.authorisations]),
    }
    out = [
        make_delivery(dataset(code), date, 1, mode, {"all": rows})
        for code, (mode, rows) in rows_by_dataset.items()
    ]
    bills = [row for hh, nylx, oid in c.utilities for row in credit.sdq_jfxx(r, hh, nylx, oid, 1)]
    out.append(make_delivery(dataset("sdq_jfxx"), date, 1, "delta", _by_city(bills, "_city")))
    return v2, out


def _v2_day(world: World, r: Renderer, v2: Sources2, changes: DayChanges) -> list[Delivery]:
    """A later day of the v2 sources: penalties decided and repaired, authorisations granted
    and withdrawn, certificates of the day's business records and annulments."""
    day, date = changes.day, world.day_date(changes.day)
    today = credit.credit_day(world, v2.credit, day)
    orgs = world.organisations
    issues = [
        certs.enterprise_licence(world, orgs[oid])
        for oid, op in sorted(changes.enterprises.items())
        if op == "I"
    ]
    issues += [i for m in changes.marriages for i in certs.marriage_certificates(world, m)]
    issues += [certs.birth_certificate(world, world.persons[pid]) for pid in changes.births]
    deregistered = [
        certs.enterprise_licence(world, orgs[oid])
        for oid, op in sorted(changes.enterprises.items())
        if op == "U" and orgs[oid].status != "active"
    ]
    renamed = [
        certs.enterprise_licence(world, orgs[oid])
        for oid, op in sorted(changes.enterprises.items())
        if op == "U" and orgs[oid].status == "active"
    ]
    rows_by_dataset = {
        "dzzz_zzxx": certs.certificate_rows(r, v2.library, issues, day)
        + certs.reissues(v2.library, renamed, date)
        + certs.annulments(world, v2.library, deregistered, day),
        "xyb_xzcf": [
            credit.xyb_xzcf(r, p, day, "D" if p.repaired_on_day == day else "I")
            for p in today.penalties
        ],
        "xyd_sq": [
            credit.xyd_sq(r, a, day, "U" if a.withdrawn_on_day == day else "I")
            for a in today.authorisations
        ],
    }
    return [
        make_delivery(dataset(code), date, 1, "delta", {"all": rows})
        for code, rows in rows_by_dataset.items()
    ]


def _marked(data: bytes, marker: str, replacement: bytes) -> bytes:
    return data.replace(marker.encode("utf-8"), replacement)


def _v2_defect_deliveries(world: World, r: Renderer, v2: Sources2, day: int) -> list[Delivery]:
    """The v2 delivery-level defects of section 5: malformed manifest fields (``sft_jgdj``)
    and a NUL byte, an invalid byte sequence and a line over a megabyte in a value
    (``gjj_dwjc``, the row whose key is in ``defect_keys``)."""
    date = world.day_date(day)
    institutions = [
        justice.sft_jgdj(r, v2.justice, o, day) for o in v2.justice.institutions.values()
    ]
    out: list[Delivery] = []
    for seq, (defect, field_name, value) in enumerate(
        (
            ("malformed_extract_time", "extract_time", f"{date:%Y年%m月%d日} 02:00"),
            ("malformed_mode", "mode", "increment"),
            ("malformed_provider", "provider", None),
        ),
        start=21,
    ):
        d = make_delivery(dataset("sft_jgdj"), date, seq, "full", {"all": institutions})
        d.defect, d.expected, d.manifest_overrides = defect, "reject", {field_name: value}
        out.append(d)
    accounts = [credit.gjj_dwjc(r, dwzh, oid, day) for dwzh, oid in v2.credit.accounts]
    marker = "\u2400MARK\u2400"
    for seq, (defect, column, value, replacement) in enumerate(
        (
            ("nul_byte", "DWMC", marker, b"\x00"),
            ("invalid_byte_sequence", "DWMC", marker, b"\xff\xfe"),
            ("line_over_1mb", "DWDZ", "桂" * 400_000, b""),
        ),
        start=24,
    ):
        rows = [dict(row) for row in accounts]
        if rows:
            target = rows[len(rows) // 2]
            target[column] = f"{target[column]}{value}"
        d = make_delivery(dataset("gjj_dwjc"), date, seq, "full", {"all": rows})
        if replacement:
            d.files = {name: _marked(data, marker, replacement) for name, data in d.files.items()}
        d.defect, d.expected = defect, "quarantine_rows"
        d.defect_keys = [str(rows[len(rows) // 2]["DWZH"])] if rows else []
        out.append(d)
    return out


def _frontend_defects(
    world: World,
    r: Renderer,
    v2: Sources2,
    rows: list[Row],
    summary_late: dict[str, list[Row]],
    summary_deleted: dict[str, list[str]],
    day: int,
) -> None:
    """Front-end rows committed late (v2 defects) on ``fy_sxbzxr``, after a first pull: a row
    whose GXSJ is earlier than rows already pulled, a row updated with its GXSJ corrected
    downwards, a row deleted outright instead of flagged."""
    rng = stream(world.seed, "frontend-defects", day)
    live = [row for row in rows if row["scbz"] == "0"]
    if len(live) < 3:
        return
    earliest = min(row["gxsj"] for row in rows)
    debtor = next(d for d in v2.credit.debtors if d.ah == live[0]["ah"])
    late = credit.fy_sxbzxr(r, debtor, day) | {
        "ah": live[0]["ah"].replace("执", "执恢"),
        "gxsj": earliest - dt.timedelta(minutes=5),
    }
    basis = r.truth.links[("fy_sxbzxr", live[0]["ah"])][2]
    r.truth.link("fy_sxbzxr", late["ah"], debtor.entity, basis)
    corrected = live[1] | {
        "lxqk": "部分未履行" if live[1]["lxqk"] == "全部未履行" else "全部未履行",
        "gxsj": live[1]["gxsj"] - dt.timedelta(hours=rng.randint(2, 20)),
    }
    deleted = live[2]["ah"]
    r.truth.links.pop(("fy_sxbzxr", deleted), None)
    summary_late["fy_sxbzxr"] = [late, corrected]
    summary_deleted["fy_sxbzxr"] = [deleted]
    r.truth.frontend_defects += [
        {"table": "fy_sxbzxr", "key": late["ah"], "defect": "late_commit", "expected": "load"},
        {"table": "fy_sxbzxr", "key": corrected["ah"], "defect": "gxsj_corrected_downwards",
         "expected": "update"},
        {"table": "fy_sxbzxr", "key": deleted, "defect": "hard_delete", "expected": "delete"},
    ]  # fmt: skip


def _delivered_rows(spec: Dataset, delivery: Delivery) -> dict[str, list[Row]]:
    """A generated delivery's rows again, per part."""
    parts: dict[str, list[Row]] = {}
    for name, data in delivery.files.items():
        part = name.removeprefix("part-").rsplit(".", 1)[0]
        if name.endswith(".jsonl"):
            parts[part] = [json.loads(line) for line in data.decode("utf-8").splitlines() if line]
        else:
            text = data.decode(ENCODINGS[spec.encoding or "UTF-8"])
            parts[part] = list(csv.DictReader(io.StringIO(text)))
    return parts


def _corrected_delivery(
    world: World, spec: Dataset, deliveries: list[Delivery], due: list[Answer], day: int
) -> Delivery | None:
    """The corrected values of ``due`` as the department delivers them: an update in a delta
    of a dataset that has ``CZBS`` (or sends inserts only), else a new full of its last full."""
    # every request of a record applies (two columns, or both spouses of one registration)
    fixes: dict[str, list[Request]] = {}
    for answer in due:
        fixes.setdefault(answer.request.record_key.split("#", 1)[0], []).append(answer.request)
    regular = [d for d in deliveries if d.dataset == spec.code and d.defect is None]
    if not regular:
        return None
    as_delta = (
        spec.format == "jsonl"
        or "CZBS" in spec.column_names
        or all(d.mode == "delta" for d in regular)
    )
    stamp = dt.datetime.combine(world.day_date(day) - dt.timedelta(days=1), dt.time(17))

    def fix(row: Row) -> Row:
        requests = fixes[spec.record_key_separator.join(str(row[k]) for k in spec.record_key)]
        time_column = "gxsj" if "gxsj" in row else "GXSJ"
        old = str(row.get(time_column) or "")
        fmt = "%Y%m%d%H%M%S" if old.isdigit() else "%Y-%m-%d %H:%M:%S"
        row = row | {time_column: stamp.strftime(fmt)}
        for r in requests:
            # a key of a JSON column (a certificate's surface field, zmxx.mc) or a column
            base, _, key = r.column.partition(".")
            if key and isinstance(row.get(base), dict):
                row[base] = row[base] | {key: r.suggested}
            else:
                row[r.column] = r.suggested
        if as_delta and ("CZBS" in row or "czbs" in row or "CZBS" in spec.column_names):
            row["czbs" if "czbs" in row else "CZBS"] = "U"
        return row

    def key_of(row: Row) -> str:
        return spec.record_key_separator.join(str(row.get(k) or "") for k in spec.record_key)

    if as_delta:
        found: dict[str, Row] = {}
        for delivery in reversed(regular):
            for rows in _delivered_rows(spec, delivery).values():
                for row in rows:
                    if key_of(row) in fixes and key_of(row) not in found:
                        found[key_of(row)] = fix(row)
        parts = {"all": [found[k] for k in sorted(found)]}
        mode = "delta"
    else:
        last = next(d for d in reversed(regular) if d.mode == "full")
        parts = {
            part: [fix(row) if key_of(row) in fixes else row for row in rows]
            for part, rows in _delivered_rows(spec, last).items()
        }
        mode = "full"
    if not any(parts.values()):
        return None
    return make_delivery(spec, world.day_date(day), 5, mode, parts)


def _answers_of_day(
    world: World,
    answers: list[Answer],
    deliveries: list[Delivery],
    day: int,
    corrected_in: dict[tuple[str, int], str],
) -> list[Delivery]:
    """The day's ``jcfk`` answers, and the values corrected after yesterday's answers."""
    out = []
    today = [a for a in answers if a.day == day]
    if today:
        rows = [corrections.jcfk_row(world, a) for a in today]
        out.append(make_delivery(dataset("jcfk"), world.day_date(day), 1, "delta", {"all": rows}))
    due: dict[str, list[Answer]] = {}
    for answer in answers:
        if answer.deliver_value and answer.day + 1 == day:
            due.setdefault(answer.request.dataset, []).append(answer)
    for code, group in sorted(due.items()):
        try:
            spec = dataset(code)
        except KeyError:
            logger.warning("correction answers for unknown dataset %s: no corrected values", code)
            continue
        if spec.channel == "frontend_db":
            for answer in group:
                corrected_in[(answer.request.jcbh, answer.fkxh)] = f"frontend:{day}"
            continue
        delivery = _corrected_delivery(world, spec, deliveries, group, day)
        if delivery is not None:
            out.append(delivery)
            for answer in group:
                corrected_in[(answer.request.jcbh, answer.fkxh)] = delivery.delivery_id
    return out


def _correct_frontend(
    world: World, frontend: dict[str, list[Row]], answers: list[Answer], corrected_in: dict
) -> None:
    """Corrected values of front-end tables: the row updated in place with a newer GXSJ."""
    for answer in answers:
        where = corrected_in.get((answer.request.jcbh, answer.fkxh), "")
        if not where.startswith("frontend:"):
            continue
        day = int(where.split(":")[1])
        spec = dataset(answer.request.dataset)
        key = spec.record_key[0].lower()
        for row in frontend.get(answer.request.dataset, []):
            if str(row[key]) == answer.request.record_key.split("#", 1)[0]:
                row[answer.request.column.lower()] = answer.request.suggested
                row["gxsj"] = max(
                    row["gxsj"],
                    dt.datetime.combine(world.day_date(day) - dt.timedelta(days=1), dt.time(17)),
                )


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
        } | delivery.manifest_overrides
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
    v2, v2_deliveries = _v2_day_one(world, renderer)
    deliveries += v2_deliveries
    answers = corrections.plan_answers(world, corrections.read_requests(config.outbox), config.days)
    corrected_in: dict[tuple[str, int], str] = {}
    person_changed = {p.pid: 1 for p in world.persons.values() if p.tax_djxh}
    org_changed = {o.oid: 1 for o in world.organisations.values() if o.tax_djxh}
    for day in range(2, config.days + 1):
        changes = simulate_day(world, day, config.persons)
        cancelled = _cancel_registrations(world, changes, config.persons) if config.deletes else []
        deliveries += _delta_deliveries(world, renderer, changes)
        deliveries += _v2_day(world, renderer, v2, changes)
        deliveries += _answers_of_day(world, answers, deliveries, day, corrected_in)
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
        deliveries += _v2_defect_deliveries(world, renderer, v2, config.days)
        # Day one's register sent again unchanged, after it was loaded: a recorded no-op.
        first = next(d for d in deliveries if d.dataset == "gat_czrk")
        deliveries.append(
            dataclasses.replace(first, defect="duplicate_resend", expected="duplicate", wave=2)
        )
    planted = config.gaps or Gaps()
    gap_truth: dict[str, Any] = {}
    if config.gaps:
        deliveries, gap_truth = apply_file_gaps(
            config.gaps, deliveries, config.start, dataset, _delivered_rows,
            lambda spec, d, parts: replace_parts(
                d, make_delivery(spec, world.day_date(1), 1, d.mode, parts)
            ),
        )  # fmt: skip

    def day_of(table: str, day: int) -> int:
        return freeze_day(planted, table, day)

    frontend = {
        "swj_grnsr": [
            renderer.swj_grnsr(world.persons[pid], day_of("swj_grnsr", d))
            for pid, d in sorted(person_changed.items())
        ],
        "swj_dwnsr": [
            renderer.swj_dwnsr(world.organisations[oid], day_of("swj_dwnsr", d))
            for oid, d in sorted(org_changed.items())
        ],
        "fy_sxbzxr": [
            credit.fy_sxbzxr(renderer, d, day_of("fy_sxbzxr", d.removed_on_day or d.added_on_day))
            for d in sorted(v2.credit.debtors, key=lambda d: d.ah)
        ],
    }
    gap_truth |= frontend_truth(planted, frontend)
    for table, rows in frontend.items():
        key = dataset(table).record_key[0].lower()
        for row in rows:
            if row["scbz"] == "1":  # pulled as a delete: never a live record
                truth.withdraw(table, str(row[key]))
    _correct_frontend(world, frontend, answers, corrected_in)
    truth.answers += [
        (a.request.jcbh, str(a.fkxh), a.request.dataset, a.request.record_key,
         a.request.column, a.cljg, (world.day_date(a.day) - dt.timedelta(days=1)).isoformat(),
         corrected_in.get((a.request.jcbh, a.fkxh), ""))
        for a in answers
        if a.day <= config.days
    ]  # fmt: skip
    summary = GenerateSummary(deliveries, frontend, truth, world, v2, gaps=gap_truth)
    if config.defects:
        _frontend_defects(
            world, renderer, v2, frontend["fy_sxbzxr"], summary.frontend_late,
            summary.frontend_deleted, config.days,
        )  # fmt: skip
    truth.relations |= set(relations(world)) | justice.justice_relations(v2.justice)
    truth.decide_representatives()
    return summary


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
        institutions = summary.v2.justice.institutions.values() if summary.v2 else ()
        writer.writerows(
            (o.oid, o.name, o.uscc or "", o.status, o.legal_rep)
            for o in [*summary.world.organisations.values(), *institutions]
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
    _write_v2_truth(summary.truth, folder)
    profiles, penalties = credit.profile_truth(summary.world, summary.truth)
    for name, columns, rows in (
        ("credit_profile.csv", credit.PROFILE_TRUTH_COLUMNS, profiles),
        ("credit_penalties.csv", credit.PENALTY_TRUTH_COLUMNS, penalties),
    ):
        with open(folder / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows)
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
        | ({"defect_keys": d.defect_keys} if d.defect_keys else {})
        for d in summary.deliveries
    ]
    (folder / "deliveries.json").write_text(
        json.dumps(deliveries, ensure_ascii=False, indent=1) + "\n"
    )
    if summary.gaps:
        (folder / "delivery_gaps.json").write_text(
            json.dumps(summary.gaps, ensure_ascii=False, indent=1) + "\n"
        )


def _write_v2_truth(truth: Truth, folder: Path) -> None:
    """links.csv (credit and certificate-library records -> the entity they describe, with
    the basis they name it by), certificates.csv, correction_answers.csv and the front-end
    defects planted."""
    with open(folder / "links.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["dataset", "record_key", "entity_type", "entity_id", "basis"])
        writer.writerows(sorted((ds, key, *link) for (ds, key), link in truth.links.items()))
    with open(folder / "certificates.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(certs.CERTIFICATE_COLUMNS)
        writer.writerows(sorted(truth.certificates))
    with open(folder / "value_defects.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(DEFECT_COLUMNS)
        writer.writerows(sorted((*where, *defect) for where, defect in truth.defects.items()))
    with open(folder / "correction_answers.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(ANSWER_COLUMNS)
        writer.writerows(sorted(truth.answers))
    (folder / "frontend_defects.json").write_text(
        json.dumps(truth.frontend_defects, ensure_ascii=False, indent=1) + "\n"
    )


def write_frontend(
    conninfo: str, frontend_rows: dict[str, list[Row]], force: bool = False
) -> dict[str, int]:
    """Create the front-end tables if missing and upsert the rows by their key (``djxh``,
    ``ah``); ``force``: also over a row with a newer GXSJ (a GXSJ corrected downwards)."""
    import psycopg
    from psycopg import sql

    counts = {}
    with psycopg.connect(conninfo) as conn:
        for table, rows in frontend_rows.items():
            spec = dataset(table)
            columns = [c.name.lower() for c in spec.columns]
            key = spec.record_key[0].lower()
            ddl = sql.SQL("create table if not exists public.{} ({}, primary key ({}))").format(
                sql.Identifier(table),
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(
                        sql.Identifier(c.name.lower()), sql.SQL(c.sql_type or "varchar")
                    )
                    for c in spec.columns
                ),
                sql.Identifier(key),
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
                    "on conflict ({k}) do update set {sets} {newer}"
                ).format(
                    newer=sql.SQL("" if force else "where public.{t}.gxsj < excluded.gxsj").format(
                        t=sql.Identifier(table)
                    ),
                    t=sql.Identifier(table),
                    k=sql.Identifier(key),
                    sets=sql.SQL(", ").join(
                        sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c))
                        for c in columns
                        if c != key
                    ),
                )
            )
            counts[table] = len(rows)
            conn.commit()
    return counts


def write_frontend_late(conninfo: str, summary: GenerateSummary) -> dict[str, int]:
    """The front-end defects' second arrival (after a first pull): rows committed late or with
    their GXSJ corrected downwards, and rows deleted outright."""
    import psycopg
    from psycopg import sql

    counts = write_frontend(conninfo, summary.frontend_late, force=True)
    with psycopg.connect(conninfo) as conn:
        for table, keys in summary.frontend_deleted.items():
            key = dataset(table).record_key[0].lower()
            conn.execute(
                sql.SQL("delete from public.{} where {} = any(%s)").format(
                    sql.Identifier(table), sql.Identifier(key)
                ),
                (keys,),
            )
            counts[table] = counts.get(table, 0) + len(keys)
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
