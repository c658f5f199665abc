"""Probabilistic linking with Splink for records the deterministic keys left alone.

Splink runs on DuckDB or on Spark (``backends``), with the same settings and model.
There is one model per kind of entity (``person_model``, ``organisation_model``) and one
:class:`Linkage` that says where its records are and which of them Splink may move.

After the deterministic step every record has an entity, but records without a
trusted key are entities of their own: a newborn, a legal representative without an
ID number, an ID number with a wrong check character; an organisation known only by
its registration number, an individual business taxed under its operator's ID number.
This step scores those records against the records that share a blocking key with
them, and moves the entity of such a record into the entity of its best match when
the match probability is at least the model's ``LINK_THRESHOLD``.

Constraints by construction: only entities without a trusted key move, and only into
an entity with one, so two entities with different valid ID numbers (or credit codes)
are never merged; a steward's cannot-link between two entities vetoes the move. Every
moved record is an entity event with the evidence (match weights); the id it left is
retired, and never reused.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mdm.connections import ConnParams, conninfo
from mdm.resolve import organisation_model, person_model, splink_artefact
from mdm.resolve.backends import splink_api
from mdm.resolve.deterministic import ID_AGREES_WITH_RECORD
from mdm.settings import Settings, load_settings

logger = logging.getLogger(__name__)

# A valid ID number that contradicts the record's own birth date or sex is someone else's (a
# relative's, typed into the wrong record): it says nothing about this person, so it is
# left out of the comparison (null, a neutral level) rather than counted against a match.
_CONTRADICTED = f"o.id_number_valid and not ({ID_AGREES_WITH_RECORD})"


@dataclass(frozen=True)
class Linkage:
    """One kind of entity for Splink: its records, its model, and which records may move."""

    entity_kind: str  # resolve.entity_event.entity_kind
    record_table: str  # in the resolution schema
    id_column: str
    model: ModuleType  # COLUMNS, BLOCKING_KEYS, thresholds, MODEL_VERSION, settings()
    observations: str  # the dbt model of the source records, read as ``o``
    # Splink column -> SQL over ``o``: the model's columns (and the alias columns).
    columns_sql: dict[str, str]
    # Blocking column -> cheaper SQL over ``o`` that equals the Splink value wherever that
    # is not null (other blocking columns use ``columns_sql``): candidates are chosen on
    # these in one pass over the observations, and the Splink columns are computed for the
    # chosen rows only.
    cheap_blocking_sql: dict[str, str]
    # Records resolved with these methods are scored (they hold no trusted key).
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

    def select_sql(self) -> str:
        return ", ".join(f"{sql} as {column}" for column, sql in self.columns_sql.items())

    def blocking_sql(self, column: str) -> str:
        return self.cheap_blocking_sql.get(column, self.columns_sql[column])


PERSONS = Linkage(
    entity_kind="person",
    record_table="person_record",
    id_column="person_id",
    model=person_model,
    observations="intermediate.int_person_observations",
    columns_sql={
        "unique_id": "o.dataset || '|' || o.record_key",
        "id_label": f"case when {ID_AGREES_WITH_RECORD} then o.id_number end",
        "id_number": f"case when {_CONTRADICTED} then null else o.id_number end",
        "name_key": "o.name_key",
        "sex_code": "o.sex_code",
        "birth_date": "o.birth_date",
        "division": "o.hukou_division_code",
        "mobile": "o.mobile",
        "surname": "left(o.name_key, 1)",
        "former_name_key": "std.name_key(o.former_name)",
    },
    cheap_blocking_sql={
        "id_number": "o.id_number",  # the Splink value is this number, or null
        # most records have no former name: the function runs for the few that do
        "former_name_key": "case when o.former_name is not null "
        "then std.name_key(o.former_name) end",
    },
    scored_methods=("singleton", "relatives_number"),
    trusted_key_sql="r.match_key is not null",
    aliases={"name_key": "former_name_key"},
    date_columns=("birth_date",),
    foreign_identifier_methods=("relatives_number",),
    identifier_column="id_number",
)
ORGANISATIONS = Linkage(
    entity_kind="legal_person",
    record_table="legal_person_record",
    id_column="legal_person_id",
    model=organisation_model,
    observations="intermediate.int_organisation_observations",
    columns_sql={
        "unique_id": "o.dataset || '|' || o.record_key",
        "id_label": "o.organization_code",
        "credit_code": "o.credit_code",
        "credit_code_body": "left(o.credit_code, 17)",
        "name_key": "o.name_key",
        "org_name_key": "std.strip_company_form(o.name_key)",
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
LINKAGES = (PERSONS, ORGANISATIONS)


def _key_variants(linkage: Linkage) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(columns of ours, columns of theirs) that must be equal for a pair, per blocking key.

    An alias (a register record's former name) pairs like its record with the alias column
    in place of the column, on either side.
    """
    variants: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for key in linkage.model.BLOCKING_KEYS:
        variants.append((key, key))
        for column, alias in linkage.aliases.items():
            if column in key:
                aliased = tuple(alias if c == column else c for c in key)
                variants += [(aliased, key), (key, aliased)]
    return variants


