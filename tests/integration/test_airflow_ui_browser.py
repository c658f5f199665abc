"""The Airflow UI as an operator sees it (issue 24): `airflow standalone` on the test's
database, a login in headless Chromium (the distribution's package, driven by Playwright),
the DAG list, a run of mdm_quality with its tasks, and each MDM page linked from the UI's
navigation (quality report, dbt docs, Data Docs, Splink model, open-data portal), served
behind Airflow's login. Screenshots go to test-artefacts/ (MDM_TEST_ARTEFACTS)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import chromium_binary
from ingest_support import build_world

from mdm import views
from mdm.airflow_home import airflow_subprocess_environment
from mdm.catalogue import static_resources
from mdm.opendata.publish import open_root, write_publication
from mdm.orchestration import run_dag
from mdm.registry import datasets

pytestmark = pytest.mark.integration
ARTEFACTS = Path(os.environ.get("MDM_TEST_ARTEFACTS", Path(__file__).parents[2] / "test-artefacts"))
USER, PASSWORD = "steward", "a-test-only-password"
# What each MDM page shows once it has rendered inside the UI's frame.
SHOWS = {
    "report": "Data quality report",
    "dbt-docs": "natural_person",
    "data-docs": "the gates' latest results",
    "splink": re.compile("Splink model|mdm resolve train"),
    "portal": "公共数据",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def pages(settings, warehouse_url, airflow_metadata, tmp_path_factory) -> dict:
    """A small world built and published, mdm_quality run (report, dbt docs, Data Docs),
    and an open-data publication in the portal's folder."""
    build_world(settings, warehouse_url, tmp_path_factory.mktemp("ui"), 200, 3, days=1)
    quality = run_dag(settings, "mdm_quality")
    opened = [r for r in static_resources() if r.kind == "open"]
    released = {
        r.key: [{f.name: f"{f.name}-{i}" for f in r.fields} for i in range(5)] for r in opened
    }
    write_publication(open_root(settings), dt.date(2026, 12, 2), opened, released, {})
    return {"quality_run": quality}


@pytest.fixture(scope="module")
def airflow_ui(settings, pages, tmp_path_factory) -> Iterator[str]:
    """``airflow standalone`` (API server with the UI, scheduler, DAG processor, triggerer)
    with a user of Airflow's simple auth manager; its base URL."""
    chromium = chromium_binary()
    folder = tmp_path_factory.mktemp("airflow-ui")
    passwords = folder / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    port = _free_port()
    env = {
        **airflow_subprocess_environment(settings),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "MDM_CHROMIUM": chromium,
    }
    airflow = Path(sys.executable).with_name("airflow")
    log = (folder / "standalone.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [str(airflow), "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=5):  # noqa: S310
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    tail = (folder / "standalone.log").read_text(errors="replace")[-3000:]
                    pytest.fail(f"airflow standalone did not come up on {base}: {tail}")
                time.sleep(2)
        _wait_for_parsed_dags(base, process, folder / "standalone.log")
        yield base
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        log.close()


def _wait_for_parsed_dags(base: str, process: subprocess.Popen, log: Path) -> None:
    """The API answers before the DAG processor has parsed the DAG folder; under a loaded
    CI machine that takes minutes. Wait until the REST API lists every DAG of ours."""
    expected = {
        *(f"mdm_ingest_{code}" for code in datasets()),
        "mdm_build",
        "mdm_quality",
        "mdm_open",
        "mdm_credit",
    }
    login = urllib.request.Request(  # noqa: S310
        f"{base}/auth/token", method="POST",
        data=json.dumps({"username": USER, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(login, timeout=30) as answer:  # noqa: S310
        token = json.load(answer)["access_token"]
    listing = urllib.request.Request(  # noqa: S310
        f"{base}/api/v2/dags?limit=200", headers={"Authorization": f"Bearer {token}"}
    )
    deadline = time.monotonic() + 480
    while True:
        with urllib.request.urlopen(listing, timeout=30) as answer:  # noqa: S310
            listed = {dag["dag_id"] for dag in json.load(answer)["dags"]}
        if expected <= listed:
            return
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(
                f"the DAG processor listed {len(listed)} of {len(expected)} DAGs "
                f"(missing {sorted(expected - listed)}): {log.read_text(errors='replace')[-3000:]}"
            )
        time.sleep(3)


def test_the_pages_are_behind_airflows_login(airflow_ui):
    request = urllib.request.Request(f"{airflow_ui}/mdm/report/")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310
    assert refused.value.code == 401
    browser = urllib.request.Request(f"{airflow_ui}/mdm/", headers={"Accept": "text/html"})  # noqa: S310
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as sent:
        opener.open(browser, timeout=30)
    assert sent.value.code in (302, 307) and "/auth/login" in sent.value.headers["location"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def test_login_dag_list_a_run_and_every_linked_page(airflow_ui, pages, settings):
    from playwright.sync_api import sync_playwright

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    run = pages["quality_run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_binary(), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.goto(f"{airflow_ui}/")
        page.wait_for_url("**/auth/login**")
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        # Not wait_for_url("/**"): the login page matches it too, and a goto during the
        # login's own redirect is aborted (net::ERR_ABORTED).
        page.wait_for_url(lambda url: "/auth/login" not in url, timeout=60_000)
        page.wait_for_load_state("networkidle")

        page.goto(f"{airflow_ui}/dags")
        page.get_by_text("mdm_quality", exact=True).first.wait_for(timeout=60_000)
        for dag_id in ("mdm_build", "mdm_ingest_gat_czrk", "mdm_open"):
            assert page.get_by_text(dag_id, exact=True).count() >= 1, dag_id
        page.screenshot(path=ARTEFACTS / "airflow-dags.png")

        page.goto(f"{airflow_ui}/dags/mdm_quality/runs/{run.run_id}")
        for task_id in ("build_scorecard", "write_report", "write_docs"):
            page.get_by_text(task_id).first.wait_for(timeout=60_000)
        page.screenshot(path=ARTEFACTS / "airflow-run.png")

        # The navigation's MDM entries: each opens its page inside the UI.
        for view in views.VIEWS:
            page.goto(f"{airflow_ui}/plugin/mdm-{view.key}")
            frame = page.frame_locator("iframe").first
            # Text the page renders (dbt docs draws it with JavaScript after loading).
            frame.get_by_text(SHOWS[view.key]).first.wait_for(state="attached", timeout=60_000)
            page.wait_for_timeout(1_000)
            page.screenshot(path=ARTEFACTS / f"airflow-{view.key}.png")
            # The page itself, with the browser's login cookie.
            served = page.goto(f"{airflow_ui}{views.URL_PREFIX}/{view.key}/")
            assert served is not None
            if view.entry(settings) is None:  # the Splink charts: only once trained here
                assert served.status == 404 and view.how_to_make in served.text()
                continue
            assert served.status == 200, (view.key, served.status)
            assert served.headers["content-type"].startswith("text/html")
        report = page.goto(f"{airflow_ui}/mdm/report/").text()
        assert "<svg" in report  # the report's charts
        docs = page.goto(f"{airflow_ui}/mdm/dbt-docs/").text()
        assert "natural_person" in docs and "legal_person" in docs
        data_docs = page.goto(f"{airflow_ui}/mdm/data-docs/").text()
        assert "gate" in data_docs and "https://" not in data_docs
        browser.close()
