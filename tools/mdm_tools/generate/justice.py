"""Justice administration (standard 4.11, 4.12): legal-service institutions and practitioners.

Institutions are organisations of their own (not in ``world.organisations``, so the first
ten datasets stay as they were); their persons in charge and practitioners are persons of
the world: some persons in charge are legal representatives elsewhere, a few lawyers of
representative offices are foreigners known by passport.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, field

from mdm_tools.generate import noise
from mdm_tools.generate.render import Renderer, Row
from mdm_tools.generate.world import (
    BRAND_WORDS,
    TOWNS,
    Organisation,
    Person,
    World,
    adults,
    current_counties,
    make_org_code,
    make_uscc,
    prefecture_names,
    stream,
)

logger = logging.getLogger(__name__)

# JGLX -> (USCC positions 1-2, name pattern, ZYLB of its practitioners, practitioners)
INSTITUTION_TYPES: dict[str, tuple[str, str, str, tuple[int, int]]] = {
    "01": ("31", "广西{brand}律师事务所", "01", (3, 9)),
    "02": ("32", "{city}{county}公证处", "02", (2, 5)),
    "03": ("34", "广西{brand}司法鉴定所", "03", (2, 5)),
    "04": ("33", "{county}{town}法律服务所", "04", (1, 3)),
}
INSTITUTION_SHARES = (("01", 0.5), ("02", 0.15), ("03", 0.15), ("04", 0.2))
LAW_FIRM_FORMS = ("普通合伙", "特殊普通合伙", "个人", "国资")


@dataclass
class Practitioner:
    ryid: str
    pid: str
    institution: str  # oid
    zylb: str
    zyzh: str
    first_practised: dt.date
    status: str = "1"


@dataclass
class Justice:
    institutions: dict[str, Organisation] = field(default_factory=dict)
    jglx: dict[str, str] = field(default_factory=dict)  # oid -> JGLX
    licence: dict[str, str] = field(default_factory=dict)  # oid -> ZYXKZH
    form: dict[str, str] = field(default_factory=dict)  # oid -> ZZXS (law firms)
    practitioners: list[Practitioner] = field(default_factory=list)


def new_org_code(rng: random.Random, world: World, taken: set[str]) -> str:
    """An organization code no organisation of the world has, leaving the world's own set as
    it is (the first ten datasets' later days draw against it)."""
    while True:
        code = make_org_code(rng, taken)
        if code not in world.org_codes:
            return code


def build_justice(world: World, n_orgs: int) -> Justice:
    """Institutions (about one per twenty organisations) with their practitioners."""
    rng = stream(world.seed, "justice")
    justice = Justice()
    pool = [p for p in adults(world, 26, 64) if p.id_number]
    taken: set[str] = set()
    legal_reps = sorted({o.legal_rep for o in world.organisations.values()})
    foreigners = [p for p in world.persons.values() if p.passport and p.status == "0"]
    codes = [code for code, _ in INSTITUTION_SHARES]
    weights = [share for _, share in INSTITUTION_SHARES]
    codes_taken: set[str] = set()
    for _ in range(max(6, n_orgs // 20)):
        jglx = rng.choices(codes, weights)[0]
        prefix2, pattern, zylb, (low, high) = INSTITUTION_TYPES[jglx]
        division = rng.choice(current_counties())
        city = prefecture_names().get(division.code[:4], "南宁市")
        name = pattern.format(
            brand=rng.choice(BRAND_WORDS) + rng.choice(("", "正", "明", "信")),
            city=city,
            county=division.name,
            town=rng.choice(TOWNS),
        )
        # Persons in charge: one in five is a legal representative of an organisation too.
        if rng.random() < 0.2 and legal_reps:
            fzr = world.persons[rng.choice(legal_reps)]
        else:
            fzr = rng.choice(pool)
        org_code = new_org_code(rng, world, codes_taken)
        approved = world.start - dt.timedelta(days=rng.randint(200, 25 * 365))
        org = Organisation(
            oid="OJ" + world.next_id("org-justice", 7),
            kind="justice",
            name=name,
            division=division,
            address=f"{division.name}{rng.choice(('民族大道', '人民路', '中山路'))}"
            f"{rng.randint(1, 300)}号",
            legal_rep=fzr.pid,
            established=approved,
            capital_wan=0.0,
            uscc=make_uscc(prefix2, division.code, org_code),
            org_code=org_code,
            status="active" if rng.random() < 0.95 else "deregistered",
        )
        org.source_key = "JG" + world.next_id("src-JG", 10)
        justice.institutions[org.oid] = org
        justice.jglx[org.oid] = jglx
        justice.licence[org.oid] = f"{jglx}{division.code}{rng.randrange(10**8):08d}"
        if jglx == "01":
            justice.form[org.oid] = rng.choice(LAW_FIRM_FORMS)
        members = [fzr] + [rng.choice(pool) for _ in range(rng.randint(low, high))]
        if jglx == "01" and foreigners and rng.random() < 0.3:
            members.append(rng.choice(foreigners))  # a lawyer of a representative office
        for person in members:
            if person.pid in taken:
                continue
            taken.add(person.pid)
            first = max(
                person.birth + dt.timedelta(days=24 * 365),
                world.start - dt.timedelta(days=rng.randint(100, 30 * 365)),
            )
            first = min(first, world.start - dt.timedelta(days=30))
            serial = rng.randrange(10**6)
            zyzh = f"1{division.code[:4]}{first.year}{int(zylb)}{person.sex}{serial:06d}"
            justice.practitioners.append(
                Practitioner(
                    ryid="RY" + world.next_id("src-RY", 10),
                    pid=person.pid,
                    institution=org.oid,
                    zylb=zylb,
                    zyzh=zyzh,
                    first_practised=first,
                    status="1" if rng.random() < 0.93 else rng.choice("23"),
                )
            )
    return justice


def sft_jgdj(r: Renderer, justice: Justice, org: Organisation, day: int) -> Row:
    key = org.source_key
    rng = r._rng("sft_jgdj", key)
    r.truth.record("sft_jgdj", key, org.oid)
    fzr, fzr_id = r._rep("sft_jgdj", key, org, rng, 0.05, role="FZR")
    jglx = justice.jglx[org.oid]
    return {
        "JGID": key,
        "TYSHXYDM": r._uscc(rng, org.uscc, ("sft_jgdj", key), "TYSHXYDM"),
        "JGMC": org.name,
        "JGLX": jglx,
        "ZZXS": justice.form.get(org.oid),
        "ZYXKZH": justice.licence[org.oid],
        "FZR": fzr,
        "FZRZJHM": fzr_id,
        "ZS": org.address,
        "XZQHDM": org.division.code,
        "JGZT": "1" if org.status == "active" else "3",
        "PZRQ": org.established.isoformat(),
        "GXSJ": r._gxsj(day, key, "%Y-%m-%d %H:%M:%S"),
    }


def sft_zyry(r: Renderer, justice: Justice, practitioner: Practitioner, day: int) -> Row:
    key = practitioner.ryid
    rng = r._rng("sft_zyry", key)
    person: Person = r.world.persons[practitioner.pid]
    institution = justice.institutions[practitioner.institution]
    where = ("sft_zyry", key)
    r.truth.record(*where, person.pid)
    # The institution by credit code, or (two in five) by its name only.
    by_name = stream(r.world.seed, "practitioner-institution", key).random() < 0.4
    return {
        "RYID": key,
        "XM": r._name(rng, person.name, where, "XM"),
        "XB": person.sex,
        "SFZJHM": r._id(rng, person, where, "SFZJHM"),
        "ZYLB": practitioner.zylb,
        "ZYZH": practitioner.zyzh,
        "ZYJGMC": noise.noisy_org_name(rng, r.rates, institution.name),
        "ZYJGDM": None if by_name else institution.uscc,
        "ZYZT": practitioner.status,
        "SCZYRQ": practitioner.first_practised.isoformat(),
        "GXSJ": r._gxsj(day, key, "%Y-%m-%d %H:%M:%S"),
    }


def justice_relations(justice: Justice) -> set[tuple[str, str, str, str, str]]:
    """True relations: person in charge of, and practitioner at, an institution."""
    rows = {
        ("person_in_charge", o.legal_rep, o.oid, o.established.isoformat(), "")
        for o in justice.institutions.values()
    }
    rows |= {
        ("practitioner", p.pid, p.institution, p.first_practised.isoformat(), "")
        for p in justice.practitioners
        if p.status != "3"
    }
    return rows