def _key_match(ours: str, theirs: str, linkage: Linkage, raw: bool = False) -> str:
    """SQL: record ``ours`` shares a blocking key with some record of table ``theirs``.

    ``raw``: ``ours`` is an observation row ``o`` (its values from ``Linkage.blocking_sql``);
    else a row with the Splink columns.
    """
    conditions = []
    for left, right in _key_variants(linkage):
        mine = [linkage.blocking_sql(c) if raw else f"{ours}.{c}" for c in left]
        # A null never pairs, so both sides leave nulls out, ours before the lookup. "null
        # in (...)" is unknown, not false (the daily run's "not (...)" kept every record
        # with a null key column), and PostgreSQL answers it by scanning the whole hash
        # table: a probe per null was quadratic (a minute for 3,500 records at 100k).
        ours_present = " and ".join(f"{value} is not null" for value in mine)
        theirs_present = " and ".join(f"{c} is not null" for c in right)
        conditions.append(
            f"({ours_present} and ({', '.join(mine)}) in "
            f"(select {', '.join(right)} from {theirs} where {theirs_present}))"
        )
    return "\n           or ".join(conditions)


def _candidates_statements(
    linkage: Linkage, schema: str, run_id: str | None = None
) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """The records to score and every record that can pair with one of them.

    A pair needs equal values on all columns of one blocking key (``BLOCKING_KEYS``); an
    alias pairs like its record with the alias in place of the column. So these are exactly
    the records Splink would pair with the scored records if it were given every record:
    same pairs, same scores, and the daily run moves a few thousand rows out of PostgreSQL
    instead of all of them.

    With ``run_id`` (the daily run), a record resolved before is scored again only when a
    record of this run shares a blocking key with it: it was scored against everything
    else before and did not link. ``mdm resolve run --full`` reports any difference.

    Returns set-up statements and the query. Two passes over the observations, each a
    hash join: one for the records in play (scored, or new in this run), one for the
    candidates, chosen on plain columns; the Splink columns (ID-number checks, name keys)
    are computed only for the rows chosen. The small tables are analysed: with a true row
    count the planner hashes each ``in (select ...)``; estimated, it probed them row by
    row (minutes at 25k).
    """
    table = f"{schema}.{linkage.record_table}"
    # (A statement with parameters doubles the % of the modulo in the ID-number check.)
    in_play = "r.match_method = any(%(scored)s)"
    if run_id is not None:
        in_play += " or r.run_id = %(run_id)s"
    params: dict[str, Any] = {"scored": list(linkage.scored_methods), "run_id": run_id}
    setup: list[tuple[str, dict[str, Any]]] = [
        ("drop table if exists pg_temp.mdm_play, pg_temp.mdm_singles, pg_temp.mdm_new", {}),
        (
            f"""create temporary table mdm_play as
                select o.dataset, o.record_key, {linkage.select_sql().replace("%", "%%")},
                       r.match_method = any(%(scored)s) as is_scored,
                       coalesce(r.run_id = %(run_id)s, false) as is_new
                from {table} r
                join {linkage.observations} o
                    on o.dataset = r.dataset and o.record_key = r.record_key
                where {in_play}""",
            params,
        ),
        ("create temporary table mdm_singles as select * from mdm_play where is_scored", {}),
    ]
    if run_id is not None:
        setup += [
            ("create temporary table mdm_new as select * from mdm_play where is_new", {}),
            ("analyze mdm_new", {}),
            (
                "delete from mdm_singles s where not s.is_new "
                f"and not ({_key_match('s', 'mdm_new', linkage)})",
                {},
            ),
        ]
    setup.append(("analyze mdm_singles", {}))
    scored = "(o.dataset, o.record_key) in (select dataset, record_key from mdm_singles)"
    columns = ", ".join(f"{linkage.columns_sql[c]} as {c}" for c in _selected_columns(linkage))
    query = f"""
        select {columns}, {scored} as is_scored
        from {linkage.observations} o
        where {scored}
           or {_key_match("o", "mdm_singles", linkage, raw=True)}
    """
    return setup, query


