"""The certificate repository against the generator's truth (issue 20, ADR 0018), the
``certificates`` section of ``mdm evaluate``.

``truth/certificates.csv`` says per certificate its business record (the holder's record
key), its gap and whether it carries a ``ywlsh``; per certificate never aggregated a row
without ``zzbs``. Measured:

- matching, per group (``with_ywlsh``; ``without_ywlsh``, orphans included): precision (of
  the certificates matched, those matched to their own business record) and recall (of the
  certificates that have one, those matched to it); orphans kept unmatched; certificates
  aggregated twice recognised as one (the same pair);
- the structured aggregation rate per type and prefecture (and per type in the province,
  450000): expected and structured as the platform counts them against the truth's
  (expected: one per business certificate; structured: no gap).
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

PROVINCE = "450000"
GROUPS = ("with_ywlsh", "without_ywlsh")


def read_certificates(truth_dir: Path) -> list[dict[str, str]]:
    """The rows of ``truth/certificates.csv``; empty for an older truth."""
    path = truth_dir / "certificates.csv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def true_rates(truth: list[dict[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(type, prefecture) -> (expected, structured) of the truth; prefecture 450000 is the
    type in the whole province. A certificate aggregated twice counts once, an orphan never."""
    expected: Counter[tuple[str, str]] = Counter()
    structured: Counter[tuple[str, str]] = Counter()
    for row in truth:
        if not row["business_key"] or row["duplicate_of"]:
            continue
        for place in (row["city"], PROVINCE):
            expected[(row["zzlxdm"], place)] += 1
            structured[(row["zzlxdm"], place)] += row["gap"] == ""
    return {cell: (expected[cell], structured[cell]) for cell in expected}


Outcome = tuple[str | None, bool, str | None]  # prefecture, structured, reason


def outcome_differences(
    truth: list[dict[str, str]], outcomes: dict[tuple[str, str], Outcome]
) -> dict[str, Any]:
    """Per expected certificate (type, holder's record key), where the platform's outcome
    differs from the truth's, by class: expected by one side only, another prefecture,
    structured against a planted gap, not structured without one (by the platform's reason).
    A cell of the rate differs from the truth only through these."""
    classes: Counter[str] = Counter()
    examples: list[list[Any]] = []
    truths = {
        (r["zzlxdm"], r["holder_record"]): r
        for r in truth
        if r["business_key"] and not r["duplicate_of"]
    }
    for key in sorted(truths.keys() | outcomes.keys()):
        row, found = truths.get(key), outcomes.get(key)
        if row is None or found is None:
            kind = "expected_by_platform_only" if row is None else "expected_by_truth_only"
        elif found[0] != row["city"]:
            kind = "prefecture"
        elif found[1] and row["gap"]:
            kind = f"structured_despite_{row['gap']}"
        elif not found[1] and not row["gap"]:
            kind = f"not_structured: {(found[2] or '').split(' (')[0]}"
        else:
            continue
        classes[kind] += 1
        if len(examples) < 30:
            examples.append([*key, row and row["city"], row and row["gap"], found])
    return {"classes": dict(classes), "examples": examples}


