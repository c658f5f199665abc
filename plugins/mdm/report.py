"""The quarterly data-quality report: one self-contained HTML file a bureau can publish.

Per department and dataset the four dimensions, the index and the stars
(``quality.*``), charts (stars per department over the quarters, the dimensions per
department, the index per dataset, certificate rates against 80%, correction requests by
state), each dataset's failing expectations, the trend over quarters, and the worst problems
with examples (rejected deliveries with their error, quarantined rows by file, line and
reason). A Jinja2 template (``templates/quality_report.html.j2``); no external assets: the
charts are inline SVG (:mod:`mdm.charts`).
The report is published: it never shows a delivered line, and any ID number or mobile in a
message is masked (:mod:`mdm.access.masking`).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from mdm.access.masking import mask_identifiers
from mdm.connections import ConnParams, conninfo
from mdm.registry import datasets
from mdm.settings import TIMEZONE

logger = logging.getLogger(__name__)

STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;
text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}.stars{color:#d4a017}
.bad{color:#b00}.note{color:#666;font-size:.9rem}code{font-size:.85rem}
.charts{display:flex;flex-wrap:wrap;gap:2rem}figure{margin:.5rem 0}
figcaption{color:#666;font-size:.85rem}
"""


def _stars(n: int) -> str:
    return "★" * n + "☆" * (5 - n)


_COUNT_COLUMNS = {
    "datasets", "deliveries", "rejected", "expected", "in_library", "valid", "structured",
}  # fmt: skip


def cell(key: str, value: Any) -> Any:
    """A table cell of the report: stars drawn, counts whole, shares with three decimals."""
    from markupsafe import Markup, escape

    if key == "stars" and value is not None:
        return Markup('<span class="stars">%s</span>') % _stars(int(value))
    if key in _COUNT_COLUMNS and isinstance(value, float | Decimal):
        return f"{int(value)}"  # a count (sums of counts come back as numeric)
    if isinstance(value, float | Decimal):
        number = float(value)
        return f"{number:.3f}" if number <= 1 else f"{number:.1f}"
    return escape("" if value is None else str(value))


def quarter_of(moment: dt.datetime) -> str:
    """The calendar quarter of ``moment`` in Beijing time, e.g. ``2026Q4``."""
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo(TIMEZONE))
    return f"{local:%Y}Q{(local.month - 1) // 3 + 1}"


# --- Queries the report and ``mdm demo`` share (a cursor with dict rows) ---------------


def latest_quarter(cur: psycopg.Cursor[dict[str, Any]]) -> str | None:
    """The latest quarter with a dataset scorecard, or None before the first score."""
    found = cur.execute("select max(quarter) as q from quality.quality_dataset_scorecard")
    return (found.fetchone() or {}).get("q")


def department_scores(cur: psycopg.Cursor[dict[str, Any]], quarter: str) -> list[dict[str, Any]]:
    """The department scorecard of ``quarter``, best first."""
    return cur.execute(
        "select * from quality.quality_department_scorecard where quarter = %s "
        "order by quality_index desc",
        (quarter,),
    ).fetchall()


def rejected_deliveries(
    cur: psycopg.Cursor[dict[str, Any]], limit: int | None = None
) -> list[dict[str, Any]]:
    """Rejected deliveries with their error (what is wrong, what to do), identifiers masked."""
    rows = cur.execute(
        """select dataset, delivery_id, error from ops.delivery
           where status = 'rejected' order by dataset, delivery_id limit %s""",
        (limit,),
    ).fetchall()
    for row in rows:
        if row.get("error"):
            row["error"] = mask_identifiers(row["error"])
    return rows


def repository_totals(cur: psycopg.Cursor[dict[str, Any]]) -> dict[str, Any]:
    """Rows published in the repositories: persons, organisations, relations."""
    return (
        cur.execute(
            """select (select count(*) from mdm.natural_person) as persons,
                      (select count(*) from mdm.legal_person) as organisations,
                      (select count(*) from mdm.relation) as relations"""
        ).fetchone()
        or {}
    )


