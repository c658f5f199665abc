"""Chinese identifiers: check characters and legacy forms, the arithmetic Python needs.

Pure functions, written from the national standards:

- resident identity number 公民身份号码 (GB 11643-1999, 15-digit GB 11643-1989);
- unified social credit code 统一社会信用代码 (GB 32100-2015);
- organization code 组织机构代码 (GB 11714-1997);
- legacy registration number 注册号 (15 digits, ISO 7064 MOD 11,10 check).

The generator uses them to make valid identifiers (and wrong ones); tests pin them to the
published examples. The pipeline validates and normalises delivered identifiers with the SQL
functions of schema std (dbt_project/functions, ADR 0013), not with these.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

# --- resident identity number --------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """The 18th character of an ID number whose first 17 digits are ``first17``."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def upgrade_id_15_to_18(value: str) -> str:
    """GB 11643-1989 15-digit number -> 18 digits: insert ``19`` before YYMMDD, add the check."""
    if len(value) != 15 or not value.isascii() or not value.isdigit():
        raise ValueError(f"need a 15-digit legacy ID number, got {value!r}")
    first17 = value[:6] + "19" + value[6:]
    return first17 + id_check_char(first17)


def downgrade_id_18_to_15(value: str) -> str:
    """The legacy 15-digit form of an 18-digit number born 1900-1999."""
    if len(value) != 18 or value[6:8] != "19":
        raise ValueError(f"only 18-digit numbers born in the 1900s have a 15-digit form: {value!r}")
    return value[:6] + value[8:17]


# --- unified social credit code ----------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    if len(first17) != 17 or any(c not in _USCC_VALUE for c in first17):
        raise ValueError(f"need 17 characters of {USCC_ALPHABET}, got {first17!r}")
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


# --- organization code -----------------------------------------------------------------

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_char_value(c: str) -> int:
    if c.isdigit():
        return int(c)
    if "A" <= c <= "Z":
        return ord(c) - 55
    raise ValueError(f"invalid organization code character {c!r}")


def org_code_check_char(body8: str) -> str:
    if len(body8) != 8 or not body8.isascii():
        raise ValueError(f"need 8 characters, got {body8!r}")
    c = 11 - sum(_org_char_value(ch) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c, str(c))


# --- legacy registration number (注册号) -------------------------------------------------


def regno_check_digit(first14: str) -> str:
    """ISO 7064 MOD 11,10 check digit for the 14 leading digits."""
    if len(first14) != 14 or not first14.isascii() or not first14.isdigit():
        raise ValueError(f"need 14 digits, got {first14!r}")
    product = 10
    for digit in first14:
        total = (product + int(digit)) % 10 or 10
        product = (total * 2) % 11
    return str((11 - product) % 10)


def is_valid_registration_number(value: str) -> bool:
    if len(value) != 15 or not value.isascii() or not value.isdigit():
        return False
    return regno_check_digit(value[:14]) == value[14]
