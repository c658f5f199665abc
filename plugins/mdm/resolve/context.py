"""Persons named by name only, linked through the record that names them.

A record that names a person without an ID number almost always says whose or what: the
legal representative *of an organisation*, the guardian *of a student*, the mother *of a
newborn*. A name alone never links (namesakes are everywhere); the name within that
context often identifies one person:

- **same organisation**: the representatives that other sources give for the same legal
  person (the registration names the representative with an ID number, tax by name), and
  for a legal-service institution's person in charge its practitioners;
- **household**: the persons registered at the anchor's registered address, where the
  anchor is the student of a guardian, or the other parent named on a birth certificate;
- **spouse**: the spouses the marriage registrations give for that other parent.

A context record links when exactly one trusted person of its context has its name (the
same characters, the same sound, or a former name); with none or several it stays as it
is, and the run says how many. Runs after Splink, which links the records that carry a
birth date; a steward's cannot-link vetoes the move like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from mdm.connections import ConnParams, conninfo
from mdm.resolve.decision import Move
from mdm.resolve.entities import ORGANISATION, PERSON, RELATIONS, SCHEMA
from mdm.resolve.persistence import entities_in_play, move_entities, trusted_entities
from mdm.resolve.person_keys import names_agree

logger = logging.getLogger(__name__)

OBSERVATIONS = PERSON.observations
CONTEXT_RELATIONS = ("legal_representative", "person_in_charge", "guardian", "parent")

# Untrusted person records that a relation names in a context: the mentions to decide.
_MENTIONS = f"""
create temporary table mdm_mention on commit drop as
select r.dataset, r.record_key, r.person_id, o.name_key, rel.relation_type,
       rel.to_dataset, rel.to_record_key
from {{persons}} r
join {OBSERVATIONS} o using (dataset, record_key)
join {RELATIONS} rel on rel.from_dataset = r.dataset and rel.from_record_key = r.record_key
where r.match_method in ('singleton', 'relatives_number') and o.name_key is not null
  and rel.relation_type = any(%(relations)s)
  and not exists (select 1 from {{persons}} t
                  where t.person_id = r.person_id and t.match_key is not null)
