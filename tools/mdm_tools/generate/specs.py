"""The generator's own description of the nine v2 datasets (interface standard 4.11-4.19).

The first ten datasets are written from the registry (``mdm.registry``); these nine are
written from the standard's text in ``v2_datasets.yaml`` beside this module, so the
generator does not depend on how the registry describes them (a unit test compares both
once the registry has them).
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
from typing import Any

import yaml

from mdm.registry import Column, Dataset, datasets

logger = logging.getLogger(__name__)


@functools.cache
def _document() -> dict[str, Any]:
    text = (resources.files("mdm_tools.generate") / "v2_datasets.yaml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


V2_DATASETS = tuple(_document())


def _column(text: str) -> Column:
    name, _, sql_type = text.partition(":")
    return Column(
        name=name.rstrip("*"),
        meaning=name.rstrip("*"),
        sql_type=sql_type or None,
        delta_only=name.endswith("*"),
    )


@functools.cache
def _spec(code: str) -> Dataset:
    described = _document()[code]
    return Dataset(
        code=code,
        title=code,
        provider=described["provider"],
        department=described["provider"],
        domain=described.get("domain", "organisation"),
        channel=described["channel"],
        cadence={},
        record_key=tuple(described["record_key"]),
        roles=tuple(described.get("roles", ())),
        columns=tuple(_column(c) for c in described["columns"].split()),
        catalogue={},
        format=described.get("format"),
        encoding=described.get("encoding"),
        table=code if described["channel"] == "frontend_db" else None,
    )


def spec(code: str) -> Dataset:
    """How the generator writes ``code``: its own description for the v2 datasets, the
    registry's for the first ten."""
    if code in V2_DATASETS:
        return _spec(code)
    return datasets()[code]
