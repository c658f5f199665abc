"""The v2 sources in the repositories (issue 19, ADR 0017), against the generator's truth.

A small world end to end (generate, ingest, resolve, link, build, publish): institutions are
legal persons with their persons in charge, practitioners persons related to their
institution; the credit, authorisation and certificate records are linked to the person or
legal person they describe, by code or by name and address, and never make an entity; a link
follows its entity's persistent id with an entity event. The issue's targets (at 100k, `make
bench`) hold here: ``mdm evaluate`` reports them.
"""

from __future__ import annotations

import logging

import psycopg
import pytest
from ingest_support import build_world

from mdm.connections import params_from_url
from mdm.resolve.links import link_records
from mdm_tools.evaluate import evaluate, never_loaded, read_links

pytestmark = pytest.mark.integration
logger = logging.getLogger(__name__)

LINKED_DATASETS = ("gjj_dwjc", "sdq_jfxx", "xyb_xzcf", "fy_sxbzxr", "xyd_sq", "dzzz_zzxx")


@pytest.fixture(scope="module")
def world(settings, warehouse_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("v2")
    build_world(settings, warehouse_url, folder, 2000, 23)
    return folder


@pytest.fixture(scope="module")
def results(world, warehouse_url):
    found = evaluate(params_from_url(warehouse_url), world / "truth")
    logger.info("justice persons %s; record links %s", found["justice_person"], found["links"])
    return found


def test_institutions_and_practitioners_resolve_as_the_other_sources(results):
    justice = results["justice_person"]
    assert justice["records"] > 100, justice
    assert justice["precision"] >= 0.999, justice
    assert justice["f1"] >= 0.995, justice
    relations = results["repository"]["relations"]
    for relation_type in ("person_in_charge", "practitioner"):
        assert relations[relation_type]["true"] > 5, relations
        assert relations[relation_type]["precision"] == 1.0, relations
        assert relations[relation_type]["recall"] >= 0.95, relations


def test_records_link_with_the_issue_targets(results):
    links = results["links"]
    for group in ("coded_accounts_and_penalties", "coded_authorisations"):
        assert links[group]["records"] > 10, links
        assert (links[group]["precision"], links[group]["recall"]) == (1.0, 1.0), links
    by_name = links["name_address_accounts"]
    assert by_name["records"] > 50, links
    assert by_name["precision"] >= 0.995, links
    assert by_name["recall"] >= 0.95, links


def test_records_no_delivery_loaded_are_reported_apart(world, warehouse_url, results):
    """A record the platform never had (quarantined in every delivery, or deleted on the
    front end before a pull) is not a missed link: it is named apart, whatever its key's
    shape (``sdq_jfxx`` keys join two columns)."""
    truth = read_links(world / "truth")
    bills = sorted(r for r in truth if r[0] == "sdq_jfxx")
    assert bills and "_" in bills[0][1], bills[:1]
    absent = {("sdq_jfxx", "NO-SUCH-ACCOUNT_202611"), ("gjj_dwjc", "NO-SUCH-ACCOUNT")}
    probe = {**{r: truth[r] for r in bills[:20]}, **dict.fromkeys(absent, ("O1", "uscc"))}
    with psycopg.connect(warehouse_url) as conn:
        assert never_loaded(conn, probe) == absent
    reported = results["links_never_loaded"]
    with psycopg.connect(warehouse_url) as conn:
        assert reported["records"] == len(never_loaded(conn, truth))


def test_institutions_are_legal_persons_and_records_never_make_one(world, warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        kinds = dict(
            conn.execute(
                "select x.dataset, min(l.org_kind) from mdm.legal_person_xref x "
                "join mdm.legal_person l using (legal_person_id) "
                "where x.dataset = 'sft_jgdj' group by 1"
            ).fetchall()
        )
        assert kinds == {"sft_jgdj": "legal_service_institution"}
        # resolution's record tables hold no record of a linked dataset: links only
        for table in ("person_record", "legal_person_record"):
            (resolved,) = conn.execute(
                f"select count(*) from resolve.{table} where dataset = any(%s)",  # noqa: S608
                (list(LINKED_DATASETS),),
            ).fetchone()
            assert resolved == 0, table
        # every published link names a published entity of its kind, each record once
        orphans, links, methods = conn.execute(
            """select count(*) filter (where p.person_id is null and l.legal_person_id is null),
                      count(*), count(distinct k.link_method)
               from mdm.record_link k
               left join mdm.natural_person p
                   on k.entity_kind = 'person' and p.person_id = k.entity_id
               left join mdm.legal_person l
                   on k.entity_kind = 'legal_person' and l.legal_person_id = k.entity_id"""
        ).fetchone()
        assert orphans == 0 and links > 500 and methods >= 6, (orphans, links, methods)


def test_explain_names_the_records_linked_to_an_entity(world, warehouse_url):
    from mdm.resolve.explain import explain

    with psycopg.connect(warehouse_url) as conn:
        entity, links = conn.execute(
            "select entity_id, count(*) from resolve.record_link "
            "group by 1 order by 2 desc, 1 limit 1"
        ).fetchone()
    explained = explain(params_from_url(warehouse_url), entity)
    assert explained["records"] and len(explained["links"]) == links
    assert all(k["link_method"] and k["link_probability"] > 0 for k in explained["links"])


def test_a_link_follows_its_entity_with_an_event(world, warehouse_url, restore_resolution):
    """A legal person merged into another (as a merge moves its records): the next linking
    moves its links there, each a 'linked' entity event; a rerun moves nothing more."""
    warehouse = params_from_url(warehouse_url)
    with psycopg.connect(warehouse_url) as conn:
        gone, kept = conn.execute(
            """select k.entity_id, (select min(legal_person_id) from resolve.legal_person_record
                                    where legal_person_id <> k.entity_id)
               from resolve.record_link k where k.link_method = 'credit_code'
               order by k.dataset, k.record_key limit 1"""
        ).fetchone()
        moving = conn.execute(
            "select count(*) from resolve.record_link where entity_id = %s", (gone,)
        ).fetchone()[0]
        conn.execute(
            "update resolve.legal_person_record set legal_person_id = %s "
            "where legal_person_id = %s",
            (kept, gone),
        )
        conn.commit()
    counts = link_records(warehouse, "test-merge")
    assert counts["moved"] == moving >= 1
    with psycopg.connect(warehouse_url) as conn:
        events = conn.execute(
            "select entity_id, into_id, evidence ->> 'record_link' from resolve.entity_event "
            "where run_id = 'test-merge'"
        ).fetchall()
        assert len(events) == moving
        assert all(e[:2] == (gone, kept) and e[2] == "credit_code" for e in events), events
        assert conn.execute(
            "select count(*) from resolve.record_link where entity_id = %s", (gone,)
        ).fetchone() == (0,)
    assert link_records(warehouse, "test-merge-again")["moved"] == 0