"""

# Every person the context offers for a mention: (mention, person, name, former name, path).
# The anchors (a guardian's student, a parent's co-parent) and their registered addresses
# and marriages go into analysed temporary tables first: as CTEs, estimated at one row, they
# made the planner join every register record to every anchor.
_CANDIDATES = [
    "drop table if exists pg_temp.mdm_anchor, pg_temp.mdm_anchor_register, "
    "pg_temp.mdm_anchor_marriage",
    f"""create temporary table mdm_anchor on commit drop as
    -- a guardian's student
    select m.dataset, m.record_key, a.person_id as anchor
    from mdm_mention m
    join {{persons}} a on a.dataset = m.to_dataset and a.record_key = m.to_record_key
    where m.relation_type = 'guardian'
    union
    -- a parent's child's other parent
    select m.dataset, m.record_key, a.person_id
    from mdm_mention m
    join {RELATIONS} other
        on other.relation_type = 'parent'
        and other.to_dataset = m.to_dataset and other.to_record_key = m.to_record_key
        and (other.from_dataset, other.from_record_key) <> (m.dataset, m.record_key)
    join {{persons}} a
        on a.dataset = other.from_dataset and a.record_key = other.from_record_key
    where m.relation_type = 'parent'""",
    "analyze mdm_anchor",
    f"""create temporary table mdm_anchor_register on commit drop as
    select an.dataset, an.record_key, ao.hukou_division_code, ao.hukou_address
    from mdm_anchor an
    join {{persons}} ar on ar.person_id = an.anchor and ar.dataset = 'gat_czrk'
    join {OBSERVATIONS} ao on ao.dataset = ar.dataset and ao.record_key = ar.record_key
    where ao.hukou_address is not null""",
    "analyze mdm_anchor_register",
    """create temporary table mdm_anchor_marriage on commit drop as
    select an.dataset, an.record_key, ar.record_key as marriage_record
    from mdm_anchor an
    join {persons} ar on ar.person_id = an.anchor and ar.dataset = 'mzt_hydj'""",
    "analyze mdm_anchor_marriage",
    f"""with candidate as (
    select m.dataset, m.record_key, rep.from_dataset as c_dataset,
           rep.from_record_key as c_record_key, 'same_organisation' as path
    from mdm_mention m
    join {{organisations}} org
        on org.dataset = m.to_dataset and org.record_key = m.to_record_key
    join {{organisations}} same on same.legal_person_id = org.legal_person_id
    join {RELATIONS} rep
        on rep.relation_type in ('legal_representative', 'person_in_charge', 'practitioner')
        and rep.to_dataset = same.dataset and rep.to_record_key = same.record_key
    where m.relation_type in ('legal_representative', 'person_in_charge')
      and (rep.from_dataset, rep.from_record_key) <> (m.dataset, m.record_key)
    union
    select h.dataset, h.record_key, member.dataset, member.record_key, 'household'
    from mdm_anchor_register h
    join {OBSERVATIONS} member
        on member.dataset = 'gat_czrk' and member.hukou_division_code = h.hukou_division_code
        and member.hukou_address = h.hukou_address
    union
    select am.dataset, am.record_key, 'mzt_hydj',
           case when spouse.from_record_key = am.marriage_record then spouse.to_record_key
                else spouse.from_record_key end,
           'spouse'
    from mdm_anchor_marriage am
    join {RELATIONS} spouse
        on spouse.relation_type = 'spouse' and spouse.dataset = 'mzt_hydj'
        and am.marriage_record in (spouse.from_record_key, spouse.to_record_key)
)
select c.dataset, c.record_key, p.person_id, o.name_key, o.former_name_key, c.path
from candidate c
join {{persons}} p on p.dataset = c.c_dataset and p.record_key = c.c_record_key
join {OBSERVATIONS} o on o.dataset = c.c_dataset and o.record_key = c.c_record_key
where o.name_key is not null""",
]


# Newborns without a key (a birth certificate names the child after birth, if at all): the
# persons registered in a parent's household who were born that day, of that sex.
_NEWBORNS = f"""
with newborn as (
    select r.dataset, r.record_key, r.person_id, o.birth_date, o.sex_code,
           rel.from_dataset, rel.from_record_key
    from {{persons}} r
    join {OBSERVATIONS} o using (dataset, record_key)
    join {RELATIONS} rel
        on rel.relation_type = 'parent'
        and rel.to_dataset = r.dataset and rel.to_record_key = r.record_key
    where r.match_method = 'singleton' and o.role = 'newborn' and o.birth_date is not null
      and not exists (select 1 from {{persons}} t
                      where t.person_id = r.person_id and t.match_key is not null)
),
parent_register as (
    select n.dataset, n.record_key, n.person_id, n.birth_date, n.sex_code,
           ao.hukou_division_code, ao.hukou_address
    from newborn n
    join {{persons}} a
        on a.dataset = n.from_dataset and a.record_key = n.from_record_key
    join {{persons}} ar on ar.person_id = a.person_id and ar.dataset = 'gat_czrk'
    join {OBSERVATIONS} ao on ao.dataset = ar.dataset and ao.record_key = ar.record_key
    where ao.hukou_address is not null
)
select distinct h.dataset, h.record_key, h.person_id, p.person_id, member.sex_code, h.sex_code
from parent_register h
join {OBSERVATIONS} member
    on member.dataset = 'gat_czrk' and member.hukou_division_code = h.hukou_division_code
    and member.hukou_address = h.hukou_address and member.birth_date = h.birth_date
