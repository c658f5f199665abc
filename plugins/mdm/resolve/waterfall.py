"""A steward's picture of why records were linked: a waterfall of match weights per Splink
link (``mdm explain <id> --html FILE``), from the evidence the link's entity event keeps.

The bars start from the prior (the model's prior odds, with any term-frequency adjustment:
what the final weight has beyond the comparisons) and add each comparison's match weight;
the last bar is the pair's match weight, with a line at the link threshold. Drawn by
Vega-Lite and rendered to inline SVG (vl-convert): the page needs no script and no network.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from typing import Any


def waterfall_rows(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """The bars (step, weight, start, end) of one link's evidence (pure)."""
    weights = {k.removeprefix("mw_"): float(v) for k, v in evidence["weights"].items()}
    final = float(evidence["match_weight"])
    prior = final - sum(weights.values())
    rows: list[dict[str, Any]] = [{"step": "prior", "weight": prior, "start": 0.0, "end": prior}]
    running = prior
    for name, weight in weights.items():
        rows.append({"step": name, "weight": weight, "start": running, "end": running + weight})
        running += weight
    rows.append({"step": "match weight", "weight": final, "start": 0.0, "end": final})
    return [{**r, **{k: round(float(r[k]), 4) for k in ("weight", "start", "end")}} for r in rows]


def waterfall_spec(rows: list[dict[str, Any]], title: str, link_threshold: float) -> dict[str, Any]:
    threshold = math.log2(link_threshold / (1 - link_threshold))
    order = [r["step"] for r in rows]
    x = {"field": "step", "type": "nominal", "sort": order, "title": None,
         "axis": {"labelAngle": -30}}  # fmt: skip
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "width": max(320, 60 * len(rows)),
        "height": 260,
        "layer": [
            {
                "data": {"values": rows},
                "mark": {"type": "bar"},
                "encoding": {
                    "x": x,
                    "y": {"field": "start", "type": "quantitative", "title": "match weight"},
                    "y2": {"field": "end"},
                    "color": {
                        "condition": {"test": "datum.weight < 0", "value": "#c0392b"},
                        "value": "#2e86c1",
                    },
                },
            },
            {
                "data": {"values": rows},
                "mark": {"type": "text", "dy": -6},
                "encoding": {
                    "x": x,
                    "y": {"field": "end", "type": "quantitative"},
                    "text": {"field": "weight", "type": "quantitative", "format": "+.1f"},
                },
            },
            {
                "data": {"values": [{"threshold": threshold}]},
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#555"},
                "encoding": {"y": {"field": "threshold", "type": "quantitative"}},
            },
        ],
    }


def svg(spec: dict[str, Any]) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)


def _probability(value: Any) -> str:
    return "" if value is None else f"{float(value):.4f}"


def explain_page(result: dict[str, Any], link_threshold: float) -> str:
    """The whole page for ``mdm explain --html``: the entity's records and a waterfall per
    Splink link among its events (``link_threshold``: the entity's model's)."""
    entity = html.escape(result["entity_id"])
    records = "".join(
        f"<tr><td>{html.escape(r['dataset'])}</td><td>{html.escape(r['record_key'])}</td>"
        f"<td>{html.escape(r['match_method'] or '')}</td>"
        f"<td>{_probability(r['match_probability'])}</td></tr>"
        for r in result["records"]
    )
    pictures = []
    for event in result["events"]:
        evidence = event.get("evidence") or {}
        if not evidence.get("weights") or "match_weight" not in evidence:
            continue
        when = event["occurred_at"]
        when = when.strftime("%Y-%m-%d %H:%M") if isinstance(when, dt.datetime) else str(when)
        title = (
            f"{event['dataset']}/{event['record_key']} {event['event']} "
            f"p={float(evidence.get('match_probability', 0)):.4f} ({when})"
        )
        pictures.append(
            f"<h3>{html.escape(title)}</h3>"
            f"<p>model file <code>{html.escape(str(evidence.get('model_file', '?')))}</code>; "
            f"dashed line: the link threshold ({link_threshold})</p>"
            + svg(waterfall_spec(waterfall_rows(evidence), title, link_threshold))
        )
    body = "".join(pictures) or "<p>No link of this entity was decided by Splink.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{entity}: why these records</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:.2em .8em;text-align:left}}
</style></head><body>
<h1>{entity}</h1>
<h2>Source records</h2>
<table><tr><th>dataset</th><th>record</th><th>how linked</th><th>probability</th></tr>
{records}</table>
<h2>Splink links: match weights</h2>
{body}
</body></html>
"""
