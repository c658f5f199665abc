"""Deterministic resolution on valid identifiers, with persistent ids.

Fills the record tables of persons and organisations (``entities``) for records
not yet resolved, on the match key each observation carries (``match_key``,
``match_method``: derived once in the observation models):

- a record whose valid key (ID number, or a foreigner's passport number;
  organization code, else credit code, else registration number) was seen
  before joins that entity;
- new records sharing a new key become one new entity;
- records without a valid key are their own entity (``singleton``), until
  probabilistic matching (Splink) links them.

A resolved record keeps its id on every later run: ids are stable. Reruns with
the same observations change nothing.
"""

from __future__ import annotations

import logging

import psycopg

from mdm.connections import ConnParams, conninfo
from mdm.resolve import person_keys
from mdm.resolve.entities import KINDS, ORGANISATION, PERSON, SCHEMA, EntityKind
from mdm.resolve.events import EntityEvent, write_events

logger = logging.getLogger(__name__)


# Organisations whose records carry no shared code (an old registration with only a
# registration number, an individual business taxed under its owner's ID number) are one
# organisation when a record of each has the same name and the same legal representative's
# valid ID number, unless both hold different valid credit codes.
#
# Temporary tables, analysed, not CTEs: estimated at one row, a CTE joined to itself was
# a nested loop over every pair of organisation records (10M comparisons at 20k persons).
_SAME_NAME_AND_REPRESENTATIVE = [
    "drop table if exists pg_temp.mdm_representative, pg_temp.mdm_entity_codes",
    """create temporary table mdm_representative on commit drop as
       select o.dataset, o.record_key, o.name_key, o.uscc, o.uscc_valid,
              o.legal_rep_id_number as rep_id, r.legal_person_id
       from {observations} o
       join {table} r
           on r.dataset = o.dataset and r.record_key = o.record_key
       where o.name_key is not null and o.legal_rep_id_number_valid""",
    "analyze mdm_representative",
    """create temporary table mdm_entity_codes on commit drop as
       select legal_person_id, array_agg(distinct uscc order by uscc) filter (where uscc_valid)
                  as codes
       from mdm_representative group by legal_person_id""",
    "analyze mdm_entity_codes",
]
_SAME_NAME_AND_REPRESENTATIVE_PAIRS = """
with pairs as (
    select distinct least(a.legal_person_id, b.legal_person_id) as survivor,
                    greatest(a.legal_person_id, b.legal_person_id) as absorbed
    from mdm_representative a
    join mdm_representative b
        on a.name_key = b.name_key and a.rep_id = b.rep_id
        and a.legal_person_id < b.legal_person_id
)
select pairs.survivor, pairs.absorbed
from pairs
join mdm_entity_codes ca on ca.legal_person_id = pairs.survivor
join mdm_entity_codes cb on cb.legal_person_id = pairs.absorbed
where ca.codes is null or cb.codes is null or ca.codes = cb.codes
order by pairs.absorbed, pairs.survivor
"""


def _merge_organisations(conn: psycopg.Connection, run_id: str, schema: str) -> int:
    """Merge organisation entities sharing name and representative; the smaller id survives."""
    kind = ORGANISATION
    merged = 0
    absorbed_into: dict[str, str] = {}
    for statement in _SAME_NAME_AND_REPRESENTATIVE:
        conn.execute(statement.format(observations=kind.observations, table=kind.table(schema)))
    for survivor, absorbed in conn.execute(_SAME_NAME_AND_REPRESENTATIVE_PAIRS).fetchall():
        while survivor in absorbed_into:  # chains: follow to the final survivor
            survivor = absorbed_into[survivor]
        if absorbed in absorbed_into or survivor == absorbed:
            continue
        absorbed_into[absorbed] = survivor
        moved = conn.execute(
            f"""update {kind.table(schema)}
               set {kind.id_column} = %s, match_method = 'name_and_representative',
                   resolved_at = now(), run_id = %s
               where {kind.id_column} = %s returning dataset, record_key""",
            (survivor, run_id, absorbed),
        ).fetchall()
        evidence = {"rule": "same name key and legal representative ID number"}
        write_events(
            conn,
            schema,
            kind,
            run_id,
            [
                *(
                    EntityEvent("linked", survivor, survivor, evidence, dataset, record_key)
                    for dataset, record_key in moved
                ),
                EntityEvent("retired", absorbed, survivor, evidence),
            ],
        )
        merged += 1
    return merged