def record_links(cur: psycopg.Cursor[dict[str, Any]]) -> list[dict[str, Any]]:
    """Published record links (``mdm.record_link``, ADR 0017) per dataset: by code, by name
    and address; none before the first publish of them."""
    if cur.execute("select to_regclass('mdm.record_link') as t").fetchone() == {"t": None}:
        return []
    return cur.execute(
        """select dataset, count(*) as links,
                  count(*) filter (where link_method in
                      ('name_address', 'address_similar_name', 'name')) as by_name
           from mdm.record_link group by dataset order by dataset"""
    ).fetchall()


def summarise(warehouse: ConnParams) -> dict[str, Any]:
    """What the platform holds now, for a console (``mdm demo``): the delivery ledger per
    dataset, rejected deliveries, the repositories, an example person, the departments'
    scores of the latest quarter (the report's queries where the report shows the same)."""
    with psycopg.connect(conninfo(warehouse)) as conn, conn.cursor(row_factory=dict_row) as cur:
        quarter = latest_quarter(cur)
        return {
            # every dataset of the registry, also one nothing was delivered for yet
            "deliveries": cur.execute(
                """select dataset, count(d.delivery_id) as deliveries,
                          count(*) filter (where status in ('loaded', 'partially_quarantined'))
                              as loaded,
                          count(*) filter (where status = 'rejected') as rejected,
                          coalesce(sum(rows_loaded), 0) as rows_loaded,
                          coalesce(sum(rows_quarantined), 0) as rows_quarantined
                   from unnest(%s::text[]) as registered(dataset)
                   left join ops.delivery d using (dataset)
                   group by dataset order by dataset""",
                (sorted(datasets()),),
            ).fetchall(),
            "rejected": rejected_deliveries(cur),
            "totals": repository_totals(cur),
            "record_links": record_links(cur),
            "relation_types": cur.execute(
                "select relation_type, count(*) as relations from mdm.relation "
                "group by 1 order by 1"
            ).fetchall(),
            "example_person": cur.execute(
                """select person_id, name, name_source, birth_date, birth_date_source, mobile,
                          mobile_source, source_count
                   from mdm.natural_person where mobile is not null
                   order by source_count desc, person_id limit 1"""
            ).fetchone(),
            "quarter": quarter,
            "departments": department_scores(cur, quarter) if quarter else [],
            # the correction loop (issue 21): requests per department and state
            "corrections": cur.execute(
                "select department, state, count(*) as requests from correction.request "
                "group by 1, 2 order by 1, 2"
            ).fetchall(),
        }


CERTIFICATE_COLUMNS = [
    ("certificate_type", "Type"),
    ("certificate_name", "Certificate"),
    ("department", "Department"),
    ("expected", "Expected"),
    ("in_library", "In library"),
    ("valid", "Valid"),
    ("structured", "Structured"),
    ("structured_rate", "结构化数据汇聚率 Rate"),
    ("main_reasons", "Main reasons"),
]


