"""`mdm generate` writes the tax front-end tables; a later day updates rows with a newer GXSJ."""

from __future__ import annotations

import psycopg
import pytest

from mdm import db
from mdm_tools.generate import GenerateConfig, generate, write_frontend

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
