"""Run dbt in-process (``dbtRunner``) against the warehouse.

``dbt_project/profiles.yml`` reads the connection from ``MDM_PG_*`` variables,
which :func:`dbt_environment` derives from the warehouse connection, so no
credentials are committed. Artefacts and logs go under ``$MDM_HOME/dbt``, not
into the checkout.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from mdm.connections import ConnParams, conninfo
from mdm.settings import DBT_PROJECT_DIR, Settings

logger = logging.getLogger(__name__)

# The standardisation rules (functions of schema std) and the seeds their bodies are
# written from: dbt_project/functions, ADR 0013. Every build of the models builds them too.
STD_FUNCTIONS = ["--select", "+resource_type:function"]
STD_FUNCTION_PROPERTIES = DBT_PROJECT_DIR / "functions" / "_std_functions.yml"


class DbtBuildError(RuntimeError):
    """dbt failed: the message names the failing nodes and their errors."""


@dataclass(frozen=True)
class DbtNodeResult:
    unique_id: str
    status: str
    message: str | None
    seconds: float | None = None


# Variables one invocation sets (run_dbt's environment) and no other may inherit.
INVOCATION_ENVIRONMENT = ("MDM_CREDIT_AS_OF",)


def dbt_environment(params: ConnParams) -> dict[str, str]:
    """Environment for ``profiles.yml`` from libpq connection keywords."""
    return {
        "MDM_PG_HOST": str(params.get("host", "127.0.0.1")),
        "MDM_PG_PORT": str(params.get("port", 5432)),
        "MDM_PG_USER": str(params.get("user", "postgres")),
        "MDM_PG_PASSWORD": str(params.get("password", "")),
        "MDM_PG_DATABASE": str(params["dbname"]),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_dbt(
    settings: Settings,
    params: ConnParams,
    args: list[str],
    environment: dict[str, str] | None = None,
) -> list[DbtNodeResult]:
    """Run ``dbt <args>`` for our project; raise :class:`DbtBuildError` unless all nodes pass.

    ``environment``: variables for this invocation only (``env_var`` in the project), e.g.
    the credit profile's moment. Not ``--vars``: a change of vars makes dbt parse the whole
    project again (about 6 s) on this invocation and on the next without them; a changed
    environment variable re-renders only what uses it."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_environment(params))
    for name in INVOCATION_ENVIRONMENT:
        os.environ.pop(name, None)
    os.environ.update(environment or {})
    settings.dbt_target_dir.mkdir(parents=True, exist_ok=True)
    settings.dbt_log_dir.mkdir(parents=True, exist_ok=True)
    command = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(settings.dbt_target_dir),
        "--log-path",
        str(settings.dbt_log_dir),
    ]
    logger.info("dbt %s", " ".join(args))
    try:
        result = dbtRunner().invoke(command)
    finally:
        for name in environment or {}:
            os.environ.pop(name, None)
    nodes = [
        DbtNodeResult(
            r.node.unique_id, str(r.status), r.message, getattr(r, "execution_time", None)
        )
        for r in (getattr(result.result, "results", None) or [])
    ]
    if not result.success:
        failed = [n for n in nodes if n.status not in ("success", "pass", "skipped")]
        details = "; ".join(f"{n.unique_id}: {n.status} ({n.message})" for n in failed)
        cause = f" ({result.exception})" if result.exception else ""
        raise DbtBuildError(
            f"dbt {' '.join(args)} failed{cause}: {details or 'see ' + str(settings.dbt_log_dir)}"
        )
    logger.info("dbt %s: %d nodes ok", args[0], len(nodes))
    for node in nodes:  # model-level results in the task log (and in ops.run_log via callers)
        logger.info("dbt node %s: %s in %.2fs", node.unique_id, node.status, node.seconds or 0)
    return nodes


def std_function_names() -> set[str]:
    """The names of the std functions dbt defines."""
    import yaml

    properties = yaml.safe_load(STD_FUNCTION_PROPERTIES.read_text("utf-8"))
    return {function["name"] for function in properties["functions"]}


def build_std_functions(settings: Settings, params: ConnParams) -> list[DbtNodeResult]:
    """Build the standardisation rules in schema std, as dbt defines them."""
    return run_dbt(settings, params, ["build", *STD_FUNCTIONS])


def ensure_std_functions(settings: Settings, params: ConnParams) -> bool:
    """Build the rules when the warehouse lacks one of them (a new database, a new rule);
    return whether it built. Python (resolution, checks) calls them by name before any
    build of the models; a changed rule is rebuilt by the next build of the models."""
    import psycopg

    with psycopg.connect(conninfo(params)) as conn:
        present = {
            row[0]
            for row in conn.execute(
                "select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
                "where n.nspname = 'std'"
            )
        }
    missing = std_function_names() - present
    if not missing:
        return False
    logger.info("building the std functions (missing: %s)", ", ".join(sorted(missing)))
    build_std_functions(settings, params)
    return True


def node_summary(nodes: list[DbtNodeResult]) -> list[dict[str, object]]:
    """Per node: id, status and seconds, for ``ops.run_log.detail``."""
    return [
        {"node": n.unique_id, "status": n.status, "seconds": round(n.seconds or 0, 3)}
        for n in nodes
    ]


# What the dbt models compute from: a change to any of these files makes the incremental
# models' stored rows stale (a rule, a survivorship priority, a model's SQL).
PROJECT_INPUTS = ("dbt_project.yml", "functions", "macros", "models", "seeds", "snapshots")


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """A hash of the dbt project's SQL, YAML and seeds: equal fingerprints, same models."""
    import hashlib

    digest = hashlib.sha256()
    for name in PROJECT_INPUTS:
        root = project_dir / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
