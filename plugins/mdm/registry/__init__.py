"""The source registry: the nineteen department datasets, read from ``datasets.yaml``."""

from __future__ import annotations

import functools
import logging
import re
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
    separator: str | None = None  # the value lists several codes (e.g. CFLB ``罚款;警告``)


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
def _document() -> dict[str, Any]:
    text = (resources.files("mdm.registry") / "datasets.yaml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def repositories() -> dict[str, dict[str, str]]:
    """The repositories as catalogue resources: title, share type, relation."""
    return {name: dict(spec) for name, spec in _document().get("repositories", {}).items()}


def code_lists() -> dict[str, dict[str, str]]:
    """Named code lists (``sex_gb2261``, ``ethnicity_gb3304``, ...): code -> meaning."""
    from mdm.standardize.values import seed_rows

    lists = {
        name: {str(k): str(v) for k, v in codes.items()}
        for name, codes in _document()["code_lists"].items()
        if "values_of" not in codes and "seed" not in codes
    }
    for name, codes in _document()["code_lists"].items():
        if "seed" in codes:  # a list a standardisation rule uses: its seed (code, name)
            lists[name] = {row["code"]: row["name"] for row in seed_rows(codes["seed"])}
    for name, codes in _document()["code_lists"].items():
        if "values_of" in codes:  # a list whose codes are another list's meanings
            lists[name] = {v: v for v in lists[codes["values_of"]].values()}
    return lists


def allowed_codes(column: Column) -> list[str] | None:
    """The codes a column may hold, or None when it is not a coded column."""
    if column.codes is None:
        return None
    if isinstance(column.codes, str):
        return sorted(code_lists()[column.codes])
    return sorted(str(k) for k in column.codes)


def code_set_regex(codes: list[str], separator: str) -> str:
    """A value of one or more ``codes`` joined by ``separator`` (spaces around allowed), for
    a column with a ``separator`` (``罚款;警告``)."""
    one = "(" + "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True)) + ")"
    sep = r"\s*" + re.escape(separator) + r"\s*"
    return rf"^\s*{one}({sep}{one})*\s*$"


@functools.cache
def datasets() -> dict[str, Dataset]:
    raw = _document()["datasets"]
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
