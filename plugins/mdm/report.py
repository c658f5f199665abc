"""The quarterly data-quality report: one self-contained HTML file a bureau can publish.

Per department and dataset the four dimensions, the index and the stars
(``quality.*``), a bar chart of the index, the trend over quarters, and the
worst problems with examples (rejected deliveries with their error,
quarantined rows by file, line and reason). No external assets: charts are inline SVG.
The report is published: it never shows a delivered line, and any ID number or mobile in a
message is masked (:mod:`mdm.access.masking`).
"""

from __future__ import annotations

import datetime as dt
import html
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
"""


def _stars(n: int) -> str:
    return "★" * n + "☆" * (5 - n)


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    head = "".join(
        f'<th class="{"l" if i == 0 else ""}">{html.escape(label)}</th>'
        for i, (_, label) in enumerate(columns)
    )
    body = []
    for row in rows:
        cells = []
        for i, (key, _) in enumerate(columns):
            value = row.get(key)
            if key == "stars" and value is not None:
                text = f'<span class="stars">{_stars(int(value))}</span>'
            elif key in _COUNT_COLUMNS and isinstance(value, float | Decimal):
                text = f"{int(value)}"  # a count (sums of counts come back as numeric)
            elif isinstance(value, float | Decimal):
                number = float(value)
                text = f"{number:.3f}" if number <= 1 else f"{number:.1f}"
            else:
                text = html.escape("" if value is None else str(value))
            cells.append(f'<td class="{"l" if i == 0 else ""}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


_COUNT_COLUMNS = {
    "datasets", "deliveries", "rejected", "expected", "in_library", "valid", "structured",
}  # fmt: skip


def _bars(rows: list[dict[str, Any]], label: str, value: str) -> str:
    height = 22 * len(rows) + 10
    parts = [f'<svg width="640" height="{height}" role="img" aria-label="quality index">']
    for i, row in enumerate(rows):
        width = 4 * float(row[value] or 0)
        y = 5 + 22 * i
        colour = "#2e7d32" if float(row[value] or 0) >= 80 else "#c62828"
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="12">{html.escape(str(row[label]))}</text>'
            f'<rect x="150" y="{y}" width="{width:.0f}" height="16" fill="{colour}"/>'
            f'<text x="{155 + width:.0f}" y="{y + 13}" font-size="11">'
            f"{float(row[value]):.1f}</text>"
        )
    parts.append('<line x1="470" y1="0" x2="470" y2="100%" stroke="#999" stroke-dasharray="4"/>')
    parts.append("</svg>")
    return "".join(parts)


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


def _certificates_section(cur: psycopg.Cursor[dict[str, Any]], quarter: str) -> str:
    """The e-certificate library's structured aggregation rate (ADR 0018): per type the
    province's rate against the 80% target, and the types below it with their main reasons
    (never aggregated, layout file only, a field missing or disagreeing)."""
    from mdm.certificates import PROVINCE, rate_table, types_below_target

    rows = [r for r in rate_table(cur, quarter) if r["prefecture_code"] == PROVINCE]
    if not rows:
        return ""
    below = types_below_target(cur, quarter)
    columns = [
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
    return f"""<h2>电子证照 · Certificates: structured aggregation rate (target 80%)</h2>
