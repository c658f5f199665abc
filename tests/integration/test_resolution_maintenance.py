"""Keeping resolution right over time: full re-resolution agrees with the incremental
result, and steward merges and splits are applied once, logged, and keep ids stable."""

from __future__ import annotations

import json
import re

import psycopg
import pytest
from ingest_support import reset_world, resolve_day

from mdm import build
from mdm.cli import main as mdm_main
from mdm.connections import params_from_url
from mdm.resolve.full import SCRATCH_SCHEMA, compare_full_with_incremental
from mdm.resolve.steward import apply_steward_decisions

pytestmark = pytest.mark.integration

_STATE = (
    "select dataset, record_key, person_id from resolve.person_record "
    "union all select dataset, record_key, legal_person_id from resolve.legal_person_record "
    "order by 1, 2"
)


def _state(warehouse_url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(warehouse_url) as conn:
        return conn.execute(_STATE).fetchall()


@pytest.fixture(scope="module")
def two_days(settings, warehouse_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Day 1 resolved from nothing, then day 2's deltas resolved incrementally."""
    folder = tmp_path_factory.mktemp("maintenance")
    reset_world(settings, warehouse_url)
    for days in (1, 2):
        resolve_day(settings, warehouse_url, folder, persons=900, seed=71, days=days)
    warehouse = params_from_url(warehouse_url)
    return warehouse


def test_full_re_resolution_agrees_with_the_incremental_result(two_days, warehouse_url):
    before = _state(warehouse_url)
    report = compare_full_with_incremental(two_days, "full-check")
    for kind in ("person", "organisation"):
        assert report[kind]["records"] > 0
        assert report[kind]["agree"], report[kind]["examples"]
        assert report[kind]["precision"] == report[kind]["recall"] == 1.0
    assert report["full_run"]["splink_person"]["linked"] > 0
    # A check, not a change: the published ids are untouched and the scratch schema is gone.
    assert _state(warehouse_url) == before
    with psycopg.connect(warehouse_url) as conn:
        assert not conn.execute(
            "select 1 from pg_namespace where nspname = %s", (SCRATCH_SCHEMA,)
        ).fetchone()


def test_scoring_only_the_candidates_gives_the_pairs_of_scoring_every_record(two_days, settings):
    from mdm.resolve.candidates import (
        load_candidates,
        load_observations,
        with_former_name_aliases,
    )
    from mdm.resolve.scoring import score_pairs

    left, candidates = load_candidates(two_days)
    everything = load_observations(two_days, with_aliases=True)
    assert 0 < left.num_rows <= candidates.num_rows < everything.num_rows
    from_candidates, _ = score_pairs(settings, left, with_former_name_aliases(candidates)[0])
    from_everything, _ = score_pairs(settings, left, with_former_name_aliases(everything)[0])

    def decisions(pairs):  # type: ignore[no-untyped-def]
        return [
            (p["unique_id_l"], p["unique_id_r"], round(p["match_probability"], 9)) for p in pairs
        ]

    assert from_everything
    assert decisions(from_candidates) == decisions(from_everything)


def _over_merge(warehouse_url: str) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """Corrupt the incremental result: the record of one registered person moved into the
    entity of another. Returns both (dataset, record_key, person_id) as they were."""
    with psycopg.connect(warehouse_url) as conn:
        a, b = conn.execute(
            "select dataset, record_key, person_id from resolve.person_record "
            "where match_method = 'id_number' and dataset = 'gat_czrk' order by person_id limit 2"
        ).fetchall()
        conn.execute(
            "update resolve.person_record set person_id = %s where dataset = %s "
            "and record_key = %s",
            (a[2], b[0], b[1]),
        )
    return a, b


def test_the_full_run_reports_a_merge_the_incremental_result_does_not_have(two_days, warehouse_url):
    a, b = _over_merge(warehouse_url)
    try:
        report = compare_full_with_incremental(two_days, "full-check-2")
        assert not report["person"]["agree"]
        assert report["person"]["over_merged_entities"] == 1
        assert report["person"]["precision"] < 1.0
        example = report["person"]["examples"][0]
        assert example["entity_id"] == a[2]
        assert f"{b[0]}/{b[1]}" in example["records"]
        assert len(example["full_run_groups"]) == 2
    finally:
        with psycopg.connect(warehouse_url) as conn:
            conn.execute(
                "update resolve.person_record set person_id = %s where dataset = %s "
                "and record_key = %s",
                (b[2], b[0], b[1]),
            )


def test_steward_merge_then_split_applied_once_logged_and_ids_kept(
    two_days, warehouse_url, restore_resolution
):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("truncate resolve.steward_decision")
        (a_key, a_id), (b_key, b_id) = conn.execute(
            "select record_key, person_id from resolve.person_record "
            "where dataset = 'gat_czrk' and match_method = 'id_number' "
            "order by person_id limit 2"
        ).fetchall()
        b_members = conn.execute(
            "select dataset, record_key from resolve.person_record where person_id = %s",
            (b_id,),
        ).fetchall()
    assert a_id < b_id

    assert (
        mdm_main(
            ["steward", "merge", f"gat_czrk/{a_key}", f"gat_czrk/{b_key}", "--reason", "same man"]
        )
        == 0
    )
    with psycopg.connect(warehouse_url) as conn:
        ids = dict(
            conn.execute(
                "select record_key, person_id from resolve.person_record "
                "where dataset = 'gat_czrk' and record_key in (%s, %s)",
                (a_key, b_key),
            ).fetchall()
        )
        events = conn.execute(
            "select event, entity_id, into_id, evidence->>'decision' from resolve.entity_event "
            "where run_id like 'steward__%%' order by event_id"
        ).fetchall()
    assert ids == {a_key: a_id, b_key: a_id}  # the smaller id survives
    assert events.count(("retired", b_id, a_id, "must_link")) == 1
    assert sum(1 for e in events if e[0] == "linked") == len(b_members)

    merged_state = _state(warehouse_url)
    apply_steward_decisions(two_days, "again")  # idempotent: nothing left to do
    assert _state(warehouse_url) == merged_state

    # A later cannot-link on the same pair supersedes the merge: b moves out to a new id.
    assert (
        mdm_main(
            ["steward", "split", f"gat_czrk/{a_key}", f"gat_czrk/{b_key}", "--reason", "twins"]
        )
        == 0
    )
    with psycopg.connect(warehouse_url) as conn:
        in_force = conn.execute(
            "select decision from resolve.steward_decision where withdrawn_at is null"
        ).fetchall()
        a_now, b_now = (
            conn.execute(
                "select person_id from resolve.person_record "
                "where dataset = 'gat_czrk' and record_key = %s",
                (key,),
            ).fetchone()[0]
            for key in (a_key, b_key)
        )
        split = conn.execute(
            "select entity_id, into_id from resolve.entity_event where event = 'split'"
        ).fetchall()
    assert in_force == [("cannot_link",)]
    assert a_now == a_id  # the larger part keeps the id
    assert b_now not in (a_id, b_id)  # a new entity, never a reused id
    assert split == [(a_id, b_now)]
    split_state = _state(warehouse_url)
    build.resolve_entities(two_days, "after-steward")  # every run honours the decisions
    assert _state(warehouse_url) == split_state


def _two_entities(warehouse_url: str) -> tuple[list[str], list[str]]:
    """The records (``dataset/record_key``) of two persons with at least two records each."""
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute(
            """select person_id, array_agg(dataset || '/' || record_key
                                           order by dataset, record_key)
               from resolve.person_record
               group by person_id having count(*) >= 2 order by person_id limit 2"""
        ).fetchall()
    assert len(rows) == 2, "the world has no two persons with two records"
    return rows[0][1], rows[1][1]


def _person_of(warehouse_url: str, record: str) -> str:
    dataset, _, record_key = record.partition("/")
    with psycopg.connect(warehouse_url) as conn:
        return conn.execute(
            "select person_id from resolve.person_record where dataset = %s and record_key = %s",
            (dataset, record_key),
        ).fetchone()[0]


def test_steward_list_and_withdraw(two_days, warehouse_url, capsys, restore_resolution):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("truncate resolve.steward_decision")
    (a, *_), (b, *_) = _two_entities(warehouse_url)
    assert mdm_main(["steward", "split", a, b, "--reason", "twins"]) == 0
    capsys.readouterr()
    assert mdm_main(["steward", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 1
    decision_id = int(listed[0].split()[0])
    assert f"cannot_link {a} {b}" in listed[0] and listed[0].endswith(": twins")

    assert mdm_main(["steward", "withdraw", str(decision_id)]) == 0
    assert capsys.readouterr().out == f"decision {decision_id} withdrawn\n"
    assert mdm_main(["steward", "list"]) == 0
    assert capsys.readouterr().out == ""
    # Withdrawing it again, or a decision that does not exist: exit code 1.
    assert mdm_main(["steward", "withdraw", str(decision_id)]) == 1
    assert mdm_main(["steward", "withdraw", "999999"]) == 1
    assert "no such decision" in capsys.readouterr().out


def test_a_must_link_that_would_join_a_cannot_link_pair_is_refused(
    two_days, warehouse_url, capsys, restore_resolution
):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("truncate resolve.steward_decision")
    (a, a2, *_), (b, *_) = _two_entities(warehouse_url)
    x, y = _person_of(warehouse_url, a), _person_of(warehouse_url, b)
    assert mdm_main(["steward", "split", a, b, "--reason", "no"]) == 0
    before = _state(warehouse_url)

    # a2 is in a's entity: merging it with b would put a and b into one entity.
    capsys.readouterr()
    assert mdm_main(["steward", "merge", a2, b, "--reason", "x"]) == 1
    out = capsys.readouterr().out
    assert "refused" in out and "1 conflicts" in out
    assert _state(warehouse_url) == before
    assert (_person_of(warehouse_url, a2), _person_of(warehouse_url, b)) == (x, y)
    with psycopg.connect(warehouse_url) as conn:
        retired = conn.execute(
            "select count(*) from resolve.entity_event where run_id like 'steward__%%'"
        ).fetchone()
    assert retired == (0,)

    # Once the cannot-link is withdrawn, the next run applies the must-link.
    with psycopg.connect(warehouse_url) as conn:
        (cannot,) = conn.execute(
            "select decision_id from resolve.steward_decision where decision = 'cannot_link'"
        ).fetchone()
    assert mdm_main(["steward", "withdraw", str(cannot)]) == 0
    build.resolve_entities(two_days, "after-withdraw")
    assert _person_of(warehouse_url, a2) == _person_of(warehouse_url, b) == min(x, y)


def test_explain_names_the_records_and_the_match_weights_of_a_splink_link(
    two_days, warehouse_url, capsys, tmp_path
):
    with psycopg.connect(warehouse_url) as conn:
        found = conn.execute(
            """select into_id, dataset, record_key, evidence from resolve.entity_event
               where event = 'linked' and evidence ? 'weights' and entity_kind = 'person'
               order by event_id limit 1"""
        ).fetchone()
        assert found, "no Splink link in the world"
        entity_id, dataset, record_key, evidence = found
        records = conn.execute(
            "select dataset, record_key, match_method from resolve.person_record "
            "where person_id = %s",
            (entity_id,),
        ).fetchall()
    assert len(records) >= 2

    capsys.readouterr()
    assert mdm_main(["explain", entity_id]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{entity_id}: {len(records)} source records"
    for source, key, method in records:
        assert f"{source:<11} {key:<26} {method}" in out
    event_line = next(line for line in out.splitlines() if f"({dataset}/{record_key};" in line)
    weights = {k: v for k, v in evidence["weights"].items() if v}
    assert weights
    for name, value in weights.items():
        assert f"{name.removeprefix('mw_')}={value:+.1f}" in event_line
    page = tmp_path / "explain.html"
    assert mdm_main(["explain", entity_id, "--html", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert f"{dataset}/{record_key} linked" in text and "<script" not in text
    assert text.count("<svg") >= 1  # a waterfall per Splink link of the entity
    assert all(name.removeprefix("mw_") in text for name in weights)
    assert mdm_main(["explain", "P999999999"]) == 1


def test_mdm_resolve_run_full_exits_3_when_full_and_incremental_disagree(
    two_days, warehouse_url, tmp_path, capsys, restore_resolution
):
    assert mdm_main(["resolve", "run", "--full"]) == 0
    a, b = _over_merge(warehouse_url)
    before = _state(warehouse_url)
    report_file = tmp_path / "full.json"
    capsys.readouterr()
    assert mdm_main(["resolve", "run", "--full", "--json", str(report_file)]) == 3
    out = capsys.readouterr().out
    assert f"{a[2]}:" in out and f"{b[0]}/{b[1]}" in out
    report = json.loads(report_file.read_text())
    assert report["person"]["agree"] is False and report["organisation"]["agree"] is True
    assert _state(warehouse_url) == before  # a check: the published ids are untouched


def test_mdm_resolve_train_writes_model_files_that_load(two_days, tmp_path, monkeypatch):
    from mdm.resolve import splink_artefact
    from mdm.resolve.entities import KINDS

    committed = {p.name: p.read_bytes() for p in splink_artefact.MODELS_DIR.glob("*.json")}
    # Never write into the committed model folder: train into an empty one.
    monkeypatch.setattr(splink_artefact, "MODELS_DIR", tmp_path / "models")
    assert mdm_main(["resolve", "train"]) == 0
    written = sorted(p.name for p in (tmp_path / "models").glob("*.json"))
    # one file per model version, named <version>-<time>-<hash>.json like the committed ones
    assert [name.rsplit("-", 2)[0] for name in written] == sorted(
        name.rsplit("-", 2)[0] for name in committed
    )
    for kind in KINDS:
        trained = json.loads(splink_artefact.model_path(kind.model).read_text())
        settings = splink_artefact.trained_settings(kind.model, "duckdb")
        assert (
            settings["probability_two_random_records_match"]
            == (trained["probability_two_random_records_match"])
        )
        assert 0 < settings["probability_two_random_records_match"] < 1
        m_values = [
            level["m_probability"]
            for comparison in settings["comparisons"]
            for level in comparison["comparison_levels"]
            if "m_probability" in level
        ]
        assert m_values and all(0 <= m <= 1 for m in m_values)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in splink_artefact.MODELS_DIR.glob("*.json")} == committed


def test_a_retrain_keeps_the_old_model_file_and_the_events_name_the_file_used(
    two_days, warehouse_url, tmp_path, monkeypatch
):
    from mdm.resolve import splink_artefact
    from mdm.resolve.entities import KINDS, PERSON

    models = tmp_path / "models"
    models.mkdir()
    old = {}
    for kind in KINDS:
        committed = splink_artefact.model_path(kind.model)
        (models / committed.name).write_bytes(committed.read_bytes())
        old[kind.name] = committed.name, committed.read_bytes()
    monkeypatch.setattr(splink_artefact, "MODELS_DIR", models)
    assert mdm_main(["resolve", "train"]) == 0
    in_use = {}
    for kind in KINDS:
        name, content = old[kind.name]
        files = splink_artefact.model_files(kind.model)
        assert [f.name for f in files][0] == name and len(files) == 2  # a second file
        assert (models / name).read_bytes() == content  # the old one stays as it was
        assert splink_artefact.trained_settings(kind.model, "duckdb", models / name)
        in_use[kind.event_kind] = splink_artefact.model_path(kind.model).name
        assert in_use[kind.event_kind] == files[1].name != name
    # Resolve everything again (a scratch schema: the published ids stay as they are): each
    # Splink event names the file that scored it, the new one.
    compare_full_with_incremental(two_days, "retrained", keep=True)
    try:
        with psycopg.connect(warehouse_url) as conn:
            named = conn.execute(
                f"select entity_kind, evidence->>'model_file', count(*) "
                f"from {SCRATCH_SCHEMA}.entity_event where evidence ? 'model' group by 1, 2"
            ).fetchall()
    finally:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute(f"drop schema if exists {SCRATCH_SCHEMA} cascade")
    assert {kind for kind, _, _ in named} >= {PERSON.event_kind}
    assert all(file == in_use[kind] for kind, file, _ in named), (named, in_use)


def test_training_writes_the_model_charts_and_the_threshold_justification(
    two_days, tmp_path, monkeypatch
):
    """Beside each trained file: Splink's charts as HTML that needs no network, and an index
    whose numbers at LINK_THRESHOLD come from the labels' truth table."""
    from mdm.resolve import model_charts, splink_artefact
    from mdm.resolve.entities import KINDS

    monkeypatch.setattr(splink_artefact, "MODELS_DIR", tmp_path / "models")
    assert mdm_main(["resolve", "train"]) == 0
    for kind in KINDS:
        folder = splink_artefact.model_path(kind.model).with_suffix("")
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [*model_charts.CHARTS, "index.html"]
        )
        for name in model_charts.CHARTS:
            page = (folder / name).read_text(encoding="utf-8")
            assert "vegaEmbed(" in page and "cdn.jsdelivr" not in page, name  # offline
            assert len(page) > 100_000  # the chart libraries are inlined
        index = (folder / "index.html").read_text(encoding="utf-8")
        assert f"LINK_THRESHOLD in code ({kind.model.LINK_THRESHOLD})" in index
        precision = re.search(r"LINK_THRESHOLD in code[^<]*</td><td>[^<]*</td><td>([0-9.]+)", index)
        assert precision and 0.95 <= float(precision.group(1)) <= 1.0, index