# Records whose valid number names someone else, and the names each number is given (see
# person_keys): only for the numbers of this run's keyed records, so the daily run reads
# the few records that carry them, not every record. Analysed temporary tables: as CTEs
# over the unanalysed ``unresolved`` the planner probed the observations row by row.
_NAMES_OF_NUMBERS = [
    "drop table if exists pg_temp.mdm_keyed, pg_temp.mdm_typed",
    """create temporary table mdm_keyed on commit drop as
       select u.dataset, u.record_key, u.match_key, o.name_key
       from unresolved u join {observations} o using (dataset, record_key)
       where u.match_method = 'id_number' and o.name_key is not null""",
    "analyze mdm_keyed",
    """with named as (
        select o.id_number, o.name_key, count(*) as records,
               bool_or(o.dataset = 'gat_czrk') as registered, null::text as renamed_to
        from {observations} o
        where o.id_number in (select match_key from mdm_keyed) and o.name_key is not null
          and o.id_agrees_with_record
        group by o.id_number, o.name_key
        union all
        select o.id_number, o.former_name_key, 0, true, o.name_key
        from {observations} o
        where o.dataset = 'gat_czrk' and o.former_name is not null
          and o.id_number in (select match_key from mdm_keyed)
    ),
    numbers as (
        select id_number,
               array_agg(name_key order by name_key, records) as names,
               array_agg(records order by name_key, records) as counts,
               array_agg(registered order by name_key, records) as registered,
               array_agg(renamed_to order by name_key, records) as renamed_to
        from named
        group by id_number
        having count(distinct name_key) > 1
    )
    select k.dataset, k.record_key, k.name_key, n.names, n.counts, n.registered, n.renamed_to
    from mdm_keyed k join numbers n on n.id_number = k.match_key""",
]
# Invalid 18-character numbers of records without a key, with the valid numbers that
# records of the same name carry (and, where the record has a birth date, that date). A
# register record's former name is its name too, both ways: a renamed person's other
# records keep the old name (the register's typo against their numbers, or theirs against
# the register's), and which name a record has depends on the day it was delivered.
_TYPED_NUMBERS = [
    """create temporary table mdm_typed on commit drop as
       select u.dataset, u.record_key, o.id_number, n.name_key, o.birth_date
       from unresolved u join {observations} o using (dataset, record_key)
       cross join lateral (values (o.name_key), (o.former_name_key)) as n(name_key)
       where u.match_key is null and not o.id_number_valid and length(o.id_number) = 18
         and n.name_key is not null""",
    "analyze mdm_typed",
    # Name and former name as two equality joins (hashed): one join on
    # ``t.name_key in (v.name_key, v.former_name_key)`` is a nested loop, which at 1M
    # persons compared every typed number with every record of a common name (20+ minutes).
    """select t.dataset, t.record_key, t.id_number, array_agg(distinct v.id_number)
    from mdm_typed t
    join (select name_key, id_number from {observations}
          where id_number_valid and id_agrees_with_record
            and name_key in (select name_key from mdm_typed)
          union all
          select former_name_key, id_number from {observations}
          where id_number_valid and id_agrees_with_record
            and former_name_key in (select name_key from mdm_typed)) as v
        on v.name_key = t.name_key
    where t.birth_date is null or substr(v.id_number, 7, 8) = to_char(t.birth_date, 'YYYYMMDD')
    group by t.dataset, t.record_key, t.id_number""",
]


def _check_person_keys(conn: psycopg.Connection) -> dict[str, int]:
    """Refine the keys of this run's person records (``unresolved``): a relative's valid
    number keys nothing; a typed-wrong number keys the one number it is a typo of."""
    observations = PERSON.observations
    conn.execute("analyze unresolved")
    for statement in _NAMES_OF_NUMBERS[:-1]:
        conn.execute(statement.format(observations=observations))
    relatives = []
    for dataset, record_key, name_key, names, counts, registered, renamed_to in conn.execute(
        _NAMES_OF_NUMBERS[-1].format(observations=observations)
    ):
        of_number = [
            person_keys.NameOfNumber(name, count, reg, former=(count == 0), renamed_to=new)
            for name, count, reg, new in zip(names, counts, registered, renamed_to, strict=True)
        ]
        if person_keys.is_relatives_number(name_key, of_number):
            relatives.append((dataset, record_key))
    for statement in _TYPED_NUMBERS[:-1]:
        conn.execute(statement.format(observations=observations))
    corrected = []
    for dataset, record_key, typed, candidates in conn.execute(
        _TYPED_NUMBERS[-1].format(observations=observations)
    ):
        number = person_keys.corrected_number(typed, candidates)
        if number is not None:
            corrected.append((dataset, record_key, number))
    # One set-based update each (``unresolved`` has no index: a statement per record was a
    # scan of it per record).
    conn.execute(
        """update unresolved u set match_key = null, match_method = 'relatives_number'
           from unnest(%s::text[], %s::text[]) as r(dataset, record_key)
           where u.dataset = r.dataset and u.record_key = r.record_key""",
        ([d for d, _ in relatives], [k for _, k in relatives]),
    )
    conn.execute(
        """update unresolved u set match_key = c.number, match_method = 'typed_id_number'
           from unnest(%s::text[], %s::text[], %s::text[]) as c(dataset, record_key, number)
           where u.dataset = c.dataset and u.record_key = c.record_key""",
        tuple(list(column) for column in zip(*corrected, strict=True))
        if corrected
        else ([], [], []),
    )
    return {"relatives_numbers": len(relatives), "typed_numbers_corrected": len(corrected)}


