"""The open-data portal in a real browser (issue 23): headless Chromium (the distribution's
package; `.ci/run` installs it) opens every page from file:// and from a static server,
checks each renders its heading, every link resolves, and the in-page search finds a
resource; a screenshot of the index is kept in test-artefacts/ (MDM_TEST_ARTEFACTS)."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import os
import posixpath
import re
import subprocess
import threading
from pathlib import Path

import pytest
from browser_support import chromium_binary

from mdm.catalogue import static_resources
from mdm.opendata.publish import write_publication

pytestmark = pytest.mark.integration
ARTEFACTS = Path(os.environ.get("MDM_TEST_ARTEFACTS", Path(__file__).parents[2] / "test-artefacts"))


@pytest.fixture(scope="module")
def chromium(tmp_path_factory) -> tuple[str, Path]:
    """The browser and a profile folder of its own (never the user's)."""
    return chromium_binary(), tmp_path_factory.mktemp("chromium-profile")


@pytest.fixture(scope="module")
def publication(tmp_path_factory) -> Path:
    opened = [r for r in static_resources() if r.kind == "open"]
    released = {
        r.key: [{f.name: f"{f.name}-{i}" for f in r.fields} for i in range(25)] for r in opened
    }
    _, folder, _ = write_publication(
        tmp_path_factory.mktemp("portal"), dt.date(2026, 12, 2), opened, released, {}
    )
    return folder


def _browse(chromium: tuple[str, Path], url: str, *extra: str) -> str:
    binary, profile = chromium
    done = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={profile}", *extra, url],
        capture_output=True, text=True, timeout=90, check=True,
    )  # fmt: skip
    return done.stdout


def test_every_page_renders_and_every_link_resolves(chromium, publication):
    pages = sorted(p.relative_to(publication).as_posix() for p in publication.rglob("*.html"))
    assert len(pages) == 2 + 5
    for page in pages:
        dom = _browse(chromium, (publication / page).as_uri(), "--dump-dom")
        assert re.search(r"<h1>[^<]+</h1>", dom), page
        for link in re.findall(r'(?:href|src)="([^"]+)"', dom):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page), link))
            assert (publication / target).is_file(), (page, link)


def test_search_finds_a_resource_from_file_and_from_a_server(chromium, publication):
    penalty = next(r for r in static_resources() if r.key == "administrative_penalty")
    dom = _browse(chromium, (publication / "index.html").as_uri() + "?q=处罚", "--dump-dom")
    assert 'data-count="1"' in dom and f'href="{penalty.code}/index.html"' in dom
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(publication))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        dom = _browse(chromium, base + "index.html?q=county_code", "--dump-dom")
        assert 'data-count="2"' in dom  # the two statistics have a county_code field
        nothing = _browse(chromium, base + "index.html?q=没有这个资源", "--dump-dom")
        assert 'data-count="0"' in nothing
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTEFACTS / "open-portal-index.png"
        shot.unlink(missing_ok=True)
        _browse(chromium, base + "index.html?q=信用", f"--screenshot={shot}",
                "--window-size=1280,1600")  # fmt: skip
        assert shot.is_file() and shot.stat().st_size > 10_000
    finally:
        server.shutdown()
        server.server_close()
