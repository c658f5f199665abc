"""Credit sources for inclusive finance (standard 4.14-4.18), views of the world's
organisations and persons: housing-fund accounts, utility accounts and their bills,
administrative penalties, dishonest judgment debtors and enterprises' authorisations of
banks. Each record's organisation or person goes into the truth's links, with the basis
the record names it by (``uscc``, ``org_code``, ``id_number``, ``passport``,
``name_address``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import random
from dataclasses import dataclass, field
from typing import Any

from mdm.standardize.identifiers import org_code_check_char
from mdm_tools.generate import noise
from mdm_tools.generate.render import PROVINCE, Renderer, Row, _beijing_naive
from mdm_tools.generate.world import (
    Organisation,
    Person,
    World,
    adults,
    division_by_code,
    make_uscc,
    prefecture_names,
    stream,
)

logger = logging.getLogger(__name__)

ACCOUNT_KINDS = (
    "enterprise", "branch", "cooperative", "public_institution", "social_group",
    "private_non_enterprise", "foundation",
)  # fmt: skip
PENALTY_KINDS = ("环境", "市场监管", "应急管理", "交通运输")
PENALTY_OFFICES = {  # 处罚机关 by kind: (name suffix, decision-number word)
    "环境": ("生态环境局", "环罚"),
    "市场监管": ("市场监督管理局", "市监处罚"),
    "应急管理": ("应急管理局", "应急罚"),
    "交通运输": ("交通运输局", "交处罚"),
}
PENALTY_TYPES = (
    "警告", "通报批评", "罚款", "没收违法所得", "暂扣许可证件", "降低资质等级", "吊销许可证件",
    "限制开展生产经营活动", "责令停产停业", "责令关闭", "限制从业", "行政拘留", "其他",
)  # fmt: skip
DISHONEST_CONDUCT = (
    "有履行能力而拒不履行生效法律文书确定义务",
    "违反财产报告制度",
    "违反限制消费令",
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
)
BANKS = (
    ("中国工商银行股份有限公司广西壮族自治区分行", "ICBC"),
    ("中国农业银行股份有限公司广西壮族自治区分行", "ABC"),
    ("广西北部湾银行股份有限公司", "BBW"),
    ("桂林银行股份有限公司", "GLB"),
    ("柳州银行股份有限公司", "LZB"),
)
AUTH_SCOPES = ("JBXX", "NSXX", "SBXX", "GJJ", "SDQ", "SFXX")
FORMER_WORDS = ("利民", "兴业", "同心", "腾飞", "富华", "长城")


@functools.cache
def office_code(seed: int, name: str) -> str:
    """A stable, valid credit code for a government office or bank known only by name."""
    rng = stream(seed, "office", name)
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    return make_uscc("11", "450000", body + org_code_check_char(body))


def legacy_org_code(rng: random.Random, org: Organisation) -> str:
    """The 9-character organization code, with (``M000100Y-4``) or without the hyphen."""
    code = org.org_code
    return f"{code[:8]}-{code[8]}" if rng.random() < 0.5 else code


def name_variant(rng: random.Random, org: Organisation) -> tuple[str, str]:
    """The organisation's name as a utility or the fund recorded it, and which variant
    (``exact`` when the variant drawn leaves the name as it is)."""
    name, variant = _name_variant(rng, org)
    return name, variant if name != org.name else "exact"


def _name_variant(rng: random.Random, org: Organisation) -> tuple[str, str]:
    city = prefecture_names().get(org.division.code[:4], "").removesuffix("市")
    r = rng.random()
    if r < 0.35:
        return org.name, "exact"
    if r < 0.6:
        short = noise.short_org_name(org.name)
        if city and short.startswith(city) and len(short) > len(city) + 2:
            short = short.removeprefix(city)
        return short, "abbreviation"
    if r < 0.8:
        if "（" in org.name:
            return org.name.replace("（", "(").replace("）", ")"), "bracket"
        if city and org.name.startswith(city):
            rest = org.name.removeprefix(city)
            return f"{rest[:2]}（{city}）{rest[2:]}", "bracket"
        return org.name, "exact"
    if len(org.name) > 6:  # an older name: another brand, same trade, same address
        return org.name.replace(org.name[2:4], rng.choice(FORMER_WORDS), 1), "former_name"
    return org.name, "exact"


def _address(rng: random.Random, org: Organisation) -> str:
    city = prefecture_names().get(org.division.code[:4], "")
    r = rng.random()
    if r < 0.3:
        return f"{PROVINCE}{city}{org.address}"
    if r < 0.5:
        return f"{city}{org.address}"
    return org.address


@dataclass
class Penalty:
    xzcfid: str
    entity: str  # pid or oid
    category: str  # XDRLB 1/2/3
    kind: str
    decided: dt.date
    types: tuple[str, ...]
    fine_wan: float | None
    number: int
    day: int = 1
    repaired_on_day: int | None = None


@dataclass
class Debtor:
    ah: str
    entity: str
    decided: dt.date
    conduct: str
    added_on_day: int = 1
    removed_on_day: int | None = None


@dataclass
class Authorisation:
    sqid: str
    oid: str
    bank: int
    scopes: tuple[str, ...]
    granted: dt.date
    valid_until: dt.date
    day: int = 1
    withdrawn_on_day: int | None = None


@dataclass
class Credit:
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (DWZH, oid)
    utilities: list[tuple[str, str, str]] = field(default_factory=list)  # (HH, NYLX, oid)
    penalties: list[Penalty] = field(default_factory=list)
    debtors: list[Debtor] = field(default_factory=list)
    authorisations: list[Authorisation] = field(default_factory=list)


@dataclass
class Pools:
    """Who can be penalised, listed as a debtor or authorise a bank on a day."""

    persons: list[Person]
    businesses: list[Organisation]
    enterprises: list[Organisation]
    authorising: list[Organisation]

    @classmethod
    def of(cls, world: World) -> Pools:
        orgs = world.organisations.values()
        return cls(
            persons=adults(world, 20, 70),
            businesses=[o for o in orgs if o.kind == "individual_business"],
            enterprises=[o for o in orgs if o.kind in ("enterprise", "branch", "cooperative")],
            authorising=[
                o
                for o in orgs
                if o.uscc and o.status == "active" and o.source_key.startswith("PRI")
            ],
        )


def build_credit(world: World) -> Credit:
    credit = Credit()
    rng = stream(world.seed, "credit")
    orgs = list(world.organisations.values())
    pools = Pools.of(world)
    for org in orgs:
        if org.kind in ACCOUNT_KINDS and rng.random() < 0.5:
            credit.accounts.append(("GJJ" + world.next_id("gjj-dwzh", 9), org.oid))
        if rng.random() < 0.35:
            for nylx in rng.sample("DSQ", rng.choice((1, 1, 1, 2))):
                prefix = {"D": "0771", "S": "S045", "Q": "Q045"}[nylx]
                credit.utilities.append((prefix + world.next_id(f"hh-{nylx}", 6), nylx, org.oid))
    for _ in range(max(5, len(orgs) // 8)):
        _new_penalty(world, credit, rng, pools, 1)
    for _ in range(max(5, len(world.persons) // 300)):
        _new_debtor(world, credit, rng, pools, 1)
    for _ in range(max(5, len(orgs) // 15)):
        _new_authorisation(world, credit, rng, pools, 1)
    return credit


def _new_penalty(world: World, credit: Credit, rng: random.Random, pools: Pools, day: int) -> None:
    today = world.day_date(day)
    r = rng.random()
    if r < 0.2:
        entity, category = rng.choice(pools.persons).pid, "2"
    else:
        org = rng.choice(pools.businesses if r < 0.5 else pools.enterprises)
        entity, category = org.oid, "3" if org.kind == "individual_business" else "1"
    types = tuple(sorted(rng.sample(PENALTY_TYPES[:4], rng.choice((1, 1, 2)))))
    if category == "2" and rng.random() < 0.2:
        types = ("行政拘留",)
    decided = today - dt.timedelta(days=rng.randint(0, 3 * 365) if day == 1 else 0)
    credit.penalties.append(
        Penalty(
            xzcfid="CF" + world.next_id("xzcfid", 10),
            entity=entity,
            category=category,
            kind=rng.choice(PENALTY_KINDS),
            decided=decided,
            types=types,
            fine_wan=round(rng.choice((0.05, 0.2, 0.5, 1, 3, 10)) * rng.uniform(1, 3), 4)
            if "罚款" in types
            else None,
            number=rng.randint(1, 2000),
            day=day,
        )
    )


def _new_debtor(world: World, credit: Credit, rng: random.Random, pools: Pools, day: int) -> None:
    today = world.day_date(day)
    if rng.random() < 0.6:
        entity = rng.choice(pools.persons).pid
    else:
        entity = rng.choice(pools.enterprises).oid
    decided = today - dt.timedelta(days=rng.randint(30, 4 * 365) if day == 1 else 30)
    credit.debtors.append(
        Debtor(
            ah="",  # numbered by the court of the entity, below
            entity=entity,
            decided=decided,
            conduct=rng.choice(DISHONEST_CONDUCT),
            added_on_day=day,
        )
    )
    division = _division_of(world, entity)
    credit.debtors[-1].ah = f"({decided.year})桂{division[2:]}执{world.next_id('ah', 1)}号"


def _division_of(world: World, entity: str) -> str:
    if entity.startswith("P"):
        return world.persons[entity].hukou.code
    return world.organisations[entity].division.code


def _new_authorisation(
    world: World, credit: Credit, rng: random.Random, pools: Pools, day: int
) -> None:
    today = world.day_date(day)
    org = rng.choice(pools.authorising)
    granted = today - dt.timedelta(days=rng.randint(0, 300) if day == 1 else 0)
    credit.authorisations.append(
        Authorisation(
            sqid="SQ" + world.next_id("sqid", 10),
            oid=org.oid,
            bank=rng.randrange(len(BANKS)),
            scopes=tuple(s for s in AUTH_SCOPES if s == "JBXX" or rng.random() < 0.5),
            granted=granted,
            valid_until=granted + dt.timedelta(days=rng.choice((90, 180, 365))),
            day=day,
        )
    )


@dataclass
class CreditChanges:
    penalties: list[Penalty] = field(default_factory=list)  # I (new) or D (repaired)
    authorisations: list[Authorisation] = field(default_factory=list)  # I or U (withdrawn)
    debtors: set[str] = field(default_factory=set)  # AH added or removed today


def credit_day(world: World, credit: Credit, day: int) -> CreditChanges:
    """One day of the credit sources: new penalties and repairs, debtors added to and removed
    from the list, authorisations granted and withdrawn."""
    rng = stream(world.seed, "credit-day", day)
    changes = CreditChanges()
    pools = Pools.of(world)
    for _ in range(max(1, len(credit.penalties) // 40)):
        _new_penalty(world, credit, rng, pools, day)
        changes.penalties.append(credit.penalties[-1])
    live = [p for p in credit.penalties if p.repaired_on_day is None and p.day < day]
    for penalty in rng.sample(live, min(len(live), max(1, len(live) // 80))):
        penalty.repaired_on_day = day  # 信用修复: deleted before its publication period ends
        changes.penalties.append(penalty)
    for _ in range(max(1, len(credit.debtors) // 20)):
        _new_debtor(world, credit, rng, pools, day)
        changes.debtors.add(credit.debtors[-1].ah)
    listed = [d for d in credit.debtors if d.removed_on_day is None and d.added_on_day < day]
    for debtor in rng.sample(listed, min(len(listed), max(1, len(listed) // 25))):
        debtor.removed_on_day = day
        changes.debtors.add(debtor.ah)
    for _ in range(max(1, len(credit.authorisations) // 20)):
        _new_authorisation(world, credit, rng, pools, day)
        changes.authorisations.append(credit.authorisations[-1])
    granted = [a for a in credit.authorisations if a.withdrawn_on_day is None and a.day < day]
    for authorisation in rng.sample(granted, min(len(granted), max(1, len(granted) // 30))):
        authorisation.withdrawn_on_day = day
        changes.authorisations.append(authorisation)
    return changes


# --- rows -----------------------------------------------------------------------------------


def _org_by_code(
    rng: random.Random, org: Organisation, missing: float
) -> tuple[str | None, str | None]:
    """(credit code, organization code) as an older record carries them, or neither:
    ``missing`` scales the shares without a credit code (0.45, a third of them by the
    legacy organization code)."""
    r = rng.random()
    code_share = 1 - 0.45 * missing
    if org.uscc and r < code_share:
        return org.uscc, None
    if r < code_share + 0.2 * missing or not missing:
        return None, legacy_org_code(rng, org)
    return None, None


def gjj_dwjc(r: Renderer, dwzh: str, oid: str, day: int) -> Row:
    org = r.world.organisations[oid]
    rng = stream(r.world.seed, "gjj", dwzh)
    uscc, org_code = _org_by_code(rng, org, r.rates.credit_codes_missing)
    name, variant = (org.name, "exact") if uscc or org_code else name_variant(rng, org)
    basis = "uscc" if uscc else "org_code" if org_code else f"name_address:{variant}"
    r.truth.link("gjj_dwjc", dwzh, oid, basis)
    opened = max(org.established, r.world.start - dt.timedelta(days=rng.randint(60, 20 * 365)))
    arrears = rng.choice((0, 0, 0, 0, 1, 2, 6))
    paid_to = r.world.day_date(day).replace(day=1) - dt.timedelta(days=1 + 28 * arrears)
    due = r.world.day_date(day).replace(day=1) - dt.timedelta(days=1)  # the month before
    r.truth.housing_fund[dwzh] = (oid, 12 * (due.year - paid_to.year) + due.month - paid_to.month)
    return {
        "DWZH": dwzh,
        "DWMC": name,
        "TYSHXYDM": uscc,
        "ZZJGDM": org_code if org_code else (org.org_code if uscc and rng.random() < 0.5 else None),
        "DWDZ": _address(rng, org),
        "JCRS": str(rng.randint(1, 300)),
        "YJCE": f"{rng.uniform(500, 200000):.2f}",
        "JZNY": f"{paid_to:%Y%m}",
        "DWZT": "1" if org.status == "active" else rng.choice("23"),
        "KHRQ": opened.isoformat(),
        "GXSJ": r._gxsj(day, dwzh, "%Y-%m-%d %H:%M:%S"),
    }


def sdq_jfxx(r: Renderer, hh: str, nylx: str, oid: str, day: int) -> list[Row]:
    """The account's bills of the two months before the extract."""
    org = r.world.organisations[oid]
    rng = stream(r.world.seed, "sdq", hh)
    uscc = org.uscc if org.uscc and rng.random() < 1 - 0.55 * r.rates.credit_codes_missing else None
    name, variant = (org.name, "exact") if uscc else name_variant(rng, org)
    address = _address(rng, org)
    first_of_month = r.world.day_date(day).replace(day=1)
    months = [
        (first_of_month - dt.timedelta(days=32)).replace(day=1),
        (first_of_month - dt.timedelta(days=1)).replace(day=1),
    ]
    owed = 0.0
    owing = 0
    rows = []
    for month in months:
        key = f"{hh}_{month:%Y%m}"
        r.truth.link("sdq_jfxx", key, oid, "uscc" if uscc else f"name_address:{variant}")
        billed = round(rng.uniform(50, 20000), 2)
        paid = billed if rng.random() < 0.85 else round(billed * rng.uniform(0, 0.9), 2)
        owed = round(owed + billed - paid, 2)
        owing += owed > 0
        r.truth.utilities[hh] = (oid, owed, owing)
        rows.append(
            {
                "HH": hh,
                "NYLX": nylx,
                "YHMC": name,
                "TYSHXYDM": uscc,
                "YDDZ": address,
                "ZDNY": f"{month:%Y%m}",
                "YJJE": f"{billed:.2f}",
                "SJJE": f"{paid:.2f}",
                "QFJE": f"{owed:.2f}",
                "GXSJ": r._gxsj(day, key),
                "_city": org.division.code,
            }
        )
    return rows


