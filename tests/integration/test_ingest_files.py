"""File-drop ingestion on deliveries made by `mdm generate --defects`.

Each delivery-level defect of section 5 of the interface standard ends as the
generator's truth says (loaded, rows quarantined with a reason, rejected whole,
left alone, or a recorded duplicate), and the row counts add up.
"""

from __future__ import annotations

import shutil

import psycopg
import pytest
from ingest_support import ingest_all_files, reset_ingestion, state_fingerprint

from mdm.connections import params_from_url
from mdm.ingest import gate
from mdm.ingest.files import ingest_file_drops
from mdm.registry import dataset, datasets
from mdm_tools.generate import GenerateConfig, generate, write_all
from mdm_tools.generate.deliver import make_delivery, write_delivery

pytestmark = pytest.mark.integration

STATUS_FOR_EXPECTED = {
    "load": {"loaded"},
    "reject": {"rejected"},
    "quarantine_rows": {"partially_quarantined"},
}
ERROR_CODE_FOR_DEFECT = {
    "bad_checksum": "checksum_mismatch",
    "row_count_mismatch": "row_count_mismatch",
    "wrong_declared_encoding": "undecodable",
    "truncated_last_line": "truncated_file",
    "empty_file": "empty_file",
    "missing_required_column": "missing_required_column",
}


@pytest.fixture(scope="module")
def world():
    return generate(GenerateConfig(persons=600, orgs=80, days=2, seed=3, defects=True))


def _ledger(url: str) -> dict[tuple[str, str], dict]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("select * from ops.delivery")
        return {(r["dataset"], r["delivery_id"]): r for r in cur.fetchall()}


def _counts_add_up(url: str) -> None:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """select d.dataset, d.delivery_id, d.status, d.rows_declared, d.rows_loaded,
                      d.rows_quarantined,
                      (select count(*) from quarantine.delivery_row q
                        where q.dataset = d.dataset and q.delivery_id = d.delivery_id)
               from ops.delivery d"""
        ).fetchall()
        for code, delivery_id, status, declared, loaded, quarantined, in_quarantine in rows:
            in_raw = conn.execute(
                f"select count(*) from raw.{code} where _delivery_id = %s",  # noqa: S608
                (delivery_id,),
            ).fetchone()[0]
            if status in ("loaded", "partially_quarantined"):
                assert declared == loaded + quarantined, (code, delivery_id)
                assert in_raw == loaded and in_quarantine == quarantined, (code, delivery_id)
            else:
                assert in_raw == 0 and in_quarantine == 0, (code, delivery_id, status)


def test_every_defect_ends_as_expected_and_counts_add_up(
    world, tmp_path, warehouse_url, clean_ingestion
):
    landing, truth = tmp_path / "landing", tmp_path / "truth"
    write_all(world, landing, truth, waves=[1])
    ingest_all_files(warehouse_url, landing, "wave-1")
    ledger = _ledger(warehouse_url)

    for d in world.deliveries:
        # only the datasets the registry describes are ingested (the generator may be ahead)
        if d.wave != 1 or d.dataset not in datasets():
            continue
        entry = ledger.get((d.dataset, d.delivery_id))
        if d.expected == "ignore_incomplete":
            assert entry is None, "a folder without manifest must be left alone"
            continue
        assert entry["status"] in STATUS_FOR_EXPECTED[d.expected], (d.defect, entry)
        if d.defect in ERROR_CODE_FOR_DEFECT:
            assert entry["error_code"] == ERROR_CODE_FOR_DEFECT[d.defect]
            assert f"{d.dataset}/{d.delivery_id}/part-all.csv" in entry["error"]
            assert "to do:" in entry["error"]
        if d.defect == "extra_column":
            assert entry["extra_columns"] == ["BZ"]
    _counts_add_up(warehouse_url)

    bad_rows = next(d for d in world.deliveries if d.defect == "bad_rows")
    with psycopg.connect(warehouse_url) as conn:
        quarantined = conn.execute(
            "select file, line, reason_code, raw_text from quarantine.delivery_row "
            "where delivery_id = %s order by line",
            (bad_rows.delivery_id,),
        ).fetchall()
    assert [(q[0], q[1], q[2]) for q in quarantined] == [
        ("part-all.csv", 2, "wrong_field_count"),
        ("part-all.csv", 3, "wrong_field_count"),
        ("part-all.csv", 4, "unparseable_gxsj"),
    ]
    assert quarantined[0][3].endswith(",多余字段") and "不是时间" in quarantined[2][3]

    # Wave 2: a duplicate re-send, a late delivery, and a full arriving after its delta.
    before = state_fingerprint(warehouse_url)
    write_all(world, landing, truth, waves=[2])
    ingest_all_files(warehouse_url, landing, "wave-2")
    ledger = _ledger(warehouse_url)
    for d in world.deliveries:
        if d.wave != 2 or d.dataset not in datasets():
            continue
        entry = ledger[(d.dataset, d.delivery_id)]
        if d.expected == "duplicate":
            assert entry["status"] == "loaded"
        else:
            assert entry["status"] == "loaded" and entry["out_of_order"], d.defect
    with psycopg.connect(warehouse_url) as conn:
        events = conn.execute(
            "select dataset, delivery_id from ops.delivery_event where event = 'duplicate'"
        ).fetchall()
    duplicate = next(d for d in world.deliveries if d.defect == "duplicate_resend")
    assert events == [(duplicate.dataset, duplicate.delivery_id)]
    after = state_fingerprint(warehouse_url)
    assert after["raw.gat_czrk"] == before["raw.gat_czrk"], "a duplicate must load nothing"
    _counts_add_up(warehouse_url)

    # Running again over the same landing zone changes nothing.
    ingest_all_files(warehouse_url, landing, "again")
    assert state_fingerprint(warehouse_url) == after