def _resolve(
    conn: psycopg.Connection, kind: EntityKind, run_id: str, schema: str
) -> dict[str, int]:
    table, id_col = kind.table(schema), kind.id_column
    new_id = kind.new_id_sql(schema)
    conn.execute("drop table if exists pg_temp.unresolved, pg_temp.new_key")
    conn.execute(
        f"""create temporary table unresolved on commit drop as
            select o.dataset, o.record_key, o.match_key, o.match_method
            from {kind.observations} as o
            where not exists (select 1 from {table} as r
                              where r.dataset = o.dataset and r.record_key = o.record_key)"""
    )
    checked = _check_person_keys(conn) if kind is PERSON else {}
    # 1. A key seen before: the entity that has it (the oldest, if several).
    joined = conn.execute(
        f"""insert into {table} (dataset, record_key, {id_col}, match_method, match_key,
                                 match_probability, run_id)
            select u.dataset, u.record_key, known.{id_col}, u.match_method, u.match_key, 1.0, %s
            from unresolved as u
            join lateral (select r.{id_col} from {table} as r where r.match_key = u.match_key
                          order by r.first_seen_at, r.{id_col} limit 1) as known on true
            where u.match_key is not null""",
        (run_id,),
    ).rowcount
    # 2. New keys: one new entity per key.
    conn.execute(
        f"""create temporary table new_key on commit drop as
            select match_key, {new_id} as {id_col}
            from (select distinct match_key from unresolved as u
                  where u.match_key is not null
                    and not exists (select 1 from {table} as r where r.match_key = u.match_key)
                  order by match_key) as keys"""
    )
    keyed = conn.execute(
        f"""insert into {table} (dataset, record_key, {id_col}, match_method, match_key,
                                 match_probability, run_id)
            select u.dataset, u.record_key, k.{id_col}, u.match_method, u.match_key, 1.0, %s
            from unresolved as u join new_key as k using (match_key)
            where not exists (select 1 from {table} as r
                              where r.dataset = u.dataset and r.record_key = u.record_key)""",
        (run_id,),
    ).rowcount
    # 3. No valid key: an entity of its own, until probabilistic matching links it.
    singletons = conn.execute(
        f"""insert into {table} (dataset, record_key, {id_col}, match_method, match_key,
                                 match_probability, run_id)
            select dataset, record_key, {new_id}, match_method, null, null, %s
            from (select * from unresolved where match_key is null
                  order by dataset, record_key) as u""",
        (run_id,),
    ).rowcount
    return {"joined_existing": joined, "new_keyed": keyed, "singletons": singletons, **checked}


def resolve_deterministic(
    warehouse: ConnParams, run_id: str, schema: str = SCHEMA
) -> dict[str, dict[str, int]]:
    """Resolve every unresolved person and organisation record; return counts per kind.

    ``schema`` holds the record tables, the id sequences and the event log: ``resolve``,
    or a scratch schema for a full re-resolution (``mdm resolve run --full``).
    """
    results = {}
    with psycopg.connect(conninfo(warehouse)) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('mdm.resolve'))")
        for kind in KINDS:
            results[kind.record_table] = _resolve(conn, kind, run_id, schema)
        results[ORGANISATION.record_table]["merged_on_name_and_representative"] = (
            _merge_organisations(conn, run_id, schema)
        )
        conn.commit()
        # Fresh statistics for the steps that follow: after a bulk load (a full run, a new
        # deployment) the planner would otherwise take the record tables for empty.
        conn.execute(f"analyze {', '.join(kind.table(schema) for kind in KINDS)}")
        conn.commit()
    logger.info("deterministic resolution: %s", results)
    return results