def xyb_xzcf(r: Renderer, penalty: Penalty, day: int, op: str) -> Row:
    key = penalty.xzcfid
    rng = stream(r.world.seed, "xzcf", key)
    world = r.world
    division = _division_of(world, penalty.entity)
    city = prefecture_names().get(division[:4], "南宁市")
    office, word = PENALTY_OFFICES[penalty.kind]
    row: Row = {"XZCFID": key}
    if op == "D":  # a repair deletes the record: only the key is guaranteed
        r.truth.links.pop(("xyb_xzcf", key), None)
        return row | {"GXSJ": r._gxsj(day, key), "CZBS": "D"}
    if penalty.category == "2":
        person: Person = world.persons[penalty.entity]
        where = ("xyb_xzcf", key)
        number = r._id(rng, person, where, "ZJHM")
        r.truth.link("xyb_xzcf", key, person.pid, "passport" if person.passport else "id_number")
        row |= {
            "XDRMC": r._name(rng, person.name, where, "XDRMC"),
            "XDRLB": "2",
            "ZJLX": "414" if person.passport else "111",
            "ZJHM": number,
        }
    else:
        org = world.organisations[penalty.entity]
        operator = world.persons[org.legal_rep]
        missing = r.rates.credit_codes_missing
        by_id = not org.uscc or rng.random() < 0.3 * missing
        if penalty.category == "3" and by_id and operator.id_number:
            code, basis = operator.id_number, "operator_id_number"
        elif org.uscc and rng.random() < 1 - 0.1 * missing:
            code, basis = org.uscc, "uscc"
        else:
            code, basis = legacy_org_code(rng, org), "org_code"
        r.truth.link("xyb_xzcf", key, org.oid, basis)
        row |= {
            "XDRMC": noise.noisy_org_name(rng, r.rates, org.name),
            "XDRLB": penalty.category,
            "XDRDM": code,
            "FDDBR": operator.name if penalty.category == "1" else None,
        }
    short_term = set(penalty.types) <= {"警告", "通报批评"}
    publish = penalty.decided + dt.timedelta(days=90 if short_term else rng.choice((365, 1095)))
    fine = f"{penalty.fine_wan * 10000:.2f}" if penalty.fine_wan is not None else ""
    types = ";".join(penalty.types)
    r.truth.penalty_terms[key] = (penalty.decided.isoformat(), publish.isoformat(), fine, types)
    return row | {
        "CFJDSWH": f"{city[:1]}{word}〔{penalty.decided.year}〕{penalty.number}号",
        "CFLB": ";".join(penalty.types),
        "CFJE": f"{penalty.fine_wan:.4f}" if penalty.fine_wan is not None else None,
        "CFRQ": penalty.decided.isoformat(),
        "CFJG": f"{city}{office}",
        "CFJGDM": office_code(world.seed, f"{city}{office}"),
        "GSJZQ": publish.isoformat(),
        "GXSJ": r._gxsj(day, key),
        "CZBS": op,
    }


