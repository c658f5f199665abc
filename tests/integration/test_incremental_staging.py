"""Incremental staging and observations (issue 18): a world loaded day by day and built
incrementally after each day gives the same rows as ``dbt build --full-refresh`` of it, with
deletes, a late delta and a full re-delivery on the way; a rerun changes nothing."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from ingest_support import ingest_all_files, reset_world
from test_poison_deliveries import deliver, ingest, register_csv, register_row

from mdm import db
from mdm.connections import params_from_url
from mdm.ingest.frontend import pull_frontend
from mdm.registry import dataset
from mdm.transform import run_dbt

pytestmark = pytest.mark.integration

MODELS = ["+int_person_observations", "+int_organisation_observations"]
OBSERVATIONS = [
    "intermediate.int_person_observations",
    "intermediate.int_organisation_observations",
]


def built_tables(conn: psycopg.Connection) -> list[str]:
    staging = conn.execute(
        "select 'staging.' || table_name from information_schema.tables "
        "where table_schema = 'staging' and table_name like 'stg\\_%%\\_\\_%%' "
        "and table_type = 'BASE TABLE' order by 1"
    ).fetchall()
    return [name for (name,) in staging] + OBSERVATIONS


def table_rows(warehouse_url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every staging and observation table, sorted: equal builds compare equal."""
    with psycopg.connect(warehouse_url) as conn:
        return {
            table: sorted(
                (tuple(str(v) for v in row) for row in conn.execute(f"select * from {table}")),  # noqa: S608
            )
            for table in built_tables(conn)
        }


def row_versions(warehouse_url: str) -> dict[str, set[tuple[str, str]]]:
    """The residents' rows as (record key, row version): a rewritten row gets a new xmin."""
    with psycopg.connect(warehouse_url) as conn:
        return {
            table: {
                (key.split("#")[0], version)
                for key, version in conn.execute(
                    f"select record_key, xmin::text || ctid::text from {table} {where}"  # noqa: S608
                )
            }
            for table, where in [
                ("staging.stg_gat_czrk__residents", ""),
                ("intermediate.int_person_observations", "where dataset = 'gat_czrk'"),
            ]
        }


def build(settings, warehouse_url: str, *extra: str) -> None:  # type: ignore[no-untyped-def]
    run_dbt(settings, params_from_url(warehouse_url), ["build", "--select", *MODELS, *extra])


def generated_day(settings, warehouse_url: str, landing, day: int) -> None:  # type: ignore[no-untyped-def]
    from mdm_tools.generate import GenerateConfig, generate, write_all, write_frontend

    summary = generate(GenerateConfig(persons=300, orgs=30, days=day, seed=18, defects=True))
    write_all(summary, landing, landing.parent / f"truth-{day}")
    write_frontend(db.frontend_url(settings), summary.frontend_rows)
    ingest_all_files(warehouse_url, landing, f"day-{day}")
    frontend = params_from_url(db.frontend_url(settings))
    for code in ("swj_grnsr", "swj_dwnsr"):
        pull_frontend(params_from_url(warehouse_url), frontend, dataset(code), f"day-{day}")


