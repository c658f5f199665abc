"""The electronic-certificate library (standard 4.13): certificates of the world's business
records, with the library's gaps in known proportions per type and city.

Every certificate a business record issues gets, from a stream of its own, at most one of
the structured gaps (:data:`GAPS`, rates :func:`gap_rates`), and independently a missing
``ywlsh`` (most certificates issued before the e-certificate system) or a second copy
under another ``zzbs``. A few certificates belong to no delivered business record (an
older certificate of the same holder). ``truth/certificates.csv`` says, per certificate,
its business record, its holder and its gaps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from mdm.registry import code_lists
from mdm_tools.generate import world as w
from mdm_tools.generate.credit import office_code
from mdm_tools.generate.justice import Justice, Practitioner
from mdm_tools.generate.render import Renderer, Row
from mdm_tools.generate.world import Marriage, Organisation, Person, World

logger = logging.getLogger(__name__)

# zzlxdm: business dataset, surface fields, base rates of the structured gaps (GAPS order)
CERT_TYPES: dict[str, tuple[str, tuple[str, ...], tuple[float, float, float, float]]] = {
    "YYZZ": ("scjgj_qydj", ("tyshxydm", "mc", "lx", "fddbr", "zczb", "clrq", "zs"),
             (0.03, 0.04, 0.03, 0.02)),
    "JHZ": ("mzt_hydj", ("nfxm", "nfzjhm", "nvxm", "nvzjhm", "djrq", "djjg"),
            (0.04, 0.06, 0.03, 0.02)),
    "LHZ": ("mzt_hydj", ("nfxm", "nfzjhm", "nvxm", "nvzjhm", "djrq", "djjg"),
            (0.06, 0.06, 0.04, 0.02)),
    "CSYXZM": ("wjw_csyxzm", ("xsexm", "xsexb", "cssj", "csdd", "mqxm", "mqzjhm"),
               (0.05, 0.03, 0.05, 0.02)),
    "SYDWFRZS": ("bb_sydwdj", ("tyshxydm", "mc", "fddbr", "kbzj", "jbdw", "zs"),
                 (0.05, 0.05, 0.04, 0.03)),
    "SHZZDJZS": ("mzt_shzz", ("tyshxydm", "mc", "fddbr", "zczj", "ywzgdw", "zs"),
                 (0.06, 0.05, 0.04, 0.03)),
    "LSSWSZYXKZ": ("sft_jgdj", ("tyshxydm", "mc", "fzr", "zzxs", "zs"), (0.04, 0.04, 0.03, 0.02)),
    "LSZYZ": ("sft_zyry", ("xm", "zjhm", "zyzh", "zyjg"), (0.04, 0.04, 0.03, 0.02)),
}  # fmt: skip
GAPS = ("never_aggregated", "layout_only", "empty_field", "disagreeing_field")
ORPHAN = "orphan"
CERTIFICATE_COLUMNS = (
    "zzbs", "zzlxdm", "business_dataset", "business_key", "holder_record", "holder_type",
    "holder_id", "city", "gap", "ywlsh_missing", "duplicate_of", "day", "field",
)  # fmt: skip
E_CERTIFICATE_SYSTEM = dt.date(2019, 1, 1)  # certificates issued before it were migrated
NO_YWLSH_MIGRATED, NO_YWLSH_NEW = 0.7, 0.03
TWICE = 0.02
ORPHANS = 0.02


def city_factor(city: str) -> float:
    """How much worse than the type's base rates a prefecture's offices aggregate:
    0.5, 1, 1.5 or 2 times, by the prefecture code."""
    return 0.5 + (int(city[2:4]) % 4) * 0.5


def gap_rates(zzlxdm: str, city: str, scale: float = 1.0) -> dict[str, float]:
    """The planted share of each structured gap for a certificate type in a city (``scale``:
    the world's ``certificate_gaps``)."""
    return {
        gap: rate * city_factor(city) * scale
        for gap, rate in zip(GAPS, CERT_TYPES[zzlxdm][2], strict=True)
    }


@dataclass
class Issue:
    """A certificate that a business record says exists."""

    zzlxdm: str
    business_key: str
    holder_record: str  # the holder's record key in the business dataset (with its role)
    holder: Person | Organisation
    city: str  # prefecture code of the issuing office, 450100 ...
    office: str
    issued: dt.date
    zzbh: str
    zmxx: dict[str, str]
    status: str = "1"
    valid_until: str = "长期"


def _holder_code(holder: Person | Organisation) -> tuple[str | None, str | None]:
    if isinstance(holder, Organisation):
        return ("001", holder.uscc) if holder.uscc else (None, None)
    if holder.id_number:
        return "111", holder.id_number
    if holder.passport:
        return "414", holder.passport
    return None, None  # a newborn


def _printed_code(org: Organisation) -> str:
    """The code a certificate prints: the credit code, or for an older organisation its
    registration number or organization code."""
    return org.uscc or org.regno or org.org_code


def _person_code(person: Person) -> str:
    return person.id_number or person.passport or ""


def _city(division: str) -> str:
    return division[:4] + "00"


# --- the certificates of each business record ----------------------------------------------


def enterprise_licence(world: World, org: Organisation) -> Issue:
    rep = world.persons[org.legal_rep]
    names = code_lists()["enterprise_type"]
    return Issue(
        "YYZZ", org.source_key, org.source_key, org, _city(org.division.code),
        f"{org.division.name}市场监督管理局", org.established, _printed_code(org),
        {
            "tyshxydm": _printed_code(org), "mc": org.name, "lx": names.get(org.enttype or "", ""),
            "fddbr": rep.name, "zczb": f"{org.capital_wan:.2f}",
            "clrq": org.established.isoformat(), "zs": org.address,
        },
        status="1" if org.status == "active" else "2",
        # one licence in four with a business term (营业期限), the others without (长期)
        valid_until=business_term(org),
    )  # fmt: skip


def business_term(org: Organisation) -> str:
    if int(org.oid[1:]) % 4:
        return "长期"
    end = org.established + dt.timedelta(days=30 * 365 + 7)
    return end.isoformat()


def marriage_certificates(world: World, marriage: Marriage) -> list[Issue]:
    husband, wife = world.persons[marriage.husband], world.persons[marriage.wife]
    office = f"{husband.hukou.name}民政局婚姻登记处"
    zmxx = {
        "nfxm": husband.name, "nfzjhm": _person_code(husband), "nvxm": wife.name,
        "nvzjhm": _person_code(wife), "djrq": marriage.date.isoformat(), "djjg": office,
    }  # fmt: skip
    zzlxdm = "JHZ" if marriage.kind == "1" else "LHZ"
    number = f"{zzlxdm[0]}{husband.hukou.code}-{marriage.date.year}-{marriage.ywlsh[-6:]}"
    return [
        Issue(
            zzlxdm,
            marriage.ywlsh,
            f"{marriage.ywlsh}#{role}",
            person,
            _city(husband.hukou.code),
            office,
            marriage.date,
            f"{number}{suffix}",
            zmxx,
        )  # fmt: skip
        for role, person, suffix in (("NAN", husband, "1"), ("NV", wife, "2"))
    ]


def birth_certificate(world: World, child: Person) -> Issue:
    key = "T45" + child.pid[1:]
    rng = w.stream(world.seed, "noise", "wjw_csyxzm", key)  # the birth time as wjw_csyxzm draws it
    rng.random()
    born = dt.datetime.combine(child.birth, dt.time(rng.randint(0, 23), rng.randint(0, 59)))
    zmxx = {
        "xsexm": child.name, "xsexb": child.sex, "cssj": born.isoformat(),
        "csdd": child.hukou.code,
    }  # fmt: skip
    for prefix, pid in (("mq", child.mother), ("fq", child.father)):
        if pid:
            parent = world.persons[pid]
            zmxx |= {f"{prefix}xm": parent.name, f"{prefix}zjhm": _person_code(parent)}
    return Issue(
        "CSYXZM", key, f"{key}#XSE", child, _city(child.hukou.code),
        f"{child.hukou.name}妇幼保健院", child.birth, key, zmxx,
    )  # fmt: skip


def institution_certificate(world: World, org: Organisation) -> Issue:
    rep = world.persons[org.legal_rep]
    city = w.prefecture_names().get(org.division.code[:4], "")
    base = {"tyshxydm": _printed_code(org), "mc": org.name, "fddbr": rep.name}
    if org.source_key.startswith("SYDW"):
        return Issue(
            "SYDWFRZS", org.source_key, org.source_key, org, _city(org.division.code),
            f"{city}机构编制委员会办公室", org.established, f"事证第{org.org_code}号",
            base | {"kbzj": f"{org.capital_wan:.2f}", "jbdw": f"{org.division.name}人民政府",
                    "zs": org.address},
            status="1" if org.status == "active" else "2",
        )  # fmt: skip
    return Issue(
        "SHZZDJZS", org.source_key, org.source_key, org, _city(org.division.code),
        f"{city}民政局", org.established, f"{org.uscc or org.org_code}",
        base | {"zczj": f"{org.capital_wan:.2f}", "ywzgdw": f"{city}民政局", "zs": org.address},
        status="1" if org.status == "active" else "2",
    )  # fmt: skip


def law_firm_licence(world: World, justice: Justice, org: Organisation) -> Issue:
    return Issue(
        "LSSWSZYXKZ", org.source_key, org.source_key, org, _city(org.division.code),
        "广西壮族自治区司法厅", org.established, justice.licence[org.oid],
        {
            "tyshxydm": _printed_code(org), "mc": org.name,
            "fzr": world.persons[org.legal_rep].name, "zzxs": justice.form.get(org.oid, ""),
            "zs": org.address,
        },
        status="1" if org.status == "active" else "2",
    )  # fmt: skip


def lawyer_licence(world: World, justice: Justice, practitioner: Practitioner) -> Issue:
    person = world.persons[practitioner.pid]
    institution = justice.institutions[practitioner.institution]
    return Issue(
        "LSZYZ", practitioner.ryid, practitioner.ryid, person, _city(institution.division.code),
        "广西壮族自治区司法厅", practitioner.first_practised, practitioner.zyzh,
        {
            "xm": person.name, "zjhm": _person_code(person), "zyzh": practitioner.zyzh,
            "zyjg": institution.name,
        },
        status="1" if practitioner.status != "3" else "2",
    )  # fmt: skip


# --- the library ----------------------------------------------------------------------------


@dataclass
class Library:
    """What the library holds: certificate lines by business certificate (for annulments)."""

    delivered: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    surface: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # as issued


def _zzbs(seed: int, issue: Issue, copy: str) -> str:
    digest = hashlib.sha256(repr((seed, issue.zzlxdm, issue.holder_record, copy)).encode())
    return "45" + digest.hexdigest()[:22].upper()


def _disagree(rng: random.Random, value: str) -> str:
    """A surface value that disagrees with its business record."""
    try:
        date = dt.date.fromisoformat(value[:10])
        return (date + dt.timedelta(days=rng.choice((-365, -31, 1, 30)))).isoformat() + value[10:]
    except ValueError:
        pass
    if value and value[-1].isdigit():
        return value[:-1] + str((int(value[-1]) + rng.randint(1, 9)) % 10)
    changed = value
    while changed == value:  # a drawn character may be the one it replaces: never agree
        changed = (value[:-1] if len(value) > 1 else value) + rng.choice(w.GIVEN_CHARS)
    return changed


def _line(
    world: World, issue: Issue, zzbs: str, gap: str, ywlsh: str | None, rng: random.Random, day: int
) -> tuple[Row, str]:
    """The library's line of a certificate with its gap, and the surface field the gap is in
    (``zmxx.<key>`` for an empty or disagreeing field, ``zmxx`` for the layout file only)."""
    zmxx: dict[str, str] | None = dict(issue.zmxx)
    fields = CERT_TYPES[issue.zzlxdm][1]
    where = ""
    if gap == "layout_only":
        zmxx = {} if rng.random() < 0.5 else None
        where = "zmxx"
    elif gap == "empty_field" and zmxx is not None:
        name = rng.choice(fields)
        zmxx[name], where = "", f"zmxx.{name}"
    elif gap == "disagreeing_field" and zmxx is not None:
        name = rng.choice(fields)
        zmxx[name], where = _disagree(rng, zmxx[name]), f"zmxx.{name}"
    code_type, code = _holder_code(issue.holder)
    layout = {
        "format": "OFD" if rng.random() < 0.8 else "PDF",
        "sha256": hashlib.sha256(zzbs.encode()).hexdigest(),
        "bytes": rng.randint(40_000, 400_000),
    }
    holder_name = issue.holder.name
    gxsj = dt.datetime.combine(world.day_date(day) - dt.timedelta(days=1), dt.time(9))
    gxsj += dt.timedelta(seconds=rng.randint(0, 12 * 3600))
    return {
        "zzbs": zzbs,
        "zzlxdm": issue.zzlxdm,
        "zzbh": issue.zzbh,
        "czztmc": holder_name,
        "czztdmlx": code_type,
        "czztdm": code,
        "bfjg": issue.office,
        "bfjgdm": office_code(world.seed, issue.office),
        "bfrq": issue.issued.isoformat(),
        "yxqz": issue.valid_until,
        "zzzt": issue.status,
        "ywlsh": ywlsh,
        "zmxx": zmxx,
        "bswj": layout if gap == "layout_only" or rng.random() < 0.9 else None,
        "gxsj": gxsj.strftime("%Y-%m-%d %H:%M:%S"),
        "czbs": "I",
    }, where


def certificate_rows(
    r: Renderer, library: Library, issues: Iterable[Issue], day: int, orphans: bool = False
) -> list[Row]:
    """The library's lines for the certificates of ``issues`` (issued on ``day``), with
    their gaps, and (``orphans``) a few certificates of no delivered business record."""
    world, truth, scale = r.world, r.truth, r.rates.certificate_gaps
    rows: list[Row] = []
    issued = list(issues)
    for issue in issued:
        dataset = CERT_TYPES[issue.zzlxdm][0]
        rng = w.stream(world.seed, "certificate", issue.zzlxdm, issue.holder_record)
        draw, gap = rng.random(), ""
        for name, rate in gap_rates(issue.zzlxdm, issue.city, scale).items():
            if draw < rate:
                gap = name
                break
            draw -= rate
        migrated = issue.issued < E_CERTIFICATE_SYSTEM
        no_ywlsh = rng.random() < (NO_YWLSH_MIGRATED if migrated else NO_YWLSH_NEW) * scale
        twice = rng.random() < TWICE * scale
        holder_type = "person" if isinstance(issue.holder, Person) else "organisation"
        holder_id = issue.holder.pid if isinstance(issue.holder, Person) else issue.holder.oid
        common = (issue.zzlxdm, dataset, issue.business_key, issue.holder_record, holder_type,
                  holder_id, issue.city, gap, "1" if no_ywlsh else "0")  # fmt: skip
        if gap == "never_aggregated":
            truth.certificates.append(("", *common, "", str(day), ""))
            continue
        zzbs = _zzbs(world.seed, issue, "1")
        ywlsh = None if no_ywlsh else issue.business_key
        line, where = _line(world, issue, zzbs, gap, ywlsh, rng, day)
        lines = [line]
        truth.certificates.append((zzbs, *common, "", str(day), where))
        if twice:
            second = _zzbs(world.seed, issue, "2")
            lines.append(lines[0] | {"zzbs": second})
            truth.certificates.append((second, *common, zzbs, str(day), where))
        library.delivered[(issue.zzlxdm, issue.holder_record)] = lines
        library.surface[(issue.zzlxdm, issue.holder_record)] = issue.zmxx
        rows += lines
    if orphans and scale:
        rows += _orphans(r, issued, day)
    return rows


def _orphans(r: Renderer, issued: list[Issue], day: int) -> list[Row]:
    """Older certificates of holders of this day's certificates that no business record
    delivered explains (another number, issued years before)."""
    world = r.world
    rows = []
    by_type: dict[str, list[Issue]] = {}
    for issue in issued:
        by_type.setdefault(issue.zzlxdm, []).append(issue)
    for zzlxdm, issues in sorted(by_type.items()):
        rng = w.stream(world.seed, "certificate-orphans", zzlxdm, day)
        for issue in rng.sample(issues, max(1, round(len(issues) * ORPHANS))):
            older = replace(
                issue,
                issued=issue.issued - dt.timedelta(days=rng.randint(400, 3000)),
                zzbh=issue.zzbh + "-0",
            )
            zzbs = _zzbs(world.seed, older, "orphan")
            row, _ = _line(world, older, zzbs, "", None, rng, day)
            rows.append(row)
            holder = older.holder
            r.truth.certificates.append(
                (zzbs, zzlxdm, CERT_TYPES[zzlxdm][0], "", "",
                 "person" if isinstance(holder, Person) else "organisation",
                 holder.pid if isinstance(holder, Person) else holder.oid,
                 older.city, ORPHAN, "1", "", str(day), "")
            )  # fmt: skip
    return rows


def annulments(world: World, library: Library, issues: Iterable[Issue], day: int) -> list[Row]:
    """``czbs = U`` lines that annul the delivered certificates of ``issues`` (an enterprise
    deregistered today)."""
    gxsj = f"{world.day_date(day) - dt.timedelta(days=1):%Y-%m-%d} 18:00:00"
    return [
        line | {"zzzt": "2", "czbs": "U", "gxsj": gxsj}
        for issue in issues
        for line in library.delivered.get((issue.zzlxdm, issue.holder_record), [])
    ]


def reissues(library: Library, issues: Iterable[Issue], day_date: dt.date) -> list[Row]:
    """``czbs = U`` lines of the delivered certificates of ``issues`` with their surface as
    the business record now says (an enterprise renamed today: the change registration
    reissues its licence, 变更登记). Each line keeps its gap: a field it had empty or
    disagreeing stays so, a layout-only line stays without surface data."""
    gxsj = f"{day_date - dt.timedelta(days=1):%Y-%m-%d} 17:00:00"
    rows = []
    for issue in issues:
        key = (issue.zzlxdm, issue.holder_record)
        before = library.surface.get(key, {})
        lines = []
        for line in library.delivered.get(key, []):
            zmxx = line["zmxx"]
            if zmxx:
                zmxx = {k: issue.zmxx[k] if v == before.get(k) else v for k, v in zmxx.items()}
            lines.append(
                line | {"czztmc": issue.holder.name, "zmxx": zmxx, "czbs": "U", "gxsj": gxsj}
            )
        if lines:
            library.delivered[key], library.surface[key] = lines, issue.zmxx
        rows += lines
    return rows


def day_one_issues(world: World, justice: Justice) -> list[Issue]:
    """The certificates that day one's business records say exist."""
    orgs = list(world.organisations.values())
    issues: list[Issue] = []
    issues += [enterprise_licence(world, o) for o in orgs if o.source_key.startswith("PRI")]
    issues += [c for m in world.marriages if m.day <= 1 for c in marriage_certificates(world, m)]
    issues += [
        birth_certificate(world, p)
        for p in world.persons.values()
        if (world.start - p.birth).days < 365 and p.mother
    ]
    issues += [
        institution_certificate(world, o) for o in orgs if o.source_key[:4] in ("SYDW", "SHZZ")
    ]
    issues += [
        law_firm_licence(world, justice, o)
        for o in justice.institutions.values()
        if justice.jglx[o.oid] == "01"
    ]
    issues += [lawyer_licence(world, justice, p) for p in justice.practitioners if p.zylb == "01"]
    return issues
