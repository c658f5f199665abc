"""The open-data portal of one publication: static HTML beside the data (issue 23).

``index.html`` (the resources by domain, a search box), one ``<resource code>/index.html``
per resource (metadata, field table, a preview, CSV / JSON downloads), ``catalogue.html``
(the catalogue's open part) and plain JavaScript: the search index is a script file, not
JSON fetched at run time, so the pages work from ``file://`` as from any static server.
Every link is relative. Pure: returns the files' bytes.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from collections.abc import Sequence
from typing import Any

from mdm.catalogue import GRADES, NOT_OPEN, Resource, static_resources
from mdm.opendata.publish_text import cell_text

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 20
TITLE = "广西壮族自治区公共数据开放"

STYLE = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; margin: 0; color: #222; }
header { background: #0b5394; color: #fff; padding: 16px 32px; }
header a { color: #fff; }
main { padding: 16px 32px; max-width: 1200px; }
table { border-collapse: collapse; margin: 8px 0 24px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; font-size: 14px; }
th { background: #eef3f8; }
.resource { margin: 8px 0 16px; }
.muted { color: #666; font-size: 13px; }
#search { font-size: 16px; padding: 6px; width: 420px; }
#results li { margin: 4px 0; }
"""

SEARCH_JS = """
(function () {
  function render(query) {
    var list = document.getElementById("results");
    if (!list) { return; }
    list.innerHTML = "";
    var terms = query.toLowerCase().split(/\\s+/).filter(function (t) { return t; });
    if (!terms.length) { list.setAttribute("data-count", "0"); return; }
    var hits = (window.OPEN_INDEX || []).filter(function (entry) {
      var text = entry.text.toLowerCase();
      return terms.every(function (t) { return text.indexOf(t) >= 0; });
    });
    hits.forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = entry.url;
      link.textContent = entry.title + " (" + entry.code + ")";
      item.appendChild(link);
      list.appendChild(item);
    });
    list.setAttribute("data-count", String(hits.length));
  }
  window.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("search");
    if (!box) { return; }
    var q = new URLSearchParams(window.location.search).get("q");
    if (q) { box.value = q; }
    box.addEventListener("input", function () { render(box.value); });
    render(box.value);
  });
})();
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str, depth: int, scripts: Sequence[str] = ()) -> bytes:
    up = "../" * depth
    tags = "".join(f'<script src="{up}{s}"></script>' for s in scripts)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="zh-CN"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f'<link rel="stylesheet" href="{up}style.css">{tags}</head><body>'
        f'<header><a href="{up}index.html">{_e(TITLE)}</a></header>'
        f"<main>{body}</main></body></html>\n"
    ).encode()


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], css: str = "") -> str:
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def resource_page(resource: Resource, rows: Sequence[dict[str, Any]], version: str,
                  day: dt.date) -> bytes:  # fmt: skip
    names = [f.name for f in resource.fields]
    meta = [
        ("资源代码", resource.code), ("资源名称", resource.name), ("摘要", resource.summary),
        ("提供单位", resource.provider), ("领域", resource.extra["domain"]),
        ("开放类型", resource.open_type), ("更新周期", resource.update_cycle),
        ("版本", version), ("版本日期", day.isoformat()), ("记录数", len(rows)),
        ("许可", resource.extra["licence"]),
    ]  # fmt: skip
    preview = [[cell_text(row[n]) for n in names] for row in rows[:PREVIEW_ROWS]]
    body = (
        f"<h1>{_e(resource.name)}</h1>"
        + _table(["项目", "内容"], meta, "metadata")
        + "<h2>下载</h2><p>"
        '<a class="download" href="data.csv">CSV</a> · '
        '<a class="download" href="data.jsonl">JSON (每行一条)</a> · '
        '<a class="download" href="metadata.json">元数据 JSON</a></p>'
        + "<h2>字段</h2>"
        + _table(
            ["字段名", "含义", "类型"],
            [(f.name, f.meaning, f.type) for f in resource.fields],
            "fields",
        )  # fmt: skip
        + f"<h2>预览(前 {min(len(rows), PREVIEW_ROWS)} 条,共 {len(rows)} 条)</h2>"
        + _table(names, preview, "preview")
    )
    return _page(resource.name, body, depth=1)


def index_page(version: str, day: dt.date, opened: Sequence[tuple[Resource, int]],
               withheld: dict[str, list[str]]) -> bytes:  # fmt: skip
    domains: dict[str, list[tuple[Resource, int]]] = {}
    for resource, count in opened:
        domains.setdefault(resource.extra["domain"], []).append((resource, count))
    sections = "".join(
        f"<h2>{_e(domain)}</h2>"
        + "".join(
            f'<div class="resource"><a href="{_e(r.code)}/index.html">{_e(r.name)}</a> '
            f'<span class="muted">{_e(r.code)} · {count} 条 · {_e(r.update_cycle)}</span>'
            f"<div>{_e(r.summary)}</div></div>"
            for r, count in entries
        )
        for domain, entries in sorted(domains.items())
    )
    held = (
        "<h2>本版未开放</h2><ul>"
        + "".join(f"<li>{_e(code)}: {_e('; '.join(why))}</li>" for code, why in withheld.items())
        + "</ul>"
        if withheld
        else ""
    )
    body = (
        f'<h1>{_e(TITLE)}</h1><p class="muted">版本 {_e(version)} · {day.isoformat()}</p>'
        '<p><input id="search" type="search" placeholder="搜索资源、字段、领域" '
        'aria-label="搜索"></p><ul id="results" data-count="0"></ul>'
        f"{sections}{held}"
        '<p><a href="catalogue.html">数据资源目录(开放部分)</a> · '
        '<a href="_manifest.json">发布清单与校验值</a></p>'
    )
    return _page(TITLE, body, depth=0, scripts=("search-index.js", "portal.js"))


def catalogue_page(catalogue: Sequence[Resource]) -> bytes:
    """The catalogue's open part: every resource not marked 不予开放, with its fields."""
    parts = ["<h1>数据资源目录(开放部分)</h1>"]
    for r in catalogue:
        if r.open_type == NOT_OPEN:
            continue
        parts.append(
            f'<h2 id="{_e(r.code)}">{_e(r.name)} <span class="muted">{_e(r.code)}</span></h2>'
            f"<p>{_e(r.summary)}</p>"
            + _table(
                ["提供单位", "维护", "共享类型", "开放类型", "更新周期"],
                [(r.provider, r.maintainer, r.share_type, r.open_type, r.update_cycle)],
            )
            + _table(
                ["字段名", "含义", "类型", "分级"],
                [(f.name, f.meaning, f.type, f"{f.grade} {GRADES[f.grade]}") for f in r.fields],
                "fields",
            )
        )
    return _page("数据资源目录", "".join(parts), depth=0)


