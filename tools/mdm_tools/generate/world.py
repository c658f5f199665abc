"""A coherent synthetic Guangxi: persons in households, organisations, jobs.

The world comes first; each department's deliveries are views of it
(``render.py``). Everything is drawn from ``random.Random`` streams seeded by
(seed, purpose), so the same seed gives the same world, and day ``d`` of a
run with ``--days 5`` equals day ``d`` of a run with ``--days 2``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import random
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from mdm.standardize.identifiers import (
    USCC_ALPHABET,
    id_check_char,
    org_code_check_char,
    regno_check_digit,
    uscc_check_char,
)

logger = logging.getLogger(__name__)


def stream(seed: int, *purpose: object) -> random.Random:
    """An independent, reproducible random stream for one purpose."""
    digest = hashlib.sha256(repr((seed, *purpose)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


# --- reference data ------------------------------------------------------------------


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    valid_from: int
    valid_to: int
    prefecture: str


@cache
def divisions() -> tuple[Division, ...]:
    text = (resources.files("mdm.reference") / "gb2260_guangxi.csv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines())
    return tuple(
        Division(
            r["code"],
            r["name"],
            int(r["valid_from_year"] or 1949),
            int(r["valid_to_year"] or 9999),
            r["prefecture"],
        )
        for r in rows
    )


def _is_county(d: Division) -> bool:
    return not d.code.endswith("00") and d.name not in ("市辖区", "市区", "郊区")


@cache
def current_counties() -> tuple[Division, ...]:
    return tuple(d for d in divisions() if _is_county(d) and d.valid_to == 9999)


@cache
def division_by_code() -> dict[str, Division]:
    # Later entries (current names) win for codes that were renamed.
    return {d.code: d for d in divisions()}


@cache
def prefecture_names() -> dict[str, str]:
    """Prefecture-level code (``4501``) -> its current name."""
    return {d.code[:4]: d.name for d in divisions() if d.code.endswith("00") and d.valid_to == 9999}


@cache
def counties_valid_in(year: int) -> list[Division]:
    return [d for d in divisions() if _is_county(d) and d.valid_from <= year <= d.valid_to]


SURNAMES = tuple(
    "黄李韦陈梁刘莫覃蒙林罗张王陆谭周吴廖蓝潘农杨卢唐邓何冯苏赵徐胡朱曾宋谢马钟石凌严颜容范秦蒋彭"
) + ("欧阳",)
# Common Guangxi surnames first, with more weight.
SURNAME_WEIGHTS = [max(1, 9 - i // 4) for i in range(len(SURNAMES))]
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红海燕建国志斌文辉力"
    "梅琳凤英俊峰宇浩然子涵欣怡雨轩梓晨思彤嘉诗佳宏亮春秋月晓云飞鹏坤婷雪莲菊"
    "福寿贵荣昌盛德仁义礼智信忠孝金銮珍珠琼瑶凯旋振兴家乐安康永泰丰源堃喆珺玥"
)
RARE_GIVEN_CHARS = "䶮𬌗"  # outside GBK: only GB18030 files can carry them
UYGHUR_GIVEN = ("阿依古丽", "艾力", "买买提", "热合曼", "古丽娜", "阿不都", "努尔", "帕提古丽")
UYGHUR_FAMILY = ("吐尔逊", "买买提", "阿不力孜", "热合曼", "玉素甫", "依明")

# Ethnicity GB 3304 codes with Guangxi-like shares (05 Uygur: names with a middle dot).
ETHNICITIES = (
    ("01", 62.0),
    ("08", 31.0),
    ("13", 1.6),
    ("06", 1.0),
    ("12", 0.7),
    ("32", 0.4),
    ("36", 0.2),
    ("49", 0.1),
    ("03", 0.1),
    ("05", 0.3),
)
ETHNICITY_NAMES = {
    "01": "汉族",
    "08": "壮族",
    "13": "瑶族",
    "06": "苗族",
    "12": "侗族",
    "32": "仫佬族",
    "36": "毛南族",
    "49": "京族",
    "03": "回族",
    "05": "维吾尔族",
}
STREETS = (
    "民族大道",
    "友爱路",
    "朝阳路",
    "新民路",
    "长湖路",
    "东葛路",
    "桂春路",
    "园湖路",
    "解放路",
    "人民路",
    "中山路",
    "建设路",
    "文化路",
    "金湖路",
    "五一路",
    "北大路",
)
TOWNS = ("城关", "那桐", "古零", "百合", "石埠", "大塘", "黎塘", "新圩", "六景", "峦城")


def person_name(rng: random.Random, ethnicity: str, surname: str | None = None) -> str:
    if ethnicity == "05":
        return f"{rng.choice(UYGHUR_GIVEN)}·{rng.choice(UYGHUR_FAMILY)}"
    surname = surname or rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
    chars = GIVEN_CHARS if rng.random() > 0.002 else RARE_GIVEN_CHARS
    given = rng.choice(chars) + (rng.choice(GIVEN_CHARS) if rng.random() < 0.7 else "")
    return surname + given


# --- persons ----------------------------------------------------------------------------


@dataclass
class Person:
    pid: str
    name: str
    sex: str  # GB/T 2261.1: 1 male, 2 female
    ethnicity: str
    birth: dt.date
    hukou: Division
    address_detail: str
    id_number: str | None  # None: newborn not yet registered, or a foreigner
    passport: str | None = None
    nationality: str = "CHN"
    rybh: str | None = None  # population-register record; None: not registered (yet)
    former_names: list[str] = field(default_factory=list)
    status: str = "0"  # 0 normal, 1 deceased, 2 moved out
    death_date: dt.date | None = None
    phone: str | None = None
    spouse: str | None = None
    mother: str | None = None
    father: str | None = None
    twin_of: str | None = None
    employer: str | None = None
    grbh: str | None = None
    tax_djxh: str | None = None
    registered_on_day: int = 1
    born_on_day: int | None = None  # births during the simulated days


@dataclass
class Marriage:
    ywlsh: str
    husband: str
    wife: str
    date: dt.date
    kind: str = "1"  # 1 marriage, 2 divorce
    day: int = 1


def make_id_number(rng: random.Random, birth: dt.date, sex: str, taken: set[str]) -> str:
    """A valid 18-digit number with a division code valid in the birth year."""
    year = max(birth.year, 1984)
    counties = counties_valid_in(year)
    while True:
        division = rng.choice(counties).code
        seq = rng.randrange(0, 500) * 2 + (1 if sex == "1" else 0)  # odd male, even female
        first17 = f"{division}{birth:%Y%m%d}{seq:03d}"
        number = first17 + id_check_char(first17)
        if number not in taken:
            taken.add(number)
            return number


def _address_detail(rng: random.Random) -> str:
    if rng.random() < 0.55:
        building = f"{rng.randint(1, 30)}栋{rng.randint(101, 2908)}室"
        return f"{rng.choice(STREETS)}{rng.randint(1, 399)}号{building}"
    village = f"{rng.choice('东西南北中上下新')}{rng.choice('坡岭塘村屯')}村"
    return f"{rng.choice(TOWNS)}镇{village}{rng.randint(1, 12)}组{rng.randint(1, 99)}号"


def _phone(rng: random.Random) -> str:
    return rng.choice(("13", "15", "18", "17", "19")) + f"{rng.randrange(10**9):09d}"


# --- organisations -------------------------------------------------------------------------

# kind: (share, registering authority + category, ENTTYPE or None)
ORG_KINDS = {
    "enterprise": (0.40, "91", ("1100", "1200", "4100", "4200")),
    "branch": (0.05, "91", ("1190", "1290")),
    "individual_business": (0.33, "92", ("9500",)),
    "cooperative": (0.04, "93", ("9100",)),
    "public_institution": (0.09, "12", None),
    "social_group": (0.04, "51", None),
    "private_non_enterprise": (0.04, "52", None),
    "foundation": (0.01, "53", None),
}
INDUSTRIES = (
    "F5191",
    "F5211",
    "C1391",
    "E4710",
    "H6110",
    "I6510",
    "L7212",
    "M7320",
    "A0111",
    "G5430",
    "K7010",
    "O8010",
    "C2110",
    "F5261",
    "H6210",
)
BRAND_WORDS = (
    "鑫达",
    "华润",
    "桂发",
    "壮乡",
    "八桂",
    "邕城",
    "恒通",
    "宏远",
    "金穗",
    "绿源",
    "南国",
    "北部湾",
    "漓江",
    "红水河",
    "海利",
    "东盟",
    "永盛",
    "康宁",
    "信诚",
    "瑞丰",
)
TRADE_WORDS = (
    "商贸",
    "建筑工程",
    "农业科技",
    "物流",
    "餐饮管理",
    "信息技术",
    "医药",
    "食品",
    "旅游开发",
    "房地产开发",
    "机械设备",
    "文化传媒",
)
COMPANY_FORMS = {
    "1100": "有限公司",
    "1200": "股份有限公司",
    "4100": "经营部",
    "4200": "合伙企业（有限合伙）",
}
INSTITUTION_WORDS = (
    "人民医院",
    "中心小学",
    "第一中学",
    "疾病预防控制中心",
    "图书馆",
    "农业技术推广站",
    "水文站",
    "职业技术学校",
    "社会福利院",
    "档案馆",
)
SOCIAL_WORDS = {
    "social_group": ("商会", "协会", "学会", "联合会"),
    "private_non_enterprise": ("幼儿园", "培训学校", "养老院", "康复中心"),
    "foundation": ("慈善基金会", "教育基金会"),
}


@dataclass
class Organisation:
    oid: str
    kind: str
    name: str
    division: Division
    address: str
    legal_rep: str  # pid
    established: dt.date
    capital_wan: float
    uscc: str | None
    org_code: str
    regno: str | None = None
    enttype: str | None = None
    industry: str | None = None
    parent: str | None = None
    status: str = "active"  # active | revoked | deregistered
    former_names: list[str] = field(default_factory=list)
    source_key: str = ""  # PRIPID / SYDWID / SHZZID
    tax_djxh: str | None = None
    tax_number: str | None = None
    tax_rating: str | None = None
    tax_rating_year: int | None = None
    created_on_day: int = 1
    changed_on_day: int = 1


def make_org_code(rng: random.Random, taken: set[str]) -> str:
    while True:
        body = "".join(rng.choice(USCC_ALPHABET) for _ in range(8))
        check = org_code_check_char(body)
        code = body + check
        if code not in taken:
            taken.add(code)
            return code


def make_uscc(prefix2: str, division: str, org_code: str) -> str:
    first17 = prefix2 + division + org_code
    return first17 + uscc_check_char(first17)


def make_regno(rng: random.Random, division: str) -> str:
    first14 = division + f"{rng.randrange(10**8):08d}"
    return first14 + regno_check_digit(first14)


@dataclass
class World:
    seed: int
    start: dt.date
    persons: dict[str, Person] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    marriages: list[Marriage] = field(default_factory=list)
    id_numbers: set[str] = field(default_factory=set)
    org_codes: set[str] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str, width: int = 8) -> str:
        n = self.counters.get(kind, 0) + 1
        self.counters[kind] = n
        return f"{n:0{width}d}"

    def day_date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day - 1)


def _birth(rng: random.Random, today: dt.date, min_age: int, max_age: int) -> dt.date:
    days = rng.randint(min_age * 365, max_age * 365 + 364)
    return today - dt.timedelta(days=days)


def _new_person(
    world: World,
    rng: random.Random,
    birth: dt.date,
    sex: str,
    ethnicity: str,
    hukou: Division,
    address: str,
    surname: str | None = None,
    with_id: bool = True,
) -> Person:
    pid = "P" + world.next_id("person")
    person = Person(
        pid=pid,
        name=person_name(rng, ethnicity, surname),
        sex=sex,
        ethnicity=ethnicity,
        birth=birth,
        hukou=hukou,
        address_detail=address,
        id_number=make_id_number(rng, birth, sex, world.id_numbers) if with_id else None,
    )
    if with_id:
        person.rybh = "R45" + world.next_id("rybh", 10)
    if (world.start - birth).days > 16 * 365 and rng.random() < 0.9:
        person.phone = _phone(rng)
    world.persons[pid] = person
    return person


def build_world(seed: int, n_persons: int, n_orgs: int, start: dt.date) -> World:
    """Households until ``n_persons`` exist, then organisations, jobs and tax registrations."""
    world = World(seed=seed, start=start)
    rng = stream(seed, "persons")
    counties = current_counties()
    eth_codes, eth_weights = zip(*ETHNICITIES, strict=True)
    while len(world.persons) < n_persons:
        hukou = rng.choice(counties)
        address = _address_detail(rng)
        ethnicity = rng.choices(eth_codes, eth_weights)[0]
        kind = rng.random()
        if kind < 0.12:  # one person living alone
            _new_person(
                world, rng, _birth(rng, start, 18, 90), rng.choice("12"), ethnicity, hukou, address
            )
            continue
        husband = _new_person(
            world, rng, _birth(rng, start, 22, 85), "1", ethnicity, hukou, address
        )
        wife_birth = husband.birth + dt.timedelta(days=rng.randint(-5 * 365, 8 * 365))
        wife_birth = min(wife_birth, start - dt.timedelta(days=20 * 365))
        wife_eth = ethnicity if rng.random() < 0.8 else rng.choices(eth_codes, eth_weights)[0]
        wife = _new_person(world, rng, wife_birth, "2", wife_eth, hukou, address)
        husband.spouse, wife.spouse = wife.pid, husband.pid
        married = max(husband.birth, wife.birth) + dt.timedelta(
            days=rng.randint(22 * 365, 30 * 365)
        )
        married = min(married, start - dt.timedelta(days=30))
        world.marriages.append(
            Marriage("MZ" + world.next_id("ywlsh", 10), husband.pid, wife.pid, married)
        )
        n_children = rng.choices((0, 1, 2, 3), (15, 40, 35, 10))[0]
        surname = husband.name[0] if husband.ethnicity != "05" else None
        for _ in range(n_children):
            mother_age_days = rng.randint(21 * 365, 38 * 365)
            child_birth = wife.birth + dt.timedelta(days=mother_age_days)
            if child_birth >= start:
                continue
            twins = 2 if rng.random() < 0.02 else 1
            first: Person | None = None
            for _ in range(twins):
                # Born in the last weeks: a birth certificate, no register entry yet.
                registered = (start - child_birth).days > 40
                child = _new_person(
                    world,
                    rng,
                    child_birth,
                    rng.choice("12"),
                    ethnicity,
                    hukou,
                    address,
                    surname=surname,
                    with_id=registered,
                )
                child.mother, child.father = wife.pid, husband.pid
                if first is None:
                    first = child
                else:
                    child.twin_of = first.pid
    _deaths(world, stream(seed, "deaths"))
    _foreigners(world, stream(seed, "foreigners"), max(1, n_persons // 500))
    build_organisations(world, stream(seed, "organisations"), n_orgs)
    assign_jobs_and_tax(world, stream(seed, "jobs"))
    return world


def _deaths(world: World, rng: random.Random) -> None:
    for person in world.persons.values():
        age = (world.start - person.birth).days / 365
        if age > 60 and rng.random() < 0.02 * (age - 60) / 10:
            person.status = "1"
            person.death_date = world.start - dt.timedelta(days=rng.randint(30, 3000))


def _foreigners(world: World, rng: random.Random, count: int) -> None:
    """Foreign residents: known to tax and social security by passport, not to the register."""
    for _ in range(count):
        person = _new_person(
            world,
            rng,
            _birth(rng, world.start, 22, 60),
            rng.choice("12"),
            "98",
            rng.choice(current_counties()),
            _address_detail(rng),
            with_id=False,
        )
        person.name = rng.choice(("阮", "黎", "陈", "范")) + rng.choice(
            ("文雄", "氏兰", "明俊", "氏花")
        )
        person.nationality = "VNM"
        person.passport = "C" + f"{rng.randrange(10**7):07d}"


def adults(world: World, min_age: int = 18, max_age: int = 64) -> list[Person]:
    return [
        p
        for p in world.persons.values()
        if p.status == "0" and min_age * 365 <= (world.start - p.birth).days <= max_age * 365
    ]


def _org_name(
    rng: random.Random,
    kind: str,
    enttype: str | None,
    division: Division,
    parent: Organisation | None,
) -> str:
    city = prefecture_names().get(division.code[:4], "南宁市")
    if kind == "branch" and parent is not None:
        return f"{parent.name}{division.name.removesuffix('区').removesuffix('县')}分公司"
    if kind == "individual_business":
        shop = rng.choice(("小吃店", "五金店", "便利店", "汽修店", "服装店"))
        return f"{division.name}{rng.choice(BRAND_WORDS)}{shop}"
    if kind == "cooperative":
        trade = rng.choice(("种养", "果蔬", "茶叶"))
        return f"{division.name}{rng.choice(BRAND_WORDS)}{trade}专业合作社"
    if kind == "public_institution":
        return f"{division.name}{rng.choice(INSTITUTION_WORDS)}"
    if kind in SOCIAL_WORDS:
        return f"{city}{rng.choice(TRADE_WORDS)}{rng.choice(SOCIAL_WORDS[kind])}"
    brand = rng.choice(BRAND_WORDS)
    form = COMPANY_FORMS.get(enttype or "1100", "有限公司")
    if rng.random() < 0.08:  # brand with the region in brackets, e.g. 华润（广西）医药有限公司
        return f"{brand}（广西）{rng.choice(TRADE_WORDS)}{form}"
    return f"{city.removesuffix('市')}{brand}{rng.choice(TRADE_WORDS)}{form}"


def new_organisation(
    world: World,
    rng: random.Random,
    kind: str,
    reps: list[Person],
    established: dt.date,
    day: int = 1,
) -> Organisation:
    _, prefix2, enttypes = ORG_KINDS[kind]
    parent = None
    if kind == "branch":
        companies = [
            o
            for o in world.organisations.values()
            if o.kind == "enterprise" and o.enttype in ("1100", "1200")
        ]
        parent = rng.choice(companies) if companies else None
    if kind == "branch" and parent is None:
        kind, prefix2, enttypes = "enterprise", "91", ("1100",)
    enttype = rng.choice(enttypes) if enttypes else None
    if parent is not None and enttype is not None:
        enttype = "1190" if parent.enttype == "1100" else "1290"
    division = rng.choice(current_counties())
    org_code = make_org_code(rng, world.org_codes)
    has_uscc = established.year >= 2016 or rng.random() < 0.93
    rep = (
        world.persons[parent.legal_rep]
        if parent is not None and rng.random() < 0.7
        else rng.choice(reps)
    )
    org = Organisation(
        oid="O" + world.next_id("org"),
        kind=kind,
        name=_org_name(rng, kind, enttype, division, parent),
        division=division,
        address=f"{division.name}{rng.choice(STREETS)}{rng.randint(1, 500)}号",
        legal_rep=rep.pid,
        established=established,
        capital_wan=round(
            rng.choice((3, 5, 10, 50, 100, 200, 500, 1000, 5000)) * rng.uniform(0.5, 2), 2
        ),
        uscc=make_uscc(prefix2, division.code, org_code) if has_uscc else None,
        org_code=org_code,
        enttype=enttype,
        industry=rng.choice(INDUSTRIES) if prefix2.startswith("9") else None,
        parent=parent.oid if parent is not None else None,
        created_on_day=day,
        changed_on_day=day,
    )
    if prefix2.startswith("9") and (established.year < 2016 or rng.random() < 0.3):
        org.regno = make_regno(rng, division.code)
    prefix = {"9": "PRI", "1": "SYDW", "5": "SHZZ"}[prefix2[0]]
    org.source_key = prefix + world.next_id("src-" + prefix, 10)
    world.organisations[org.oid] = org
    return org


def build_organisations(world: World, rng: random.Random, n_orgs: int) -> None:
    reps = adults(world, 25, 70) or list(world.persons.values())
    kinds = list(ORG_KINDS)
    weights = [ORG_KINDS[k][0] for k in kinds]
    for _ in range(n_orgs):
        kind = rng.choices(kinds, weights)[0]
        established = world.start - dt.timedelta(days=rng.randint(60, 30 * 365))
        org = new_organisation(world, rng, kind, reps, established)
        if rng.random() < 0.04:
            org.status = rng.choice(("revoked", "deregistered"))
    _second_businesses(world, stream(world.seed, "second-business"), reps)


def _second_businesses(world: World, rng: random.Random, reps: list[Person]) -> None:
    """Owners of two individual businesses (one in twenty): same owner, same county, same
    brand, another trade. Two organisations that resolution must keep apart."""
    owned = [o for o in world.organisations.values() if o.kind == "individual_business"]
    for first in rng.sample(owned, len(owned) // 20):
        second = new_organisation(world, rng, "individual_business", reps, first.established)
        brand = next((b for b in BRAND_WORDS if b in first.name), "")
        shop = rng.choice(("水果店", "理发店", "早餐店", "药店"))
        second.legal_rep, second.division = first.legal_rep, first.division
        if second.uscc:
            second.uscc = make_uscc("92", first.division.code, second.org_code)
        second.name = f"{first.division.name}{brand}{shop}"
        second.address = first.address.replace("号", f"号之{rng.randint(1, 9)}", 1)


def assign_jobs_and_tax(world: World, rng: random.Random) -> None:
    employers = [
        o
        for o in world.organisations.values()
        if o.kind in ("enterprise", "branch", "public_institution", "private_non_enterprise")
        and o.status == "active"
    ]
    for person in adults(world):
        if employers and rng.random() < 0.65:
            person.employer = rng.choice(employers).oid
            person.grbh = "45" + world.next_id("grbh", 11)
        if rng.random() < (0.75 if person.employer else 0.25):
            person.tax_djxh = "1" + world.next_id("djxh-p", 19)
    ratings = ("A", "B", "B", "B", "M", "M", "C", "D")
    for org in world.organisations.values():
        if (
            org.kind in ("enterprise", "branch", "individual_business", "cooperative")
            and rng.random() < 0.85
        ):
            org.tax_djxh = "2" + world.next_id("djxh-o", 19)
            rep = world.persons[org.legal_rep]
            if org.uscc and rng.random() < 0.9:
                org.tax_number = org.uscc
            elif org.kind == "individual_business" and rep.id_number:
                org.tax_number = rep.id_number  # owner's ID number as taxpayer number
            else:
                org.tax_number = org.division.code + org.org_code  # legacy 15 characters
            if rng.random() < 0.7:
                org.tax_rating = rng.choice(ratings)
                org.tax_rating_year = world.start.year - 1
