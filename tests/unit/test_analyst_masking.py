"""Masks, key checks and result scrubbing that keep analysts from re-identifying people."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mdm.access import masking
from mdm.access.pseudonyms import WeakPseudonymKeyError, check_key, pseudonym_key
from mdm.ingest.gate import scrub
from mdm.standardize.identifiers import id_check_char

pytestmark = pytest.mark.unit

PERSON = "450102199003071238"  # sequence 123: a man, born 1990


def _brute_force(pattern: str, birth_year: int, sex_code: str) -> int:
    count, day = 0, dt.date(birth_year, 1, 1)
    while day.year == birth_year:
        for i in range(1000):
            first17 = f"{pattern[:6]}{day:%Y%m%d}{i:03d}"
            number = first17 + id_check_char(first17)
            parity_ok = i % 2 == (1 if sex_code == "1" else 0)
            if parity_ok and all(p in ("*", c) for p, c in zip(pattern, number, strict=True)):
                count += 1
        day += dt.timedelta(days=1)
    return count


def test_the_old_mask_left_a_few_dozen_candidates_and_the_counter_agrees_with_brute_force():
    assert id_check_char(PERSON[:17]) == PERSON[17]
    old = PERSON[:6] + "********" + PERSON[14:]
    counted = masking.id_number_candidates(old, 1990, "1", "450102")
    assert counted == _brute_force(old, 1990, "1")
    assert 20 <= counted <= 50  # "about 33"


def test_the_new_mask_leaves_thousands_of_candidates():
    masked = masking.mask_id_number(PERSON)
    assert masked == "450102************"
    assert masking.id_number_candidates(masked, 1990, "1", "450102") == 365 * 500
    # A legacy 15-digit number and an invalid value: hidden just as far.
    assert masking.id_number_candidates("450102*********", 1990, "2", None) == 365 * 500
    assert masking.id_number_candidates("*" * 9, None, None, None) >= 1000


def test_masked_mobiles_leave_ten_thousand_candidates():
    assert masking.mobile_candidates("139****0000") == 10_000
    assert masking.mobile_candidates("*******") == 10_000_000


def test_identifiers_in_free_text_are_masked():
    text = (
        f"line 7: GMSFHM={PERSON}, old 450102900307123, 手机13912345678; "
        "GXSJ 20261101020304, delivery 20261101-01, 3 rows"
    )
    masked = masking.mask_identifiers(text)
    assert PERSON not in masked and "450102900307123" not in masked
    assert "13912345678" not in masked and "139****5678" in masked
    assert "450102************" in masked and "450102*********" in masked
    assert "20261101020304" in masked and "20261101-01" in masked and "3 rows" in masked


def test_scrub_keeps_counts_and_drops_the_unexpected_values():
    result = {
        "success": False,
        "expectations": [
            {
                "expectation_type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "xb", "value_set": ["1", "2"]},
                "result": {
                    "element_count": 10,
                    "unexpected_count": 2,
                    "unexpected_percent": 20.0,
                    "partial_unexpected_list": [PERSON, "13912345678"],
                    "partial_unexpected_counts": [{"value": PERSON, "count": 1}],
                    "partial_unexpected_index_list": [{"gmsfhm": PERSON}],
                },
            },
            {
                "expectation_type": "unexpected_rows_expectation",
                "result": {"observed_value": 1, "details": {"unexpected_rows": [[PERSON]]}},
            },
            {"expectation_type": "x", "result": {"observed_value": f"max {PERSON}"}},
        ],
    }
    stored = scrub(result)
    text = json.dumps(stored)
    assert PERSON not in text and "13912345678" not in text
    first = stored["expectations"][0]["result"]
    assert first == {"element_count": 10, "unexpected_count": 2, "unexpected_percent": 20.0}
    assert stored["expectations"][1]["result"] == {"observed_value": 1}
    assert stored["expectations"][2]["result"]["observed_value"] == "max 450102************"


@pytest.mark.parametrize(
    "key",
    [
        "change-me",
        "secret",
        "x" * 64,
        "change-me" * 4,
        "my-secret-key-for-the-pseudonyms-2026",
        "ab" * 20,
    ],
)
def test_a_short_or_placeholder_pseudonym_key_is_refused(key, tmp_path, monkeypatch):
    monkeypatch.setenv("MDM_PSEUDONYM_KEY", key)
    with pytest.raises(WeakPseudonymKeyError, match="MDM_PSEUDONYM_KEY.*token_urlsafe"):
        pseudonym_key(tmp_path)


def test_the_env_example_placeholder_is_refused(tmp_path, monkeypatch):
    from mdm.settings import PROJECT_ROOT

    example = (PROJECT_ROOT / ".env.example").read_text()
    value = next(
        line.split("=", 1)[1]
        for line in example.splitlines()
        if line.startswith("MDM_PSEUDONYM_KEY=")
    )
    monkeypatch.setenv("MDM_PSEUDONYM_KEY", value)
    with pytest.raises(WeakPseudonymKeyError):
        pseudonym_key(tmp_path)


def test_a_placeholder_in_the_key_file_is_refused_and_a_generated_key_accepted(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("MDM_PSEUDONYM_KEY", raising=False)
    generated = pseudonym_key(tmp_path)  # created once, random
    assert len(generated) == 64 and check_key(generated, "test") == generated
    (tmp_path / "secrets" / "pseudonym.key").write_text("change-me\n")
    with pytest.raises(WeakPseudonymKeyError, match="pseudonym.key is 9 bytes"):
        pseudonym_key(tmp_path)
    monkeypatch.setenv("MDM_PSEUDONYM_KEY", "Xq3v9-Lk2PzR8tWm4Yb7Nc1Hd6Fg0Js5Ae")
    assert pseudonym_key(tmp_path) == b"Xq3v9-Lk2PzR8tWm4Yb7Nc1Hd6Fg0Js5Ae"
