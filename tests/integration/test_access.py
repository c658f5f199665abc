"""Roles, masked views, conditional sharing and its read log, asserted by connecting as each role.

Every "cannot" is an actual permission error from PostgreSQL, not an assumption.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

import psycopg
import pytest
from ingest_support import build_world, drop_login_users
from psycopg import errors

from mdm.access import sharing
from mdm.access.roles import add_user
from mdm.connections import conninfo, params_from_url

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(settings, warehouse_url, tmp_path_factory):
    return build_world(settings, warehouse_url, tmp_path_factory.mktemp("access"), 600, 23)


@pytest.fixture(scope="module")
def login(warehouse_url):
    """Connect as a new login user in a role (a password works with trust and with scram)."""
    opened, users = [], []

    def connect(role: str) -> psycopg.Connection:
        user = f"t_{role.removeprefix('mdm_')}_{secrets.token_hex(3)}"
        users.append(user)
        password = secrets.token_urlsafe(16)
        with psycopg.connect(warehouse_url) as admin:
            add_user(admin, user, role, password)
        params = {**params_from_url(warehouse_url), "user": user, "password": password}
        conn = psycopg.connect(conninfo(params), autocommit=True)
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()
    drop_login_users(warehouse_url, users)


def denied(conn: psycopg.Connection, statement: str) -> bool:
    try:
        conn.execute(statement)
    except errors.InsufficientPrivilege:
        return True
    return False


def test_analyst_reads_only_masked_pseudonymous_views(world, login):
    analyst = login("mdm_analyst")
    rows = analyst.execute(
        "select person_key, id_number_masked, mobile_masked, birth_year from analyst.natural_person"
    ).fetchall()
    assert len(rows) > 500
    assert all(r[0] and re.fullmatch(r"[0-9a-f]{20}", r[0]) for r in rows)
    masked = [r[1] for r in rows if r[1] and len(r[1]) == 18]
    assert masked and all(re.fullmatch(r"\d{6}\*{12}", m) for m in masked)
    phones = [r[2] for r in rows if r[2]]
    assert phones and all(re.fullmatch(r"1\d{2}\*{4}\d{4}", p) for p in phones)
    columns = [
        c.name for c in analyst.execute("select * from analyst.natural_person limit 0").description
    ]
    assert not {"id_number", "mobile", "birth_date", "person_id", "hukou_address"} & set(columns)
    assert analyst.execute("select count(*) from analyst.relation").fetchone()[0] > 0
    for forbidden in (
        "select * from mdm.natural_person limit 1",
        "select * from raw.gat_czrk limit 1",
        "select * from staging.stg_gat_czrk__residents limit 1",
        "select * from ops.delivery limit 1",
        "select * from quarantine.delivery_row limit 1",
        "select * from access.person_pseudonym limit 1",
        "select * from resolve.person_record limit 1",
        "create table analyst.mine (x int)",
        "create table public.mine (x int)",
    ):
        assert denied(analyst, forbidden), forbidden
    writable = analyst.execute(
        "select has_table_privilege('analyst.natural_person', 'INSERT, UPDATE, DELETE')"
    ).fetchone()[0]
    assert writable is False


def test_steward_reads_identities_and_records_decisions_but_not_grants(world, login):
    steward = login("mdm_steward")
    assert steward.execute("select count(*) from mdm.natural_person").fetchone()[0] > 500
    assert steward.execute("select count(*) from raw.gat_czrk").fetchone()[0] > 500
    steward.execute(
        """insert into resolve.steward_decision
               (decision, dataset_a, record_key_a, dataset_b, record_key_b, reason)
           values ('cannot_link', 'gat_czrk', 'R1', 'gat_czrk', 'R2', 'twins, checked')"""
    )
    assert denied(steward, "select * from access.share_grant")
    assert denied(steward, "delete from mdm.natural_person")
    assert denied(steward, "insert into resolve.person_record values ('x','y','z','w')")


def test_a_share_grant_gives_exactly_its_columns_logs_reads_and_expires(
    world, login, warehouse_url
):
    with psycopg.connect(warehouse_url) as admin:
        grant_id = sharing.grant(
            admin,
            "rst",
            "natural_person",
            ["person_id", "id_number", "name"],
            "social insurance enrolment checks",
            dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
            "test",
        )
    consumer = login("mdm_share_rst")
    cursor = consumer.execute("select * from share.rst__natural_person")
    assert [c.name for c in cursor.description] == ["person_id", "id_number", "name"]
    rows = cursor.fetchall()
    assert len(rows) > 500 and any(r[1] and len(r[1]) == 18 and "*" not in r[1] for r in rows)
    for forbidden in (
        "select * from analyst.natural_person limit 1",
        "select * from mdm.natural_person limit 1",
        "select * from access.share_read_log",
        f"select * from access.share_{grant_id}()",
    ):
        assert denied(consumer, forbidden), forbidden
    with psycopg.connect(warehouse_url) as admin:
        logged = admin.execute(
            "select role_name, view_name, row_count from access.share_read_log where grant_id = %s",
            (grant_id,),
        ).fetchall()
        assert len(logged) == 1 and logged[0][1:] == ("share.rst__natural_person", len(rows))
        assert logged[0][0].startswith("t_share_rst_")
        # Time passes: the grant expires. Reads stop at once, before any cleanup runs.
        admin.execute(
            "update access.share_grant set expires_at = now() - interval '1 second' "
            "where grant_id = %s",
            (grant_id,),
        )
        admin.commit()
    with pytest.raises(errors.RaiseException, match="expired"):
        consumer.execute("select count(*) from share.rst__natural_person")
    with psycopg.connect(warehouse_url) as admin:
        assert sharing.expire(admin) == [grant_id]
    assert denied(consumer, "select 1") is False
    with pytest.raises(errors.UndefinedTable):
        consumer.execute("select * from share.rst__natural_person")


def test_revoke_and_refusals(world, warehouse_url, monkeypatch):
    with psycopg.connect(warehouse_url) as admin:
        in_a_day = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        grant_id = sharing.grant(
            admin, "tax", "legal_person", ["uscc", "name"], "credit rating", in_a_day, "test"
        )
        assert sharing.revoke(admin, grant_id, "test") is True
        assert sharing.revoke(admin, grant_id, "test") is False
        with pytest.raises(sharing.ShareRefusedError, match="not in"):
            sharing.grant(admin, "tax", "legal_person", ["password"], "x", in_a_day, "test")
        with pytest.raises(sharing.ShareRefusedError, match="past"):
            sharing.grant(
                admin, "tax", "legal_person", ["uscc"], "x", in_a_day - dt.timedelta(days=2), "t"
            )
        monkeypatch.setattr(
            sharing,
            "repositories",
            lambda: {"secret": {"share_type": "不予共享", "relation": "mdm.legal_person"}},
        )
        with pytest.raises(sharing.ShareRefusedError, match="不予共享"):
            sharing.grant(admin, "tax", "secret", ["uscc"], "x", in_a_day, "test")
