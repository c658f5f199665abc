"""The terminal of the ``mdm`` command: its lines, its log file, its errors and exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap

import psycopg
import pytest
from rich.cells import cell_len
from rich.console import Console

from mdm.cli import build_parser, terminal
from mdm.cli.pipeline import ChainResult, dag_lines, day_lines
from mdm.db import DatabaseUnavailableError
from mdm.orchestration import ChainStep, DagRunFailedError, DagRunOutcome
from mdm.settings import InsecureConfigurationError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (DatabaseUnavailableError("cannot reach"), terminal.EXIT_ENVIRONMENT),
        (InsecureConfigurationError("placeholder secret"), terminal.EXIT_ENVIRONMENT),
        (psycopg.OperationalError("connection refused"), terminal.EXIT_ENVIRONMENT),
        (DagRunFailedError("DAG mdm_build failed"), terminal.EXIT_DATA),
        (KeyError("something unforeseen"), terminal.EXIT_DATA),
    ],
)
def test_an_error_gets_the_exit_code_of_its_class_and_a_hint(error, code):
    found, hint = terminal.classify(error)
    assert found == code
    assert hint


def test_an_error_is_one_line():
    err = RuntimeError("first line with what went wrong\n  traceback-ish detail\nmore")
    assert terminal.one_line(err) == "first line with what went wrong"
    assert len(terminal.one_line(RuntimeError("x" * 1000))) == 300


def test_help_documents_every_exit_code_and_version():
    text = build_parser().format_help()
    for code, what in terminal.EXIT_CODES.items():
        assert f"{code}  {what}" in text
    assert set(terminal.EXIT_CODES) == {0, 1, 2, 3, 4}
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--version"])
    assert exit_.value.code == 0


def _step(dag_id, state, tasks, seconds=2.0, error=None):
    outcome = DagRunOutcome(
        dag_id,
        "manual__1",
        state,
        {t: s for t, s, _ in tasks},
        {t: sec for t, _, sec in tasks},
    )
    return ChainStep(dag_id, outcome, seconds, error)


CHAIN = [
    _step("mdm_platform_check", "success", [("check", "success", 0.4)]),
    _step(
        "mdm_ingest_gat_czrk",
        "success",
        [("ingest", "success", 1.5), ("announce", "success", 0.1)],
    ),
    _step(
        "mdm_ingest_mzt_shzz",
        "failed",
        [("ingest", "success", 0.9), ("check_deliveries", "failed", 0.1)],
        error="1 delivery problem",
    ),
    _step(
        "mdm_build",
        "success",
        [("check_new_data", "success", 0.2), ("build_observations", "success", 12.25)],
        seconds=30.0,
    ),
]


def test_a_line_per_dag_and_per_task_with_state_and_seconds():
    lines = dag_lines(CHAIN[3])
    assert lines[0].split() == ["✓", "mdm_build", "success", "30.0s"]
    assert lines[2].split() == ["build_observations", "success", "12.2s"]
    assert len(lines) == 3
    assert dag_lines(CHAIN[2])[0].startswith("✗ mdm_ingest_mzt_shzz")


def test_the_demo_shows_a_day_in_a_few_lines():
    lines = day_lines(CHAIN)
    assert len(lines) == 3  # the checks, the ingestion DAGs together, the build
    assert "2 ingestion DAGs: 1 success, 1 rejected deliveries (mzt_shzz)" in lines[1]
    assert "build_observations 12.2s" in lines[2]


def test_the_chain_as_json():
    result = ChainResult(CHAIN)
    document = json.loads(json.dumps(result.as_dict()))
    assert [d["dag_id"] for d in document["dags"]] == [s.dag_id for s in CHAIN]
    assert document["delivery_problems"] == ["mzt_shzz"] and document["unexpected"] == []
    assert document["dags"][3]["tasks"][1] == {
        "task_id": "build_observations",
        "state": "success",
        "seconds": 12.25,
    }


def test_tables_align_chinese_text_by_display_width(monkeypatch):
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, highlight=False, soft_wrap=True)
    monkeypatch.setattr(terminal, "_current", terminal.Terminal(out=console, err=console))
    terminal.table(
        ("department", ">stars"),
        [("公安厅", 3), ("住房公积金管理中心", 4), ("gat", 5)],
        indent=0,
    )
    lines = buffer.getvalue().splitlines()
    # The right-aligned column ends in the same display column on every line.
    ends = {cell_len(line.rstrip()) for line in lines}
    assert len(ends) == 1, lines


def test_a_session_sends_everyone_s_output_to_the_log_and_only_its_lines_here(tmp_path):
    log = tmp_path / "x.log"
    script = textwrap.dedent(
        f"""
        import logging, os, subprocess, sys
        from pathlib import Path
        from mdm.cli import terminal
        with terminal.session(Path({str(log)!r}), verbose=False):
            terminal.configure_logging(False, None)
            terminal.out("OUR LINE 表")
            print("PRINTED BY A LIBRARY")
            os.write(1, b"WRITTEN TO FD 1\\n")
            os.write(2, b"WRITTEN TO FD 2\\n")
            subprocess.run(["echo", "A CHILD PROCESS"], check=True)
            logging.getLogger("airflow.task").info("AN AIRFLOW LOG LINE")
            terminal.error_line("ONE ERROR LINE")
        print("AFTER THE SESSION")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=os.environ
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["OUR LINE 表", "AFTER THE SESSION"]
    assert done.stderr.splitlines() == ["ONE ERROR LINE"]
    logged = log.read_text()
    for line in (
        "PRINTED BY A LIBRARY",
        "WRITTEN TO FD 1",
        "WRITTEN TO FD 2",
        "A CHILD PROCESS",
        "AN AIRFLOW LOG LINE",
    ):
        assert line in logged
    assert "OUR LINE" not in logged


def _mdm(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "mdm.cli", *args], capture_output=True, text=True, env=env
    )


def test_exit_codes_of_the_command(tmp_path):
    env = {**os.environ, "MDM_HOME": str(tmp_path)}  # MDM_DATABASE_URL: a closed port
    usage = _mdm("run", "--no-such-option", env=env)
    assert usage.returncode == terminal.EXIT_USAGE
    unreachable = _mdm("db", "start", env=env)
    assert unreachable.returncode == terminal.EXIT_ENVIRONMENT
    assert unreachable.stdout == ""
    [line] = unreachable.stderr.splitlines()  # one line, with what to do and where the log is
    assert line.startswith("mdm db start: cannot reach MDM_DATABASE_URL")
    assert "mdm db status" in line and str(tmp_path / "logs") in line
    assert "Traceback" in next((tmp_path / "logs").glob("db-*.log")).read_text()
    version = _mdm("--version", env=env)
    assert version.returncode == 0 and version.stdout.startswith("mdm ")
