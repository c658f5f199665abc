"""Resolution quality against the generator's truth: pairwise precision, recall, F1.

A pair is two source records of the same entity. Predicted pairs come from the
xref tables, true pairs from ``truth/records.csv``: precision over the records
present in both, recall over all the truth's records, so a record lost from the
output (not resolved, deleted) is a missed pair and lowers recall. Over-merged:
predicted entities holding records of several true entities; split: true entities
spread over several predicted ones. Twins (born the same day to the same parent, from
``truth/relations.csv``) merged into one person are counted apart: they are the pairs
most alike that must stay two people.
"""

from __future__ import annotations

import csv
import logging
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from mdm.connections import ConnParams, conninfo
from mdm.resolve.compare import pairwise, predicted
from mdm.resolve.entities import EVENT_TABLE, KINDS, SCHEMA
from mdm_tools.evaluate_certificates import (
    certificate_accuracy,
    predicted_certificates,
    read_certificates,
)

logger = logging.getLogger(__name__)

EVENTS = f"{SCHEMA}.{EVENT_TABLE}"
# pairwise, predicted: from mdm.resolve
__all__ = ["evaluate", "only_resolved", "pairwise", "predicted", "split_truth"]


def split_truth(records: dict[Any, tuple[str, str]]) -> dict[str, dict[Any, str]]:
    """The generator's truth (record -> (entity type, id)) per kind of entity."""
    truth: dict[str, dict[Any, str]] = {"person": {}, "organisation": {}}
    for key, (entity_type, entity_id) in records.items():
        truth["person" if entity_type == "person" else "organisation"][key] = entity_id
    return truth


