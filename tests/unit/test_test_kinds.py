"""The suite's own rules (tests/conftest.py): every test is marked unit or integration, and a
unit test reaches no database."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from mdm import db
from mdm.settings import load_settings

pytestmark = pytest.mark.unit

CONFTEST = Path(__file__).parents[1] / "conftest.py"


def test_a_test_without_a_kind_or_a_unit_test_asking_for_the_database_stops_the_run(tmp_path):
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    unit: u\n    integration: i\n")
    (tmp_path / "test_case.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def test_kindless():
                pass

            @pytest.mark.unit
            def test_reads_the_warehouse(warehouse_url):
                pass

            @pytest.mark.integration
            def test_reads_the_warehouse_too(warehouse_url):
                pass
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "unit"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, out
    assert "test_case.py::test_kindless: marked neither; mark it unit or integration" in out
    assert "test_reads_the_warehouse: marked unit but uses the database" in out
    assert "test_reads_the_warehouse_too" not in out


def test_a_unit_test_that_connects_fails_and_starts_no_server(tmp_path, monkeypatch):
    monkeypatch.setenv("MDM_HOME", str(tmp_path))
    settings = load_settings()  # as a child process would read it, from the environment
    assert not settings.uses_embedded_database
    with pytest.raises(AssertionError, match="is marked unit but connects to a database"):
        db.ensure_server(settings)  # what starts the embedded server in `mdm db start`
    with pytest.raises(AssertionError, match="mark it integration"):
        psycopg.connect("postgresql://somewhere/mdm")
    assert not settings.pgdata_dir.exists()
