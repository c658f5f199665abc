"""The MDM pages linked from the Airflow UI (mdm.views) and the Data Docs' offline rewrite
(mdm.docs): which file a URL serves, never one outside the page's folder; the navigation
entries Airflow reads; a GX page without its CDN references."""

from __future__ import annotations

import datetime as dt

import pytest

from mdm import docs, views
from mdm.settings import load_settings

pytestmark = pytest.mark.unit


@pytest.fixture
def settings(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MDM_HOME", str(tmp_path))
    monkeypatch.delenv("MDM_SHARED_DIR", raising=False)
    return load_settings()


def test_a_view_serves_files_of_its_own_folder_only(settings):
    folder = views.data_docs_dir(settings)
    (folder / "validations").mkdir(parents=True)
    (folder / "index.html").write_text("<h1>index</h1>")
    (folder / "validations" / "a.html").write_text("<h1>a</h1>")
    (settings.shared_dir / "secret.txt").write_text("outside")
    assert views.resolve_file(settings, "data-docs", "") == folder / "index.html"
    assert (
        views.resolve_file(settings, "data-docs", "validations/a.html")
        == (folder / "validations" / "a.html").resolve()
    )
    for escape in ("../secret.txt", "validations/../../secret.txt", "/etc/passwd", "missing"):
        assert views.resolve_file(settings, "data-docs", escape) is None, escape
    assert views.resolve_file(settings, "no-such-view", "") is None


def test_the_newest_report_and_publication_are_served(settings):
    assert views.resolve_file(settings, "report", "") is None  # not written yet
    settings.reports_dir.mkdir(parents=True)
    for quarter in ("2026Q3", "2026Q4"):
        (settings.reports_dir / f"quality-{quarter}.html").write_text(quarter)
    assert views.resolve_file(settings, "report", "").name == "quality-2026Q4.html"
    from mdm.opendata.publish import open_root

    for version in ("20261201-01", "20261202-01", "20261202-02"):
        folder = open_root(settings) / version
        folder.mkdir(parents=True)
        (folder / "index.html").write_text(version)
        if version != "20261202-02":  # a publication still being written has no manifest
            (folder / "_manifest.json").write_text("{}")
    assert views.resolve_file(settings, "portal", "").parent.name == "20261202-01"


def test_the_hub_says_what_writes_a_page_not_written_yet(settings):
    page = views.hub_page(settings)
    missing = [v for v in views.VIEWS if v.entry(settings) is None]
    assert page.count("not written yet") == len(missing) >= 4  # Splink's: if trained here
    assert "mdm_quality DAG" in page


def test_navigation_entries_are_what_airflow_3_reads():
    entries = views.external_views()
    assert [e["href"] for e in entries] == [f"/mdm/{v.key}/" for v in views.VIEWS]
    assert len({e["url_route"] for e in entries}) == len(entries)  # Airflow drops clashes
    assert all(e["category"] == "MDM" and e["destination"] == "nav" for e in entries)


def test_gx_pages_lose_their_cdn_references():
    page = (
        '<html><head><link rel="stylesheet" href="https://cdn.example/b.css">'
        '<script src="https://code.example/j.js"></script><style>x{}</style></head>'
        '<body><img src="https://s3.example/logo.png" alt="GX"><a href="https://docs">'
        "docs</a><script>local()</script></body></html>"
    )
    done = docs.offline(page)
    assert "cdn.example" not in done and "code.example" not in done and "s3.example" not in done
    assert "local()" in done and '<a href="https://docs">' in done and "<style>body" in done


def test_stored_results_become_gx_suite_results():
    described = {
        "success": False,
        "statistics": {"evaluated_expectations": 2, "unsuccessful_expectations": 1},
        "expectations": [
            {"expectation_type": "expect_column_values_to_not_be_null", "success": True,
             "kwargs": {"column": "gmsfhm"}, "result": {"unexpected_count": 0}},
            {"expectation_type": "expect_table_row_count_to_be_between", "success": False,
             "kwargs": {"min_value": 10}, "result": {"observed_value": 3}},
        ],
    }  # fmt: skip
    assert docs._parts(described) == {"": described}
    assert set(docs._parts({"whole": described, "changes": described})) == {"whole", "changes"}
    row = {
        "dataset": "gat_czrk", "delivery_id": "20261102-01", "suite_name": "gate_gat_czrk",
        "success": False, "validated_at": dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC),
    }  # fmt: skip
    result, run_id = docs._suite_result(row, "", described)
    assert run_id.run_name == "20261102-01" and not result.success
    assert [r.expectation_config.type for r in result.results] == [
        "expect_column_values_to_not_be_null", "expect_table_row_count_to_be_between",
    ]  # fmt: skip