def read_truth(truth_dir: Path) -> dict[str, dict[tuple[str, str], str]]:
    truth: dict[str, dict[tuple[str, str], str]] = {"person": {}, "organisation": {}}
    with open(truth_dir / "records.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            kind = "person" if row["entity_type"] == "person" else "organisation"
            truth[kind][(row["dataset"], row["record_key"])] = row["entity_id"]
    return truth


def id_churn(conn: psycopg.Connection) -> dict[str, Any]:
    """What the latest resolution run changed for records resolved before it.

    Records moved between entities (linked, split) and ids retired, from the entity-event
    log; new records getting new ids are not churn.
    """
    row = conn.execute(
        f"select run_id from {EVENTS} where run_id is not null order by event_id desc limit 1"  # noqa: S608
    ).fetchone()
    if row is None:
        return {"run_id": None, "records_moved": 0, "ids_retired": 0, "records_split": 0}
    counts: dict[str, int] = dict(
        conn.execute(
            f"select event, count(*) from {EVENTS} where run_id = %s group by event",  # noqa: S608
            (row[0],),
        ).fetchall()
    )
    return {
        "run_id": row[0],
        "records_moved": counts.get("linked", 0) + counts.get("split", 0),
        "ids_retired": counts.get("retired", 0),
        "records_split": counts.get("split", 0),
    }


def read_twin_pairs(truth_dir: Path) -> set[tuple[str, str]]:
    """True persons born on the same day to the same parent (``truth/relations.csv``)."""
    children: dict[tuple[str, str], set[str]] = {}
    with open(truth_dir / "relations.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["relation_type"] == "parent":
                children.setdefault((row["from_id"], row["valid_from"]), set()).add(row["to_id"])
    return {(a, b) for siblings in children.values() for a in siblings for b in siblings if a < b}


def twins_merged(
    predicted_person: dict[Any, str], person_truth: dict[Any, str], twins: set[tuple[str, str]]
) -> int:
    """Twin pairs with a record of each in one predicted person: two people made one."""
    entities: dict[str, set[str]] = {}
    for record, true_id in person_truth.items():
        if record in predicted_person:
            entities.setdefault(true_id, set()).add(predicted_person[record])
    return sum(1 for a, b in twins if entities.get(a, set()) & entities.get(b, set()))


def read_hard_cases(truth_dir: Path) -> dict[str, set[tuple[str, str]]]:
    """Hard case -> its records (``truth/hard_cases.csv``); empty for an older truth."""
    cases: dict[str, set[tuple[str, str]]] = {}
    path = truth_dir / "hard_cases.csv"
    if path.exists():
        with open(path, encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                cases.setdefault(row["hard_case"], set()).add((row["dataset"], row["record_key"]))
    return cases


def case_recall(
    records: set[Any], predicted_map: dict[Any, str], truth_map: dict[Any, str]
) -> dict[str, Any]:
    """For the records of one hard case: how many share their predicted entity with another
    record of their true entity (linked), and how many share it with a record of another
    true entity (wrongly linked). Records whose true entity has no other record are left out.
    """
    members: dict[str, list[Any]] = {}
    for record, entity in predicted_map.items():
        members.setdefault(entity, []).append(record)
    true_size = Counter(truth_map.values())
    considered = linked = wrong = 0
    for record in records:
        if record not in predicted_map or record not in truth_map:
            continue
        true_id = truth_map[record]
        if true_size[true_id] < 2:
            continue
        considered += 1
        others = [r for r in members[predicted_map[record]] if r != record and r in truth_map]
        if any(truth_map[r] == true_id for r in others):
            linked += 1
        if any(truth_map[r] != true_id for r in others):
            wrong += 1
    return {
        "records": considered,
        "linked": linked,
        "recall": round(linked / considered, 6) if considered else 1.0,
        "wrongly_linked": wrong,
    }


def _majority(entity_records: dict[str, list[str]]) -> dict[str, str]:
    """Predicted entity -> the true entity most of its records belong to."""
    return {
        entity: Counter(true_ids).most_common(1)[0][0]
        for entity, true_ids in entity_records.items()
        if true_ids
    }


def read_true_relations(truth_dir: Path, relation_type: str) -> set[tuple[str, str]]:
    with open(truth_dir / "relations.csv", encoding="utf-8") as handle:
        return {
            (row["from_id"], row["to_id"])
            for row in csv.DictReader(handle)
            if row["relation_type"] == relation_type
        }


def same_owner_merged(
    predicted_org: dict[Any, str], org_truth: dict[Any, str], owners: set[tuple[str, str]]
) -> tuple[int, int]:
    """(pairs of organisations with the same legal representative, of those made one)."""
    by_owner: dict[str, set[str]] = {}
    for person, org in owners:
        by_owner.setdefault(person, set()).add(org)
    entities: dict[str, set[str]] = {}
    for record, true_id in org_truth.items():
        if record in predicted_org:
            entities.setdefault(true_id, set()).add(predicted_org[record])
    pairs = merged = 0
    for orgs in by_owner.values():
        ordered = sorted(orgs)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                pairs += 1
                merged += bool(entities.get(a, set()) & entities.get(b, set()))
    return pairs, merged


# Relations compared with the truth; from -> to as relation.sql and truth/relations.csv
# both write them: the person, then the person or organisation (to_kind) it relates to.
# Between persons, the dataset whose records state the relation.
RELATION_TO_KIND = {
    "spouse": "person",  # husband -> wife
    "parent": "person",  # parent -> child
    "guardian": "person",  # guardian -> student
    "legal_representative": "organisation",  # person -> organisation
    "employee": "organisation",  # person -> employer
    "person_in_charge": "organisation",  # person -> legal-service institution
    "practitioner": "organisation",  # person -> the institution of practice
}
STATED_BY = {"spouse": "mzt_hydj", "parent": "wjw_csyxzm", "guardian": "jyt_xsxj"}


def true_entities(
    current: dict[str, dict[tuple[str, str], str]], truth: dict[str, dict[tuple[str, str], str]]
) -> tuple[dict[str, str], dict[str, str]]:
    """Predicted person and organisation -> the true one most of its records belong to."""
    maps = []
    for kind in ("person", "organisation"):
        records_of: dict[str, list[str]] = {}
        for record, entity in current[kind].items():
            if record in truth[kind]:
                records_of.setdefault(entity, []).append(truth[kind][record])
        maps.append(_majority(records_of))
    return maps[0], maps[1]


def relation_accuracy(
    conn: psycopg.Connection,
    true_person: dict[str, str],
    true_org: dict[str, str],
    truth: dict[str, dict[tuple[str, str], str]],
    truth_dir: Path,
) -> dict[str, dict[str, Any]]:
    """Per relation type: the published relations (``mdm.relation``) against the truth's.

    Recall is over every true relation the deliveries state, whatever the output holds: a
    lost record, a lost relation or a relation between the wrong golden records all lower
    it. Between persons a relation is stated by one delivered record of its dataset holding
    both (a marriage, a birth certificate, a student's guardian: its ``key#ROLE`` records in
    ``truth/records.csv``); to an organisation, when both ends were delivered (an employer
    is named by its code, not by a record of its own). Precision: published relations
    (their ends mapped to true entities by majority) that are true.
    """
    delivered = {kind: set(entities.values()) for kind, entities in truth.items()}
    together: set[tuple[str, str, str]] = set()  # (dataset, person, person) of one record
    groups: dict[tuple[str, str], set[str]] = {}
    for (dataset, key), entity in truth["person"].items():
        groups.setdefault((dataset, key.split("#", 1)[0]), set()).add(entity)
    for (dataset, _), members in groups.items():
        together |= {(dataset, a, b) for a in members for b in members if a != b}
    published: dict[str, set[tuple[str | None, str | None]]] = {t: set() for t in RELATION_TO_KIND}
    for relation_type, from_id, to_id in conn.execute(
        "select relation_type, from_id, to_id from mdm.relation"
    ):
        to_kind = RELATION_TO_KIND.get(relation_type)
        if to_kind is not None:
            to_map = true_person if to_kind == "person" else true_org
            published[relation_type].add((true_person.get(from_id), to_map.get(to_id)))
    results = {}
    for relation_type, to_kind in RELATION_TO_KIND.items():
        true = {
            (a, b)
            for a, b in read_true_relations(truth_dir, relation_type)
            if (
                (STATED_BY[relation_type], a, b) in together
                if to_kind == "person"
                else a in delivered["person"]
            )
            and b in delivered[to_kind]
        }
        found = len(published[relation_type] & true)
        predicted_count = len(published[relation_type])
        results[relation_type] = {
            "true": len(true),
            "published": predicted_count,
            "found": found,
            "recall": round(found / len(true), 6) if true else 1.0,
            "precision": round(found / predicted_count, 6) if predicted_count else 1.0,
        }
    return results


def read_true_organisations(truth_dir: Path) -> dict[str, dict[str, str]]:
    """True organisation -> its attributes (``truth/organisations.csv``); empty if absent."""
    path = truth_dir / "organisations.csv"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as handle:
        return {row["organisation_id"]: row for row in csv.DictReader(handle)}


def organisation_accuracy(
    conn: psycopg.Connection,
    true_person: dict[str, str],
    true_org: dict[str, str],
    organisations: dict[str, dict[str, str]],
) -> dict[str, Any]:
    """Golden legal persons (``mdm.legal_person``) against their true organisation: the share
    right of name, credit code, status and legal representative (the golden representative's
    person mapped to its true person)."""
    published = conn.execute(
        "select legal_person_id, name, uscc, status, legal_rep_person_id from mdm.legal_person"
    ).fetchall()
    right = dict.fromkeys(("name", "uscc", "status", "legal_rep"), 0)
    # names compare as staging standardises them: full-width brackets become ASCII
    for legal_person_id, name, uscc, status, rep in published:
        fact = organisations.get(true_org.get(legal_person_id, ""))
        if fact is None:
            continue
        right["name"] += name == unicodedata.normalize("NFKC", fact["name"])
        right["uscc"] += (uscc or "") == fact["uscc"]
        right["status"] += status == fact["status"]
        right["legal_rep"] += true_person.get(rep or "") == fact["legal_rep"]
    n = len(published)
    return {
        "published": n,
        **{f"{attribute}_right": round(k / n, 6) if n else 1.0 for attribute, k in right.items()},
    }


def repository_accuracy(
    conn: psycopg.Connection,
    current: dict[str, dict[tuple[str, str], str]],
    truth: dict[str, dict[tuple[str, str], str]],
    truth_dir: Path,
) -> dict[str, Any]:
    """What the published repositories say against the truth: persons against true persons,
    golden ID number, sex and birth date per person, relations per type, golden legal
    persons."""
    true_person, true_org = true_entities(current, truth)
    published = conn.execute(
        "select person_id, id_number, sex_code, birth_date from mdm.natural_person"
    ).fetchall()
    people: dict[str, dict[str, str]] = {}
    path = truth_dir / "persons.csv"
    if path.exists():
        with open(path, encoding="utf-8") as handle:
            people = {row["person_id"]: row for row in csv.DictReader(handle)}
    right = 0
    for person_id, id_number, sex, birth in published:
        fact = people.get(true_person.get(person_id, ""))
        if fact is not None and (
            (id_number or "") == fact["id_number"]
            and sex == fact["sex"]
            and (birth.isoformat() if birth else "") == fact["birth_date"]
        ):
            right += 1
    true_persons = len(set(truth["person"][r] for r in current["person"] if r in truth["person"]))
    predicted_employees = {
        (true_person.get(f), true_org.get(t))
        for f, t in conn.execute(
            "select from_id, to_id from mdm.relation where relation_type = 'employee'"
        )
    }
    true_employees = read_true_relations(truth_dir, "employee")
    found = len(predicted_employees & true_employees)
    # employers named without a valid credit code: the pension record's relation
    employer_of = dict(true_employees)
    by_name = {
        key
        for dataset, key in read_hard_cases(truth_dir).get("employer_by_name", set())
        if dataset == "rst_cbry" and key.endswith("_110")
    }
    related = {
        key: true_org.get(to_id)
        for key, to_id in conn.execute(
            "select record_key, to_id from mdm.relation "
            "where relation_type = 'employee' and dataset = 'rst_cbry'"
        )
        if key in by_name
    }
    by_name_found = sum(
        1
        for key in by_name
        if related.get(key) is not None
        and related[key] == employer_of.get(truth["person"].get(("rst_cbry", key), ""))
    )
    return {
        "published_persons": len(published),
        "true_persons": true_persons,
        "published_persons_excess": round(len(published) / true_persons - 1, 6)
        if true_persons
        else 0.0,
        "golden_identity_right": round(right / len(published), 6) if published else 1.0,
        "employee_relations": len(true_employees),
        "employee_recall": round(found / len(true_employees), 6) if true_employees else 1.0,
        "employee_precision": round(found / len(predicted_employees), 6)
        if predicted_employees
        else 1.0,
        "employer_by_name_records": len(by_name),
        "employer_by_name_recall": round(by_name_found / len(by_name), 6) if by_name else 1.0,
        "relations": relation_accuracy(conn, true_person, true_org, truth, truth_dir),
        "legal_persons": organisation_accuracy(
            conn, true_person, true_org, read_true_organisations(truth_dir)
        ),
    }


JUSTICE = ("sft_jgdj", "sft_zyry")  # institutions (and their persons in charge), practitioners
# Link truth bases (truth/links.csv) by how the record names its entity: a code, or name and
# address only (``name_address:<variant>``).
CODED_BASES = ("uscc", "org_code", "operator_id_number", "id_number", "passport")
LINK_GROUPS = {
    # the targets: accounts and penalty records with a valid code, and accounts
    # known by name and address only
    "coded_accounts_and_penalties": (("gjj_dwjc", "sdq_jfxx", "xyb_xzcf", "fy_sxbzxr"), "code"),
    "name_address_accounts": (("gjj_dwjc", "sdq_jfxx"), "name_address"),
    "coded_authorisations": (("xyd_sq",), "code"),
}
# The observation column that carries each coded basis, when the delivered code is valid.
BASIS_COLUMN = {
    "uscc": "uscc",
    "org_code": "organization_code",
    "operator_id_number": "operator_id_number",
    "id_number": "id_number",
    "passport": "passport_number",
}


def justice_persons(
    predicted_person: dict[Any, str], person_truth: dict[Any, str]
) -> dict[str, Any]:
    """Pairwise person quality around institutions and practitioners: over every record of
    the true persons with a justice record and of the predicted persons holding one, so a
    practitioner merged with the wrong person (precision) or kept apart from its other
    records (recall) both count."""
    true_ids = {e for (dataset, _), e in person_truth.items() if dataset in JUSTICE}
    predicted_ids = {e for (dataset, _), e in predicted_person.items() if dataset in JUSTICE}
    scope = {r for r, e in person_truth.items() if e in true_ids} | {
        r for r, e in predicted_person.items() if e in predicted_ids
    }
    return pairwise(
        {r: e for r, e in predicted_person.items() if r in scope},
        {r: e for r, e in person_truth.items() if r in scope},
    )


def read_links(truth_dir: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(dataset, record key) -> (true entity, basis) of ``truth/links.csv``; empty if absent."""
    path = truth_dir / "links.csv"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as handle:
        return {
            (row["dataset"], row["record_key"]): (row["entity_id"], row["basis"])
            for row in csv.DictReader(handle)
        }


def unusable_codes(
    conn: psycopg.Connection,
    truth: dict[tuple[str, str], tuple[str, str]],
    organisations: dict[str, dict[str, str]],
) -> set[tuple[str, str]]:
    """The coded records whose code cannot name their entity: the delivery spoiled it (an ID
    number or credit code failing its check, a blank), or it is the organization code of an
    organisation without a credit code, which no register of the world carries. The targets
    read "with a valid code"; these are reported apart (``coded_unusable``)."""
    if conn.execute(
        "select to_regclass('intermediate.int_record_link_observations')"
    ).fetchone() == (None,):
        return set()
    delivered = {
        (d, k): dict(zip(BASIS_COLUMN.values(), codes, strict=True))
        for d, k, *codes in conn.execute(
            "select dataset, record_key, uscc, organization_code, operator_id_number, id_number,"
            " passport_number from intermediate.int_record_link_observations"
        )
    }
    unusable = set()
    for record, (entity, basis) in truth.items():
        if basis not in BASIS_COLUMN or record not in delivered:
            continue
        no_register = basis == "org_code" and not organisations.get(entity, {}).get("uscc")
        if no_register or delivered[record][BASIS_COLUMN[basis]] is None:
            unusable.add(record)
    return unusable


def never_loaded(
    conn: psycopg.Connection, truth: dict[tuple[str, str], tuple[str, str]]
) -> set[tuple[str, str]]:
    """The link-truth records no raw table holds: every delivery of them was quarantined (a
    malformed line, a defect the gate refused), or the front-end row was deleted before a
    pull saw it. The platform never had them, so they cannot be linked; counting them as
    missed would measure the delivery, not the linking (reported apart as
    ``links_never_loaded``)."""
    from mdm.registry import datasets as registry_datasets

    specs = registry_datasets()
    loaded: set[tuple[str, str]] = set()
    for dataset in sorted({d for d, _ in truth}):
        spec = specs.get(dataset)
        if spec is None:
            continue
        table = conn.execute("select to_regclass(%s)", (f"raw.{dataset}",)).fetchone()
        if table is None or table[0] is None:
            continue
        separator = sql.SQL(" || {} || ").format(sql.Literal(spec.record_key_separator))
        parts: list[sql.Composable] = []
        for column in spec.record_key:
            parts += [separator] if parts else []
            parts.append(sql.SQL("btrim({})").format(sql.Identifier(column.lower())))
        key = sql.Composed(parts)
        query = sql.SQL("select distinct {} from raw.{}").format(key, sql.Identifier(dataset))
        loaded.update((dataset, record_key) for (record_key,) in conn.execute(query))
    return {record for record in truth if record not in loaded}


def link_accuracy(
    links: dict[tuple[str, str], str],
    truth: dict[tuple[str, str], tuple[str, str]],
    true_person: dict[str, str],
    true_org: dict[str, str],
    unusable: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
) -> dict[str, dict[str, Any]]:
    """Per group of :data:`LINK_GROUPS`: precision (links to the right entity of the records
    linked) and recall (of the group's true records); the coded groups leave out the
    ``unusable`` records (:func:`unusable_codes`), reported as group ``coded_unusable``.
    ``links``: record -> entity id as the platform linked it, mapped to its true entity by
    majority (``true_entities``)."""
    groups = {
        group: {
            record: entity
            for record, (entity, how) in truth.items()
            if record[0] in datasets
            and (
                how in CODED_BASES and record not in unusable
                if basis == "code"
                else how.startswith("name_address")
            )
        }
        for group, (datasets, basis) in LINK_GROUPS.items()
    }
    groups["coded_unusable"] = {r: truth[r][0] for r in unusable if r in truth}
    results = {}
    for group, records in groups.items():
        linked = {r: links[r] for r in records if r in links}
        right = sum(
            1
            for record, entity in linked.items()
            if (true_person if entity.startswith("P") else true_org).get(entity) == records[record]
        )
        results[group] = {
            "records": len(records),
            "linked": len(linked),
            "right": right,
            "precision": round(right / len(linked), 6) if linked else 1.0,
            "recall": round(right / len(records), 6) if records else 1.0,
        }
    return results


def _record_links(conn: psycopg.Connection) -> dict[tuple[str, str], str]:
    """Record -> linked entity id (``resolve.record_link``); empty before the first link."""
    if conn.execute("select to_regclass('resolve.record_link')").fetchone() == (None,):
        return {}
    return {
        (d, k): e
        for d, k, e in conn.execute(
            "select dataset, record_key, entity_id from resolve.record_link"
        )
    }


def resolved_datasets(conn: psycopg.Connection) -> set[str]:
    """The datasets with records in the resolution's record tables."""
    return {
        dataset
        for kind in KINDS
        for (dataset,) in conn.execute(
            f"select distinct dataset from {SCHEMA}.{kind.record_table}"  # noqa: S608
        )
    }


def only_resolved(
    conn: psycopg.Connection, truth: dict[str, dict[Any, str]]
) -> tuple[dict[str, dict[Any, str]], list[str]]:
    """The truth of the datasets the platform resolves, and the datasets left out: the
    generator may deliver sources before their models exist; their records are named, not
    counted as missed."""
    resolved = resolved_datasets(conn)
    left_out = sorted({dataset for kind in truth.values() for dataset, _ in kind} - resolved)
    kept = {
        kind: {r: e for r, e in records.items() if r[0] in resolved}
        for kind, records in truth.items()
    }
    return kept, left_out


def evaluate(warehouse: ConnParams, truth_dir: Path) -> dict[str, Any]:
    with psycopg.connect(conninfo(warehouse)) as conn:
        truth, not_resolved = only_resolved(conn, read_truth(truth_dir))
        current = predicted(conn)
        churn = id_churn(conn)
        record_links = _record_links(conn)
        link_truth = read_links(truth_dir)
        not_loaded = never_loaded(conn, link_truth)
        link_truth = {r: v for r, v in link_truth.items() if r not in not_loaded}
        unusable = unusable_codes(conn, link_truth, read_true_organisations(truth_dir))
        certificates_found = predicted_certificates(conn)
        published = conn.execute("select to_regclass('mdm.natural_person')").fetchone()
        repository = (
            repository_accuracy(conn, current, truth, truth_dir)
            if published and published[0]
            else {}
        )
    results = {kind.name: pairwise(current[kind.name], truth[kind.name]) for kind in KINDS}
    twins = read_twin_pairs(truth_dir)
    results["person"]["twin_pairs"] = len(twins)
    results["person"]["twin_pairs_merged"] = twins_merged(current["person"], truth["person"], twins)
    pairs, merged = same_owner_merged(
        current["organisation"],
        truth["organisation"],
        read_true_relations(truth_dir, "legal_representative"),
    )
    results["organisation"]["same_owner_pairs"] = pairs
    results["organisation"]["same_owner_pairs_merged"] = merged
    results["justice_person"] = justice_persons(current["person"], truth["person"])
    true_person, true_org = true_entities(current, truth)
    links = link_accuracy(record_links, link_truth, true_person, true_org, unusable)
    hard_cases = {
        case: case_recall(records, current["person"], truth["person"])
        for case, records in sorted(read_hard_cases(truth_dir).items())
        if case != "employer_by_name"
    }
    return {
        **results,
        "hard_cases": hard_cases,
        "links": links,
        "links_never_loaded": {"records": len(not_loaded), "examples": sorted(not_loaded)[:5]},
        "certificates": certificate_accuracy(read_certificates(truth_dir), *certificates_found),
        "repository": repository,
        "id_churn": churn,
        "datasets_not_resolved": not_resolved,
    }
