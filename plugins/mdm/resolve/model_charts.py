"""A trained Splink model's pictures, written beside its file by ``mdm resolve train``.

Folder ``models/<model file stem>/`` (git-ignored: made again by training): Splink's own
charts as self-contained HTML (the chart libraries inlined, so they open from the file
system with no network): the match weight of every comparison level, the m and u
probabilities, and the threshold-selection tool computed from the labels the model was
trained on (``id_label``: the identifiers the deterministic step trusts). ``index.html``
states the link threshold in code and what the labels say of it: precision, recall and F1
at that threshold, next to the best F1 the labels allow, so the threshold's justification is
the chart and its numbers, not a comment.
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

CHARTS = {
    "match_weights.html": "match weight of each comparison level",
    "m_u_parameters.html": "m and u probabilities of each comparison level",
    "threshold_selection.html": "precision, recall and F1 by threshold, from the labels",
}


def threshold_row(rows: Sequence[dict[str, Any]], threshold: float) -> dict[str, Any] | None:
    """Of Splink's truth table (a row per score step: the labelled pairs scored at or above
    it), the row that counts the pairs linking at ``threshold``: the lowest step at or above
    it (scores only take the steps' values). None when no labelled pair scores that high."""
    at_or_above = [r for r in rows if r["truth_threshold"] >= _weight(threshold)]
    return min(at_or_above, key=lambda r: r["truth_threshold"]) if at_or_above else None


def _weight(probability: float) -> float:
    """A match probability as Splink's truth table keys it: the match weight (log2 odds)."""
    return math.log2(probability / (1 - probability))


def justification(rows: Sequence[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """Precision, recall and F1 at ``threshold`` and at the threshold of the best F1."""

    def measures(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "match_probability": round(float(row["match_probability"]), 6),
            "precision": round(float(row["precision"]), 6),
            "recall": round(float(row["recall"]), 6),
            "f1": round(float(row["f1"]), 6),
        }

    row = threshold_row(rows, threshold)
    nothing_links = {"match_probability": threshold, "precision": 1.0, "recall": 0.0, "f1": 0.0}
    return {
        "threshold": threshold,
        "at_threshold": measures(row) if row else nothing_links,
        "best_f1": measures(max(rows, key=lambda r: (r["f1"], r["truth_threshold"]))),
        "labelled_pairs": int(rows[0]["p"]) if rows else 0,
    }


def index_page(model: ModuleType, file_name: str, records: int, found: dict[str, Any]) -> str:
    at, best = found["at_threshold"], found["best_f1"]
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{m['match_probability']}</td>"
        f"<td>{m['precision']:.4f}</td><td>{m['recall']:.4f}</td><td>{m['f1']:.4f}</td></tr>"
        for label, m in (
            (f"LINK_THRESHOLD in code ({found['threshold']})", at),
            ("best F1 on the labels", best),
        )
    )
    links = "".join(
        f'<li><a href="{name}">{html.escape(what)}</a></li>' for name, what in CHARTS.items()
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{model.MODEL_VERSION}: Splink model</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}td,th{{padding:.2em .8em;
text-align:right}}td:first-child{{text-align:left}}</style></head><body>
<h1>Splink model {html.escape(model.MODEL_VERSION)}</h1>
<p>File <code>{html.escape(file_name)}</code>, trained on {records:,} records; labels: the
identifiers the deterministic step trusts ({found["labelled_pairs"]:,} labelled matching
pairs).</p>
<h2>Why the link threshold is where it is</h2>
<table><tr><th>threshold</th><th>match probability</th><th>precision</th><th>recall</th>
<th>F1</th></tr>{rows}</table>
<p>Pairs at or above the threshold link; below it and above
{model.PREDICT_THRESHOLD} they go to the stewards' review. The threshold favours precision
(a wrong merge joins two people's records) over the recall the best F1 would give.</p>
<h2>Charts</h2><ul>{links}</ul>
</body></html>
"""


def write_charts(linker: Any, model: ModuleType, path: Path, records: int) -> Path:
    """Write the charts of the model trained in ``linker`` into ``path``'s folder; return
    ``index.html``."""
    folder = path.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    charts = {
        "match_weights.html": linker.visualisations.match_weights_chart(),
        "m_u_parameters.html": linker.visualisations.m_u_parameters_chart(),
        "threshold_selection.html": linker.evaluation.accuracy_analysis_from_labels_column(
            "id_label", output_type="threshold_selection", add_metrics=["f1"]
        ),
    }
    for name, chart in charts.items():
        (folder / name).write_text(chart.to_html(inline=True), encoding="utf-8")
    table = linker.evaluation.accuracy_analysis_from_labels_column(
        "id_label", output_type="table", add_metrics=["f1"]
    ).as_record_list()
    found = justification(table, model.LINK_THRESHOLD)
    index = folder / "index.html"
    index.write_text(index_page(model, path.name, records, found), encoding="utf-8")
    logger.info("charts of %s: %s (%s)", path.name, index, found["at_threshold"])
    write_models_index(folder.parent)
    return index


def write_models_index(models_dir: Path) -> Path:
    """``models/index.html``: per model version the newest file with charts (the one in use
    once trained), linking its charts' index; the Splink page of the Airflow UI (mdm.views)."""
    newest: dict[str, Path] = {}
    for folder in sorted(p for p in models_dir.iterdir() if (p / "index.html").is_file()):
        version = folder.name.rsplit("-", 2)[0]  # person-v2-<trained at>-<hash>
        newest[version] = folder  # sorted by name: the last is the newest
    items = "".join(
        f'<li><a href="{html.escape(f.name)}/index.html">{html.escape(v)}</a>: '
        f"<code>{html.escape(f.name)}.json</code></li>"
        for v, f in sorted(newest.items())
    )
    index = models_dir / "index.html"
    index.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Splink models'
        "</title></head><body><h1>Splink models</h1><ul>" + items + "</ul></body></html>\n",
        encoding="utf-8",
    )
    return index
