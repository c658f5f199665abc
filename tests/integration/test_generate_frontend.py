"""`mdm generate` writes the tax front-end tables; a later day updates rows with a newer GXSJ."""

from __future__ import annotations

import psycopg
import pytest

from mdm import db
from mdm_tools.generate import GenerateConfig, generate, write_frontend, write_frontend_late

pytestmark = pytest.mark.integration


def test_frontend_tables_follow_the_days(settings):
    url = db.frontend_url(settings)
    with psycopg.connect(url, autocommit=True) as conn:  # what earlier tests' worlds left
        conn.execute("drop table if exists public.swj_grnsr, public.swj_dwnsr")
    day1 = generate(GenerateConfig(persons=1200, orgs=150, days=1, seed=21))
    write_frontend(url, day1.frontend_rows)
    with psycopg.connect(url) as conn:
        n1 = conn.execute("select count(*) from public.swj_grnsr").fetchone()[0]
        max1 = conn.execute("select max(gxsj) from public.swj_grnsr").fetchone()[0]
        columns = [
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns where table_name = 'swj_dwnsr' "
                "order by ordinal_position"
            )
        ]
    assert n1 == len(day1.frontend_rows["swj_grnsr"]) > 100
    assert columns[:3] == ["djxh", "nsrsbh", "nsrmc"] and "scbz" in columns

    day3 = generate(GenerateConfig(persons=1200, orgs=150, days=3, seed=21))
    write_frontend(url, day3.frontend_rows)
    write_frontend(url, day3.frontend_rows)  # rerun: same state
    with psycopg.connect(url) as conn:
        n3 = conn.execute("select count(*) from public.swj_grnsr").fetchone()[0]
        newer = conn.execute(
            "select count(*) from public.swj_grnsr where gxsj > %s", (max1,)
        ).fetchone()[0]
        deleted = conn.execute("select count(*) from public.swj_dwnsr where scbz = '1'").fetchone()[
            0
        ]
    assert n3 == n1  # updated in place, not appended
    assert newer > 0
    assert deleted > 0


def test_frontend_defects_arrive_after_a_first_pull(settings):
    """The dishonest-debtor table (v2) is keyed by its case number; with ``--defects`` a second
    arrival writes a row committed late, a GXSJ corrected downwards and a hard delete."""
    url = db.frontend_url(settings)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists public.fy_sxbzxr")
    summary = generate(GenerateConfig(persons=900, orgs=100, days=2, seed=23, defects=True))
    write_frontend(url, summary.frontend_rows)
    with psycopg.connect(url) as conn:
        before = dict(conn.execute("select ah, gxsj from public.fy_sxbzxr").fetchall())
        key = conn.execute(
            "select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
            "and a.attnum = any(i.indkey) where i.indrelid = 'public.fy_sxbzxr'::regclass "
            "and i.indisprimary"
        ).fetchall()
    assert key == [("ah",)] and len(before) == len(summary.frontend_rows["fy_sxbzxr"])
    write_frontend_late(url, summary)
    late, corrected = summary.frontend_late["fy_sxbzxr"]
    (deleted,) = summary.frontend_deleted["fy_sxbzxr"]
    with psycopg.connect(url) as conn:
        after = {
            ah: (gxsj, lxqk)
            for ah, gxsj, lxqk in conn.execute("select ah, gxsj, lxqk from public.fy_sxbzxr")
        }
    assert late["ah"] not in before and after[late["ah"]][0] < max(before.values())
    assert after[corrected["ah"]] == (corrected["gxsj"], corrected["lxqk"])
    assert after[corrected["ah"]][0] < before[corrected["ah"]]
    assert deleted in before and deleted not in after
    assert len(after) == len(before)  # one row more, one row less