def test_a_load_killed_midway_reruns_to_the_state_of_one_clean_run(
    world, tmp_path, warehouse_url, clean_ingestion, monkeypatch
):
    landing = tmp_path / "landing"
    write_all(world, landing, tmp_path / "truth", waves=[1])
    ingest_all_files(warehouse_url, landing, "clean")
    clean = state_fingerprint(warehouse_url)

    reset_ingestion(warehouse_url)
    real_validate = gate.validate

    def crash_on_register(warehouse, spec, *args, **kwargs):
        if spec.code == "gat_czrk":
            raise KeyboardInterrupt("killed between COPY and attach")
        return real_validate(warehouse, spec, *args, **kwargs)

    monkeypatch.setattr(gate, "validate", crash_on_register)
    with pytest.raises(KeyboardInterrupt):
        ingest_all_files(warehouse_url, landing, "crashing")
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.gat_czrk").fetchone()[0] == 0
        assert conn.execute(
            "select status from ops.delivery where dataset = 'gat_czrk'"
        ).fetchall() == [("loading",)]
    monkeypatch.setattr(gate, "validate", real_validate)
    ingest_all_files(warehouse_url, landing, "rerun")
    assert state_fingerprint(warehouse_url) == clean


def test_a_rejected_delta_blocks_later_deltas_until_resent_or_skipped(
    tmp_path, warehouse_url, clean_ingestion
):
    summary = generate(GenerateConfig(persons=600, orgs=80, days=4, seed=5))
    landing = tmp_path / "landing"
    write_all(summary, landing, tmp_path / "truth")
    spec = dataset("gat_czrk")
    warehouse = params_from_url(warehouse_url)
    day2 = landing / "gat_czrk" / "20261102-01" / "part-all.csv"
    original = day2.read_bytes()
    day2.write_bytes(original + b"tampered")

    report = ingest_file_drops(warehouse, landing, spec, "r1")
    status = {o.delivery_id: o.status for o in report.outcomes}
    assert status == {
        "20261101-01": "loaded",
        "20261102-01": "rejected",
        "20261103-01": "blocked",
        "20261104-01": "blocked",
    }
    blocked = next(o for o in report.outcomes if o.delivery_id == "20261103-01")
    assert "20261102-01" in blocked.error and "--skip 20261102-01" in blocked.error

    # Still blocked on the next run, and visible as a problem again.
    again = ingest_file_drops(warehouse, landing, spec, "r2")
    assert [o.status for o in again.outcomes] == ["blocked", "blocked"]

    # The department re-sends day 2 corrected: everything loads, in order.
    day2.write_bytes(original)
    manifest = day2.parent / "_manifest.json"
    manifest.write_bytes(manifest.read_bytes())  # same manifest, written again: a re-send
    resent = ingest_file_drops(warehouse, landing, spec, "r3")
    assert {o.delivery_id: o.status for o in resent.outcomes} == {
        "20261102-01": "loaded",
        "20261103-01": "loaded",
        "20261104-01": "loaded",
    }


def test_skipping_a_rejected_delta_unblocks_the_next(tmp_path, warehouse_url, clean_ingestion):
    summary = generate(GenerateConfig(persons=600, orgs=80, days=3, seed=5))
    landing = tmp_path / "landing"
    write_all(summary, landing, tmp_path / "truth")
    spec = dataset("gat_czrk")
    warehouse = params_from_url(warehouse_url)
    (landing / "gat_czrk" / "20261102-01" / "part-all.csv").write_bytes(b"RYBH\n")
    first = ingest_file_drops(warehouse, landing, spec, "s1")
    assert [o.status for o in first.outcomes] == ["loaded", "rejected", "blocked"]
    skipped = ingest_file_drops(warehouse, landing, spec, "s2", skip=["20261102-01"])
    assert skipped.skipped == ["20261102-01"]
    assert [(o.delivery_id, o.status) for o in skipped.outcomes] == [("20261103-01", "loaded")]
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute(
            "select status from ops.delivery where delivery_id = '20261102-01'"
        ).fetchone() == ("skipped",)


