"""Record links (ADR 0017): the person or legal person each record of the credit,
authorisation and certificate sources describes (``intermediate.int_record_link_observations``).

A record is linked, never resolved: it joins the entity its code names, or the organisation
its name and address name, and never makes an entity of its own (an account is an
observation of an organisation, not a new one). In order, the first that names exactly one
entity decides:

1. a code (SQL, ``CODE_METHODS``): a valid credit code, an organization code (inside a
   credit code or a legacy one, with or without hyphen), an individual business's operator's
   ID number, a person's ID number or passport number, the business record that issued a
   certificate; each through the observations and the record tables of resolution, so a
   link follows its entity's persistent id;
2. an organisation record that no code linked: its name and address against every name and
   address the organisation observations give a legal person (:func:`decide_by_name`).

``resolve.record_link`` keeps one row per linked record. A record whose entity changes (its
legal person merged into another, a better link) is a ``linked`` entity event, as any
resolved record that moves; records no longer live or no longer linked are dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from mdm.connections import ConnParams, conninfo
from mdm.resolve.entities import ORGANISATION, PERSON, SCHEMA, EntityKind
from mdm.resolve.events import EntityEvent, write_events

logger = logging.getLogger(__name__)

LINK_OBSERVATIONS = "intermediate.int_record_link_observations"
TABLE = "record_link"
# A name that is another's with a word changed (a former name) or cut short (an
# abbreviation) shares at least this share of its character pairs (Dice coefficient).
SIMILAR_NAME = 0.5
# What a link by name and address is worth, per rule (reported as link_probability).
NAME_AND_ADDRESS, ADDRESS_AND_SIMILAR_NAME, NAME_ONLY = 0.999, 0.99, 0.98

# Code links, in order of precedence: (method, kind, SQL of (dataset, record_key, entity_id)
# over the link records ``l``; {links}, {org}, {person}, {schema}: see ``_code_sql``). Each
# entity through an observation and its record table.
_ORG = """intermediate.int_organisation_observations o
    join {schema}.legal_person_record r using (dataset, record_key)"""
_PERSON = """intermediate.int_person_observations o
    join {schema}.person_record r using (dataset, record_key)"""
CODE_METHODS: tuple[tuple[str, EntityKind, str], ...] = (
    (
        "credit_code",
        ORGANISATION,
        """
        select l.dataset, l.record_key, r.legal_person_id
        from {links} l join {org} on o.uscc = l.uscc and o.uscc_valid
        where l.entity_kind = 'organisation'""",
    ),
    (
        "organization_code",
        ORGANISATION,
        """
        select l.dataset, l.record_key, r.legal_person_id
        from {links} l join {org} on o.organization_code = l.organization_code
        where l.entity_kind = 'organisation'""",
    ),
    # an individual business by its operator's ID number: the business records that carry
    # it, whose legal representative resolved to the operator, or (a representative named
    # without an ID number, weaker) of the record's name with a representative of the
    # operator's name; of several, those of the record's name, then the stronger evidence
    (
        "operator_id_number",
        ORGANISATION,
        """
        with operator as (
            select l.dataset, l.record_key, l.name_key, r.person_id, o.name_key as operator_name
            from {links} l join {person} on o.match_key = l.operator_id_number
            where l.entity_kind = 'organisation'
        ),
        business_record as (
            select l.dataset, l.record_key, l.name_key, o.dataset as business_dataset,
                   o.record_key as business_key, 1 as evidence
            from {links} l
            join intermediate.int_organisation_observations o
                on o.legal_rep_id_number = l.operator_id_number
            where l.entity_kind = 'organisation'
            union
            select p.dataset, p.record_key, p.name_key, o.dataset, o.record_key, 1
            from operator p
            join {schema}.person_record rep on rep.person_id = p.person_id
            join intermediate.int_organisation_observations o
                on o.dataset = rep.dataset and o.legal_rep_record_key = rep.record_key
            union
            select p.dataset, p.record_key, p.name_key, o.dataset, o.record_key, 2
            from operator p
            join intermediate.int_organisation_observations o
                on o.name_key = p.name_key and o.legal_rep_name_key = p.operator_name
                and o.legal_rep_id_number is null
        ),
        business as (
            select b.dataset, b.record_key, r.legal_person_id,
                   bool_or(o.name_key = b.name_key) as same_name, min(b.evidence) as evidence
            from business_record b
            join {org} on o.dataset = b.business_dataset and o.record_key = b.business_key
            where o.org_kind = 'individual_business' or o.credit_code like '92%%'
               or (o.dataset = 'swj_dwnsr' and o.credit_code is null)
            group by b.dataset, b.record_key, r.legal_person_id
        )
        select dataset, record_key, legal_person_id from (
            select *, rank() over (partition by dataset, record_key
                                   order by same_name desc, evidence) as preference
            from business) as b
        where preference = 1""",
    ),
    (
        "id_number",
        PERSON,
        """
        select l.dataset, l.record_key, r.person_id
        from {links} l join {person} on o.match_key = l.id_number
        where l.entity_kind = 'person'""",
    ),
    (
        "passport",
        PERSON,
        """
        select l.dataset, l.record_key, r.person_id
        from {links} l join {person} on o.match_key = 'passport:' || l.passport_number
        where l.entity_kind = 'person'""",
    ),
    # a certificate without a holder's code: the business record that issued it
    (
        "business_record",
        ORGANISATION,
        """
        select l.dataset, l.record_key, r.legal_person_id
        from {links} l join {schema}.legal_person_record r
            on r.dataset = l.business_dataset and r.record_key = l.business_record_key
        where l.entity_kind = 'organisation'""",
    ),
    (
        "business_record",
        PERSON,
        """
        select l.dataset, l.record_key, r.person_id
        from {links} l join {schema}.person_record r
            on r.dataset = l.business_dataset and r.record_key = l.business_record_key
        where l.entity_kind = 'person'""",
    ),
)

# Organisation records no code linked, with every legal person sharing their name (or the
# name without the company form) or their address, and what that legal person's
# observations say: its name keys and address keys.
_NAME_CANDIDATES = """
with open_record as (
    select l.dataset, l.record_key, l.name_key, std.org_name_key(l.name_key) as short_key,
           l.address_key
    from {links} l
    where l.entity_kind = 'organisation' and (l.name_key is not null or l.address_key is not null)
      and not exists (select 1 from mdm_link_new n
                      where n.dataset = l.dataset and n.record_key = l.record_key)
),
organisation as (
    select r.legal_person_id, o.name_key, o.org_name_key, std.address_key(o.address) as address_key
    from intermediate.int_organisation_observations o
    join {schema}.legal_person_record r using (dataset, record_key)
),
candidate as (
    select w.dataset, w.record_key, g.legal_person_id
    from open_record w join organisation g on g.name_key = w.name_key
    union
    select w.dataset, w.record_key, g.legal_person_id
    from open_record w join organisation g on g.org_name_key = w.short_key
    union
    select w.dataset, w.record_key, g.legal_person_id
    from open_record w join organisation g on g.address_key = w.address_key
)
select w.dataset, w.record_key, w.name_key, w.short_key, w.address_key, c.legal_person_id,
       array_agg(distinct g.name_key) filter (where g.name_key is not null),
       array_agg(distinct g.org_name_key) filter (where g.org_name_key is not null),
       array_agg(distinct g.address_key) filter (where g.address_key is not null)