def fy_sxbzxr(r: Renderer, debtor: Debtor, last_change_day: int) -> Row:
    key = debtor.ah
    rng = stream(r.world.seed, "sxbzxr", key)
    world = r.world
    county = division_by_code()[_division_of(world, debtor.entity)].name
    removed = debtor.removed_on_day is not None
    if debtor.entity.startswith("P"):
        person = world.persons[debtor.entity]
        where = ("fy_sxbzxr", key)
        values: Row = {
            "bzxrmc": r._name(rng, person.name, where, "bzxrmc"),
            "bzxrlx": "1",
            "zjhm": r._id(rng, person, where, "zjhm"),
            "fddbr": None,
        }
        basis = "id_number"
    else:
        org = world.organisations[debtor.entity]
        use_uscc = org.uscc is not None and rng.random() < 1 - 0.2 * r.rates.credit_codes_missing
        values = {
            "bzxrmc": org.name,
            "bzxrlx": "2",
            "zjhm": org.uscc if use_uscc else legacy_org_code(rng, org),
            "fddbr": world.persons[org.legal_rep].name,
        }
        basis = "uscc" if use_uscc else "org_code"
    if removed:
        r.truth.links.pop(("fy_sxbzxr", key), None)
    else:
        r.truth.link("fy_sxbzxr", key, debtor.entity, basis)
    return {
        "ah": key,
        **values,
        "zxfy": f"{county}人民法院",
        "larq": debtor.decided,
        "fbrq": debtor.decided + dt.timedelta(days=rng.randint(30, 120)),
        "sxqx": debtor.conduct,
        "lxqk": rng.choice(("全部未履行", "部分未履行")),
        "gxsj": _beijing_naive(r._gxsj(last_change_day, key)),
        "scbz": "1" if removed else "0",
    }


