"""The resource catalogue (政务数据资源目录, interface standard 6.3) with grading (分级).

Every resource the platform holds or publishes: each source dataset (``datasets.yaml``),
each repository table (schema ``mdm``), each analyst view, each open resource
(``catalogue.yaml``; meanings and types of repository and open fields from their dbt
contracts), and each share (a live grant, read from the database: :mod:`mdm.catalogue.store`).
Pure: reads files only. docs/adr/0023.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mdm.registry import datasets, repositories

logger = logging.getLogger(__name__)

GRADES = {1: "公开", 2: "内部", 3: "敏感", 4: "个人敏感"}
PERSONAL_SENSITIVE = 4
SHARE_TYPES = ("无条件共享", "有条件共享", "不予共享")
OPEN_TYPES = ("无条件开放", "有条件开放", "不予开放")
NOT_OPEN = "不予开放"
KINDS = ("source", "repository", "analyst", "share", "open")
_CYCLES = {"daily": "每日", "weekly": "每周", "monthly": "每月", "continuous": "实时"}


@dataclass(frozen=True)
class Field:
    name: str
    meaning: str
    type: str
    grade: int


@dataclass(frozen=True)
class Resource:
    code: str  # resource code (资源代码)
    key: str  # the platform's name: dataset code, table, view, grant's view, open resource
    kind: str  # source | repository | analyst | share | open
    name: str
    provider: str
    maintainer: str
    summary: str
    share_type: str
    open_type: str
    update_cycle: str
    relation: str  # schema.table where it lives ('' for a source: raw.<code> is its table)
    fields: tuple[Field, ...]
    extra: dict[str, Any] = field(default_factory=dict)  # domain, of, licence, shared_as

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.key} has no field {name!r}")

    @property
    def max_grade(self) -> int:
        return max((f.grade for f in self.fields), default=1)


@functools.cache
def document() -> dict[str, Any]:
    text = (resources.files("mdm.registry") / "catalogue.yaml").read_text("utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def _dbt_dir() -> Path:
    from mdm.settings import DBT_PROJECT_DIR

    return DBT_PROJECT_DIR


@functools.cache
def contract_columns(yml: str) -> dict[str, dict[str, tuple[str, str]]]:
    """Model -> column -> (meaning, type) from a dbt models file (relative to the project)."""
    loaded = yaml.safe_load((_dbt_dir() / yml).read_text("utf-8"))
    return {
        model["name"]: {
            c["name"]: (" ".join(str(c.get("description") or "").split()), c.get("data_type") or "")
            for c in model.get("columns", [])
        }
        for model in loaded.get("models", [])
    }


def graded(grades: dict[Any, list[str]]) -> dict[str, int]:
    """``{4: [a, b], 2: [c]}`` -> ``{a: 4, b: 4, c: 2}``; a field listed twice is an error."""
    result: dict[str, int] = {}
    for grade, names in grades.items():
        if int(grade) not in GRADES:
            raise ValueError(f"grade {grade} is not one of {sorted(GRADES)}")
        for name in names:
            if name in result:
                raise ValueError(f"field {name} is graded twice")
            result[name] = int(grade)
    return result


def _grade_all(key: str, names: list[str], grades: dict[str, int]) -> dict[str, int]:
    missing = [n for n in names if n not in grades]
    unknown = [n for n in grades if n not in names]
    if missing or unknown:
        raise ValueError(f"{key}: fields without a grade {missing}, graded but unknown {unknown}")
    return grades


def _source_type(column: Any) -> str:
    if column.sql_type:
        return str(column.sql_type)
    return {
        "id_number": "string(18)",
        "uscc": "string(18)",
        "date_iso": "date(YYYY-MM-DD)",
        "date_yyyymmdd": "date(YYYYMMDD)",
        "timestamp": "datetime",
        "timestamp_iso": "datetime",
        "integer": "integer",
        "division": "string(6)",
        "code": "code",
        "phone": "string",
    }.get(column.format or "", "string")


def maintainer_of(department: str) -> str:
    maintainers: dict[str, str] = document()["maintainers"]
    if department not in maintainers:
        raise ValueError(f"no maintainer (指定专人) for department {department}")
    return maintainers[department]


def source_resources() -> list[Resource]:
    graded_sources = document()["sources"]
    result = []
    for code, spec in datasets().items():
        names = [c.name for c in spec.columns]
        grades = _grade_all(code, names, graded(graded_sources.get(code, {})))
        cycle = spec.cadence.get("delta") or spec.cadence.get("pull") or spec.cadence["full"]
        result.append(
            Resource(
                code=spec.catalogue["resource_code"],
                key=code,
                kind="source",
                name=spec.title,
                provider=spec.provider,
                maintainer=maintainer_of(spec.department),
                summary=spec.catalogue["summary"],
                share_type=spec.catalogue["share_type"],
                open_type=spec.catalogue["open_type"],
                update_cycle=spec.catalogue.get("update_cycle") or _CYCLES.get(cycle, cycle),
                relation=f"raw.{code}",
                fields=tuple(
                    Field(c.name, c.meaning, _source_type(c), grades[c.name]) for c in spec.columns
                ),
                extra={"department": spec.department},
            )
        )
    return result


def _platform() -> tuple[str, str]:
    platform = document()["platform"]
    return platform["provider"], maintainer_of(platform["department"])


def repository_resources() -> list[Resource]:
    provider, maintainer = _platform()
    contracts = contract_columns("models/marts/repositories/_repositories__models.yml")
    result = []
    for table, spec in document()["repositories"].items():
        if "fields" in spec:  # not a contract model (a seed): described in the YAML
            columns = {n: (f["meaning"], f["type"]) for n, f in spec["fields"].items()}
            grades = {n: int(f["grade"]) for n, f in spec["fields"].items()}
        else:
            columns = contracts[table]
            grades = _grade_all(f"mdm.{table}", list(columns), graded(spec["grades"]))
        registered = repositories().get(table, {})
        result.append(
            Resource(
                code=spec["resource_code"],
                key=table,
                kind="repository",
                name=spec.get("name") or registered["title"],
                provider=provider,
                maintainer=maintainer,
                summary=spec["summary"],
                share_type=registered.get("share_type") or spec["share_type"],
                open_type=spec["open_type"],
                update_cycle=spec["update_cycle"],
                relation=f"mdm.{table}",
                fields=tuple(Field(n, m, t, grades[n]) for n, (m, t) in columns.items()),
            )
        )
    return result


def analyst_resources() -> list[Resource]:
    provider, maintainer = _platform()
    repos = {r.key: r for r in repository_resources()}
    result = []
    for view, spec in document()["analyst"].items():
        base = repos[spec["of"]]
        fields = []
        for name, described in spec["fields"].items():
            if isinstance(described, dict):
                fields.append(
                    Field(name, described["meaning"], described["type"], described["grade"])
                )
            else:  # the repository's column, shown as it is
                column = base.field(name)
                fields.append(Field(name, column.meaning, column.type, int(described)))
        result.append(
            Resource(
                code=spec["resource_code"],
                key=view,
                kind="analyst",
                name=spec["name"],
                provider=provider,
                maintainer=maintainer,
                summary=spec["summary"],
                share_type="不予共享",  # read by the platform's analysts, never handed out
                open_type=NOT_OPEN,
                update_cycle=base.update_cycle,
                relation=f"analyst.{view}",
                fields=tuple(fields),
                extra={"of": spec["of"]},
            )
        )
    return result


def open_resources() -> list[Resource]:
    provider, maintainer = _platform()
    contracts = contract_columns("models/open/_open__models.yml")
    result = []
    for name, spec in document()["open"].items():
        columns = contracts[f"open_{name}"]
        grades = _grade_all(f"open.{name}", list(columns), graded(spec["grades"]))
        result.append(
            Resource(
                code=spec["resource_code"],
                key=name,
                kind="open",
                name=spec["name"],
                provider=provider,
                maintainer=maintainer,
                summary=spec["summary"],
                share_type="无条件共享",
                open_type=spec["open_type"],
                update_cycle=spec["update_cycle"],
                relation=f"open.{name}",
                fields=tuple(Field(n, m, t, grades[n]) for n, (m, t) in columns.items()),
                extra={"domain": spec["domain"], "of": spec["of"], "licence": spec["licence"]},
            )
        )
    return result


def static_resources() -> list[Resource]:
    """Everything but the shares (which are grants in the database)."""
    return [*source_resources(), *repository_resources(), *analyst_resources(), *open_resources()]


def by_key(kind: str) -> dict[str, Resource]:
    return {r.key: r for r in static_resources() if r.kind == kind}


def openable(resource: Resource, catalogue: list[Resource] | None = None) -> list[str]:
    """Why an open resource may not be produced (empty: it may): a resource it is made of is
    不予开放, or a field is above grade 2."""
    everything = {(r.kind, r.key): r for r in (catalogue or static_resources())}
    problems = []
    if resource.open_type == NOT_OPEN:
        problems.append(f"{resource.key} is {NOT_OPEN}")
    for name in resource.extra.get("of", []):
        base = everything.get(("repository", name)) or everything.get(("source", name))
        if base is None:
            problems.append(f"{name} is not in the catalogue")
        elif base.open_type == NOT_OPEN:
            problems.append(f"{name} is {NOT_OPEN}")
    problems += [
        f"{resource.key}.{f.name} is grade {f.grade}" for f in resource.fields if f.grade > 2
    ]
    return problems