def search_index(opened: Sequence[tuple[Resource, int]]) -> bytes:
    entries = [
        {
            "code": r.code,
            "title": r.name,
            "url": f"{r.code}/index.html",
            "text": " ".join(
                [r.code, r.name, r.summary, r.extra["domain"], r.provider]
                + [f"{f.name} {f.meaning}" for f in r.fields]
            ),
        }
        for r, _ in opened
    ]
    return ("window.OPEN_INDEX = " + json.dumps(entries, ensure_ascii=False) + ";\n").encode()


def portal_files(
    version: str, day: dt.date, opened: Sequence[tuple[Resource, Sequence[dict[str, Any]]]],
    withheld: dict[str, list[str]], catalogue: Sequence[Resource] | None = None,
) -> dict[str, bytes]:  # fmt: skip
    """Every file of the portal, by its path in the publication."""
    counted = [(r, len(rows)) for r, rows in opened]
    files = {
        "index.html": index_page(version, day, counted, withheld),
        "catalogue.html": catalogue_page(catalogue or static_resources()),
        "search-index.js": search_index(counted),
        "portal.js": SEARCH_JS.encode("utf-8"),
        "style.css": STYLE.encode("utf-8"),
    }
    for resource, rows in opened:
        files[f"{resource.code}/index.html"] = resource_page(resource, rows, version, day)
    return files
