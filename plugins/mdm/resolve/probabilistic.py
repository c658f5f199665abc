"""Probabilistic linking with Splink for records the deterministic keys left alone.

Splink runs on DuckDB or on Spark (``backends``), with the same settings and model.

After the deterministic step every record has an entity, but records without
a usable key (a newborn, a legal representative without an ID number, an ID
number with a wrong check character) are singletons. This step scores them
against all person records and moves a singleton record into the entity of
its best match when the match probability is at least ``LINK_THRESHOLD``.

Constraints by construction: two entities with different valid ID numbers
are never merged (only singleton records move); a steward's cannot-link
decision vetoes a link. Every move is an entity event with the evidence (match
weights); the singleton's old id is retired, and never reused.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mdm.connections import ConnParams, conninfo
from mdm.resolve import person_model
from mdm.resolve.backends import splink_api
from mdm.resolve.deterministic import ID_AGREES_WITH_RECORD
from mdm.settings import Settings, load_settings

logger = logging.getLogger(__name__)

# A valid ID number that contradicts the record's own birth date or sex is someone else's (a
# relative's, typed into the wrong record): it says nothing about this person, so it is
# left out of the comparison (null, a neutral level) rather than counted against a match.
_CONTRADICTED = f"o.id_number_valid and not ({ID_AGREES_WITH_RECORD})"
OBSERVATIONS_SQL = f"""
    select o.dataset || '|' || o.record_key as unique_id,
           case when {ID_AGREES_WITH_RECORD} then o.id_number end
               as id_label,
           case when {_CONTRADICTED} then null else o.id_number end as id_number,
           o.name_key, std.name_key(o.former_name) as former_name_key, o.sex_code, o.birth_date,
           o.hukou_division_code as division_raw,
           o.mobile
    from intermediate.int_person_observations o
