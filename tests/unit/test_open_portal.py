"""The open-data portal's files (pure): every page links only to files of the publication,
by relative paths (file:// works), and the search index names every resource."""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re

import pytest

from mdm.catalogue import static_resources
from mdm.opendata.portal import PREVIEW_ROWS, portal_files
from mdm.opendata.publish import write_publication

pytestmark = pytest.mark.unit
DAY = dt.date(2026, 12, 2)


def _rows(resource, n):  # type: ignore[no-untyped-def]
    return [{f.name: f"{f.name}-{i}" for f in resource.fields} for i in range(n)]


def test_every_link_of_every_page_resolves_inside_the_publication(tmp_path):
    opened = [r for r in static_resources() if r.kind == "open"]
    released = {r.key: _rows(r, 30) for r in opened[:4]}
    withheld = {opened[4].code: ["a test withheld it"]}
    version, folder, produced = write_publication(tmp_path, DAY, opened, released, withheld)
    assert version == "20261202-01" and len(produced) == 4
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    manifest = json.loads((folder / "_manifest.json").read_text("utf-8"))
    assert {f["name"] for f in manifest["files"]} == files - {"_manifest.json"}
    pages = [f for f in files if f.endswith(".html")]
    assert "index.html" in pages and "catalogue.html" in pages
    for page in pages:
        text = (folder / page).read_text("utf-8")
        for link in re.findall(r'(?:href|src)="([^"]+)"', text):
            assert "://" not in link and not link.startswith("/"), (page, link)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page), link.split("#")[0]))
            assert target in files, (page, link)
    for resource in opened[:4]:
        page = (folder / resource.code / "index.html").read_text("utf-8")
        assert page.count("<tr>") >= PREVIEW_ROWS + len(resource.fields)
        assert 'href="data.csv"' in page and 'href="data.jsonl"' in page
    index = (folder / "index.html").read_text("utf-8")
    assert "信用服务" in index and "乡村振兴" in index and "a test withheld it" in index


def test_the_search_index_names_every_opened_resource_with_its_fields():
    opened = [r for r in static_resources() if r.kind == "open"]
    files = portal_files("20261202-01", DAY, [(r, []) for r in opened], {})
    text = files["search-index.js"].decode()
    entries = json.loads(text.removeprefix("window.OPEN_INDEX = ").rstrip(";\n"))
    assert [e["code"] for e in entries] == [r.code for r in opened]
    assert all(
        f.meaning in e["text"] for r, e in zip(opened, entries, strict=True) for f in r.fields
    )
    catalogue = files["catalogue.html"].decode()
    assert "GX-SCJ-0001" in catalogue and "GX-GAT-0001" not in catalogue  # 不予开放 left out
