"""The pages operators and stewards read, in one place (issue 24): the quarterly quality
report, the dbt docs, the Great Expectations Data Docs of the gates, the Splink model charts
and the open-data portal. Each is a folder of static files written by the chain; this module
says where each one is and serves them as a small FastAPI app that the Airflow plugin
(``plugins/mdm_airflow_views.py``) mounts under ``/mdm`` behind Airflow's login, with a link
in the Airflow UI's navigation for each."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdm.settings import Settings

logger = logging.getLogger(__name__)

URL_PREFIX = "/mdm"


@dataclass(frozen=True)
class View:
    key: str  # its URL segment: /mdm/<key>/
    name: str  # the link's text in the Airflow UI
    description: str
    locate: Callable[[Settings], Path | None]  # the entry page, None while not written
    how_to_make: str  # what writes it, for a view not written yet

    def entry(self, settings: Settings) -> Path | None:
        path = self.locate(settings)
        return path if path is not None and path.is_file() else None


def _newest(paths: list[Path]) -> Path | None:
    return max(paths, key=lambda p: p.name) if paths else None


def report_entry(settings: Settings) -> Path | None:
    return _newest(sorted(settings.reports_dir.glob("quality-*.html")))


def dbt_docs_dir(settings: Settings) -> Path:
    return settings.shared_dir / "dbt-docs"


def data_docs_dir(settings: Settings) -> Path:
    return settings.shared_dir / "data-docs"


def model_charts_entry(settings: Settings) -> Path | None:
    from mdm.resolve.splink_artefact import MODELS_DIR

    return MODELS_DIR / "index.html"  # written by mdm resolve train (model_charts)


def portal_entry(settings: Settings) -> Path | None:
    from mdm.opendata.publish import open_root

    root = open_root(settings)
    return _newest([p / "index.html" for p in root.glob("*-*") if (p / "_manifest.json").is_file()])


VIEWS = (
    View(
        "report", "Quality report", "the quarterly data-quality report (质量报告)",
        report_entry, "the mdm_quality DAG, after each publish",
    ),
    View(
        "dbt-docs", "dbt docs", "every model, column meaning, test and lineage (dbt docs)",
        lambda s: dbt_docs_dir(s) / "index.html", "the mdm_quality DAG's write_docs task",
    ),
    View(
        "data-docs", "Data Docs", "the Great Expectations gates' latest results (no values)",
        lambda s: data_docs_dir(s) / "index.html", "the mdm_quality DAG's write_docs task",
    ),
    View(
        "splink", "Splink model", "the resolution models' charts and their threshold",
        model_charts_entry, "`mdm resolve train`",
    ),
    View(
        "portal", "Open data portal", "the newest public-data publication (公共数据开放)",
        portal_entry, "the mdm_open DAG, or `mdm open publish`",
    ),
)  # fmt: skip
VIEWS_BY_KEY = {view.key: view for view in VIEWS}


def external_views() -> list[dict[str, Any]]:
    """The Airflow UI's navigation entries (Airflow 3 ``external_views``): each page shown
    inside the UI at /plugin/mdm-<key>."""
    return [
        {
            "name": view.name,
            "href": f"{URL_PREFIX}/{view.key}/",
            "url_route": f"mdm-{view.key}",
            "category": "MDM",
            "destination": "nav",
        }
        for view in VIEWS
    ]


def resolve_file(settings: Settings, key: str, path: str) -> Path | None:
    """The file ``path`` of view ``key``: inside the folder of the view's entry page (no
    ``..`` out of it), its entry page for an empty path; None if there is none."""
    view = VIEWS_BY_KEY.get(key)
    entry = view.entry(settings) if view else None
    if entry is None:
        return None
    if not path:
        return entry
    root = entry.parent.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target


def hub_page(settings: Settings) -> str:
    """The index of the views: each with its link, or what writes it when not written yet."""
    rows = []
    for view in VIEWS:
        entry = view.entry(settings)
        name = html.escape(view.name)
        state = (
            f'<a href="{view.key}/">{name}</a>'
            if entry
            else f"{name} <em>not written yet: {html.escape(view.how_to_make)}</em>"
        )
        rows.append(f"<li>{state} — {html.escape(view.description)}</li>")
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>MDM pages</title></head><body><h1>MDM pages</h1><ul>"
        + "".join(rows)
        + "</ul></body></html>"
    )


def create_app(settings_loader: Callable[[], Settings] | None = None) -> Any:
    """The FastAPI app of the views. Every route needs a user logged in to Airflow: its
    session cookie or a bearer token, checked by Airflow's auth manager (a browser without
    one is sent to Airflow's login page and back)."""
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

    from mdm.settings import load_settings

    loader = settings_loader or load_settings
    app = FastAPI(title="MDM pages", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def airflow_login(request: Request, call_next: Any) -> Response:
        # Imported here, not at module level: Airflow imports this plugin in every process
        # (scheduler, task runners), and only the API server serves these pages.
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
        from airflow.api_fastapi.core_api.security import resolve_user_from_token

        header = request.headers.get("authorization", "")
        token = (
            header[7:]
            if header.lower().startswith("bearer ")
            else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
        )
        try:
            await resolve_user_from_token(token)
        except HTTPException as refused:
            if "text/html" in request.headers.get("accept", ""):
                return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)))
            return Response(refused.detail, status_code=refused.status_code)
        response: Response = await call_next(request)
        return response

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return hub_page(loader())

    @app.get("/{key}")
    def without_slash(key: str) -> RedirectResponse:
        return RedirectResponse(f"{URL_PREFIX}/{key}/")

    @app.get("/{key}/{path:path}")
    def page(key: str, path: str) -> FileResponse:
        if key not in VIEWS_BY_KEY:
            raise HTTPException(404, f"no view {key!r}: one of {sorted(VIEWS_BY_KEY)}")
        target = resolve_file(loader(), key, path)
        if target is None:
            view = VIEWS_BY_KEY[key]
            raise HTTPException(404, f"{view.name}: not written yet ({view.how_to_make})")
        return FileResponse(target)

    return app