<p>{len(rows) - len(below)} of {len(rows)} certificate types reach 80% in {html.escape(quarter)}.
Rate = structured / expected: of the certificates the business records say exist, those in the
library as valid certificates with every surface field filled, well formed and agreeing with
the business record.</p>
<h3>Types below target</h3>
{_table(below, columns) if below else "<p>None.</p>"}
<h3>All types</h3>
{_table(rows, columns)}"""


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
        departments = department_scores(cur, quarter)
        datasets = cur.execute(
            """select s.*, c.title from quality.quality_dataset_scorecard s
               join quality.dataset_catalogue c using (dataset)
               where s.quarter = %s order by s.quality_index desc""",
            (quarter,),
        ).fetchall()
        trend = cur.execute(
            "select quarter, round(avg(quality_index), 1) as quality_index, count(*) as datasets "
            "from quality.quality_dataset_scorecard group by quarter order by quarter"
        ).fetchall()
        rejected = rejected_deliveries(cur, limit=30)
        quarantined = cur.execute(
            """select dataset, delivery_id, file, line, reason_code, reason
               from quarantine.delivery_row order by dataset, delivery_id, file, line limit 30"""
        ).fetchall()
        for problem in quarantined:
            if problem.get("reason"):
                problem["reason"] = mask_identifiers(problem["reason"])
        totals = repository_totals(cur)
        certificates_section = _certificates_section(cur, quarter)
        # the corrections dimension's worst: requests the departments have not answered
        waiting = cur.execute(
            """select department, dataset, request_type, count(*) as requests,
                      min(raised_on) as oldest
               from correction.request where state in ('open', 'reported', 'reopened')
               group by 1, 2, 3 order by requests desc, oldest limit 20"""
        ).fetchall()
        # the timeliness and completeness dimensions' worst: deliveries that never came,
        # front-end tables that stopped changing, a city's part missing
        missing = [
            d for d in datasets
            if d["timeliness"] < 1 or d["coverage"] < 1 or d["completeness"] < 0.9
        ]  # fmt: skip
        prefectures = cur.execute(
            """select dataset, prefecture_code, records, completeness, identifier_validity,
                      corrections, quality_index, stars
               from quality.quality_prefecture_scorecard where quarter = %s
               order by quality_index, records desc limit 15""",
            (quarter,),
        ).fetchall()
    goal = sum(1 for d in datasets if d["stars"] >= 4)
    document = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>数据质量报告 Data quality report {html.escape(quarter)}</title><style>{
        STYLE
    }</style></head><body>
<h1>数据质量报告 · Data quality report {html.escape(quarter)}</h1>
<p>{len(datasets)} datasets from {len(departments)} departments; {goal} of {len(datasets)} reach
the province's goal of four stars. Repositories: {totals.get("persons", 0)} natural persons,
{totals.get("organisations", 0)} legal persons, {totals.get("relations", 0)} relations.
Generated {now.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC.</p>
<h2>Departments</h2>
{
        _table(
            departments,
            [
                ("department", "Department"),
                ("datasets", "Datasets"),
                ("deliveries", "Deliveries"),
                ("rejected", "Rejected"),
                ("normativity", "规范性 Normativity"),
                ("completeness", "完整性 Completeness"),
                ("availability", "可用性 Availability"),
                ("timeliness", "时效性 Timeliness"),
                ("corrections", "纠错整改 Corrections"),
                ("quality_index", "Index"),
                ("stars", "Stars"),
            ],
        )
    }
<h2>Datasets</h2>
{_bars(datasets, "dataset", "quality_index")}
{
        _table(
            datasets,
            [
                ("dataset", "Dataset"),
                ("title", "Title"),
                ("department", "Department"),
                ("deliveries", "Deliveries"),
                ("rejected", "Rejected"),
                ("rows_quarantined", "Rows quarantined"),
                ("normativity", "Normativity"),
                ("completeness", "Completeness"),
                ("coverage", "Prefectures covered"),
                ("availability", "Availability"),
                ("expected_deliveries", "Deliveries expected"),
                ("timeliness", "Timeliness"),
                ("requests_raised", "Corrections requested"),
                ("requests_answered_30d", "answered in 30 days"),
                ("requests_confirmed", "confirmed"),
                ("corrections", "Corrections"),
                ("quality_index", "Index"),
                ("stars", "Stars"),
            ],
        )
    }
<h2>Trend</h2>
{_table(trend, [("quarter", "Quarter"), ("datasets", "Datasets"), ("quality_index", "Mean index")])}
<h2>Worst problems</h2>
<h3>Rejected deliveries</h3>
{
        _table(
            rejected,
            [
                ("dataset", "Dataset"),
                ("delivery_id", "Delivery"),
                ("error", "What is wrong and what to do"),
            ],
        )
    }
<h3>Quarantined rows (examples)</h3>
{
        _table(
            quarantined,
            [
                ("dataset", "Dataset"),
                ("delivery_id", "Delivery"),
                ("file", "File"),
                ("line", "Line"),
                ("reason_code", "Reason"),
                ("reason", "What is wrong"),
            ],
        )
    }
<h3>Deliveries that never came, tables that stopped changing, cities missing</h3>
{
        _table(
            missing,
            [
                ("dataset", "Dataset"),
                ("deliveries", "Deliveries"),
                ("expected_deliveries", "Expected (front-end: days)"),
                ("timeliness", "Timeliness"),
                ("coverage", "Prefectures covered"),
                ("completeness", "Completeness"),
            ],
        )
    }
<h3>Prefectures with the lowest index (records carrying a division)</h3>
{
        _table(
            prefectures,
            [
                ("dataset", "Dataset"),
                ("prefecture_code", "Prefecture"),
                ("records", "Records"),
                ("completeness", "Required values present"),
                ("identifier_validity", "Identifiers valid"),
                ("corrections", "Corrections"),
                ("quality_index", "Index"),
                ("stars", "Stars"),
            ],
        )
    }
{certificates_section}
<h3>Correction requests awaiting an answer (纠错)</h3>
{
        _table(
            waiting,
            [
                ("department", "Department"),
                ("dataset", "Dataset"),
                ("request_type", "Problem"),
                ("requests", "Requests"),
                ("oldest", "Oldest raised"),
            ],
        )
    }
<p class="note">Formula: index = 20 × (normativity + completeness + availability +
timeliness + corrections); ★★★★★ ≥ 90, ★★★★ ≥ 80, ★★★ ≥ 70, ★★ ≥ 60. Details: docs/quality-scorecard.md.</p>
</body></html>
"""  # noqa: E501
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"quality-{quarter}.html"
    path.write_text(document, "utf-8")
    logger.info("report written to %s", path)
    return path
