"""Identifiers out of free text: what reports, logs and stored check results may show.

The same masks as the analyst views (``access.mask_id_number`` and ``access.mask_phone``,
migration 0011): an ID number keeps its division only, a mobile its prefix and last four.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

from mdm.standardize.identifiers import _ID_CHECK, _ID_WEIGHTS

# 18-character (last may be X) or 15-digit ID numbers, and 11-digit mobiles, not inside a
# longer run of digits (a 14-digit GXSJ time stamp, a 20-digit key are left alone).
ID_NUMBER = re.compile(r"(?<![0-9])([0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9Xx])")
MOBILE = re.compile(r"(?<![0-9])(1[0-9]{10})(?![0-9])")


def mask_id_number(value: str) -> str:
    return value[:6] + "*" * (len(value) - 6)


def mask_mobile(value: str) -> str:
    return value[:3] + "****" + value[7:]


def mask_identifiers(text: str) -> str:
    """``text`` with every ID-number-like and mobile-like run of digits masked."""
    text = ID_NUMBER.sub(lambda m: mask_id_number(m.group(1)), text)
    return MOBILE.sub(lambda m: mask_mobile(m.group(1)), text)


def mask_everywhere(value: Any) -> Any:
    """``mask_identifiers`` on every string inside nested dicts and lists (JSON-like)."""
    if isinstance(value, str):
        return mask_identifiers(value)
    if isinstance(value, dict):
        return {k: mask_everywhere(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_everywhere(v) for v in value]
    return value


# --- how far a masked row narrows an identifier down ---------------------------------------


def _fits(pattern: str, text: str) -> bool:
    return all(p in ("*", c) for p, c in zip(pattern, text, strict=True))


def id_number_candidates(
    masked: str, birth_year: int | None, sex_code: str | None, division: str | None
) -> int:
    """How many ID numbers fit what an analyst sees of a person: the mask, the birth year,
    the sex (odd sequence numbers are men, GB 11643) and the registered-residence division
    (taken as the ID number's own division when the mask hides it: the worst case).

    18-character masks count valid numbers (the check character must be right); 15-digit
    ones legacy numbers; any other mask hides everything, so it counts as 18 stars.
    """
    pattern = masked if len(masked) in (15, 18) else "*" * 18
    long_form = len(pattern) == 18
    if "*" not in pattern[:6]:
        division = pattern[:6]
    elif not (division and len(division) == 6 and division.isdigit()):
        division = "000000"  # unknown: any one division (no effect unless the check shows)
    years = [birth_year] if birth_year else range(1900, dt.date.today().year + 1)  # noqa: DTZ011
    dates = []
    for year in years:
        day = dt.date(year, 1, 1)
        while day.year == year:
            text = f"{day:%Y%m%d}" if long_form else f"{day:%y%m%d}"
            if _fits(pattern[6 : 6 + len(text)], text):
                dates.append(text)
            day += dt.timedelta(days=1)
    start = 14 if long_form else 12
    parity = {"1": 1, "2": 0}.get(sex_code or "")
    sequences = [
        f"{i:03d}"
        for i in range(1000)
        if _fits(pattern[start : start + 3], f"{i:03d}") and (parity is None or i % 2 == parity)
    ]
    if not long_form or pattern[17] == "*":
        return len(dates) * len(sequences)
    # The check character: sum(digit * weight) mod 11 over division + date + sequence.
    by_residue = Counter(
        sum(int(c) * w for c, w in zip(s, _ID_WEIGHTS[14:], strict=True)) % 11 for s in sequences
    )
    total = 0
    for date in dates:
        head = sum(int(c) * w for c, w in zip(division + date, _ID_WEIGHTS[:14], strict=True))
        total += sum(
            count
            for residue, count in by_residue.items()
            if _ID_CHECK[(head + residue) % 11] == pattern[17].upper()
        )
    return total


def mobile_candidates(masked: str) -> int:
    """How many numbers fit a masked phone number (each hidden character is a digit)."""
    return int(10 ** masked.count("*"))
