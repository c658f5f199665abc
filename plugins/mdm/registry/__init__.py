"""The source registry: the ten department datasets, read from ``datasets.yaml``."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str
    required: bool = False
    format: str | None = None
    codes: Any = None
    sql_type: str | None = None
    delta_only: bool = False


@dataclass(frozen=True)
class Dataset:
    code: str
    title: str
    provider: str
    department: str
    domain: str  # person | organisation
    channel: str  # file | frontend_db
    cadence: dict[str, str]
    record_key: tuple[str, ...]
    roles: tuple[str, ...]
    columns: tuple[Column, ...]
    catalogue: dict[str, str]
    format: str | None = None
    encoding: str | None = None
    table: str | None = None
    record_key_separator: str = "_"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def file_columns(self, mode: str) -> list[str]:
        """Header of a file delivery in ``mode`` (``full`` or ``delta``)."""
        return [c.name for c in self.columns if mode == "delta" or not c.delta_only]


@functools.cache
def datasets() -> dict[str, Dataset]:
    text = (resources.files("mdm.registry") / "datasets.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)["datasets"]
    result = {}
    for code, spec in raw.items():
        spec = dict(spec)
        columns = tuple(Column(**c) for c in spec.pop("columns"))
        result[code] = Dataset(
            code=code,
            columns=columns,
            record_key=tuple(spec.pop("record_key")),
            roles=tuple(spec.pop("roles")),
            **spec,
        )
    return result


def dataset(code: str) -> Dataset:
    try:
        return datasets()[code]
    except KeyError:
        raise KeyError(f"unknown dataset {code!r}; known: {sorted(datasets())}") from None
