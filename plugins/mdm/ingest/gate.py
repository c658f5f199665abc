"""The Great Expectations gate: validate a loaded batch table before it joins ``raw``.

The suites live in ``expectations/`` (package ``mdm_expectations``, code built from the
registry); this module runs one against the detached batch table of a delivery and stores the
result in ``ops.validation_result``: counts and shares only, never the values GX lists as
unexpected (they are delivered ID numbers, mobiles, person ids; see :func:`scrub`).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mdm.access.masking import mask_everywhere
from mdm.connections import ConnParams
from mdm.registry import Dataset

logger = logging.getLogger(__name__)


@dataclass
class GateResult:
    suite_name: str
    success: bool  # no critical expectation failed
    evaluated: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def critical_failures(self) -> list[dict[str, Any]]:
        return [f for f in self.failures if f["severity"] == "critical"]

    def summary(self) -> str:
        return "; ".join(
            f"{f['expectation']}({f.get('column') or ''}) observed {f['observed']}"
            for f in self.critical_failures
        )


def _suites() -> ModuleType:
    """The suites, imported when used: they import great_expectations (slow at DAG parse)."""
    from mdm_expectations import raw_deliveries

    return raw_deliveries


def sqlalchemy_url(params: ConnParams) -> str:
    from sqlalchemy.engine import URL

    return URL.create(
        "postgresql+psycopg",
        username=params.get("user"),
        password=params.get("password"),
        host=params.get("host"),
        port=int(params["port"]) if params.get("port") else None,
        database=params.get("dbname"),
    ).render_as_string(hide_password=False)


def dispose(source: Any) -> None:
    """Close the SQLAlchemy pools GX opened for a data source (its own and its execution
    engine's): otherwise every validation leaves connections open for the process's life."""
    for engine in (source.get_engine(), source.get_execution_engine().engine):
        engine.dispose()


def min_rows_for_full(previous_full_rows: int | None) -> int:
    suites = _suites()
    if not previous_full_rows:
        return 0
    return math.ceil(previous_full_rows * suites.FULL_MIN_SHARE_OF_PREVIOUS)


def validate(
    warehouse: ConnParams,
    spec: Dataset,
    mode: str,
    schema: str,
    table: str,
    previous_full_rows: int | None,
    kind: str = "gate",
) -> GateResult:
    """Run the dataset's ``gate`` (critical) or ``profile`` (warning) suite on ``schema.table``."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    suites = _suites()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_postgres(
        "warehouse", connection_string=sqlalchemy_url(warehouse)
    )
    try:
        asset = source.add_table_asset(table, table_name=table, schema_name=schema)
        batch = asset.add_batch_definition_whole_table("delivery")
        suite = context.suites.add(suites.SUITES[kind](spec, mode))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
        )
        outcome = definition.run(
            expectation_parameters={suites.MIN_ROWS: min_rows_for_full(previous_full_rows)}
        )
    finally:
        # GX keeps a SQLAlchemy pool per data source: close it, or every validation in a
        # long-running process holds connections until the server refuses new ones.
        dispose(source)
    failures = []
    for item in outcome.results:
        config = item.expectation_config
        if item.success or config is None:
            continue
        observed = item.result.get("observed_value", item.result.get("unexpected_percent"))
        failures.append(
            {
                "expectation": config.type,
                "column": config.kwargs.get("column"),
                "severity": str(getattr(config.severity, "value", config.severity)).lower(),
                "observed": observed,
                "kwargs": {k: v for k, v in config.kwargs.items() if k != "batch_id"},
            }
        )
    result = GateResult(
        suite_name=suite.name,
        success=not any(f["severity"] == "critical" for f in failures),
        evaluated=len(outcome.results),
        failures=failures,
        result=outcome.describe_dict(),
    )
    logger.info(
        "GX %s on %s.%s: %s (%d expectations, %d failed)",
        suite.name,
        schema,
        table,
        "pass" if result.success else "FAIL",
        result.evaluated,
        len(failures),
    )
    return result


# What a stored expectation result keeps: counts and shares. GX adds the unexpected values
# themselves (partial_unexpected_list, unexpected_rows, ...): identifiers of real people.
KEPT_RESULT_KEYS = frozenset(
    {
        "element_count",
        "missing_count",
        "missing_percent",
        "unexpected_count",
        "unexpected_percent",
        "unexpected_percent_total",
        "unexpected_percent_nonmissing",
        "observed_value",
    }
)


def scrub(result: dict[str, Any]) -> dict[str, Any]:
    """A GX result as stored: per expectation only the counts and shares of its ``result``,
    and any identifier left in a string (an observed value, an error) masked."""
    expectations = []
    for item in result.get("expectations") or []:
        kept = dict(item)
        if isinstance(item.get("result"), dict):
            kept["result"] = {k: v for k, v in item["result"].items() if k in KEPT_RESULT_KEYS}
        expectations.append(kept)
    scrubbed: dict[str, Any] = mask_everywhere({**result, "expectations": expectations})
    return scrubbed


def store(conn: psycopg.Connection, dataset: str, delivery_id: str, result: GateResult) -> None:
    """Store a result in ``ops.validation_result`` (scrubbed: no delivered values)."""
    conn.execute(
        """insert into ops.validation_result
               (dataset, delivery_id, suite_name, success, evaluated, failed_critical,
                failed_warning, failures, result, validated_at)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, now())
           on conflict (dataset, delivery_id, suite_name) do update set
               success = excluded.success,
               evaluated = excluded.evaluated, failed_critical = excluded.failed_critical,
               failed_warning = excluded.failed_warning, failures = excluded.failures,
               result = excluded.result, validated_at = excluded.validated_at""",
        (
            dataset,
            delivery_id,
            result.suite_name,
            result.success,
            result.evaluated,
            len(result.critical_failures),
            len(result.failures) - len(result.critical_failures),
            Jsonb(mask_everywhere(result.failures), dumps=_dumps),
            Jsonb(scrub(result.result), dumps=_dumps),
        ),
    )


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, default=str)
