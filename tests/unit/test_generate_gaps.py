"""``mdm generate --gaps``: the gaps the scorecard must see are planted as the truth says, and
a world without them is the same as before."""

from __future__ import annotations

import datetime as dt

import pytest

from mdm_tools.generate import GenerateConfig, generate
from mdm_tools.generate.gaps import Gaps

pytestmark = pytest.mark.unit

DAYS = 23  # the last blanked column is on day 22


@pytest.fixture(scope="module")
def worlds():
    config = GenerateConfig(persons=200, orgs=20, days=DAYS, seed=5)
    plain = generate(config)
    config.gaps = Gaps.planned(DAYS)
    return plain, generate(config)


def _ids(summary, code):
    return [d.delivery_id for d in summary.deliveries if d.dataset == code]


def test_dropped_deltas_never_come(worlds):
    plain, gapped = worlds
    dropped = {(d["dataset"], d["delivery_id"]) for d in gapped.gaps["dropped_deltas"]}
    assert dropped == {
        ("gat_czrk", "20261105-01"), ("gat_czrk", "20261106-01"), ("scjgj_qydj", "20261109-01")
    }  # fmt: skip
    for code in ("gat_czrk", "scjgj_qydj"):
        assert set(_ids(plain, code)) - set(_ids(gapped, code)) == {
            i for c, i in dropped if c == code
        }


def test_a_city_part_missing_and_columns_blank(worlds):
    _, gapped = worlds
    (missing,) = gapped.gaps["missing_city_parts"]
    day8 = next(d for d in gapped.deliveries if d.delivery_id == missing["delivery_id"]
                and d.dataset == "rst_cbry")  # fmt: skip
    assert "part-450100.csv" not in day8.files and len(day8.files) >= 2 and missing["rows"] > 0
    blanked = {(b["delivery_id"], b["column"]): b for b in gapped.gaps["blanked_columns"]}
    assert set(blanked) == {("20261115-01", "SJHM"), ("20261122-01", "DWMC")}
    for delivery_id, column in blanked:
        weekly = next(d for d in gapped.deliveries
                      if d.dataset == "rst_cbry" and d.delivery_id == delivery_id)  # fmt: skip
        lines = [line for data in weekly.files.values()
                 for line in data.decode("utf-8").splitlines()]  # fmt: skip
        at = lines[0].split(",").index(column)
        rows = [line for line in lines if not line.startswith("GRBH,")]
        assert all(line.split(",")[at] == "" for line in rows)
        assert 0 < blanked[(delivery_id, column)]["values_blanked"] <= len(rows)


def test_the_frozen_table_stops_changing_the_others_do_not(worlds):
    plain, gapped = worlds
    frozen = gapped.gaps["frozen_frontend"]
    last = dt.date(2026, 11, 1) + dt.timedelta(days=frozen["last_day"] - 1)
    newest = max(r["gxsj"] for r in gapped.frontend_rows["swj_grnsr"])
    assert newest.date() < last and frozen["newest_gxsj"] == newest.isoformat(sep=" ")
    assert max(r["gxsj"] for r in plain.frontend_rows["swj_grnsr"]) > newest
    assert gapped.frontend_rows["swj_dwnsr"] == plain.frontend_rows["swj_dwnsr"]
    assert plain.gaps == {}
