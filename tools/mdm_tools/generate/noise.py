"""Value defects of real deliveries (interface standard, section 5), at configurable rates.

Each function takes a stream and a clean value and returns the value as a
department might have typed it. Which record gets which defect is drawn
from a stream keyed by (seed, dataset, record key), so a record keeps its
defect in every delivery, as real source data does.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from mdm.standardize.identifiers import downgrade_id_18_to_15
from mdm.standardize.values import OLD_COUNTY_NAMES as STANDARD_OLD_COUNTY_NAMES
from mdm.standardize.values import SIMPLIFIED_CHARS, TRADITIONAL_CHARS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NoiseRates:
    id_format: float = 0.02  # lower-case x, full-width digits, spaces
    id_wrong_check: float = 0.003
    id_legacy_15: float = 0.01  # only numbers of people born in the 1900s
    id_other_person: float = 0.002  # a relative's number typed into the record
    name_traditional: float = 0.01
    name_spaces: float = 0.01
    name_full_width_space: float = 0.003
    dot_variant: float = 0.5  # share of dotted names written with another dot or none
    date_other_format: float = 0.01
    date_impossible: float = 0.001
    date_future: float = 0.001
    address_abbreviated: float = 0.08
    address_old_county: float = 0.03
    address_no_province: float = 0.08
    phone_format: float = 0.15
    bracket_variant: float = 0.5
    uscc_wrong_check: float = 0.003
    # Hard cases of resolution (issue: resolution beyond identifiers), each drawn from a
    # stream of its own so the defects above fall on the same records as before.
    id_typo: float = 0.003  # one digit of the first 17 typed wrong (fails the check)
    id_transposition: float = 0.002  # two neighbouring digits swapped (fails the check)
    name_homophone: float = 0.01  # a given-name character written by sound (同音字)
    rep_id_missing: float = 0.05  # a legal representative delivered by name only
    parent_id_missing: float = 0.03  # a newborn's parent delivered by name only
    employer_code_missing: float = 0.05  # an insured person's employer by name only
    employer_code_wrong_check: float = 0.01
    employer_name_short: float = 0.05  # the employer's name without its company form
    required_blank: float = 0.003  # a required value (the insured person's name) left blank
    # v2 (standard 4.13-4.17): how much of the sources' known gaps a world keeps (1: the
    # proportions of the generator's description, 0: none), each on streams of its own.
    certificate_gaps: float = 1.0  # never aggregated, layout only, empty/disagreeing fields...
    credit_codes_missing: float = 1.0  # credit records by legacy code or by name and address

    @classmethod
    def none(cls) -> NoiseRates:
        return cls(**{name: 0.0 for name in cls.__dataclass_fields__})

    def scaled(self, factor: float) -> NoiseRates:
        """Every rate times ``factor`` (capped at 1): a harder world than the default."""
        return NoiseRates(
            **{name: min(1.0, getattr(self, name) * factor) for name in self.__dataclass_fields__}
        )


# Name characters that people write for one another because they sound alike (同音字): the
# way most Chinese names are mistyped. The generator's own list of real confusions; the
# resolver compares names by pinyin from a library (mdm.standardize.sound), not by this list.
HOMOPHONE_GROUPS = (
    "晓小筱", "馨心欣新鑫", "潮朝", "伟玮炜卫", "芳方", "丽莉俐", "静婧靖", "杰洁", "明鸣铭",
    "红宏鸿", "华桦", "玉钰", "琳林霖", "峰锋丰", "宇雨羽语", "涵寒", "怡仪宜", "轩萱", "晨辰",
    "彤桐", "嘉佳家", "云芸", "飞菲", "鹏朋", "婷亭", "莲连", "福富", "贵桂", "荣容", "盛胜",
    "义艺", "金锦", "珍真", "珠朱", "凯恺", "兴星", "梅玫", "燕艳", "娟鹃", "军君", "洋阳",
    "勇永", "霞侠", "平萍", "斌彬", "志智", "辉徽", "文雯", "月悦", "秋丘", "春椿",
)  # fmt: skip
_HOMOPHONE_OF = {char: group for group in HOMOPHONE_GROUPS for char in group}

TRADITIONAL = str.maketrans(SIMPLIFIED_CHARS, TRADITIONAL_CHARS)
DOT_VARIANTS = ("•", "・", "．", ".", "", "∙")
FULL_WIDTH_DIGITS = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
OLD_COUNTY_NAMES = {new: old for old, new in STANDARD_OLD_COUNTY_NAMES.items()}


def _id_check_fails(number: str) -> bool:
    from mdm.standardize.identifiers import id_check_char

    return id_check_char(number[:17]) != number[17]


def typed_wrong_id(rng: random.Random, rates: NoiseRates, number: str) -> str | None:
    """The number with one digit typed wrong or two neighbours swapped, so that its check
    character fails; None when this record keeps its number."""
    r = rng.random()
    if r < rates.id_typo:
        for _ in range(20):
            position = rng.randrange(17)
            digit = rng.choice([d for d in "0123456789" if d != number[position]])
            typed = number[:position] + digit + number[position + 1 :]
            if _id_check_fails(typed):
                return typed
    elif r < rates.id_typo + rates.id_transposition:
        for _ in range(20):
            position = rng.randrange(16)
            a, b = number[position], number[position + 1]
            typed = number[:position] + b + a + number[position + 2 :]
            if a != b and _id_check_fails(typed):
                return typed
    return None


def homophone_name(rng: random.Random, rates: NoiseRates, name: str) -> str:
    """One given-name character replaced by another of the same sound, at ``name_homophone``."""
    if rng.random() >= rates.name_homophone:
        return name
    positions = [i for i, char in enumerate(name) if i > 0 and char in _HOMOPHONE_OF]
    if not positions:
        return name
    position = rng.choice(positions)
    others = [c for c in _HOMOPHONE_OF[name[position]] if c != name[position]]
    return name[:position] + rng.choice(others) + name[position + 1 :]


def noisy_id(rng: random.Random, rates: NoiseRates, number: str) -> str:
    r = rng.random()
    if r < rates.id_wrong_check:
        return number[:17] + ("0" if number[17] != "0" else "1")
    r -= rates.id_wrong_check
    if r < rates.id_legacy_15 and number[6:8] == "19":
        return downgrade_id_18_to_15(number)
    r -= rates.id_legacy_15
    if r < rates.id_format:
        kind = rng.randrange(3)
        if kind == 0 and number.endswith("X"):
            return number[:17] + "x"
        if kind == 1:
            return number.translate(FULL_WIDTH_DIGITS)
        return (
            f" {number[:6]} {number[6:14]} {number[14:]} " if rng.random() < 0.5 else f" {number} "
        )
    return number


def noisy_name(rng: random.Random, rates: NoiseRates, name: str) -> str:
    if "·" in name and rng.random() < rates.dot_variant:
        name = name.replace("·", rng.choice(DOT_VARIANTS))
    r = rng.random()
    if r < rates.name_traditional:
        return name.translate(TRADITIONAL)
    r -= rates.name_traditional
    if r < rates.name_spaces and len(name) >= 2:
        return name[0] + " " + name[1:]
    r -= rates.name_spaces
    if r < rates.name_full_width_space:
        return name + "\u3000"
    return name


def noisy_date(rng: random.Random, rates: NoiseRates, value: dt.date, declared: str) -> str:
    """``declared`` is ``%Y%m%d`` or ``%Y-%m-%d``."""
    r = rng.random()
    if r < rates.date_other_format:
        return rng.choice(
            (
                f"{value.year}/{value.month}/{value.day}",
                f"{value.year}年{value.month}月{value.day}日",
                value.strftime("%Y%m%d" if declared != "%Y%m%d" else "%Y-%m-%d"),
            )
        )
    r -= rates.date_other_format
    if r < rates.date_impossible:
        return f"{value.year}{'-' if '-' in declared else ''}02{'-' if '-' in declared else ''}30"
    r -= rates.date_impossible
    if r < rates.date_future:
        return dt.date(2099, value.month, min(value.day, 28)).strftime(declared)
    return value.strftime(declared)


def noisy_address(
    rng: random.Random, rates: NoiseRates, province: str, city: str, county: str, detail: str
) -> str:
    r = rng.random()
    if r < rates.address_old_county and county in OLD_COUNTY_NAMES:
        county = OLD_COUNTY_NAMES[county]
    r = rng.random()
    if r < rates.address_abbreviated:
        province = "广西"
    elif r < rates.address_abbreviated + rates.address_no_province:
        province = ""
    return f"{province}{city}{county}{detail}"


def noisy_phone(rng: random.Random, rates: NoiseRates, phone: str) -> str:
    if rng.random() >= rates.phone_format:
        return phone
    return rng.choice(
        (
            f"+86{phone}",
            f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}",
            f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
            f"{phone[:3]} {phone[3:]}",
        )
    )


def noisy_org_name(rng: random.Random, rates: NoiseRates, name: str) -> str:
    if "（" in name and rng.random() < rates.bracket_variant:
        return name.replace("（", "(").replace("）", ")")
    return name


def noisy_uscc(rng: random.Random, rates: NoiseRates, code: str, rate: float | None = None) -> str:
    if rng.random() < (rates.uscc_wrong_check if rate is None else rate):
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        return code[:17] + alphabet[(alphabet.index(code[17]) + 1) % 31]
    return code


COMPANY_FORM_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "经营部")


def short_org_name(name: str) -> str:
    """An organisation's name as people write it on a form: without the company form."""
    for suffix in COMPANY_FORM_SUFFIXES:
        if name.endswith(suffix) and not name.endswith("分公司"):
            return name.removesuffix(suffix)
    return name
