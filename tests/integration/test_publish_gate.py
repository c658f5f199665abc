"""Write-audit-publish: a build that fails the audit leaves analysts the previous version."""

from __future__ import annotations

import psycopg
import pytest
from ingest_support import build_world

from mdm import build, publish
from mdm.connections import params_from_url

pytestmark = pytest.mark.integration


def test_a_corrupt_build_is_not_published(settings, warehouse_url, tmp_path):
    build_world(settings, warehouse_url, tmp_path, 500, 31)
    warehouse = params_from_url(warehouse_url)
    with psycopg.connect(warehouse_url) as conn:
        published = conn.execute(
            "select count(*), md5(string_agg(person_id || coalesce(id_number, ''), ',' "
            "order by person_id)) from mdm.natural_person"
        ).fetchone()
        analyst_view = conn.execute("select count(*) from analyst.natural_person").fetchone()
        # Something breaks the next build: two persons end up with one valid ID number, and
        # a relation points at a person that does not exist.
        conn.execute(
            """update mdm_build.natural_person set id_number = (
                   select id_number from mdm_build.natural_person
                   where std.is_valid_id_number(id_number) order by person_id limit 1)
               where person_id in (select person_id from mdm_build.natural_person
                                   where std.is_valid_id_number(id_number)
                                   order by person_id limit 50)"""
        )
        conn.execute(
            "update mdm_build.relation set from_id = 'P9999999999' where ctid in "
            "(select ctid from mdm_build.relation limit 1)"
        )
        conn.commit()
    with pytest.raises(publish.PublishBlockedError) as blocked:
        publish.audit_and_publish(warehouse, "corrupt")
    message = str(blocked.value)
    assert "no valid ID number belongs to two persons" in message
    assert "both ends of every relation" in message
    with psycopg.connect(warehouse_url) as conn:
        after = conn.execute(
            "select count(*), md5(string_agg(person_id || coalesce(id_number, ''), ',' "
            "order by person_id)) from mdm.natural_person"
        ).fetchone()
        stored = conn.execute(
            "select count(*) filter (where not success) from ops.validation_result "
            "where dataset = 'publish' and delivery_id like 'corrupt:%'"
        ).fetchone()[0]
        assert (
            conn.execute("select count(*) from analyst.natural_person").fetchone() == analyst_view
        )
    assert after == published
    assert stored == 2
    # The next good build publishes again.
    build.build_repositories(settings, warehouse, "fixed")
    with psycopg.connect(warehouse_url) as conn:
        assert (
            conn.execute(
                "select count(*), md5(string_agg(person_id || coalesce(id_number, ''), ',' "
                "order by person_id)) from mdm.natural_person"
            ).fetchone()
            == published
        )
