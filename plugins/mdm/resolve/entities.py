"""The kinds of entity resolution makes, described once: persons and organisations.

Every step of resolution (``deterministic``, ``probabilistic``, ``context``, ``steward``,
``full``, ``evaluate``, ``explain``) takes the tables, ids and rules of a kind from here.
The per-record rules (the match key, its method, the name keys) are columns of the
observation models (dbt ``intermediate``), derived there once; what resolution writes is
described for dbt in ``dbt_project/models/intermediate/_intermediate__sources.yml``.

One word for one thing: the code says *organisation* for the entity kind. The published
names say *legal person* and stay: the tables ``resolve.legal_person_record`` and
``mdm.legal_person*``, the column ``legal_person_id``, the sequence ``legal_person_id_seq``
and the ``entity_kind`` value ``'legal_person'`` stored in ``resolve.entity_event``
(:attr:`EntityKind.published`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import ModuleType

from mdm.resolve import organisation_model, person_model

logger = logging.getLogger(__name__)

SCHEMA = "resolve"  # the resolution output; ``mdm resolve run --full`` uses a scratch copy
EVENT_TABLE = "entity_event"  # in the resolution schema: see ``events``
STEWARD_DECISIONS = "resolve.steward_decision"  # always the published schema's
RELATIONS = "intermediate.int_relation_observations"


@dataclass(frozen=True)
class EntityKind:
    """One kind of entity: where its records are resolved, how its ids are made, what it is
    resolved from and published as, and what Splink may do with its records."""

    name: str  # the kind in code and in reports: person, organisation
    # The kind in the published names (person, legal_person): the record table
    # <published>_record, its id column <published>_id, the sequence <published>_id_seq and
    # the stored resolve.entity_event.entity_kind.
    published: str
    xref_mart: str  # the published record -> entity table
    model: ModuleType  # the Splink model: COLUMNS, BLOCKING_KEYS, thresholds, settings()
    # Splink column -> SQL over ``o``: the model's columns (and the alias columns).
    splink_columns: dict[str, str]
    # Blocking column -> cheaper SQL over ``o`` that equals the Splink value wherever that
    # is not null (other blocking columns use ``splink_columns``): candidates are chosen on
    # these in one pass over the observations.
    cheap_blocking_sql: dict[str, str]
    # Records resolved with these methods are scored by Splink (they hold no trusted key).
    scored_methods: tuple[str, ...]
    # SQL over ``r``, a row of the record table: this record's key makes its entity trusted.
    trusted_key_sql: str
    # Alias columns: a record is also a candidate with the alias in place of the column.
    aliases: dict[str, str] = field(default_factory=dict)
    date_columns: tuple[str, ...] = ()
    # Records resolved with these methods carry an identifier that is someone else's (a
    # relative's ID number): Splink compares them without it (``identifier_column`` null).
    foreign_identifier_methods: tuple[str, ...] = ()
    identifier_column: str = ""

    # Derived from ``published`` and ``name`` (see ``__post_init__``).
    prefix: str = field(init=False)  # of the entity ids: P0000000001, L0000000001
    event_kind: str = field(init=False)  # resolve.entity_event.entity_kind
    record_table: str = field(init=False)  # in the resolution schema: record -> entity id
    id_column: str = field(init=False)
    sequence: str = field(init=False)  # in the resolution schema: the entity ids
    observations: str = field(init=False)  # the dbt model of the source records, read as ``o``

    def __post_init__(self) -> None:
        derived = {
            "prefix": self.published[0].upper(),
            "event_kind": self.published,
            "record_table": f"{self.published}_record",
            "id_column": f"{self.published}_id",
            "sequence": f"{self.published}_id_seq",
            "observations": f"intermediate.int_{self.name}_observations",
        }
        for attribute, value in derived.items():
            object.__setattr__(self, attribute, value)  # frozen: set once, here

    def select_sql(self) -> str:
        return ", ".join(f"{sql} as {column}" for column, sql in self.splink_columns.items())

    def blocking_sql(self, column: str) -> str:
        return self.cheap_blocking_sql.get(column, self.splink_columns[column])

    def table(self, schema: str = SCHEMA) -> str:
        return f"{schema}.{self.record_table}"

    def new_id_sql(self, schema: str = SCHEMA) -> str:
        """SQL: a new entity id from the kind's sequence."""
        return f"'{self.prefix}' || lpad(nextval('{schema}.{self.sequence}')::text, 10, '0')"


PERSON = EntityKind(
    name="person",
    published="person",
    xref_mart="mdm.natural_person_xref",
    model=person_model,
    splink_columns={
        "unique_id": "o.dataset || '|' || o.record_key",
        "id_label": "case when o.id_agrees_with_record then o.id_number end",
        # A valid ID number that contradicts the record's own birth date or sex is someone
        # else's (a relative's, typed into the wrong record): it says nothing about this
        # person, so it is left out of the comparison (null, a neutral level) rather than
        # counted against a match.
        "id_number": "case when o.id_number_valid and not o.id_agrees_with_record then null "
        "else o.id_number end",
        "name_key": "o.name_key",
        "sex_code": "o.sex_code",
        "birth_date": "o.birth_date",
        "division": "o.hukou_division_code",
        "mobile": "o.mobile",
        "surname": "left(o.name_key, 1)",
        "former_name_key": "o.former_name_key",
    },
    cheap_blocking_sql={"id_number": "o.id_number"},  # the Splink value is this, or null
    scored_methods=("singleton", "relatives_number"),
    trusted_key_sql="r.match_key is not null",
    aliases={"name_key": "former_name_key"},
    date_columns=("birth_date",),
    foreign_identifier_methods=("relatives_number",),
    identifier_column="id_number",
)
ORGANISATION = EntityKind(
    name="organisation",
    # published as legal persons: resolve.legal_person_record, legal_person_id, ...
    published="legal_person",
    xref_mart="mdm.legal_person_xref",
    model=organisation_model,
    splink_columns={
        "unique_id": "o.dataset || '|' || o.record_key",
        "id_label": "o.organization_code",
        "credit_code": "o.credit_code",
        "credit_code_body": "left(o.credit_code, 17)",
        "name_key": "o.name_key",
        "org_name_key": "o.org_name_key",
        "address": "o.address",
        "legal_rep_name_key": "o.legal_rep_name_key",
        "legal_rep_id_number": "o.legal_rep_id_number",
    },
    cheap_blocking_sql={},
    # A registration number alone is a key (it joins later records of that registration),
    # but no other department knows it: its entity may still move to a coded one.
    scored_methods=("singleton", "registration_number"),
    trusted_key_sql="split_part(r.match_key, ':', 1) in ('org', 'uscc')",
)
KINDS = (PERSON, ORGANISATION)


def kind_named(name: str) -> EntityKind:
    """The kind called ``name`` in code or in the event log (``legal_person``)."""
    for kind in KINDS:
        if name in (kind.name, kind.event_kind):
            return kind
    raise ValueError(f"no entity kind {name!r}: one of {[k.name for k in KINDS]}")


def kind_of_id(entity_id: str) -> EntityKind:
    """The kind of an entity id, by its prefix."""
    for kind in KINDS:
        if entity_id.startswith(kind.prefix):
            return kind
    raise ValueError(f"{entity_id!r} is no entity id: ids start with {[k.prefix for k in KINDS]}")
