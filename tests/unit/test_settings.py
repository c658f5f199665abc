from pathlib import Path

import pytest

from mdm.airflow_home import airflow_conn_uri, sqlalchemy_url
from mdm.db import redact_url, with_database
from mdm.settings import PROJECT_ROOT, load_settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, (PROJECT_ROOT / ".mdm", None, "mdm", "airflow", "frontend")),
        (
            {"MDM_HOME": "/srv/mdm", "MDM_DATABASE_URL": "postgresql://u:p@db:5432/warehouse"},
            (
                Path("/srv/mdm"),
                "postgresql://u:p@db:5432/warehouse",
                "warehouse",
                "airflow",
                "frontend",
            ),
        ),
        (
            {"MDM_DATABASE_URL": "postgresql://db/", "MDM_AIRFLOW_DB": "af"},
            (PROJECT_ROOT / ".mdm", "postgresql://db/", "mdm", "af", "frontend"),
        ),
        (
            {"MDM_DATABASE_URL": "postgresql://db/x", "MDM_WAREHOUSE_DB": "y"},
            (PROJECT_ROOT / ".mdm", "postgresql://db/x", "y", "airflow", "frontend"),
        ),
    ],
)
def test_load_settings(environ, expected):
    s = load_settings(environ)
    assert (
        s.home,
        s.external_database_url,
        s.warehouse_db,
        s.airflow_db,
        s.frontend_db,
    ) == expected
    assert s.uses_embedded_database == (expected[1] is None)


def test_landing_dir_defaults_under_home_and_can_be_moved():
    assert load_settings({"MDM_HOME": "/a"}).landing_dir == Path("/a/landing")
    assert load_settings({"MDM_HOME": "/a", "MDM_LANDING_DIR": "/b"}).landing_dir == Path("/b")


@pytest.mark.parametrize(
    ("url", "database", "expected"),
    [
        (
            "postgresql://postgres@127.0.0.1:5433/mdm",
            "airflow",
            "postgresql://postgres@127.0.0.1:5433/airflow",
        ),
        (
            "postgresql://u:p@h/db?sslmode=require",
            "frontend",
            "postgresql://u:p@h/frontend?sslmode=require",
        ),
        ("postgresql://h", "mdm", "postgresql://h/mdm"),
    ],
)
def test_with_database(url, database, expected):
    assert with_database(url, database) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:secret@h:1/d", "postgresql://u:***@h:1/d"),
        ("postgresql://u@h/d", "postgresql://u@h/d"),
    ],
)
def test_redact_url_hides_password(url, expected):
    assert redact_url(url) == expected


def test_airflow_urls_keep_host_port_and_database():
    url = "postgresql://postgres@127.0.0.1:5433/airflow"
    assert sqlalchemy_url(url) == "postgresql+psycopg2://postgres@127.0.0.1:5433/airflow"
    assert airflow_conn_uri(url) == "postgres://postgres@127.0.0.1:5433/airflow"


def test_splink_backend_and_shared_dir_are_configured_not_hard_coded():
    default = load_settings({"MDM_HOME": "/a"})
    assert (default.splink_backend, default.spark_master) == ("duckdb", "local[2]")
    assert default.reports_dir == Path("/a/shared/reports")
    spark = load_settings(
        {
            "MDM_HOME": "/a",
            "MDM_SPLINK_BACKEND": "Spark",
            "MDM_SPARK_MASTER": "spark://spark-master:7077",
            "MDM_SHARED_DIR": "/mnt/mdm",
        }
    )
    assert (spark.splink_backend, spark.spark_master) == ("spark", "spark://spark-master:7077")
    assert spark.spark_checkpoint_dir == Path("/mnt/mdm/spark-checkpoints")
    with pytest.raises(ValueError, match="MDM_SPLINK_BACKEND='polars'"):
        load_settings({"MDM_SPLINK_BACKEND": "polars"})


def test_airflow_children_find_the_airflow_command_of_this_environment(monkeypatch):
    """`mdm airflow standalone` from .venv/bin/mdm with a PATH that lacks the virtualenv."""
    import shutil
    import sys

    from mdm.airflow_home import airflow_subprocess_environment

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    env = airflow_subprocess_environment(load_settings())
    found = shutil.which("airflow", path=env["PATH"])
    assert found is not None
    assert Path(found).parent == Path(sys.executable).parent
