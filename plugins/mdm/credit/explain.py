"""``mdm credit explain``: an enterprise's profile, score and grade, line by line."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg.rows import dict_row

from mdm.credit.scopes import SCOPES

logger = logging.getLogger(__name__)


def explain(conn: psycopg.Connection, code: str) -> dict[str, Any] | None:
    """The profile, evaluation and rule lines of the legal person with credit code (or
    legal person id) ``code``; None when there is none."""
    with conn.cursor(row_factory=dict_row) as cur:
        profile = cur.execute(
            "select * from credit.enterprise_profile where uscc = %s or legal_person_id = %s "
            "order by legal_person_id limit 1",
            (code.strip().upper(), code.strip()),
        ).fetchone()
        if profile is None:
            return None
        evaluation = cur.execute(
            "select score, grade, rules_version, rules_applied, uses_stale_source "
            "from credit.evaluation where legal_person_id = %s",
            (profile["legal_person_id"],),
        ).fetchone()
        lines = cur.execute(
            """select rule_id, fact, value, source, source_stale, applies, operator, threshold,
                      points, reason
               from credit.evaluation_line where legal_person_id = %s order by rule_id""",
            (profile["legal_person_id"],),
        ).fetchall()
        base = cur.execute(
            "select max(base_score) from credit.credit_grades where rules_version = %s",
            (evaluation["rules_version"] if evaluation else None,),
        ).fetchone()
    return {
        "profile": profile,
        "evaluation": evaluation,
        "base_score": base["max"] if base else None,
        "lines": lines,
    }


def format_explanation(explained: dict[str, Any]) -> list[str]:
    """Text lines for a person: the facts by scope (with source and as-of date), then every
    rule: applied (its points) or not, and why; stale sources are marked."""
    profile, evaluation = explained["profile"], explained["evaluation"] or {}
    stale = set(profile.get("stale_sources") or [])
    out = [
        f"{profile['name']} ({profile['uscc'] or 'no credit code'}, {profile['legal_person_id']})"
        f", profile as of {profile['as_of_date']}",
    ]
    for scope, columns in SCOPES.items():
        source_column = next(c for c in columns if c.endswith("_source"))
        as_of = next((c for c in columns if c.endswith("_as_of")), None)
        source = profile.get(source_column)
        flag = "  STALE: past its promised cycle" if source in stale else ""
        out.append(f"[{scope}] from {source}, as of {profile.get(as_of) if as_of else '?'}{flag}")
        out += [f"    {c} = {profile.get(c)}" for c in columns if c != source_column and c != as_of]
    out.append(
        f"score {evaluation.get('score')} = base {explained.get('base_score')} + the rules that "
        f"apply; grade {evaluation.get('grade')} (rules {evaluation.get('rules_version')})"
    )
    for line in explained["lines"]:
        mark = f"{line['points']:+d}" if line["applies"] else "  ."
        value = "no data" if line["value"] is None else line["value"]
        stale_note = " (stale source)" if line["source_stale"] else ""
        out.append(
            f"  {mark:>4} {line['rule_id']} {line['fact']} {line['operator']} "
            f"{line['threshold']}: {value}{stale_note} - {line['reason']}"
        )
    return out
