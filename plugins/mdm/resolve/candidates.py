"""The records Splink scores, and every record that can pair with one of them (SQL, COPY).

A pair needs equal values on all columns of one of the model's ``BLOCKING_KEYS``; an alias
(a register record's former name) pairs like its record with the alias in place of the
column. The rows come out of PostgreSQL as Arrow tables of the model's columns
(``EntityKind.splink_columns``, read from the observation models).
"""

from __future__ import annotations

import io
import logging
from typing import Any

import psycopg

from mdm.connections import ConnParams, conninfo
from mdm.resolve import splink_artefact
from mdm.resolve.entities import PERSON, SCHEMA, EntityKind

logger = logging.getLogger(__name__)


def _key_variants(kind: EntityKind) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(columns of ours, columns of theirs) that must be equal for a pair, per blocking key.

    An alias (a register record's former name) pairs like its record with the alias column
    in place of the column, on either side.
    """
    variants: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for key in kind.model.BLOCKING_KEYS:
        variants.append((key, key))
        for column, alias in kind.aliases.items():
            if column in key:
                aliased = tuple(alias if c == column else c for c in key)
                variants += [(aliased, key), (key, aliased)]
    return variants


def _key_match(ours: str, theirs: str, kind: EntityKind, raw: bool = False) -> str:
    """SQL: record ``ours`` shares a blocking key with some record of table ``theirs``.

    ``raw``: ``ours`` is an observation row ``o`` (its values from ``EntityKind.blocking_sql``);
    else a row with the Splink columns.
    """
    conditions = []
    for left, right in _key_variants(kind):
        mine = [kind.blocking_sql(c) if raw else f"{ours}.{c}" for c in left]
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


def candidates_statements(
    kind: EntityKind, schema: str, run_id: str | None = None
) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """The records to score and every record that can pair with one of them.

    These are exactly the records Splink would pair with the scored records if it were
    given every record: same pairs, same scores, and the daily run moves a few thousand
    rows out of PostgreSQL instead of all of them.

    With ``run_id`` (the daily run), a record resolved before is scored again only when a
    record of this run shares a blocking key with it: it was scored against everything
    else before and did not link. ``mdm resolve run --full`` reports any difference.

    Returns set-up statements and the query. Two passes over the observations, each a
    hash join: one for the records in play (scored, or new in this run), one for the
    candidates, chosen on plain columns. The small tables are analysed: with a true row
    count the planner hashes each ``in (select ...)``; estimated, it probed them row by
    row (minutes at 25k).
    """
    table = kind.table(schema)
    in_play = "r.match_method = any(%(scored)s)"
    if run_id is not None:
        in_play += " or r.run_id = %(run_id)s"
    params: dict[str, Any] = {"scored": list(kind.scored_methods), "run_id": run_id}
    setup: list[tuple[str, dict[str, Any]]] = [
        ("drop table if exists pg_temp.mdm_play, pg_temp.mdm_singles, pg_temp.mdm_new", {}),
        (
            # (A statement with parameters doubles any % of the column expressions.)
            f"""create temporary table mdm_play as
                select o.dataset, o.record_key, {kind.select_sql().replace("%", "%%")},
                       r.match_method = any(%(scored)s) as is_scored,
                       coalesce(r.run_id = %(run_id)s, false) as is_new
                from {table} r
                join {kind.observations} o
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
                f"and not ({_key_match('s', 'mdm_new', kind)})",
                {},
            ),
        ]
    setup.append(("analyze mdm_singles", {}))
    scored = "(o.dataset, o.record_key) in (select dataset, record_key from mdm_singles)"
    columns = ", ".join(f"{kind.splink_columns[c]} as {c}" for c in selected_columns(kind))
    query = f"""
        select {columns}, {scored} as is_scored
        from {kind.observations} o
        where {scored}
           or {_key_match("o", "mdm_singles", kind, raw=True)}
    """
    return setup, query


def selected_columns(kind: EntityKind) -> tuple[str, ...]:
    """The columns read from PostgreSQL: the model's, but those it derives, and the aliases."""
    derived = splink_artefact.derived_columns(kind.model)
    return (*(c for c in kind.model.COLUMNS if c not in derived), *kind.aliases.values())


def load_candidates(
    warehouse: ConnParams,
    schema: str = SCHEMA,
    run_id: str | None = None,
    kind: EntityKind = PERSON,
) -> tuple[Any, Any]:
    """(the records to score, every record that can pair with one) as Arrow tables.

    ``run_id``: only the records this run can change (see ``candidates_statements``).
    """
    setup, query = candidates_statements(kind, schema, run_id)
    table = _copy_to_arrow(warehouse, query, kind, setup, bool_columns=("is_scored",))
    left = table.filter(table["is_scored"]).drop(["is_scored", *kind.aliases.values()])
    return left, table.drop(["is_scored"])


def _copy_to_arrow(
    warehouse: ConnParams,
    query: str,
    kind: EntityKind,
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
        column: pa.date32() if column in kind.date_columns else pa.string()
        for column in selected_columns(kind)
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
    warehouse: ConnParams, with_aliases: bool = False, kind: EntityKind = PERSON
) -> Any:
    """The kind's observations as an Arrow table of the model's columns (COPY).

    ``with_aliases`` adds the alias columns (the register's former name, 曾用名), from
    which :func:`with_former_name_aliases` makes candidate rows; the model never sees them.
    """
    columns = ", ".join(f"{kind.splink_columns[c]} as {c}" for c in selected_columns(kind))
    table = _copy_to_arrow(warehouse, f"select {columns} from {kind.observations} o", kind)
    return table if with_aliases else table.drop(list(kind.aliases.values()))


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
