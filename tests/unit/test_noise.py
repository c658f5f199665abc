"""Value noise happens at the configured rates, and each defect is the one the standard lists."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
import unicodedata

import pytest

from mdm.standardize.identifiers import id_check_char, upgrade_id_15_to_18
from mdm_tools.generate import noise
from mdm_tools.generate.noise import NoiseRates

pytestmark = pytest.mark.unit

DRAWS = 20_000
ID_NUMBER = "11010519491231002X"  # the standard's example: born 1949, check X


def recovered(value: str) -> str:
    """What std.normalize_id_number makes of the noise the generator adds (its cases are in
    tests/cases/identifiers.yaml): full-width folded, no spaces, upper case, 15 -> 18 digits."""
    folded = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    return upgrade_id_15_to_18(folded) if len(folded) == 15 and folded.isdigit() else folded


def only(**rates: float) -> NoiseRates:
    return dataclasses.replace(NoiseRates.none(), **rates)


def assert_rate(hits: int, rate: float, draws: int = DRAWS) -> None:
    """Within 4.5 standard deviations of the binomial expectation (flaky less than 1e-5)."""
    expected = draws * rate
    bound = 4.5 * math.sqrt(draws * rate * (1 - rate)) + 1
    assert abs(hits - expected) <= bound, f"{hits} hits, expected {expected:.0f} +- {bound:.0f}"


def draws(fn, *args):  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    return [fn(rng, *args) for _ in range(DRAWS)]


@pytest.mark.parametrize("rate", [0.01, 0.05, 0.2])
def test_wrong_check_character_rate(rate):
    values = draws(noise.noisy_id, only(id_wrong_check=rate), ID_NUMBER)
    wrong = [v for v in values if v != ID_NUMBER]
    assert_rate(len(wrong), rate)
    assert all(len(v) == 18 and id_check_char(v[:17]) != v[17] for v in wrong)


def test_legacy_15_digit_rate_and_it_upgrades_back():
    values = draws(noise.noisy_id, only(id_legacy_15=0.05), ID_NUMBER)
    legacy = [v for v in values if len(v) == 15]
    assert_rate(len(legacy), 0.05)
    assert {recovered(v) for v in legacy} == {ID_NUMBER}


def test_format_noise_rate_and_normalisation_recovers_the_number():
    values = draws(noise.noisy_id, only(id_format=0.1), ID_NUMBER)
    changed = [v for v in values if v != ID_NUMBER]
    assert_rate(len(changed), 0.1)
    assert {recovered(v) for v in changed} == {ID_NUMBER}
    assert any("x" in v for v in changed) and any(" " in v for v in changed)
    assert any("０" in v or "１" in v for v in changed)  # full-width digits


def test_other_persons_number_is_not_a_value_defect_of_this_function():
    # A relative's number is chosen by the renderer (it needs the household), never here.
    assert set(draws(noise.noisy_id, only(id_other_person=1.0), ID_NUMBER)) == {ID_NUMBER}


@pytest.mark.parametrize(
    ("field", "check"),
    [
        ("name_traditional", lambda v: v == "陳偉強"),
        ("name_spaces", lambda v: v == "陈 伟强"),
        ("name_full_width_space", lambda v: v == "陈伟强\u3000"),
    ],
)
def test_name_defect_rates(field, check):
    values = draws(noise.noisy_name, only(**{field: 0.05}), "陈伟强")
    assert all(v == "陈伟强" or check(v) for v in values)
    assert_rate(sum(check(v) for v in values), 0.05)


def test_minority_name_dots_vary_at_the_configured_share():
    values = draws(noise.noisy_name, only(dot_variant=0.3), "阿依古丽·买买提")
    changed = [v for v in values if v != "阿依古丽·买买提"]
    # One of the variants is the same dot again? No: none of them is U+00B7.
    assert_rate(len(changed), 0.3)
    assert {v.replace("阿依古丽", "").replace("买买提", "") for v in changed} == set(
        noise.DOT_VARIANTS
    )


def test_date_defect_rates():
    born = dt.date(1990, 1, 2)
    rates = only(date_other_format=0.05, date_impossible=0.02, date_future=0.02)
    values = draws(noise.noisy_date, rates, born, "%Y-%m-%d")
    assert_rate(sum(v in ("1990/1/2", "1990年1月2日", "19900102") for v in values), 0.05)
    assert_rate(sum(v == "1990-02-30" for v in values), 0.02)
    assert_rate(sum(v.startswith("2099") for v in values), 0.02)
    assert_rate(sum(v == "1990-01-02" for v in values), 1 - 0.09)


def test_phone_and_address_and_bracket_rates():
    phones = draws(noise.noisy_phone, only(phone_format=0.15), "13907710000")
    assert_rate(sum(p != "13907710000" for p in phones), 0.15)
    assert {"".join(c for c in p if c.isdigit())[-11:] for p in phones} == {"13907710000"}
    addresses = draws(
        noise.noisy_address,
        only(address_abbreviated=0.1, address_no_province=0.05),
        "广西壮族自治区",
        "南宁市",
        "青秀区",
        "民族大道1号",
    )
    assert_rate(sum(a.startswith("广西南宁") for a in addresses), 0.1)
    assert_rate(sum(a.startswith("南宁市") for a in addresses), 0.05)
    names = draws(noise.noisy_org_name, only(bracket_variant=0.5), "广西某某（南宁）有限公司")
    assert_rate(sum("(" in n for n in names), 0.5)


def test_no_noise_leaves_every_value_as_it_is():
    none = NoiseRates.none()
    assert set(draws(noise.noisy_id, none, ID_NUMBER)) == {ID_NUMBER}
    assert set(draws(noise.noisy_name, none, "韦·小宝")) == {"韦·小宝"}
    assert set(draws(noise.noisy_date, none, dt.date(1990, 1, 2), "%Y%m%d")) == {"19900102"}
    assert set(draws(noise.noisy_uscc, none, "91350100M000100Y43")) == {"91350100M000100Y43"}


def test_the_register_carries_noise_at_the_default_rates_and_none_when_clean():
    import csv
    import io

    from mdm_tools.generate import GenerateConfig, generate

    def noisy_share(rates: NoiseRates) -> float:
        summary = generate(GenerateConfig(persons=3000, orgs=300, seed=11, rates=rates))
        register = next(d for d in summary.deliveries if d.dataset == "gat_czrk")
        rows = list(csv.DictReader(io.StringIO(register.files["part-all.csv"].decode("utf-8-sig"))))
        odd = [r for r in rows if r["GMSFHM"] != recovered(r["GMSFHM"])]
        return len(odd) / len(rows)

    defaults = NoiseRates()
    # Format noise + legacy 15-digit numbers are visible as "not canonical" (a wrong check
    # character is canonical but invalid); older people only get 15-digit numbers.
    expected = defaults.id_format + defaults.id_legacy_15
    assert 0.3 * expected < noisy_share(defaults) < 1.5 * expected
    assert noisy_share(NoiseRates.none()) == 0.0