def test_gate_rejects_a_full_delivery_far_smaller_than_the_last(
    world, tmp_path, warehouse_url, clean_ingestion
):
    landing = tmp_path / "landing"
    first = next(d for d in world.deliveries if d.dataset == "scjgj_qydj")
    write_delivery(landing, first, "市场监管局")
    spec = dataset("scjgj_qydj")
    warehouse = params_from_url(warehouse_url)
    assert ingest_file_drops(warehouse, landing, spec, "g1").outcomes[0].status == "loaded"

    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(first.files["part-all.csv"].decode("utf-8-sig"))))
    small = make_delivery(spec, first_date(first), 5, "full", {"all": rows[:3]})
    write_delivery(landing, small, "市场监管局")
    outcome = ingest_file_drops(warehouse, landing, spec, "g2").outcomes[0]
    assert outcome.status == "rejected" and outcome.error_code == "gate_failed"
    assert "expect_table_row_count_to_be_between" in outcome.error
    with psycopg.connect(warehouse_url) as conn:
        success, critical = conn.execute(
            "select success, failed_critical from ops.validation_result where delivery_id = %s",
            (small.delivery_id,),
        ).fetchone()
        in_raw = conn.execute("select count(distinct _delivery_id) from raw.scjgj_qydj").fetchone()
    assert success is False and critical == 1
    assert in_raw == (1,)


def first_date(delivery):
    import datetime as dt

    return dt.date.fromisoformat(delivery.delivery_id[:8])


def test_a_rejected_delivery_fails_the_dag_run_with_what_to_do(
    world, settings, warehouse_url, airflow_metadata, clean_ingestion
):
    from mdm.orchestration import DagRunFailedError, run_dag

    landing = settings.landing_dir
    if landing.exists():
        shutil.rmtree(landing)
    write_all(world, landing, settings.home / "truth", waves=[1])
    with pytest.raises(DagRunFailedError, match="check_deliveries") as caught:
        run_dag(settings, "mdm_ingest_mzt_shzz")
    assert "'ingest'" not in str(caught.value).split("not successful:")[1]
    with psycopg.connect(warehouse_url) as conn:
        statuses = dict(
            conn.execute(
                "select delivery_id, status from ops.delivery where dataset = 'mzt_shzz'"
            ).fetchall()
        )
    rejected = {d.delivery_id for d in world.deliveries if d.dataset == "mzt_shzz" and d.defect}
    assert {k for k, v in statuses.items() if v == "rejected"} == rejected


def test_copy_as_delivered_and_copy_of_parsed_rows_load_the_same(
    world, tmp_path, warehouse_url, clean_ingestion, monkeypatch
):
    from mdm.ingest.parse import ParsedFile

    landing = tmp_path / "landing"
    fulls = [
        d
        for d in world.deliveries
        if d.wave == 1 and d.mode == "full" and not d.defect and d.dataset in datasets()
    ]
    for d in fulls:
        write_delivery(landing, d, dataset(d.dataset).provider)
    from mdm.ingest import load

    kept = []
    real_finish = load.CopyAsDelivered.finish

    def counting_finish(self, expected_rows):
        kept.append(self)
        return real_finish(self, expected_rows)

    monkeypatch.setattr(load.CopyAsDelivered, "finish", counting_finish)
    ingest_all_files(warehouse_url, landing, "fast")
    assert len(kept) >= 5, "the copy-as-delivered path was not taken"
    fast = state_fingerprint(warehouse_url)
    reset_ingestion(warehouse_url)
    monkeypatch.setattr(ParsedFile, "copyable_as_delivered", property(lambda self: False))
    ingest_all_files(warehouse_url, landing, "parsed")
    assert state_fingerprint(warehouse_url) == fast
    assert len(fast["ledger"]) == len(fulls) >= 5


def test_validations_do_not_leak_connections(world, tmp_path, warehouse_url, clean_ingestion):
    from mdm.ingest import raw_tables

    landing = tmp_path / "landing"
    first = next(d for d in world.deliveries if d.dataset == "scjgj_qydj")
    write_delivery(landing, first, "市场监管局")
    spec = dataset("scjgj_qydj")
    warehouse = params_from_url(warehouse_url)
    ingest_file_drops(warehouse, landing, spec, "leak")

    def connections() -> int:
        with psycopg.connect(warehouse_url) as conn:
            return conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and backend_type = 'client backend'"
            ).fetchone()[0]

    before = connections()
    partition = raw_tables.partition_name(spec, first.delivery_id)
    for _ in range(5):
        gate.validate(warehouse, spec, "full", "raw", partition, None, kind="profile")
    assert connections() == before