def _selected_columns(linkage: Linkage) -> tuple[str, ...]:
    """The columns read from PostgreSQL: the model's, but those it derives, and the aliases."""
    derived = splink_artefact.derived_columns(linkage.model)
    return (*(c for c in linkage.model.COLUMNS if c not in derived), *linkage.aliases.values())


def load_candidates(
    warehouse: ConnParams,
    schema: str = "resolve",
    run_id: str | None = None,
    linkage: Linkage = PERSONS,
) -> tuple[Any, Any]:
    """(the records to score, every record that can pair with one) as Arrow tables.

    ``run_id``: only the records this run can change (see ``_candidates_statements``).
    """
    setup, query = _candidates_statements(linkage, schema, run_id)
    table = _copy_to_arrow(warehouse, query, linkage, setup, bool_columns=("is_scored",))
    left = table.filter(table["is_scored"]).drop(["is_scored", *linkage.aliases.values()])
    return left, table.drop(["is_scored"])


def _copy_to_arrow(
    warehouse: ConnParams,
    query: str,
    linkage: Linkage,
    setup: list[tuple[str, dict[str, Any]]] | None = None,
    bool_columns: tuple[str, ...] = (),
) -> Any:
    """COPY the rows of ``query`` (after the ``setup`` statements, same session) into Arrow."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    statement = f"copy ({query}) to stdout (format csv, header true)"
    with psycopg.connect(conninfo(warehouse)) as conn, conn.cursor() as cur:
        for step, params in setup or []:
            cur.execute(step, params or None)
        with cur.copy(statement) as copy:
            for chunk in copy:
                buffer.write(chunk)
    types = {
        column: pa.date32() if column in linkage.date_columns else pa.string()
        for column in _selected_columns(linkage)
    } | {name: pa.bool_() for name in bool_columns}
    return pacsv.read_csv(
        pa.py_buffer(buffer.getvalue()),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            strings_can_be_null=True,
            true_values=["t"],  # PostgreSQL's text form of booleans
            false_values=["f"],
        ),
    )


def load_observations(
    warehouse: ConnParams, with_aliases: bool = False, linkage: Linkage = PERSONS
) -> Any:
    """The linkage's observations as an Arrow table of the model's columns (COPY).

    ``with_aliases`` adds the alias columns (the register's former name, 曾用名), from
    which :func:`with_former_name_aliases` makes candidate rows; the model never sees them.
    """
    columns = ", ".join(f"{linkage.columns_sql[c]} as {c}" for c in _selected_columns(linkage))
    table = _copy_to_arrow(warehouse, f"select {columns} from {linkage.observations} o", linkage)
    return table if with_aliases else table.drop(list(linkage.aliases.values()))


def with_former_name_aliases(table: Any) -> tuple[Any, dict[str, str]]:
    """The candidate records for Splink: every record, plus one alias row per former name.

    A renamed person's birth, marriage or tax records keep the old name, which the register
    holds as the former name (曾用名). The alias row is the register record under its former
    name, so the model compares names as it always does (exact, one character apart). Returns
    the candidates without ``former_name_key`` and alias id -> the record it stands for.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    renamed = table.filter(
        pc.and_(
            pc.is_valid(table["former_name_key"]),
            pc.not_equal(table["former_name_key"], pc.fill_null(table["name_key"], pa.scalar(""))),
        )
    )
    base_ids = renamed["unique_id"].to_pylist()
    alias_ids = [f"{uid}|former-name" for uid in base_ids]
    aliases = (
        renamed.set_column(
            renamed.schema.get_field_index("unique_id"),
            "unique_id",
            pa.array(alias_ids, pa.string()),
        )
        .set_column(
            renamed.schema.get_field_index("name_key"), "name_key", renamed["former_name_key"]
        )
        .set_column(
            renamed.schema.get_field_index("id_label"),
            "id_label",
            pa.nulls(renamed.num_rows, pa.string()),
        )
    )
    candidates = pa.concat_tables([table, aliases]).drop(["former_name_key"])
    return candidates, dict(zip(alias_ids, base_ids, strict=True))


def score_pairs(
    settings: Settings, left: Any, table: Any, model: ModuleType = person_model
) -> tuple[list[dict[str, Any]], list[str]]:
    """Splink predictions of ``model`` between ``left`` and ``table`` on the configured backend.

    Returns the candidate pairs at or above the model's ``PREDICT_THRESHOLD`` (ids,
    probability, weight and the match weight of each comparison) and the names of those
    weight columns.
    """
    from splink import Linker

    left = splink_artefact.with_derived_columns(model, left)
    table = splink_artefact.with_derived_columns(model, table)
    with splink_api(settings) as api:
        trained = splink_artefact.trained_settings(model, api.sql_dialect.sql_dialect_str)
        left_sdf = api.register(left, table_name="scored_records")
        right_sdf = api.register(table, table_name="candidate_records")
        linker = Linker(right_sdf, trained)
        predictions = linker.inference.predict_between(
            left_sdf,
            right_sdf,
            link_type="link_only",
            threshold_match_probability=model.PREDICT_THRESHOLD,
        ).as_pyarrow_table()
    weights = [c for c in predictions.column_names if c.startswith("mw_")] or [
        c for c in predictions.column_names if c.startswith("bf_")
    ]
    pairs = predictions.select(
        ["unique_id_l", "unique_id_r", "match_probability", "match_weight", *weights]
    ).to_pylist()
    pairs.sort(key=lambda pair: (pair["unique_id_l"], pair["unique_id_r"]))
    return pairs, weights


def entities_in_play(
    conn: psycopg.Connection, linkage: Linkage, schema: str, records: set[str]
) -> tuple[dict[str, str], set[str], set[tuple[str, str]]]:
    """The entity of each record in play, the trusted ones among them, and the pairs of
    entities a steward's cannot-link keeps apart (both ways)."""
    cannot_link = conn.execute(
        """select dataset_a, record_key_a, dataset_b, record_key_b
           from resolve.steward_decision
           where decision = 'cannot_link' and withdrawn_at is null"""
    ).fetchall()
    in_play = set(records)
    in_play.update(f"{a}|{b}" for a, b, _, _ in cannot_link)
    in_play.update(f"{c}|{d}" for _, _, c, d in cannot_link)
    entity, trusted = _entities(conn, linkage, schema, in_play)
    vetoed: set[tuple[str, str]] = set()
    for a, b, c, d in cannot_link:
        first, second = entity.get(f"{a}|{b}"), entity.get(f"{c}|{d}")
        if first and second:
            vetoed.update({(first, second), (second, first)})
    return entity, trusted, vetoed


def _entities(
    conn: psycopg.Connection, linkage: Linkage, schema: str, records: set[str]
) -> tuple[dict[str, str], set[str]]:
    """The entity of each of ``records`` (dataset|record_key), and which of those entities
    are trusted (hold a record with a trusted key). Index lookups: the records in play only,
    not every record, so the daily run stays proportional to what it scores."""
    table, id_column = f"{schema}.{linkage.record_table}", linkage.id_column
    keys = [record.split("|", 1) for record in sorted(records)]
    entity = {
        f"{d}|{k}": e
        for d, k, e in conn.execute(
            f"select dataset, record_key, {id_column} from {table}"
            " join unnest(%s::text[], %s::text[]) as play(dataset, record_key)"
            " using (dataset, record_key)",
            ([d for d, _ in keys], [k for _, k in keys]),
        )
    }
    return entity, trusted_entities(conn, linkage, schema, set(entity.values()))


def trusted_entities(
    conn: psycopg.Connection, linkage: Linkage, schema: str, entities: set[str]
) -> set[str]:
    """Those of ``entities`` that hold a record with a trusted key."""
    table, id_column = f"{schema}.{linkage.record_table}", linkage.id_column
    return {
        e
        for (e,) in conn.execute(
            f"select r.{id_column} from {table} r where r.{id_column} = any(%s::text[]) "
            f"group by r.{id_column} having bool_or({linkage.trusted_key_sql})",
            (sorted(entities),),
        )
    }


@dataclass(frozen=True)
class Move:
    """One entity moved into another: the record that decided it, and why."""

    source: str
    target: str
    record: str  # dataset|record_key
    probability: float | None
    evidence: dict[str, Any]


def move_entities(
    conn: psycopg.Connection,
    linkage: Linkage,
    schema: str,
    run_id: str,
    moves: list[Move],
    method: str,
) -> int:
    """Move each source entity into its target, log the events; records moved.

    Set-based: one update and two inserts whatever the number of links (a statement per
    link was thousands of round trips on a full run).
    """
    table_name, id_column = f"{schema}.{linkage.record_table}", linkage.id_column
    conn.execute("drop table if exists pg_temp.mdm_move")
    conn.execute(
        "create temporary table mdm_move (source text primary key, target text, "
        "record text, probability float8, evidence jsonb) on commit drop"
    )
    with conn.cursor().copy(
        "copy mdm_move (source, target, record, probability, evidence) from stdin"
    ) as copy:
        for move in sorted(moves, key=lambda m: m.source):
            copy.write_row(
                (move.source, move.target, move.record, move.probability, Jsonb(move.evidence))
            )
    conn.execute("analyze mdm_move")
    linked = conn.execute(
        f"""with moved as (
                update {table_name} as t
                set {id_column} = m.target, match_method = %(method)s,
                    match_probability = m.probability, resolved_at = now(), run_id = %(run)s
                from mdm_move as m
                where t.{id_column} = m.source
                returning t.dataset, t.record_key, m.target, m.evidence
            )
            insert into {schema}.entity_event
                (entity_kind, event, entity_id, into_id, dataset, record_key, evidence, run_id)
            select %(kind)s, 'linked', target, target, dataset, record_key, evidence, %(run)s
            from moved order by target, dataset, record_key""",
        {"run": run_id, "kind": linkage.entity_kind, "method": method},
    ).rowcount
    conn.execute(
        f"""insert into {schema}.entity_event
                (entity_kind, event, entity_id, into_id, dataset, record_key, evidence, run_id)
            select %(kind)s, 'retired', source, target, split_part(record, '|', 1),
                   substr(record, strpos(record, '|') + 1), evidence, %(run)s
            from mdm_move order by source""",
        {"run": run_id, "kind": linkage.entity_kind},
    )
    return linked


def _records_resolved_by(
    warehouse: ConnParams, linkage: Linkage, schema: str, methods: tuple[str, ...]
) -> set[str]:
    with psycopg.connect(conninfo(warehouse)) as conn:
        return {
            record
            for (record,) in conn.execute(
                f"select dataset || '|' || record_key from {schema}.{linkage.record_table} "
                "where match_method = any(%s)",
                (list(methods),),
            )
        }


def _without_identifier(table: Any, column: str, records: set[str]) -> Any:
    """``table`` with ``column`` null in the rows of ``records`` (unique ids)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not records:
        return table
    hit = pc.is_in(table["unique_id"], value_set=pa.array(sorted(records), pa.string()))
    cleared = pc.if_else(hit, pa.scalar(None, pa.string()), table[column])
    return table.set_column(table.schema.get_field_index(column), column, cleared)


def link_singletons(
    warehouse: ConnParams,
    run_id: str,
    settings: Settings | None = None,
    schema: str = "resolve",
    linkage: Linkage = PERSONS,
) -> dict[str, int]:
    """Move each entity without a trusted key into the trusted entity of its best match
    above the model's threshold.

    ``schema`` holds the record table and the event log (see ``resolve_deterministic``).
    """

    # Incremental by construction: only the records without a trusted key (about 1%) are
    # scored, against the records that share a blocking key with one of them; keyed records
    # never need Splink again.
    left, candidates = load_candidates(warehouse, schema, run_id, linkage)
    if left.num_rows == 0:
        return {"records_scored": 0, "candidate_records": 0, "candidate_pairs": 0, "linked": 0}
    if linkage.foreign_identifier_methods:
        foreign = _records_resolved_by(
            warehouse, linkage, schema, linkage.foreign_identifier_methods
        )
        left = _without_identifier(left, linkage.identifier_column, foreign)
        candidates = _without_identifier(candidates, linkage.identifier_column, foreign)
    if linkage.aliases:
        table, alias_of = with_former_name_aliases(candidates)
    else:
        table, alias_of = candidates, {}
    model = linkage.model
    pairs, weights = score_pairs(settings or load_settings(), left, table, model)
    with psycopg.connect(conninfo(warehouse)) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('mdm.resolve'))")
        entity, trusted, vetoed = entities_in_play(
            conn, linkage, schema, set(candidates["unique_id"].to_pylist())
        )
        scored = set(left["unique_id"].to_pylist())
        # The best trusted entity for each untrusted entity, over all its scored records.
        best: dict[str, dict[str, Any]] = {}
        for pair in pairs:
            if pair["match_probability"] < model.LINK_THRESHOLD:
                continue
            for record, other in (
                (pair["unique_id_l"], pair["unique_id_r"]),
                (pair["unique_id_r"], pair["unique_id_l"]),
            ):
                source = entity.get(record)
                # An alias row stands for its register record under the former name.
                target = entity.get(alias_of.get(other, other))
                if record not in scored or source is None or source in trusted:
                    continue
                if target is None or target not in trusted or (source, target) in vetoed:
                    continue
                current = best.get(source)
                candidate = (pair["match_probability"], record, target)
                if current is None or candidate > (
                    current["match_probability"],
                    current["record"],
                    current["target"],
                ):
                    best[source] = {**pair, "record": record, "other": other, "target": target}
        moves = [
            Move(
                source,
                decision["target"],
                decision["record"],
                decision["match_probability"],
                {
                    "model": model.MODEL_VERSION,
                    "record": decision["record"],
                    "matched_record": decision["other"],
                    "match_probability": decision["match_probability"],
                    "match_weight": decision["match_weight"],
                    "weights": {w: decision[w] for w in weights},
                },
            )
            for source, decision in best.items()
        ]
        linked = move_entities(conn, linkage, schema, run_id, moves, "splink")
        conn.commit()
    logger.info(
        "splink %s: %d records scored, %d candidate pairs, %d records linked",
        linkage.entity_kind,
        left.num_rows,
        len(pairs),
        linked,
    )
    return {
        "records_scored": left.num_rows,
        "candidate_records": candidates.num_rows,
        "candidate_pairs": len(pairs),
        "linked": linked,
    }