join {{persons}} p on p.dataset = member.dataset and p.record_key = member.record_key
"""


@dataclass(frozen=True)
class Candidate:
    person_id: str
    name_key: str
    former_name_key: str | None
    path: str


@dataclass(frozen=True)
class Decision:
    person_id: str | None  # the one person the context names; None: undecided
    reason: str  # the path that decided, or why none did
    paths: tuple[str, ...] = ()


def decide(name_key: str, candidates: Iterable[Candidate], trusted: set[str]) -> Decision:
    """The one trusted person of the context with this name (or its sound, or a former
    name); ``no_candidate`` or ``ambiguous`` otherwise."""
    named: dict[str, set[str]] = {}
    for c in candidates:
        if c.person_id not in trusted:
            continue
        if names_agree(name_key, c.name_key) or (
            c.former_name_key is not None and names_agree(name_key, c.former_name_key)
        ):
            named.setdefault(c.person_id, set()).add(c.path)
    if len(named) == 1:
        ((person_id, paths),) = named.items()
        return Decision(person_id, "+".join(sorted(paths)), tuple(sorted(paths)))
    return Decision(None, "ambiguous" if named else "no_candidate")


def _tables(schema: str) -> dict[str, str]:
    """The record tables the statements read, in ``schema``."""
    return {"persons": PERSON.table(schema), "organisations": ORGANISATION.table(schema)}


def link_by_context(warehouse: ConnParams, run_id: str, schema: str = SCHEMA) -> dict[str, int]:
    """Link the person records named in a context to the one person the context names."""
    with psycopg.connect(conninfo(warehouse)) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('mdm.resolve'))")
        conn.execute("drop table if exists pg_temp.mdm_mention")
        conn.execute(_MENTIONS.format(**_tables(schema)), {"relations": list(CONTEXT_RELATIONS)})
        conn.execute("analyze mdm_mention")
        mentions = {
            f"{d}|{k}": (person_id, name_key)
            for d, k, person_id, name_key in conn.execute(
                "select distinct dataset, record_key, person_id, name_key from mdm_mention"
            )
        }
        for statement in _CANDIDATES[:-1]:
            conn.execute(statement.format(**_tables(schema)))
        candidates: dict[str, list[Candidate]] = {}
        for d, k, person_id, name_key, former, path in conn.execute(
            _CANDIDATES[-1].format(**_tables(schema))
        ):
            candidates.setdefault(f"{d}|{k}", []).append(
                Candidate(person_id, name_key, former, path)
            )
        trusted = trusted_entities(
            conn, PERSON, schema, {c.person_id for cs in candidates.values() for c in cs}
        )
        vetoed = entities_in_play(conn, PERSON, schema, set()).vetoed  # cannot-link pairs
        counts = {
            "mentions": len(mentions),
            "linked": 0,
            "ambiguous": 0,
            "no_candidate": 0,
            "vetoed": 0,
        }
        moves: dict[str, Move] = {}
        for record, (source, name_key) in sorted(mentions.items()):
            decision = decide(name_key, candidates.get(record, []), trusted)
            if decision.person_id is None:
                counts[decision.reason] += 1
                continue
            if (source, decision.person_id) in vetoed:  # a steward's cannot-link
                counts["vetoed"] += 1
                continue
            if source in moves:
                if moves[source].target != decision.person_id:  # its records name two people
                    moves.pop(source)
                    counts["ambiguous"] += 1
                continue
            moves[source] = Move(
                source,
                decision.person_id,
                record,
                None,
                {"rule": "context", "record": record, "paths": list(decision.paths)},
            )
        _decide_newborns(conn, schema, vetoed, moves, counts)
        counts["linked"] = move_entities(
            conn, PERSON, schema, run_id, list(moves.values()), "context"
        )
        conn.commit()
    logger.info("context: %s", counts)
    return counts


def _decide_newborns(
    conn: psycopg.Connection,
    schema: str,
    vetoed: set[tuple[str, str]],
    moves: dict[str, Move],
    counts: dict[str, int],
) -> None:
    """Add the moves of key-less newborns: the one person of a parent's household born that
    day with that sex (twins of one sex decide nothing)."""
    newborns: dict[tuple[str, str], set[str]] = {}
    for d, k, source, person_id, member_sex, sex in conn.execute(
        _NEWBORNS.format(**_tables(schema))
    ):
        if sex is None or member_sex is None or sex == member_sex:
            newborns.setdefault((f"{d}|{k}", source), set()).add(person_id)
    trusted = trusted_entities(conn, PERSON, schema, {p for ps in newborns.values() for p in ps})
    counts["newborns"] = len(newborns)
    for (record, source), people in sorted(newborns.items()):
        born = people & trusted
        if len(born) != 1 or source in moves:
            counts["ambiguous" if born else "no_candidate"] += 1
            continue
        (target,) = born
        if (source, target) in vetoed:
            counts["vetoed"] += 1
            continue
        moves[source] = Move(
            source, target, record, None,
            {"rule": "context", "record": record, "paths": ["household_birth"]},
        )  # fmt: skip
