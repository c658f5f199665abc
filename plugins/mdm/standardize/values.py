"""Standardising delivered values: names, dates, code lists, phones, divisions, addresses.

Pure functions. The SQL functions in ``mdm/db/migrations/0003_standardize_functions.sql``
(schema ``std``, used by the dbt models) implement the same rules; both are
tested on ``tests/cases/standardize.yaml``, so a value is standardised the same
wherever it is. The original value is always kept next to the standardised one.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata

logger = logging.getLogger(__name__)

# Traditional -> simplified, for matching keys only (the delivered name is kept as it is).
TRADITIONAL_CHARS = (
    "陳劉黃張楊吳趙韋蘭華國軍紅麗偉強龍鳳東廣寧榮貴慶馬鍾謝蘇羅鄧馮盧"
    "譚藍農覃蒙陸莫潘唐何胡朱曾宋傑娟濤艷輝梅琳浩欣雪蓮凱樂康豐義禮"
)
SIMPLIFIED_CHARS = (
    "陈刘黄张杨吴赵韦兰华国军红丽伟强龙凤东广宁荣贵庆马钟谢苏罗邓冯卢"
    "谭蓝农覃蒙陆莫潘唐何胡朱曾宋杰娟涛艳辉梅琳浩欣雪莲凯乐康丰义礼"
)
# After NFKC: every way departments write the middle dot of minority names.
DOT_VARIANTS = "•・∙●.･"
MIDDLE_DOT = "·"  # U+00B7
PROVINCE = "广西壮族自治区"
PREFECTURES = (
    "南宁市", "柳州市", "桂林市", "梧州市", "北海市", "防城港市", "钦州市",
    "贵港市", "玉林市", "百色市", "贺州市", "河池市", "来宾市", "崇左市",
)  # fmt: skip
# Old county names in addresses -> today's (GB/T 2260 changes since 2000).
OLD_COUNTY_NAMES = {
    "武鸣县": "武鸣区",
    "横县": "横州市",
    "柳江县": "柳江区",
    "临桂县": "临桂区",
    "荔浦县": "荔浦市",
    "田阳县": "田阳区",
    "靖西县": "靖西市",
    "平果县": "平果市",
    "宜州市": "宜州区",
}
_TRAD = str.maketrans(TRADITIONAL_CHARS, SIMPLIFIED_CHARS)
_DOTS = str.maketrans(DOT_VARIANTS, MIDDLE_DOT * len(DOT_VARIANTS))
_WHITESPACE = re.compile(r"\s+")


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _text(value: str | None) -> str:
    return _WHITESPACE.sub("", _nfkc(value or ""))


def clean_name(value: str | None) -> str | None:
    """Full-width folded, spaces removed, every middle-dot variant as ``·``."""
    return _text(value).translate(_DOTS) or None


def name_key(value: str | None) -> str | None:
    """Matching key: the clean name in simplified characters, without the middle dot."""
    name = clean_name(value)
    return name.translate(_TRAD).replace(MIDDLE_DOT, "") if name else None


# Company forms a registration may spell out or leave off (有限公司 / 有限责任公司 in one
# department, the bare trade name in another), longest first. A branch (分公司) is a
# different organisation from its parent: its name is kept whole.
_COMPANY_FORMS = (
    "股份有限公司", "有限责任公司", "有限公司",
    "(特殊普通合伙)", "(普通合伙)", "(有限合伙)",
    "公司",
)  # fmt: skip
_BRANCH_SUFFIXES = ("分公司", "分支机构")


def strip_company_form(key: str | None) -> str | None:
    """A name key without its company form or brackets (SQL: plain suffix tests, no regex)."""
    if not key:
        return None
    if not key.endswith(_BRANCH_SUFFIXES):
        for form in _COMPANY_FORMS:
            if key.endswith(form):
                key = key[: -len(form)]
                break
    return key.replace("(", "").replace(")", "") or None


def org_name_key(value: str | None) -> str | None:
    """Organisation name for matching: the name key without its company form or brackets."""
    return strip_company_form(name_key(value))


def clean_code(value: str | None) -> str | None:
    """Credit codes, organization codes, registration numbers: folded, no spaces or hyphens."""
    return _text(value).replace("-", "").upper() or None


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_LOOSE = re.compile(r"^(\d{4})[/.年](\d{1,2})[/.月](\d{1,2})日?$")


def parse_date(value: str | None, today: dt.date | None = None) -> tuple[str | None, str | None]:
    """(ISO date or None, flag). Flags: ok, reformatted (another format than declared in
    the standard's forms), impossible, future, unparseable; (None, None) for blanks."""
    text = _nfkc(value or "").strip()
    if not text:
        return None, None
    match = _ISO.match(text) or _COMPACT.match(text)
    flag = "ok"
    if not match:
        match = _LOOSE.match(text)
        flag = "reformatted"
    if not match:
        return None, "unparseable"
    try:
        date = dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None, "impossible"
    if date > (today or dt.date.today()):  # noqa: DTZ011 - a calendar date in Beijing
        return None, "future"
    return date.isoformat(), flag


_SEX = {"1": "1", "男": "1", "男性": "1", "M": "1", "2": "2", "女": "2", "女性": "2", "F": "2"}
_SEX |= {"0": "0", "9": "9"}


def sex_code(value: str | None) -> str | None:
    """GB/T 2261.1 code from a code, 男/女 or M/F."""
    return None if _blank(value) else _SEX.get(_nfkc(value or "").strip().upper())


def ethnicity_code(value: str | None) -> str | None:
    """GB 3304 two-digit code from a code (``8`` or ``08``) or a name (``壮族``, ``壮``)."""
    from mdm.registry import code_lists

    if _blank(value):
        return None
    codes = code_lists()["ethnicity_gb3304"]
    text = _nfkc(value or "").strip()
    if text.isdigit() and len(text) <= 2 and text.zfill(2) in codes:
        return text.zfill(2)
    by_name = {name: code for code, name in codes.items()}
    return by_name.get(text) or by_name.get(text + "族")


def mobile(value: str | None) -> str | None:
    """An 11-digit mainland mobile number without +86, spaces or dashes; None if not one."""
    if _blank(value):
        return None
    digits = re.sub(r"\D", "", _nfkc(value or ""))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if re.fullmatch(r"1[3-9]\d{9}", digits) else None


def division_code(value: str | None) -> str | None:
    """A six-digit GB/T 2260 code, or None."""
    if _blank(value):
        return None
    text = _nfkc(value or "").strip()
    return text if re.fullmatch(r"\d{6}", text) else None


def clean_address(value: str | None) -> str | None:
    """Spaces removed, the province written out (added when missing), old county names
    replaced by today's."""
    if _blank(value):
        return None
    text = _WHITESPACE.sub("", _nfkc(value or ""))
    if not text.startswith(PROVINCE):
        if text.startswith("广西"):
            text = PROVINCE + text[2:]
        elif text.startswith(PREFECTURES):
            text = PROVINCE + text
    for old, new in OLD_COUNTY_NAMES.items():
        text = text.replace(old, new)
    return text
