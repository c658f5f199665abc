"""Front-end pulls: unique increasing pull ids, a mark capped at the source clock, settings."""

from __future__ import annotations

import datetime as dt

import pytest

from mdm.ingest.frontend import PullPolicy, next_mark, next_pull_id
from mdm.settings import load_settings

pytestmark = pytest.mark.unit

NOON = dt.datetime(2026, 11, 27, 12, 0)  # noqa: DTZ001 - GXSJ has no zone


@pytest.mark.parametrize(
    ("candidate", "last", "expected"),
    [
        ("pull-20261127T101500", None, "pull-20261127T101500"),
        ("pull-20261127T101501", "pull-20261127T101500", "pull-20261127T101501"),
        ("pull-20261127T101500", "pull-20261127T101500", "pull-20261127T101500.000001"),
        ("pull-20261127T101500", "pull-20261127T101500.000001", "pull-20261127T101500.000002"),
        ("pull-20261126T090000", "pull-20261127T101500", "pull-20261127T101500.000001"),
        ("pull-20261127T101501", "pull-20261127T101500.000009", "pull-20261127T101501"),
    ],
)
def test_pull_ids_are_unique_and_sort_after_every_earlier_pull(candidate, last, expected):
    assert next_pull_id(candidate, last) == expected
    assert last is None or next_pull_id(candidate, last) > last


@pytest.mark.parametrize(
    ("mark", "largest", "expected"),
    [
        (None, None, None),  # only rows without GXSJ so far
        (None, NOON - dt.timedelta(hours=1), NOON - dt.timedelta(hours=1)),
        (NOON - dt.timedelta(hours=1), None, NOON - dt.timedelta(hours=1)),
        (NOON - dt.timedelta(hours=2), NOON - dt.timedelta(hours=3), NOON - dt.timedelta(hours=2)),
        (NOON - dt.timedelta(hours=2), NOON + dt.timedelta(days=300), NOON),  # a future stamp
        (NOON + dt.timedelta(days=300), NOON - dt.timedelta(hours=1), NOON),  # an old bad mark
    ],
)
def test_the_mark_never_passes_the_source_clock(mark, largest, expected):
    assert next_mark(mark, largest, cap=NOON) == expected


def test_pull_policy_from_the_environment():
    assert PullPolicy.from_settings(load_settings({})) == PullPolicy()
    policy = PullPolicy.from_settings(
        load_settings(
            {
                "MDM_FRONTEND_OVERLAP_MINUTES": "30",
                "MDM_FRONTEND_MARK_LAG_MINUTES": "0.5",
                "MDM_FRONTEND_RECONCILE_HOURS": "0",
            }
        )
    )
    assert policy == PullPolicy(dt.timedelta(minutes=30), dt.timedelta(seconds=30), None)
    with pytest.raises(ValueError, match="MDM_FRONTEND_OVERLAP_MINUTES='ten'"):
        load_settings({"MDM_FRONTEND_OVERLAP_MINUTES": "ten"})
    with pytest.raises(ValueError, match="MDM_FRONTEND_RECONCILE_HOURS='-1'"):
        load_settings({"MDM_FRONTEND_RECONCILE_HOURS": "-1"})