"""


def _key_match(ours: str, theirs: str) -> str:
    """SQL: record ``ours`` shares a blocking key with some record of table ``theirs``.

    A register record's former-name alias pairs like the record with ``former_name_key`` in
    place of ``name_key``, on either side.
    """
    conditions = []
    for key in person_model.BLOCKING_KEYS:
        variants: list[tuple[tuple[str, ...], tuple[str, ...]]] = [(key, key)]
        if "name_key" in key:
            former = tuple("former_name_key" if c == "name_key" else c for c in key)
            variants += [(former, key), (key, former)]
        for left, right in variants:
            mine = ", ".join(f"{ours}.{c}" for c in left)
            conditions.append(f"({mine}) in (select {', '.join(right)} from {theirs})")
    return "\n           or ".join(conditions)


def _candidates_statements(
    schema: str, run_id: str | None = None
) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """The records to score (singletons) and every record that can pair with one of them.

    A pair needs equal values on all columns of one blocking key (``BLOCKING_KEYS``); a
    register record's former-name alias pairs like the record with ``former_name_key`` in
    place of ``name_key``. So these are exactly the records Splink would pair with the
    singletons if it were given every record: same pairs, same scores, and the daily run
    moves a few thousand rows out of PostgreSQL instead of all of them.

    With ``run_id`` (the daily run), a singleton resolved before is scored again only when
    a record of this run shares a blocking key with it: it was scored against everything
    else before and did not link. ``mdm resolve run --full`` reports any difference.

    Returns set-up statements and the query. The singletons go to an analysed temporary
    table: with a true row count the planner hashes each ``in (select ...)`` (one pass over
    the observations); estimated from a CTE it probed them row by row (minutes at 25k).
    """
    setup: list[tuple[str, dict[str, Any]]] = [
        ("drop table if exists pg_temp.mdm_observations, pg_temp.mdm_singles, pg_temp.mdm_new", {}),
        (
            f"""create temporary table mdm_observations as
                select x.*, x.division_raw as division, r.match_method, r.run_id as resolved_by
                from ({OBSERVATIONS_SQL}) as x
                join {schema}.person_record r on r.dataset || '|' || r.record_key = x.unique_id""",
            {},
        ),
        ("analyze mdm_observations", {}),
        (
            "create temporary table mdm_singles as "
            "select * from mdm_observations where match_method = 'singleton'",
            {},
        ),
    ]
    if run_id is not None:
        setup += [
            (
                "create temporary table mdm_new as "
                "select * from mdm_observations where resolved_by = %(run_id)s",
                {"run_id": run_id},
            ),
            ("analyze mdm_new", {}),
            (
                "delete from mdm_singles s where s.resolved_by is distinct from %(run_id)s "
                f"and not ({_key_match('s', 'mdm_new')})",
                {"run_id": run_id},
            ),
        ]
    setup.append(("analyze mdm_singles", {}))
    where = "o.unique_id in (select unique_id from mdm_singles)\n           or " + _key_match(
        "o", "mdm_singles"
    )
    query = f"""
        select o.unique_id, o.id_label, o.id_number, o.name_key, o.former_name_key, o.sex_code,
               o.birth_date, o.division_raw, o.mobile,
               o.unique_id in (select unique_id from mdm_singles) as is_singleton
        from mdm_observations as o
        where {where}
    """
    return setup, query


def load_candidates(
    warehouse: ConnParams, schema: str = "resolve", run_id: str | None = None
) -> tuple[Any, Any]:
    """(the singleton records to score, every record that can pair with one) as Arrow tables.

    ``run_id``: only the singletons this run can change (see ``_candidates_statements``).
    """
    setup, query = _candidates_statements(schema, run_id)
    table = _copy_to_arrow(warehouse, query, setup, bool_columns=("is_singleton",))
    left = table.filter(table["is_singleton"]).drop(["is_singleton", "former_name_key"])
    return left, table.drop(["is_singleton"])


def _copy_to_arrow(
    warehouse: ConnParams,
    query: str,
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
        "unique_id": pa.string(),
        "id_label": pa.string(),
        "id_number": pa.string(),
        "name_key": pa.string(),
        "former_name_key": pa.string(),
        "sex_code": pa.string(),
        "birth_date": pa.date32(),
        "division_raw": pa.string(),
        "mobile": pa.string(),
    } | {name: pa.bool_() for name in bool_columns}
    table = pacsv.read_csv(
        pa.py_buffer(buffer.getvalue()),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            strings_can_be_null=True,
            true_values=["t"],  # PostgreSQL's text form of booleans
            false_values=["f"],
        ),
    )
    division = table["division_raw"]
    return table.drop(["division_raw"]).append_column("division", division)


def load_observations(warehouse: ConnParams, with_former_names: bool = False) -> Any:
    """int_person_observations as an Arrow table of the model's columns (COPY, not row fetches).

    ``with_former_names`` adds ``former_name_key`` (the register's 曾用名), from which
    :func:`with_former_name_aliases` makes candidate rows; the model never sees it.
    """
    table = _copy_to_arrow(warehouse, OBSERVATIONS_SQL)
    return table if with_former_names else table.drop(["former_name_key"])


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
    settings: Settings, left: Any, table: Any
) -> tuple[list[dict[str, Any]], list[str]]:
    """Splink predictions between ``left`` and ``table`` on the configured backend.

    Returns the candidate pairs at or above ``PREDICT_THRESHOLD`` (ids, probability, weight
    and the match weight of each comparison) and the names of those weight columns.
    """
    from splink import Linker

    with splink_api(settings) as api:
        model = person_model.trained_settings(api.sql_dialect.sql_dialect_str)
        left_sdf = api.register(left, table_name="singleton_records")
        right_sdf = api.register(table, table_name="all_records")
        linker = Linker(right_sdf, model)
        predictions = linker.inference.predict_between(
            left_sdf,
            right_sdf,
            link_type="link_only",
            threshold_match_probability=person_model.PREDICT_THRESHOLD,
        ).as_pyarrow_table()
    weights = [c for c in predictions.column_names if c.startswith("mw_")] or [
        c for c in predictions.column_names if c.startswith("bf_")
    ]
    pairs = predictions.select(
        ["unique_id_l", "unique_id_r", "match_probability", "match_weight", *weights]
    ).to_pylist()
    pairs.sort(key=lambda pair: (pair["unique_id_l"], pair["unique_id_r"]))
    return pairs, weights


def link_singletons(
    warehouse: ConnParams, run_id: str, settings: Settings | None = None, schema: str = "resolve"
) -> dict[str, int]:
    """Move singleton person records into the entity of their best match above the threshold.

    ``schema`` holds the record table and the event log (see ``resolve_deterministic``).
    """

    # Incremental by construction: only the records without an entity key (about 1%) are
    # scored, against the records that share a blocking key with one of them; keyed records
    # never need Splink again.
    left, candidates = load_candidates(warehouse, schema, run_id)
    if left.num_rows == 0:
        return {"singletons_scored": 0, "candidate_records": 0, "candidate_pairs": 0, "linked": 0}
    table, alias_of = with_former_name_aliases(candidates)
    pairs, weights = score_pairs(settings or load_settings(), left, table)
    with psycopg.connect(conninfo(warehouse)) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('mdm.resolve'))")
        cannot_link = conn.execute(
            """select dataset_a, record_key_a, dataset_b, record_key_b
               from resolve.steward_decision
               where decision = 'cannot_link' and withdrawn_at is null"""
        ).fetchall()
        # The entities of the records in play only (candidates and steward decisions), not
        # of every record: the daily run stays proportional to what it scores.
        in_play = set(candidates["unique_id"].to_pylist())
        in_play.update(f"{a}|{b}" for a, b, _, _ in cannot_link)
        in_play.update(f"{c}|{d}" for _, _, c, d in cannot_link)
        entity = {
            f"{d}|{k}": (pid, method)
            for d, k, pid, method in conn.execute(
                f"select dataset, record_key, person_id, match_method from {schema}.person_record"
                " join unnest(%s::text[]) as play(id) on play.id = dataset || '|' || record_key",
                (sorted(in_play),),
            )
        }
        # A steward's cannot-link keeps each record out of the entity holding the other.
        vetoed: set[tuple[str, str]] = set()
        for a, b, c, d in cannot_link:
            first, second = f"{a}|{b}", f"{c}|{d}"
            if second in entity:
                vetoed.add((first, entity[second][0]))
            if first in entity:
                vetoed.add((second, entity[first][0]))
        best: dict[str, dict[str, Any]] = {}
        for pair in pairs:
            if pair["match_probability"] < person_model.LINK_THRESHOLD:
                continue
            for single, other in (
                (pair["unique_id_l"], pair["unique_id_r"]),
                (pair["unique_id_r"], pair["unique_id_l"]),
            ):
                single_entity, method = entity.get(single, (None, None))
                # An alias row stands for its register record under the former name.
                target_entity, target_method = entity.get(alias_of.get(other, other), (None, None))
                if method != "singleton" or target_method == "singleton" or target_entity is None:
                    continue
                if (single, target_entity) in vetoed:
                    continue
                current = best.get(single)
                if current is None or pair["match_probability"] > current["match_probability"]:
                    best[single] = {**pair, "target": target_entity, "other": other}
        linked = 0
        for single, decision in sorted(best.items()):
            dataset, record_key = single.split("|", 1)
            old_id = entity[single][0]
            conn.execute(
                f"""update {schema}.person_record
                   set person_id = %s, match_method = 'splink', match_probability = %s,
                       resolved_at = now(), run_id = %s
                   where dataset = %s and record_key = %s""",
                (decision["target"], decision["match_probability"], run_id, dataset, record_key),
            )
            evidence = Jsonb(
                {
                    "model": person_model.MODEL_VERSION,
                    "matched_record": decision["other"],
                    "match_probability": decision["match_probability"],
                    "match_weight": decision["match_weight"],
                    "weights": {w: decision[w] for w in weights},
                }
            )
            conn.execute(
                f"""insert into {schema}.entity_event
                       (entity_kind, event, entity_id, into_id, dataset, record_key, evidence,
                        run_id)
                   values ('person', 'linked', %s, %s, %s, %s, %s, %s),
                          ('person', 'retired', %s, %s, %s, %s, %s, %s)""",
                (decision["target"], decision["target"], dataset, record_key, evidence, run_id,
                 old_id, decision["target"], dataset, record_key, evidence, run_id),
            )  # fmt: skip
            linked += 1
        conn.commit()
    logger.info(
        "splink: %d singleton records scored, %d candidate pairs, %d linked",
        left.num_rows,
        len(pairs),
        linked,
    )
    return {
        "singletons_scored": left.num_rows,
        "candidate_records": candidates.num_rows,
        "candidate_pairs": len(pairs),
        "linked": linked,
    }