def certificate_accuracy(
    truth: list[dict[str, str]],
    matched: dict[str, tuple[str | None, str | None]],
    rates: dict[tuple[str, str], tuple[int, int]],
    outcomes: dict[tuple[str, str], Outcome] | None = None,
) -> dict[str, Any]:
    """Matching and rates against the truth. ``matched``: zzbs -> (the holder's business
    record key the platform matched it to or None, the certificate it duplicates or None);
    ``rates``: (type, prefecture) -> (expected, structured) as the platform counts them;
    ``outcomes``: per expected certificate its prefecture, structured and reason (the
    differences from the truth, by class)."""
    groups: dict[str, Counter[str]] = {group: Counter() for group in GROUPS}
    orphans: Counter[str] = Counter()
    for row in truth:
        if not row["zzbs"]:
            continue
        orphan = row["gap"] == "orphan"
        group = "with_ywlsh" if row["ywlsh_missing"] == "0" and not orphan else "without_ywlsh"
        found = matched.get(row["zzbs"], (None, None))[0]
        counts = groups[group]
        counts["certificates"] += 1
        counts["true"] += not orphan
        counts["matched"] += found is not None
        counts["right"] += found is not None and found == row["holder_record"]
        if orphan:
            orphans["true"] += 1
            orphans["kept_unmatched"] += found is None
    matching = {
        group: {
            **counts,
            "precision": round(counts["right"] / counts["matched"], 6)
            if counts["matched"]
            else 1.0,
            "recall": round(counts["right"] / counts["true"], 6) if counts["true"] else 1.0,
        }
        for group, counts in groups.items()
    }
    true_pairs = {frozenset((r["zzbs"], r["duplicate_of"])) for r in truth if r["duplicate_of"]}
    found_pairs = {frozenset((k, d)) for k, (_, d) in matched.items() if d}
    expected_rates = true_rates(truth)
    differences = sorted(
        (cell, rates.get(cell), true)
        for cell, true in expected_rates.items()
        if rates.get(cell) != true
    ) + sorted((cell, found, None) for cell, found in rates.items() if cell not in expected_rates)
    return {
        **matching,
        "outcomes": outcome_differences(truth, outcomes or {}) if outcomes is not None else {},
        "orphans": dict(orphans),
        "duplicates": {
            "true": len(true_pairs),
            "found": len(found_pairs),
            "recognised": len(true_pairs & found_pairs),
        },
        "rates": {
            "cells": len(expected_rates),
            "equal": len(expected_rates) - sum(1 for d in differences if d[2] is not None),
            "differences": [list(d) for d in differences[:20]],
            "by_type": {
                certificate_type: {
                    "rate": round(s / e, 4) if e else None,
                    "true_rate": round(ts / te, 4) if te else None,
                }
                for (certificate_type, place), (te, ts) in sorted(expected_rates.items())
                if place == PROVINCE
                for e, s in [rates.get((certificate_type, place), (0, 0))]
            },
        },
    }


def predicted_certificates(
    conn: psycopg.Connection,
) -> tuple[
    dict[str, tuple[str | None, str | None]],
    dict[tuple[str, str], tuple[int, int]],
    dict[tuple[str, str], Outcome] | None,
]:
    """What the platform says: per published certificate its business record and the one it
    duplicates (``mdm.certificate``), per (type, prefecture) expected and structured
    (``quality.quality_certificate_rate`` of the latest quarter, else the build's outcome),
    and per expected certificate its outcome (``int_certificate_outcome``). Empty before the
    first publish of certificates."""
    if conn.execute("select to_regclass('mdm.certificate')").fetchone() == (None,):
        return {}, {}, None
    matched = {
        key: (record, duplicate)
        for key, record, duplicate in conn.execute(
            "select certificate_id, business_record_key, duplicate_of from mdm.certificate"
        )
    }
    if conn.execute("select to_regclass('quality.quality_certificate_rate')").fetchone() != (None,):
        query = """select certificate_type, prefecture_code, expected, structured
                   from quality.quality_certificate_rate
                   where quarter = (select max(quarter) from quality.quality_certificate_rate)"""
    else:
        query = """select certificate_type, place, count(*), count(*) filter (where is_structured)
                   from intermediate.int_certificate_outcome,
                        unnest(array[coalesce(prefecture_code, 'unknown'), '450000']) as place
                   group by 1, 2"""
    rates = {(t, p): (int(e), int(s)) for t, p, e, s in conn.execute(query)}
    if conn.execute("select to_regclass('intermediate.int_certificate_outcome')").fetchone() == (
        None,
    ):
        return matched, rates, None
    outcomes = {
        (certificate_type, holder): (prefecture, bool(structured), reason)
        for certificate_type, holder, prefecture, structured, reason in conn.execute(
            """select certificate_type, holder_record_key, coalesce(prefecture_code, 'unknown'),
                      is_structured, reason
               from intermediate.int_certificate_outcome"""
        )
    }
    return matched, rates, outcomes