from open_record w
join candidate c using (dataset, record_key)
join organisation g on g.legal_person_id = c.legal_person_id
group by w.dataset, w.record_key, w.name_key, w.short_key, w.address_key, c.legal_person_id
"""


@dataclass(frozen=True)
class Candidate:
    """A legal person a record may describe: every name key, name without company form and
    address key its observations give."""

    entity_id: str
    name_keys: frozenset[str]
    short_keys: frozenset[str]
    address_keys: frozenset[str]


def _pairs(text: str) -> set[str]:
    cleaned = "".join(ch for ch in text if ch not in "()")
    return {cleaned[i : i + 2] for i in range(len(cleaned) - 1)} or {cleaned}


def name_similarity(a: str, b: str) -> float:
    """Dice coefficient of the character pairs of two names (brackets ignored); 1.0 when one
    name holds the other whole (an abbreviation) and the shorter has four characters or more."""
    if not a or not b:
        return 0.0
    short, long = sorted((a, b), key=len)
    if len(short) >= 4 and short in long:
        return 1.0
    first, second = _pairs(a), _pairs(b)
    return 2 * len(first & second) / (len(first) + len(second))


def decide_by_name(
    name_key: str | None,
    short_key: str | None,
    address_key: str | None,
    candidates: Iterable[Candidate],
) -> tuple[str, str, float] | None:
    """(legal person, method, probability) of a record known by name and address, or None.

    The rules in order; the first that exactly one candidate meets decides, several meeting
    it is no link (two organisations of one name at one address cannot be told apart):
    ``name_address`` (the same name or name without company form, the same address);
    ``address_similar_name`` (the same address, a similar name: a former name, an
    abbreviation, a bracket variant); ``name`` (the same name, no address to compare or
    another address: an organisation moved).
    """
    rows = list(candidates)

    def same_name(c: Candidate) -> bool:
        return bool(name_key and name_key in c.name_keys) or bool(
            short_key and short_key in c.short_keys
        )

    def same_address(c: Candidate) -> bool:
        return bool(address_key and address_key in c.address_keys)

    def similar(c: Candidate) -> bool:
        names = c.name_keys | c.short_keys
        return any(
            name_similarity(mine, theirs) >= SIMILAR_NAME
            for mine in filter(None, (name_key, short_key))
            for theirs in names
        )

    rules = (
        ("name_address", NAME_AND_ADDRESS, lambda c: same_name(c) and same_address(c)),
        (
            "address_similar_name",
            ADDRESS_AND_SIMILAR_NAME,
            lambda c: same_address(c) and similar(c),
        ),
        ("name", NAME_ONLY, same_name),
    )
    for method, probability, rule in rules:
        met = {c.entity_id for c in rows if rule(c)}
        if len(met) == 1:
            return met.pop(), method, probability
        if len(met) > 1:
            return None
    return None


def link_records(warehouse: ConnParams, run_id: str, schema: str = SCHEMA) -> dict[str, int]:
    """Link every live record of ``int_record_link_observations``; the links per method."""
    with psycopg.connect(conninfo(warehouse)) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('mdm.resolve'))")
        conn.execute(
            """create temporary table mdm_link_new (
                   dataset text, record_key text, entity_kind text, entity_id text,
                   link_method text, link_probability numeric(5, 4),
                   primary key (dataset, record_key)) on commit drop"""
        )
        for method, kind, query in CODE_METHODS:
            # a code that names exactly one entity; an earlier method's link stands
            conn.execute(
                f"""insert into mdm_link_new
                    select dataset, record_key, %s, min(entity_id), %s, 1
                    from ({_code_sql(query, schema)}) as found (dataset, record_key, entity_id)
                    group by dataset, record_key
                    having count(distinct entity_id) = 1
                    on conflict do nothing""",  # noqa: S608
                (kind.event_kind, method),
            )
        by_record: dict[tuple[str, str], tuple[str | None, str | None, str | None]] = {}
        candidates: dict[tuple[str, str], list[Candidate]] = {}
        for row in conn.execute(
            _NAME_CANDIDATES.format(links=LINK_OBSERVATIONS, schema=schema)  # noqa: S608
        ):
            dataset, key, name_key, short, address_key, entity, names, shorts, addresses = row
            by_record[(dataset, key)] = (name_key, short, address_key)
            candidates.setdefault((dataset, key), []).append(
                Candidate(
                    entity,
                    frozenset(names or ()),
                    frozenset(shorts or ()),
                    frozenset(addresses or ()),
                )  # fmt: skip
            )
        named = []
        for record, (name_key, short, address_key) in by_record.items():
            decided = decide_by_name(name_key, short, address_key, candidates[record])
            if decided is not None:
                named.append((*record, ORGANISATION.event_kind, *decided))
        with conn.cursor() as cur:
            cur.executemany("insert into mdm_link_new values (%s, %s, %s, %s, %s, %s)", named)
        counts = _store(conn, schema, run_id)
        conn.commit()
    logger.info("record links: %s", counts)
    return counts


def _code_sql(query: str, schema: str) -> str:
    """A code method's SQL with the link records, the observations and the record tables of
    resolution in ``schema``."""
    return query.format(
        links=LINK_OBSERVATIONS,
        org=_ORG.format(schema=schema),
        person=_PERSON.format(schema=schema),
        schema=schema,
    )


def _store(conn: psycopg.Connection, schema: str, run_id: str) -> dict[str, int]:
    """Write the run's links over the stored ones: a moved link is an entity event."""
    table = f"{schema}.{TABLE}"
    moved = conn.execute(
        f"""select n.entity_kind, o.entity_id, n.entity_id, n.dataset, n.record_key,
                   o.link_method, n.link_method
            from mdm_link_new n join {table} o using (dataset, record_key)
            where o.entity_id <> n.entity_id"""  # noqa: S608
    ).fetchall()
    for kind in (PERSON, ORGANISATION):
        write_events(
            conn,
            schema,
            kind,
            run_id,
            (
                EntityEvent("linked", old, new, {"record_link": method, "was": was}, ds, key)
                for event_kind, old, new, ds, key, was, method in moved
                if event_kind == kind.event_kind
            ),
        )
    dropped = conn.execute(
        f"""delete from {table} o where not exists (
                select 1 from mdm_link_new n
                where n.dataset = o.dataset and n.record_key = o.record_key)"""  # noqa: S608
    ).rowcount
    conn.execute(
        f"""insert into {table} (dataset, record_key, entity_kind, entity_id, link_method,
                                 link_probability, run_id)
            select dataset, record_key, entity_kind, entity_id, link_method, link_probability, %s
            from mdm_link_new
            on conflict (dataset, record_key) do update
            set entity_kind = excluded.entity_kind, entity_id = excluded.entity_id,
                link_method = excluded.link_method, link_probability = excluded.link_probability,
                run_id = excluded.run_id, linked_at = now()
            where ({table}.entity_id, {table}.link_method)
                  is distinct from (excluded.entity_id, excluded.link_method)""",  # noqa: S608
        (run_id,),
    )
    counts: dict[str, int] = dict(
        conn.execute(
            "select link_method, count(*) from mdm_link_new group by 1 order by 1"
        ).fetchall()
    )
    return {**counts, "moved": len(moved), "dropped": dropped}
