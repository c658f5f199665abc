"""Every DAG file imports cleanly, fast, and follows the project's DAG rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mdm.settings import DAGS_DIR

APPROVED_TAGS = {"mdm", "platform", "ingest", "build", "resolve", "quality", "access", "report"}
# Libraries that must only be imported inside tasks (slow or heavy at parse time).
HEAVY_MODULES = ("pandas", "great_expectations", "splink", "duckdb", "dbt", "psycopg", "pyarrow")
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))

pytestmark = pytest.mark.integration  # real Airflow parses the real DAG files


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_there_are_dag_files():
    assert DAG_FILES, f"no DAG files in {DAGS_DIR}"


# The twenty-five DAGs the README lists, written out: a DAG that disappears, or one that
# appears without the README saying so, fails here. One ingestion DAG per dataset of the
# interface standard v2: v1's ten, then 4.11-4.19.
EXPECTED_DAG_IDS = {
    "mdm_platform_check",
    "mdm_build",
    "mdm_quality",
    "mdm_corrections",
    "mdm_credit",
    "mdm_open",
    *(
        f"mdm_ingest_{code}"
        for code in (
            "gat_czrk", "mzt_hydj", "swj_grnsr", "rst_cbry", "wjw_csyxzm",
            "jyt_xsxj", "scjgj_qydj", "bb_sydwdj", "mzt_shzz", "swj_dwnsr",
            "sft_jgdj", "sft_zyry", "dzzz_zzxx", "gjj_dwjc", "sdq_jfxx",
            "xyb_xzcf", "fy_sxbzxr", "xyd_sq", "jcfk",
        )
    ),
}  # fmt: skip


def test_no_import_errors(dag_bag):
    assert dag_bag.import_errors == {}


def test_exactly_the_dags_the_readme_lists(dag_bag):
    assert set(dag_bag.dags) == EXPECTED_DAG_IDS
    assert len(EXPECTED_DAG_IDS) == 25


def test_dags_follow_conventions(dag_bag):
    for dag_id, dag in dag_bag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert set(dag.tags) <= APPROVED_TAGS, (
            f"{dag_id}: unapproved tags {set(dag.tags) - APPROVED_TAGS}"
        )
        assert dag.default_args.get("owner") not in (None, "", "airflow"), f"{dag_id}: no owner"
        assert (dag.default_args.get("retries") or 0) >= 1, f"{dag_id}: needs retries >= 1"
        assert dag.catchup is False, f"{dag_id}: catchup must be off"
        assert str(dag.timezone) in ("Asia/Shanghai", "Timezone('Asia/Shanghai')"), dag_id
        assert dag.doc_md, f"{dag_id}: needs a docstring (doc_md)"


def test_the_build_runs_on_any_raw_asset_and_daily_as_a_fallback(dag_bag):
    from mdm.registry import datasets

    timetable = dag_bag.dags["mdm_build"].timetable
    assert type(timetable).__name__ == "AssetOrTimeSchedule"
    assert timetable.timetable.expression == "0 8 * * *"
    names = {asset.name for asset in timetable.asset_condition.objects}
    assert names == {f"raw.{code}" for code in datasets()}


def test_one_build_at_a_time_and_it_first_checks_for_new_data(dag_bag):
    # The asset events of a morning's ingestion DAGs queue into one next run, which the check
    # stops in seconds when its predecessor built what they loaded (docs/adr/0014).
    build = dag_bag.dags["mdm_build"]
    assert build.max_active_runs == 1
    assert [t.task_id for t in build.roots] == ["check_new_data"]


def test_only_the_announce_task_emits_the_raw_asset(dag_bag):
    for dag_id, dag in dag_bag.dags.items():
        if dag_id.startswith("mdm_ingest_"):
            emitting = {t.task_id: [a.name for a in t.outlets] for t in dag.tasks if t.outlets}
            assert emitting == {"announce": [f"raw.{dag_id.removeprefix('mdm_ingest_')}"]}


def test_no_dbt_prefixed_modules_on_sys_path():
    # dbt imports every top-level module named dbt_* it finds on sys.path.
    for folder in (DAGS_DIR, DAGS_DIR.parent / "plugins"):
        offenders = [p.name for p in folder.iterdir() if p.name.startswith("dbt_")]
        assert offenders == [], f"{folder}: {offenders}"


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_has_no_heavy_top_level_imports(dag_file: Path):
    probe = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('probe', {str(dag_file)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        f"print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_dag_files_do_not_import_the_tools_package():
    """The generator, the bench and the evaluation against its truth (package mdm_tools) are
    tools beside the runtime: parsing the DAGs never loads them."""
    probe = (
        "import importlib.util, json, sys\n"
        f"for i, path in enumerate({[str(p) for p in DAG_FILES]!r}):\n"
        "    spec = importlib.util.spec_from_file_location(f'probe_{i}', path)\n"
        "    module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'mdm_tools')\n"
        "print(json.dumps([importlib.util.find_spec('mdm_tools') is not None, loaded]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    installed, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert installed, "mdm_tools is not installed: this test would prove nothing"
    assert loaded == []


# Runtime modules that may import the tools: only the CLI commands that run them.
TOOL_USERS = ("cli/",)


def test_the_runtime_imports_the_tools_only_from_the_commands_that_run_them():
    package = DAGS_DIR.parent / "plugins" / "mdm"
    importers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "mdm_tools" in path.read_text(encoding="utf-8")
    )
    assert importers, "expected the CLI to run the tools"
    assert [p for p in importers if not p.startswith(TOOL_USERS)] == []


def test_airflow_loading_the_plugins_folder_runs_no_mdm_command():
    """Airflow imports every file under plugins/, each as a module named by its stem: the
    CLI's ``__main__.py`` would run as ``__main__``, parse Airflow's argv and replace
    ``sys.modules["__main__"]``. plugins/.airflowignore keeps it out."""
    probe = (
        "import json, sys\n"
        "from airflow._shared.plugins_manager.plugins_manager import (\n"
        "    _load_plugins_from_plugin_directory)\n"
        "main = sys.modules['__main__']\n"
        "_, errors = _load_plugins_from_plugin_directory(\n"
        f"    plugins_folder={str(DAGS_DIR.parent / 'plugins')!r}, ignore_file_syntax='glob')\n"
        "bare = sorted(n for n, m in list(sys.modules.items()) if not n.startswith('mdm')\n"
        "    and str(getattr(m, '__file__', '') or '').startswith(\n"
        f"        {str(DAGS_DIR.parent / 'plugins')!r}))\n"
        "print(json.dumps([sorted(errors), sys.modules['__main__'] is main, bare]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    # No module of ours under a bare name: plugins/mdm/credit/profile.py imported as `profile`
    # shadowed the standard library's, and Great Expectations failed to import after it.
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [[], True, []]


def test_every_task_has_a_time_limit(dag_bag):
    # A task without one can hold its pool slot and worker forever (docs/adr/0024).
    for dag_id, dag in dag_bag.dags.items():
        for task in dag.tasks:
            limit = task.execution_timeout
            assert limit is not None, f"{dag_id}.{task.task_id}: no execution_timeout"
            assert 0 < limit.total_seconds() <= 12 * 3600, f"{dag_id}.{task.task_id}: {limit}"


def _uses_the_warehouse(task) -> bool:
    import inspect

    source = inspect.getsource(getattr(task, "python_callable", None) or type(task))
    return "WAREHOUSE_CONN_ID" in source


def test_every_task_that_uses_the_warehouse_takes_a_slot_of_its_pool(dag_bag):
    from mdm.settings import WAREHOUSE_POOL

    using = []
    for dag_id, dag in dag_bag.dags.items():
        for task in dag.tasks:
            if _uses_the_warehouse(task):
                using.append(f"{dag_id}.{task.task_id}")
                assert task.pool == WAREHOUSE_POOL, f"{dag_id}.{task.task_id}: pool {task.pool}"
    # Not vacuous: the ingestion and build tasks are among them.
    assert "mdm_ingest_gat_czrk.ingest" in using and "mdm_build.build_repositories" in using


def test_every_dag_mails_a_failed_run_and_a_missed_deadline(dag_bag):
    from mdm.dag_policy import MailOnFailure

    for dag_id, dag in dag_bag.dags.items():
        callbacks = dag.on_failure_callback
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert any(isinstance(c, MailOnFailure) for c in callbacks), dag_id
        assert dag.deadline, f"{dag_id}: no deadline"
        for alert in dag.deadline:
            assert alert.callback.path == "mdm.alerts.deadline_missed", dag_id
            assert alert.interval.total_seconds() > 0
