"""The current state of a record (dbt macro ``current_records``), built by dbt from real
deliveries: files of one delivery apply in order, and a full's CZBS = D rows are not live."""

from __future__ import annotations

import psycopg
import pytest
from test_poison_deliveries import deliver, ingest, register_csv, register_row

from mdm.connections import params_from_url
from mdm.ingest.raw_tables import ensure_all_raw_tables
from mdm.transform import run_dbt

pytestmark = pytest.mark.integration


def build_residents(settings, warehouse_url: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with psycopg.connect(warehouse_url) as conn:
        ensure_all_raw_tables(conn)
    run_dbt(
        settings, params_from_url(warehouse_url), ["build", "--select", "+stg_gat_czrk__residents"]
    )
    with psycopg.connect(warehouse_url) as conn:
        return dict(conn.execute("select record_key, name from staging.stg_gat_czrk__residents"))


def test_files_of_one_delivery_apply_in_order(tmp_path, settings, warehouse_url, clean_ingestion):
    landing = tmp_path / "landing"
    first = register_csv([register_row("R1", "甲"), register_row("R2", "乙")])
    deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": first})
    # One delta in three files; _line restarts in each. The later file wins for a record
    # in two files, whatever its line: part-1 then part-2 then part-10.
    delta = {
        "part-1.csv": [register_row("R9", "壬") + ["I"], register_row("R1", "丙") + ["U"]],
        "part-2.csv": [register_row("R1", "丁") + ["U"], register_row("R2", "己") + ["U"]],
        "part-10.csv": [register_row("R2", "戊") + ["U"]],
    }
    files = {name: register_csv(rows, "delta") for name, rows in delta.items()}
    deliver(landing, "gat_czrk", "20261102-01", files, mode="delta")
    assert {o.status for o in ingest(warehouse_url, landing).values()} == {"loaded"}
    assert build_residents(settings, warehouse_url) == {"R1": "丁", "R2": "戊", "R9": "壬"}


def test_a_czbs_d_row_of_a_full_delivery_is_not_live(
    tmp_path, settings, warehouse_url, clean_ingestion
):
    landing = tmp_path / "landing"
    first = register_csv([register_row("R1", "甲"), register_row("R2", "乙")])
    deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": first})
    # A full that carries CZBS: its D row is not a live record (quarantined with a reason);
    # the record is left out of the full, so it is not live after the build either.
    full = [register_row("R1", "甲") + ["I"], register_row("R2", "乙") + ["D"],
            register_row("R3", "丙") + [""]]  # fmt: skip
    deliver(landing, "gat_czrk", "20261103-01", {"part-1.csv": register_csv(full, "delta")})
    outcome = ingest(warehouse_url, landing)["20261103-01"]
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == (
        "partially_quarantined",
        2,
        1,
    )
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute(
            "select line, reason_code from quarantine.delivery_row "
            "where delivery_id = '20261103-01'"
        ).fetchall() == [(3, "delete_in_full")]
    assert build_residents(settings, warehouse_url) == {"R1": "甲", "R3": "丙"}
