"""The identifier arithmetic Python keeps (the generator's) against the case table and, for
random inputs, python-stdnum. The other cases of the table run against the std functions
(tests/integration/test_standardize_sql.py)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
import yaml

from mdm.standardize import identifiers

pytestmark = pytest.mark.unit

CASES = yaml.safe_load((Path(__file__).parents[1] / "cases" / "identifiers.yaml").read_text())
TABLE = [
    (fn, inp, out) for fn, rows in CASES.items() for inp, out in rows if hasattr(identifiers, fn)
]


@pytest.mark.parametrize(("function", "value", "expected"), TABLE)
def test_case_table(function, value, expected):
    result = getattr(identifiers, function)(value)
    if isinstance(result, dt.date):
        result = result.isoformat()
    assert result == expected


@pytest.mark.parametrize("bad", ["1101051949123100", "1101051949123100A", "abc"])
def test_check_char_rejects_malformed_input(bad):
    with pytest.raises(ValueError):
        identifiers.id_check_char(bad)


def test_id_numbers_agree_with_stdnum():
    from stdnum.cn import ric

    rng = random.Random(7)
    for _ in range(2000):
        first17 = f"450102{rng.randint(1930, 2025)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        first17 += f"{rng.randint(0, 999):03d}"
        number = first17 + identifiers.id_check_char(first17)
        # stdnum's is_valid also checks the division existed at birth; compare the checksum.
        assert ric.calc_check_digit(number) == number[17]


def test_usccs_agree_with_stdnum():
    from stdnum.cn import uscc

    rng = random.Random(11)
    for _ in range(2000):
        body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        org = body + identifiers.org_code_check_char(body)
        if not all(c in identifiers.USCC_ALPHABET for c in org):
            continue  # an org code check of X is fine; other letters may fall outside
        first17 = "91" + "450102" + org
        code = first17 + identifiers.uscc_check_char(first17)
        assert uscc.is_valid(code)


def test_15_and_18_digit_forms_round_trip():
    number = "45010219650412301" + identifiers.id_check_char("45010219650412301")
    legacy = identifiers.downgrade_id_18_to_15(number)
    assert len(legacy) == 15
    assert identifiers.upgrade_id_15_to_18(legacy) == number