def xyd_sq(r: Renderer, authorisation: Authorisation, day: int, op: str) -> Row:
    key = authorisation.sqid
    org = r.world.organisations[authorisation.oid]
    bank, _ = BANKS[authorisation.bank]
    r.truth.link("xyd_sq", key, org.oid, "uscc")
    withdrawn = authorisation.withdrawn_on_day is not None and authorisation.withdrawn_on_day <= day
    return {
        "SQID": key,
        "TYSHXYDM": org.uscc,
        "QYMC": org.name,
        "YHDM": office_code(r.world.seed, bank),
        "YHMC": bank,
        "SQFW": ";".join(authorisation.scopes),
        "SQRQ": authorisation.granted.isoformat(),
        "YXQZ": authorisation.valid_until.isoformat(),
        "SQZT": "2" if withdrawn else "1",
        "GXSJ": r._gxsj(day, key, "%Y-%m-%d %H:%M:%S"),
        "CZBS": op,
    }


# --- the profile's truth ------------------------------------------------------------------

PROFILE_TRUTH_COLUMNS = [
    "organisation_id", "paying_employees", "housing_fund_arrears_months", "utility_arrears_yuan",
    "utility_arrears_months", "dishonest_enterprise", "dishonest_legal_rep", "all_coded",
]  # fmt: skip
PENALTY_TRUTH_COLUMNS = [
    "record_key", "organisation_id", "decided", "publish_until", "fine_yuan", "types",
]  # fmt: skip


