"""Roles, masked views, conditional sharing and its read log, asserted by connecting as each role.

Every "cannot" is an actual permission error from PostgreSQL, not an assumption.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time

import psycopg
import pytest
from ingest_support import build_world, drop_login_users
from psycopg import errors

from mdm.access import sharing
from mdm.access.roles import add_user, ensure_role, ensure_roles
from mdm.cli import main
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


def _in(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


def _wait_until(moment: dt.datetime) -> None:
    time.sleep(max(0.0, (moment - dt.datetime.now(dt.UTC)).total_seconds()) + 0.2)


def _log(warehouse_url: str, grant_id: int) -> list[tuple[str, str, int]]:
    with psycopg.connect(warehouse_url) as admin:
        return admin.execute(
            """select role_name, view_name, row_count from access.share_read_log
               where grant_id = %s order by read_id""",
            (grant_id,),
        ).fetchall()


def test_a_share_grant_gives_exactly_its_columns_logs_reads_and_expires(
    world, login, warehouse_url
):
    expires = _in(20)
    columns = ["person_id", "id_number", "name"]
    with psycopg.connect(warehouse_url) as admin:
        # id_number is graded 4 (personal sensitive) in the catalogue: no approval, no grant
        with pytest.raises(sharing.ShareRefusedError, match="approval"):
            sharing.grant(admin, "rst", "natural_person", columns, "enrolment checks", expires)
        grant_id = sharing.grant(
            admin,
            "rst",
            "natural_person",
            columns,
            "social insurance enrolment checks",
            expires,
            approval="桂数审〔2026〕17号",
        )
        assert sharing.grant_view(admin, grant_id) == "share.rst__natural_person"
        approval, detail = admin.execute(
            """select g.approval, e.detail from access.share_grant g
               join access.share_grant_event e using (grant_id)
               where g.grant_id = %s and e.event = 'grant'""",
            (grant_id,),
        ).fetchone()
        assert approval == "桂数审〔2026〕17号" and detail["grade_4_columns"] == ["id_number"]
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
        "select access.log_share_read(1, 'share.x', 0)",
    ):
        assert denied(consumer, forbidden), forbidden
    logged = _log(warehouse_url, grant_id)
    assert len(logged) == 1 and logged[0][1:] == ("share.rst__natural_person", len(rows))
    assert logged[0][0] == consumer.info.user
    # A transaction opened before the expiry reads, then time passes: the same transaction
    # (repeatable read, its snapshot from before the expiry) is refused by the clock.
    consumer.autocommit = False
    consumer.execute("set transaction isolation level repeatable read")
    assert consumer.execute("select count(*) from share.rst__natural_person").fetchone()[0] > 500
    _wait_until(expires)
    with pytest.raises(errors.RaiseException, match="expired"):
        consumer.execute("select count(*) from share.rst__natural_person")
    consumer.rollback()
    consumer.autocommit = True
    with pytest.raises(errors.RaiseException, match="expired"):
        consumer.execute("select count(*) from share.rst__natural_person")
    with psycopg.connect(warehouse_url) as admin:
        assert sharing.expire(admin) == [grant_id]
        events = admin.execute(
            "select event, db_user from access.share_grant_event where grant_id = %s "
            "order by event_id",
            (grant_id,),
        ).fetchall()
        assert events == [("grant", admin.info.user), ("expire", admin.info.user)]
    assert len(_log(warehouse_url, grant_id)) == 2
    assert denied(consumer, "select 1") is False
    with pytest.raises(errors.UndefinedTable):
        consumer.execute("select * from share.rst__natural_person")


def test_no_rollback_undoes_the_read_log(world, login, warehouse_url):
    with psycopg.connect(warehouse_url) as admin:
        grant_id = sharing.grant(
            admin, "hrss", "natural_person", ["person_id", "name"], "pension checks", _in(3600)
        )
    consumer = login("mdm_share_hrss")
    consumer.autocommit = False
    # begin; select; rollback
    read = consumer.execute("select * from share.hrss__natural_person").fetchall()
    consumer.rollback()
    # begin; savepoint; select; rollback to savepoint; commit
    consumer.execute("savepoint s")
    consumer.execute("select * from share.hrss__natural_person limit 5").fetchall()
    consumer.execute("rollback to savepoint s")
    consumer.commit()
    logged = [(consumer.info.user, "share.hrss__natural_person", len(read))]
    assert _log(warehouse_url, grant_id) == logged * 2
    # a read-only transaction reads (and is logged) too
    consumer.execute("set transaction read only")
    consumer.execute("select count(*) from share.hrss__natural_person").fetchone()
    consumer.rollback()
    assert _log(warehouse_url, grant_id) == logged * 3


def test_a_revoke_stops_a_transaction_that_already_read(world, login, warehouse_url):
    with psycopg.connect(warehouse_url) as admin:
        grant_id = sharing.grant(
            admin, "civ", "legal_person", ["uscc", "name"], "licensing", _in(3600)
        )
    consumer = login("mdm_share_civ")
    consumer.autocommit = False
    consumer.execute("set transaction isolation level repeatable read")
    assert consumer.execute("select count(*) from share.civ__legal_person").fetchone()[0] > 0
    with psycopg.connect(warehouse_url) as admin:
        # the consumer's open transaction holds the view: the revoke does not wait for it
        assert sharing.revoke(admin, grant_id) is True
    with pytest.raises(errors.RaiseException, match="revoked"):
        consumer.execute("select count(*) from share.civ__legal_person")
    consumer.rollback()
    with psycopg.connect(warehouse_url) as admin:
        sharing.expire(admin)  # drops what the revoke could not
        assert admin.execute("select to_regclass('share.civ__legal_person')").fetchone()[0] is None
    assert len(_log(warehouse_url, grant_id)) == 1


def test_reads_are_refused_when_the_log_cannot_be_written(world, login, warehouse_url):
    with psycopg.connect(warehouse_url) as admin:
        grant_id = sharing.grant(
            admin, "stats", "legal_person", ["uscc"], "business census", _in(3600)
        )
    consumer = login("mdm_share_stats")
    try:
        with psycopg.connect(warehouse_url) as admin:
            admin.execute("drop user mapping for public server mdm_share_log")
        with pytest.raises(psycopg.Error, match="user mapping"):
            consumer.execute("select * from share.stats__legal_person")
    finally:
        with psycopg.connect(warehouse_url) as admin:
            ensure_roles(admin)
    assert consumer.execute("select count(*) from share.stats__legal_person").fetchone()[0] > 0
    assert len(_log(warehouse_url, grant_id)) == 1
    # Without dblink_connect_u the owner connects as a non-superuser, which dblink allows only
    # when the server asks for a password: the embedded server does (scram-sha-256), and the
    # log writer's login logs the read through the password path.
    try:
        with psycopg.connect(warehouse_url) as admin:
            admin.execute(
                "revoke execute on function access.dblink_connect_u(text, text) "
                "from mdm_access_owner"
            )
        assert consumer.execute("select count(*) from share.stats__legal_person").fetchone()[0]
    finally:
        with psycopg.connect(warehouse_url) as admin:
            ensure_roles(admin)
    assert len(_log(warehouse_url, grant_id)) == 2


def test_grants_made_before_the_fix_are_rebuilt(world, login, warehouse_url):
    """A grant as the old code made it (insert into the log in the reader's transaction)
    reads through the logged, clock-checked function after ensure_roles."""
    with psycopg.connect(warehouse_url) as admin:
        admin.execute("create role mdm_share_legacy nologin")
        grant_id = admin.execute(
            """insert into access.share_grant
                   (consumer, dataset, columns, purpose, granted_by, expires_at, view_name)
               values ('legacy', 'legal_person', '{uscc}', 'old', 'someone',
                       now() + interval '1 hour', 'share.legacy__legal_person')
               returning grant_id"""
        ).fetchone()[0]
        admin.execute(
            f"""create function access.share_{grant_id}() returns table (uscc text)
                language plpgsql security definer set search_path = pg_catalog as $$
                begin
                    return query select t.uscc::text from mdm.legal_person t;
                    insert into access.share_read_log (grant_id, role_name, view_name, row_count)
                    values ({grant_id}, session_user, 'share.legacy__legal_person', 0);
                end $$"""
        )
        admin.execute(
            f"create view share.legacy__legal_person as select * from access.share_{grant_id}()"
        )
        admin.execute(f"grant execute on function access.share_{grant_id}() to mdm_share_legacy")
        admin.execute("grant usage on schema share to mdm_share_legacy")
        admin.execute("grant select on share.legacy__legal_person to mdm_share_legacy")
        admin.commit()
        ensure_roles(admin)
        assert admin.execute(
            "select relation from access.share_grant where grant_id = %s", (grant_id,)
        ).fetchone() == ("mdm.legal_person",)
    consumer = login("mdm_share_legacy")
    consumer.autocommit = False
    rows = consumer.execute("select * from share.legacy__legal_person").fetchall()
    consumer.rollback()
    assert rows and _log(warehouse_url, grant_id) == [
        (consumer.info.user, "share.legacy__legal_person", len(rows))
    ]


def test_the_share_commands_work(world, warehouse_url, capsys):
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    grant = ["share", "grant", "--consumer", "cli", "--dataset", "legal_person"]
    assert main([*grant, "--columns", "uscc,name", "--purpose", "checks", "--expires", until]) == 0
    granted = capsys.readouterr().out
    match = re.search(r"grant (\d+): role mdm_share_cli reads share.cli__legal_person", granted)
    assert match, granted
    assert main(["share", "list"]) == 0
    assert re.search(rf"{match[1]} cli .* live .* share.cli__legal_person", capsys.readouterr().out)
    assert main(["share", "revoke", match[1]]) == 0
    assert capsys.readouterr().out.strip().endswith("revoked")
    assert main(["share", "expire"]) == 0
    with psycopg.connect(warehouse_url) as admin:
        events = admin.execute(
            "select event, db_user from access.share_grant_event where grant_id = %s "
            "order by event_id",
            (int(match[1]),),
        ).fetchall()
        assert events == [("grant", admin.info.user), ("revoke", admin.info.user)]


def test_engineers_cannot_edit_the_log_or_extend_a_grant(world, login, warehouse_url):
    with psycopg.connect(warehouse_url) as admin:
        grant_id = sharing.grant(
            admin, "audit", "legal_person", ["uscc", "name"], "tax audit", _in(3600)
        )
        admin_user = admin.info.user
    login("mdm_share_audit").execute("select * from share.audit__legal_person").fetchall()
    engineer = login("mdm_engineer")
    assert engineer.execute("select count(*) from access.share_read_log").fetchone()[0] > 0
    for forbidden in (
        "delete from access.share_read_log",
        "update access.share_read_log set row_count = 0",
        "truncate access.share_read_log",
        "insert into access.share_read_log (grant_id, role_name, view_name, row_count) "
        "values (1, 'x', 'share.x', 0)",
        f"update access.share_grant set expires_at = expires_at + interval '1 year' "
        f"where grant_id = {grant_id}",
        f"delete from access.share_grant where grant_id = {grant_id}",
        "delete from access.share_grant_event",
        f"select access.create_share_reader({grant_id})",
        "create view share.mine as select 1 as x",
        "alter table access.share_grant disable trigger share_grant_append_only",
    ):
        assert denied(engineer, forbidden), forbidden
    # Not even the owner changes a grant's terms: a longer grant is a new, logged grant.
    with (
        psycopg.connect(warehouse_url) as admin,
        pytest.raises(errors.RaiseException, match="never change"),
    ):
        admin.execute(
            "update access.share_grant set expires_at = expires_at + interval '1 year' "
            "where grant_id = %s",
            (grant_id,),
        )
    # An engineer grants and revokes through the owner's functions, logged as themself.
    renewal = sharing.grant(
        engineer, "audit", "legal_person", ["uscc"], "tax audit, renewed", _in(7200)
    )
    assert sharing.revoke(engineer, grant_id) is True
    with psycopg.connect(warehouse_url) as admin:
        events = admin.execute(
            "select grant_id, event, db_user from access.share_grant_event "
            "where grant_id in (%s, %s) order by event_id",
            (grant_id, renewal),
        ).fetchall()
        granted_by = admin.execute(
            "select granted_by, revoked_by from access.share_grant where grant_id = %s",
            (renewal,),
        ).fetchone()
    me = engineer.info.user
    assert events == [
        (grant_id, "grant", admin_user),
        (renewal, "grant", me),
        (grant_id, "revoke", me),
    ]
    assert granted_by == (me, None)


def test_a_second_grant_keeps_the_first_grants_view(world, login, warehouse_url):
    with psycopg.connect(warehouse_url) as admin:
        first = sharing.grant(
            admin, "fund", "natural_person", ["person_id", "name"], "housing fund", _in(3600)
        )
        second = sharing.grant(
            admin,
            "fund",
            "natural_person",
            ["person_id", "name", "id_number"],
            "housing fund, renewed with ID numbers",
            _in(7200),
            approval="桂数审〔2026〕18号",
        )
        views = sharing.grant_view(admin, first), sharing.grant_view(admin, second)
    assert views == ("share.fund__natural_person", f"share.fund__natural_person__{second}")
    consumer = login("mdm_share_fund")
    first_columns = consumer.execute(f"select * from {views[0]} limit 0").description
    assert [c.name for c in first_columns] == ["person_id", "name"]
    with psycopg.connect(warehouse_url) as admin:
        assert sharing.revoke(admin, first) is True
    with pytest.raises(errors.UndefinedTable):
        consumer.execute(f"select * from {views[0]}")
    rows = consumer.execute(f"select * from {views[1]}").fetchall()
    assert len(rows) > 500 and len(rows[0]) == 3
    assert [r[1] for r in _log(warehouse_url, second)] == [views[1]]


def test_share_sessions_have_timeouts(world, login, warehouse_url):
    with psycopg.connect(warehouse_url) as admin:
        sharing.grant(admin, "gat", "legal_person", ["uscc"], "registry check", _in(3600))
    consumer = login("mdm_share_gat")
    assert consumer.execute("show statement_timeout").fetchone()[0] == "30min"
    assert consumer.execute("show idle_in_transaction_session_timeout").fetchone()[0] == "1min"


def test_revoke_and_refusals(world, warehouse_url, monkeypatch):
    with psycopg.connect(warehouse_url) as admin:
        in_a_day = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        grant_id = sharing.grant(
            admin, "tax", "legal_person", ["uscc", "name"], "credit rating", in_a_day
        )
        assert sharing.revoke(admin, grant_id) is True
        assert sharing.revoke(admin, grant_id) is False
        with pytest.raises(sharing.ShareRefusedError, match="not in"):
            sharing.grant(admin, "tax", "legal_person", ["password"], "x", in_a_day)
        with pytest.raises(sharing.ShareRefusedError, match="past"):
            sharing.grant(
                admin, "tax", "legal_person", ["uscc"], "x", in_a_day - dt.timedelta(days=2)
            )
        monkeypatch.setattr(
            sharing,
            "repositories",
            lambda: {"secret": {"share_type": "不予共享", "relation": "mdm.legal_person"}},
        )
        with pytest.raises(sharing.ShareRefusedError, match="不予共享"):
            sharing.grant(admin, "tax", "secret", ["uscc"], "x", in_a_day)


def test_an_engineer_runs_the_share_commands_with_their_own_login(
    world, login, warehouse_url, monkeypatch, capsys
):
    engineer = login("mdm_engineer")
    with psycopg.connect(warehouse_url) as admin:
        ensure_role(admin, "mdm_share_own")
    info = engineer.info
    monkeypatch.setenv(
        "MDM_DATABASE_URL",
        f"postgresql://{info.user}:{info.password}@{info.host}:{info.port}/{info.dbname}",
    )
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    grant = ["share", "grant", "--consumer", "own", "--dataset", "legal_person"]
    assert main([*grant, "--columns", "uscc", "--purpose", "checks", "--expires", until]) == 0
    match = re.search(r"grant (\d+): ", capsys.readouterr().out)
    assert match
    assert main(["share", "revoke", match[1]]) == 0
    with psycopg.connect(warehouse_url) as admin:
        rows = admin.execute(
            "select event, db_user from access.share_grant_event where grant_id = %s "
            "order by event_id",
            (int(match[1]),),
        ).fetchall()
    assert rows == [("grant", engineer.info.user), ("revoke", engineer.info.user)]
