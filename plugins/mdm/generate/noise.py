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

    @classmethod
    def none(cls) -> NoiseRates:
        return cls(**{name: 0.0 for name in cls.__dataclass_fields__})


TRADITIONAL = str.maketrans(SIMPLIFIED_CHARS, TRADITIONAL_CHARS)
DOT_VARIANTS = ("•", "・", "．", ".", "", "∙")
FULL_WIDTH_DIGITS = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
OLD_COUNTY_NAMES = {new: old for old, new in STANDARD_OLD_COUNTY_NAMES.items()}


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


def noisy_uscc(rng: random.Random, rates: NoiseRates, code: str) -> str:
    if rng.random() < rates.uscc_wrong_check:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        return code[:17] + alphabet[(alphabet.index(code[17]) + 1) % 31]
    return code
