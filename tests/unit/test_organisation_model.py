"""The trained organisation model's decisions on hand-made hard pairs (regression pins)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from mdm.resolve import organisation_model, splink_artefact

pytestmark = pytest.mark.unit

THRESHOLD = organisation_model.LINK_THRESHOLD
NAME = "河池康宁房地产开发有限公司"
ADDRESS = "金城江区五一路288号"
REP_ID = "452426195906222384"
USCC = "91451202MA5K3XYZ1L"
# The names' keys are the case table's rows (which run against std.name_key / org_name_key).
CASES = yaml.safe_load((Path(__file__).parents[1] / "cases" / "standardize.yaml").read_text())


def standardised(rule: str, value: str | None) -> str | None:
    return None if value is None else dict(CASES[rule])[value]


def record(uid: str, name: str | None = NAME, **values: str | None) -> dict[str, object]:
    base: dict[str, object] = {c: None for c in organisation_model.COLUMNS}
    code = values.get("credit_code")
    return (
        base
        | {
            "unique_id": uid,
            "name_key": standardised("name_key", name),
            "org_name_key": standardised("org_name_key", name),
            "credit_code_body": code[:17] if code else None,
        }
        | values
    )


def probability(left: dict[str, object], right: dict[str, object]) -> float:
    """Match probability of the pair, scored by the committed model; the pair must be one
    the blocking rules compare."""
    from splink import DuckDBAPI, Linker

    table = pa.Table.from_pylist(
        [left, right], schema=pa.schema([(c, pa.string()) for c in organisation_model.COLUMNS])
    )
    linker = Linker(
        DuckDBAPI().register(table), splink_artefact.trained_settings(organisation_model, "duckdb")
    )
    result = linker.inference.predict(threshold_match_probability=0.0).as_pyarrow_table()
    # A pair the blocking rules never compare is not a "no" of the model.
    assert result.num_rows == 1, f"the pair was never compared (blocking rules): {left} {right}"
    return result["match_probability"][0].as_py()


def test_an_old_registration_links_to_its_tax_record_without_a_shared_code():
    # The registration has only its registration number; the tax record a legacy taxpayer
    # number. Same name, address and representative; the tax side lacks the ID number.
    registration = record("scjgj", address=ADDRESS, legal_rep_name_key="张军涛",
                          legal_rep_id_number=REP_ID)  # fmt: skip
    tax = record("swj", address=ADDRESS, legal_rep_name_key="张军涛")
    assert probability(registration, tax) >= THRESHOLD


def test_a_credit_code_with_a_wrong_check_character_links():
    right = record("swj", credit_code=USCC, address=ADDRESS, legal_rep_name_key="张军涛")
    wrong = record("scjgj", credit_code=USCC[:17] + "M", address=ADDRESS)
    assert probability(right, wrong) >= THRESHOLD


def test_the_same_name_but_for_the_company_form_links_at_the_same_address_and_representative():
    a = record("a", address=ADDRESS, legal_rep_name_key="张军涛", legal_rep_id_number=REP_ID)
    b = record("b", name="河池康宁房地产开发有限责任公司", address=ADDRESS,
               legal_rep_name_key="张军涛", legal_rep_id_number=REP_ID)  # fmt: skip
    assert probability(a, b) >= THRESHOLD


def test_namesakes_elsewhere_with_other_representatives_do_not_link():
    a = record("a", name="兴宁区鑫达五金店", address="兴宁区中山路450号",
               legal_rep_name_key="曾宏斌", legal_rep_id_number=REP_ID)  # fmt: skip
    b = record("b", name="兴宁区鑫达五金店", address="兴宁区民生路12号",
               legal_rep_name_key="黄丽", legal_rep_id_number="450102198012140685")  # fmt: skip
    assert probability(a, b) < THRESHOLD


def test_a_branch_does_not_link_to_its_parent():
    parent = record("parent", address=ADDRESS, legal_rep_name_key="张军涛",
                    legal_rep_id_number=REP_ID)  # fmt: skip
    branch = record("branch", name=NAME + "宜州分公司", address="宜州区庆远大道8号",
                    legal_rep_name_key="张军涛", legal_rep_id_number=REP_ID)  # fmt: skip
    assert probability(parent, branch) < THRESHOLD


def test_two_different_credit_codes_keep_the_same_name_at_the_same_address_apart():
    a = record("a", credit_code=USCC, address=ADDRESS)
    b = record("b", credit_code="91450100MA5L7QWE2X", address=ADDRESS)
    assert probability(a, b) < THRESHOLD <= probability(a, record("c", address=ADDRESS))


def test_a_name_alone_never_links():
    assert probability(record("a"), record("b")) < THRESHOLD


@pytest.mark.parametrize("model", ["person_model", "organisation_model"])
def test_every_level_of_a_committed_model_has_its_numbers(model):
    """No level is left to Splink's silent defaults: trained, or a prior set in code."""
    import importlib

    settings = splink_artefact.trained_settings(
        importlib.import_module(f"mdm.resolve.{model}"), "duckdb"
    )
    missing = [
        (comparison["output_column_name"], level.get("label_for_charts"), key)
        for comparison in settings["comparisons"]
        for level in comparison["comparison_levels"]
        if not level.get("is_null_level")
        for key in ("m_probability", "u_probability")
        if level.get(key) is None
    ]
    assert missing == []