def profile_truth(world: World, truth: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The credit profile's facts per organisation as delivered (truth/credit_profile.csv)
    and the live penalties of organisations (truth/credit_penalties.csv: which are in their
    publication period depends on the day the profile is computed). ``all_coded``: every
    record behind the facts names the organisation by a code, no hard case in it."""
    linked: dict[str, list[tuple[str, str, str]]] = {}
    for (ds, key), (_, entity, basis) in truth.links.items():
        linked.setdefault(entity, []).append((ds, key, basis))
    employees: dict[str, list[tuple[bool, bool]]] = {}
    for _pid, (oid, paying, coded) in truth.employment.items():
        employees.setdefault(oid, []).append((paying, coded))
    housing: dict[str, int] = {}
    for dwzh, (oid, months) in truth.housing_fund.items():
        if ("gjj_dwjc", dwzh) in truth.links:
            housing[oid] = max(housing.get(oid, 0), months)
    owed: dict[str, tuple[float, int]] = {}
    for _hh, (oid, arrears, months) in truth.utilities.items():
        total, most = owed.get(oid, (0.0, 0))
        owed[oid] = (round(total + arrears, 2), max(most, months))
    listed = {entity for (ds, _), (_, entity, _) in truth.links.items() if ds == "fy_sxbzxr"}
    profiles, penalties = [], []
    for oid, org in sorted(world.organisations.items()):
        records = linked.get(oid, [])
        coded = all(
            not basis.startswith("name_address") and (ds, key) not in truth.cases
            for ds, key, basis in records
        ) and all(c for _, c in employees.get(oid, []))
        arrears, months = owed.get(oid, (0.0, 0))
        profiles.append(
            (
                oid, sum(p for p, _ in employees.get(oid, [])), housing.get(oid, ""),
                f"{arrears:.2f}" if oid in owed else "", months if oid in owed else "",
                int(oid in listed), int(org.legal_rep in listed), int(coded),
            )
        )  # fmt: skip
        penalties += [
            (key, oid, *truth.penalty_terms[key]) for ds, key, _ in records if ds == "xyb_xzcf"
        ]
    return profiles, sorted(penalties)