def failing_expectations(cur: psycopg.Cursor[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per dataset, suite and expectation the deliveries it failed on (``ops.validation_result``:
    names and counts, never a value)."""
    return cur.execute(
        """select v.dataset, v.suite_name, f ->> 'expectation' as expectation,
                  f ->> 'column' as column, f ->> 'severity' as severity,
                  count(*) as deliveries, max(v.validated_at)::date::text as last_failed
           from ops.validation_result v, jsonb_array_elements(v.failures) f
           group by 1, 2, 3, 4, 5 order by 1, 2, deliveries desc, 3, 4"""
    ).fetchall()


def report_data(
    cur: psycopg.Cursor[dict[str, Any]], quarter: str, now: dt.datetime
) -> dict[str, Any]:
    """Everything the report shows, from the warehouse (identifiers in messages masked)."""
    from mdm.certificates import PROVINCE, rate_table, types_below_target

    datasets = cur.execute(
        """select s.*, c.title from quality.quality_dataset_scorecard s
           join quality.dataset_catalogue c using (dataset)
           where s.quarter = %s order by s.quality_index desc""",
        (quarter,),
    ).fetchall()
    quarantined = cur.execute(
        """select dataset, delivery_id, file, line, reason_code, reason
           from quarantine.delivery_row order by dataset, delivery_id, file, line limit 30"""
    ).fetchall()
    for problem in quarantined:
        if problem.get("reason"):
            problem["reason"] = mask_identifiers(problem["reason"])
    certificates = [r for r in rate_table(cur, quarter) if r["prefecture_code"] == PROVINCE]
    return {
        "quarter": quarter,
        "generated": f"{now.astimezone(dt.UTC):%Y-%m-%d %H:%M}",
        "departments": department_scores(cur, quarter),
        "department_history": cur.execute(
            "select quarter, department, stars, quality_index "
            "from quality.quality_department_scorecard order by quarter, department"
        ).fetchall(),
        "datasets": datasets,
        "goal": sum(1 for d in datasets if d["stars"] >= 4),
        "trend": cur.execute(
            "select quarter, round(avg(quality_index), 1) as quality_index, count(*) as datasets "
            "from quality.quality_dataset_scorecard group by quarter order by quarter"
        ).fetchall(),
        "expectations": failing_expectations(cur),
        "rejected": rejected_deliveries(cur, limit=30),
        "quarantined": quarantined,
        "totals": repository_totals(cur),
        "certificates": certificates,
        "certificates_below": types_below_target(cur, quarter) if certificates else [],
        "corrections": cur.execute(
            "select department, state, count(*) as requests from correction.request "
            "group by 1, 2 order by 1, 2"
        ).fetchall(),
        # the timeliness and completeness dimensions' worst: deliveries that never came,
        # front-end tables that stopped changing, a city's part missing
        "missing": [
            d
            for d in datasets
            if d["timeliness"] < 1 or d["coverage"] < 1 or d["completeness"] < 0.9
        ],  # fmt: skip
        "prefectures": cur.execute(
            """select dataset, prefecture_code, records, completeness, identifier_validity,
                      corrections, quality_index, stars
               from quality.quality_prefecture_scorecard where quarter = %s
               order by quality_index, records desc limit 15""",
            (quarter,),
        ).fetchall(),
        # the corrections dimension's worst: requests the departments have not answered
        "waiting": cur.execute(
            """select department, dataset, request_type, count(*) as requests,
                      min(raised_on) as oldest
               from correction.request where state in ('open', 'reported', 'reopened')
               group by 1, 2, 3 order by requests desc, oldest limit 20"""
        ).fetchall(),
    }


def render_report(data: dict[str, Any]) -> str:
    """The report's HTML from :func:`report_data` (template ``templates/quality_report.html.j2``,
    charts :mod:`mdm.charts`)."""
    import jinja2
    from markupsafe import Markup

    from mdm import charts

    certificates = data["certificates"]
    svg = {
        "stars": charts.stars_over_quarters(data["department_history"]),
        "dimensions": charts.dimensions_per_department(data["departments"]),
        "index": charts.bars_against_target(
            data["datasets"], "dataset", "quality_index", 80, "quality index per dataset",
            maximum=100, fmt="{:.1f}".format,
        ),
        "certificates": charts.bars_against_target(
            certificates, "certificate_name", "structured_rate", 0.8,
            "structured aggregation rate per certificate type",
        ) if certificates else "",
        "corrections": charts.stacked_bars(
            data["corrections"], "department", "state", "requests", "correction requests by state"
        ) if data["corrections"] else "",
    }  # fmt: skip
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mdm", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    template = environment.get_template("quality_report.html.j2")
    # Markup: our constant style sheet, and SVG whose every text mdm.charts escaped.
    return template.render(
        **data,
        style=Markup(STYLE),  # noqa: S704
        charts={key: Markup(value) for key, value in svg.items()},  # noqa: S704
        cell=cell,
        certificate_columns=CERTIFICATE_COLUMNS,
    )


def write_report(
    warehouse: ConnParams,
    folder: Path,
    quarter: str | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Write ``quality-<quarter>.html``: the given quarter, else the latest scored one, else
    the quarter of ``now`` (the clock, injectable so a test does not depend on the date)."""
    now = now or dt.datetime.now(dt.UTC)
    with psycopg.connect(conninfo(warehouse)) as conn, conn.cursor(row_factory=dict_row) as cur:
        quarter = quarter or latest_quarter(cur) or quarter_of(now)
        document = render_report(report_data(cur, quarter, now))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"quality-{quarter}.html"
    path.write_text(document, "utf-8")
    logger.info("report written to %s", path)
    return path