def test_incremental_builds_equal_a_full_refresh(tmp_path, settings, warehouse_url):
    landing = tmp_path / "landing"
    reset_world(settings, warehouse_url)
    for day in (1, 2, 3):
        generated_day(settings, warehouse_url, landing, day)
        build(settings, warehouse_url)

    with psycopg.connect(warehouse_url) as conn:
        last = conn.execute(
            "select max(delivery_id) from ops.delivery where dataset = 'gat_czrk'"
        ).fetchone()[0]
        keys = [k for (k,) in conn.execute(
            "select record_key from staging.stg_gat_czrk__residents order by 1 limit 5"
        )]  # fmt: skip
    next_day = dt.date.fromisoformat(f"{last[:4]}-{last[4:6]}-{last[6:8]}") + dt.timedelta(days=1)
    day_id = next_day.strftime("%Y%m%d")

    before = row_versions(warehouse_url)
    # A delta: one resident deleted (CZBS = D), one renamed.
    delta = [register_row(keys[0], "删除") + ["D"], register_row(keys[1], "改名") + ["U"]]
    deliver(landing, "gat_czrk", f"{day_id}-05", {"part-1.csv": register_csv(delta, "delta")},
            mode="delta")  # fmt: skip
    assert {o.status for o in ingest(warehouse_url, landing).values()} == {"loaded"}
    build(settings, warehouse_url)
    # Incremental: only the delta's records were rewritten, every other row is the same tuple.
    after = row_versions(warehouse_url)
    for table in before:
        assert {key for key, _ in before[table] - after[table]} == {keys[0], keys[1]}, table
        assert {key for key, _ in after[table] - before[table]} == {keys[1]}, table
    # A late delta: it arrives after -05 but sorts before it, so -05 still wins for keys[1].
    late = [register_row(keys[1], "迟到") + ["U"], register_row(keys[2], "迟改") + ["U"],
            register_row("LATE1", "新增") + ["I"]]  # fmt: skip
    deliver(landing, "gat_czrk", f"{day_id}-02", {"part-1.csv": register_csv(late, "delta")},
            mode="delta")  # fmt: skip
    assert {o.status for o in ingest(warehouse_url, landing).values()} == {"loaded"}
    build(settings, warehouse_url)
    with psycopg.connect(warehouse_url) as conn:
        names = dict(conn.execute("select record_key, name from staging.stg_gat_czrk__residents"))
    assert keys[0] not in names
    assert (names[keys[1]], names[keys[2]], names["LATE1"]) == ("改名", "迟改", "新增")

    # A full re-delivery: the records absent from it (keys[3], keys[4]) end.
    kept = sorted(set(names) - {keys[3], keys[4]})
    full = [register_row(key, "全量" if key == keys[2] else names[key] or "") for key in kept]
    full.append(register_row("FULL1"))
    deliver(landing, "gat_czrk", f"{next_day + dt.timedelta(days=1):%Y%m%d}-01",
            {"part-1.csv": register_csv(full)})  # fmt: skip
    assert {o.status for o in ingest(warehouse_url, landing).values()} == {"loaded"}
    build(settings, warehouse_url)
    incremental = table_rows(warehouse_url)
    assert sorted(r[0] for r in incremental["staging.stg_gat_czrk__residents"]) == sorted(
        [*kept, "FULL1"]
    )
    with psycopg.connect(warehouse_url) as conn:
        applied = conn.execute(
            "select count(*) from ops.model_delivery where model = 'stg_gat_czrk__residents'"
        ).fetchone()[0]
    assert applied > 3

    # A full with a malformed line (quarantined) ends nothing: the record of that line and a
    # record it leaves out stay as they were (the source still holds them); its rows apply.
    with psycopg.connect(warehouse_url) as conn:
        names = dict(conn.execute("select record_key, name from staging.stg_gat_czrk__residents"))
    bad_full = [register_row(key, "再全量" if key == kept[2] else names[key] or "")
                for key in kept[2:]]  # fmt: skip
    bad_full.append(register_row(kept[0], "坏行") + ["多余字段"])
    deliver(landing, "gat_czrk", f"{next_day + dt.timedelta(days=2):%Y%m%d}-01",
            {"part-1.csv": register_csv(bad_full)})  # fmt: skip
    assert {o.status for o in ingest(warehouse_url, landing).values()} == {"partially_quarantined"}
    build(settings, warehouse_url)
    with psycopg.connect(warehouse_url) as conn:
        now = dict(conn.execute("select record_key, name from staging.stg_gat_czrk__residents"))
    assert set(now) == {*kept, "FULL1"}
    assert (now[kept[0]], now[kept[1]], now[kept[2]]) == (names[kept[0]], names[kept[1]], "再全量")
    incremental = table_rows(warehouse_url)

    # A rerun of the same build changes nothing.
    build(settings, warehouse_url)
    assert table_rows(warehouse_url) == incremental

    build(settings, warehouse_url, "--full-refresh")
    full_refresh = table_rows(warehouse_url)
    assert full_refresh.keys() == incremental.keys()
    for table, rows in full_refresh.items():
        assert rows, table
        assert incremental[table] == rows, table
