"""Decode and parse one delivered file into an Arrow table of text values.

Delivery-level faults raise :class:`DeliveryRejectedError` (the caller rejects
the whole delivery). Row-level faults put the row into ``quarantined`` with
its line and raw text. For every file that is not rejected,
``records == table.num_rows + len(quarantined)``.

Row-level checks cover the values a row cannot be placed without: the record
key, ``GXSJ`` (when it happened) and, in deltas, ``CZBS`` (what happened). Other
defects (a bad ID number, a malformed date) are data: they are loaded as
delivered and standardised or flagged downstream.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mdm.ingest.errors import DeliveryRejectedError
from mdm.registry import Dataset

logger = logging.getLogger(__name__)

# YYYYMMDDHHMMSS, or YYYY-MM-DD HH:MM:SS (also with T, fractions, offset), spaces around allowed.
GXSJ_PATTERN = (
    r"^\s*(\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])[0-5]\d[0-5]\d"
    r"|\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d+)?([+-]\d{2}:?\d{2})?)\s*$"
)
OPERATIONS = ("I", "U", "D")


@dataclass
class QuarantinedRow:
    file: str
    line: int
    reason_code: str
    reason: str
    raw_text: str | None


@dataclass
class ParsedFile:
    name: str
    # Raw data columns (lower case), _line, and _operation for deltas. The file name and a
    # full delivery's operation (F) are constants: the batch table supplies them as defaults.
    table: pa.Table
    quarantined: list[QuarantinedRow]
    records: int
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    # The file's own column order (raw names), and whether any value is quoted: a clean file
    # without quotes can be COPYed as delivered (see mdm.ingest.files, the fast path).
    header_columns: list[str] = field(default_factory=list)
    quoted: bool = True

    @property
    def copyable_as_delivered(self) -> bool:
        return not (self.quarantined or self.extra_columns or self.quoted)


def identity_columns(spec: Dataset, mode: str) -> list[str]:
    """Registry column names a row cannot be loaded without."""
    names = list(spec.record_key) + ["GXSJ"]
    if mode == "delta":
        names.append("CZBS")
    return [n for n in spec.column_names if n.upper() in {x.upper() for x in names}]


def decode_checked(data: bytes, codec: str, file: str) -> bytes:
    """UTF-8 bytes of ``data`` decoded strictly from the declared encoding (BOM removed)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if codec == "gb18030" and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:  # real GB18030 Chinese text is practically never valid UTF-8
            raise DeliveryRejectedError(
                "encoding_mismatch",
                "the file is UTF-8 but the manifest declares GB18030 (decoding it as GB18030 "
                "would load garbled text)",
                file,
                action="ask the department to re-send with encoding UTF-8 in the manifest",
            )
    if codec == "utf-8":
        return data  # validated by the CSV reader (check_utf8); see _undecodable
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        _undecodable(data, codec, file)
        raise
    if codec == "gb18030":
        return text.encode("utf-8")
    return data


def _undecodable(data: bytes, codec: str, file: str) -> None:
    """Raise the rejection for the first byte of ``data`` that is not valid ``codec``."""
    try:
        data.decode(codec)
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DeliveryRejectedError(
            "undecodable",
            f"bytes {data[err.start : err.start + 4]!r} are not valid {codec.upper()}, "
            "the encoding the manifest declares",
            file,
            line,
            "ask the department to re-send with the manifest's encoding matching the file "
            "(GBK/GB18030 files must declare GB18030)",
        ) from err


def _check_complete(data: bytes, file: str) -> None:
    if data and not data.endswith(b"\n"):
        line = data.count(b"\n") + 1
        raise DeliveryRejectedError(
            "truncated_file",
            "the last line has no line end: the file was cut off while being written or sent",
            file,
            line,
        )


def _raw_line(lines: list[bytes], line: int, span: int) -> str:
    return b"\n".join(lines[line - 1 : line - 1 + span]).decode("utf-8", "replace").rstrip("\r")


def parse_csv(spec: Dataset, mode: str, file: str, data: bytes, codec: str) -> ParsedFile:
    """Parse one CSV file of a delivery (checked header, typed as text, lines kept)."""
    if not data[:4096].strip() and not data.strip():
        raise DeliveryRejectedError(
            "empty_file", "the file is empty: not even the header line", file
        )
    utf8 = decode_checked(data, codec, file)
    _check_complete(utf8, file)
    header_end = utf8.index(b"\n")
    header = next(csv.reader([utf8[:header_end].decode("utf-8").rstrip("\r")]))
    names = [h.strip().lstrip("\ufeff").upper() for h in header]
    if len(set(names)) != len(names):
        raise DeliveryRejectedError("bad_header", f"the header repeats a column: {header}", file, 1)
    expected = spec.file_columns(mode)
    required = {c.name for c in spec.columns if c.required} | set(identity_columns(spec, mode))
    missing = [c for c in expected if c not in names]
    missing_required = [c for c in missing if c in required]
    if missing_required:
        raise DeliveryRejectedError(
            "missing_required_column",
            f"required column(s) {missing_required} missing from the header (header: {header})",
            file,
            1,
        )
    extra = [h for h, n in zip(header, names, strict=True) if n not in spec.column_names]

    invalid: list[Any] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row)
        return "skip"

    column_names = [f"c{i}" for i in range(len(names))]

    # Without a quote character no value can hold a line break: a faster read, and one
    # record per line.
    quoted = b'"' in utf8

    def read(threads: bool) -> pa.Table:
        invalid.clear()
        return pacsv.read_csv(
            pa.py_buffer(utf8),
            read_options=pacsv.ReadOptions(
                column_names=column_names, skip_rows=1, use_threads=threads, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=quoted, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in column_names},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )

    try:
        table = read(threads=True)
    except pa.ArrowInvalid as err:
        if "UTF8" in str(err) or "utf8" in str(err).lower():
            _undecodable(utf8, "utf-8", file)
        raise
    if invalid:  # only a single-threaded read numbers the invalid rows
        table = read(threads=False)
    by_name = dict(zip(names, column_names, strict=True))
    lines_cache: list[list[bytes]] = []

    def lines() -> list[bytes]:
        if not lines_cache:
            lines_cache.append(utf8.split(b"\n"))
        return lines_cache[0]

    # pyarrow numbers invalid rows by record (the header is record 1); lines come from spans.
    invalid_records = [(int(row.number) - 2, 1 + row.text.count("\n")) for row in invalid]
    line_numbers, invalid_lines = _line_numbers(table, invalid_records, quoted)
    quarantined = [
        QuarantinedRow(
            file,
            line,
            "wrong_field_count",
            f"{row.actual_columns} fields, the header has {row.expected_columns}",
            row.text,
        )
        for row, line in zip(invalid, invalid_lines, strict=True)
    ]

    # Identity checks, vectorised; the first failing check names the reason.
    n = table.num_rows
    reason = np.zeros(n, dtype=np.int8)
    reasons = [("ok", "")]
    for name in identity_columns(spec, mode):
        values = pc.utf8_trim_whitespace(table[by_name[name]])
        if name == "GXSJ":
            fails = pc.invert(pc.fill_null(pc.match_substring_regex(values, GXSJ_PATTERN), False))
            reasons.append(
                ("unparseable_gxsj", "GXSJ is not a YYYYMMDDHHMMSS or YYYY-MM-DD HH:MM:SS time")
            )
        elif name == "CZBS":
            fails = pc.invert(
                pc.fill_null(pc.is_in(pc.utf8_upper(values), pa.array(OPERATIONS)), False)
            )
            reasons.append(("invalid_operation", "CZBS is not I, U or D"))
        else:
            fails = pc.fill_null(pc.equal(values, ""), True)
            reasons.append(("missing_record_key", f"record key {name} is empty"))
        mask = fails.to_numpy(zero_copy_only=False)
        reason[(reason == 0) & mask] = len(reasons) - 1
    bad = np.flatnonzero(reason)
    for i in bad:
        code, text = reasons[reason[i]]
        line = int(line_numbers[i])
        span = 1 + sum(
            str(v).count("\n") for v in table.slice(int(i), 1).to_pylist()[0].values() if v
        )
        quarantined.append(QuarantinedRow(file, line, code, text, _raw_line(lines(), line, span)))
    keep = reason == 0
    if len(bad):
        table = table.filter(pa.array(keep))
        line_numbers = line_numbers[keep]

    columns: dict[str, pa.Array] = {}
    rows = table.num_rows
    for column in spec.columns:
        if column.name in by_name:
            columns[column.name.lower()] = table[by_name[column.name]]
        else:
            columns[column.name.lower()] = pa.nulls(rows, pa.string())
    columns["_line"] = pa.array(line_numbers, pa.int32())
    if mode == "delta" and "CZBS" in by_name:
        columns["_operation"] = pc.utf8_upper(pc.utf8_trim_whitespace(table[by_name["CZBS"]]))
    quarantined.sort(key=lambda q: q.line)
    return ParsedFile(
        file,
        pa.table(columns),
        quarantined,
        records=rows + len(quarantined),
        extra_columns=extra,
        missing_columns=missing,
        header_columns=[n.lower() for n in names],
        quoted=quoted,
    )


def _line_numbers(
    table: pa.Table, invalid: list[tuple[int, int]], quoted: bool = True
) -> tuple[np.ndarray, list[int]]:
    """Physical start lines of the parsed rows and of the skipped (invalid) ones.

    ``invalid``: (0-based record index among data records, span) of each skipped
    record. Line 1 is the header; a record spans 1 + the newlines in its values.
    """
    good_spans = np.ones(table.num_rows, dtype=np.int64)
    for column in table.columns if quoted else ():
        counts = pc.fill_null(pc.count_substring(column, "\n"), 0).to_numpy(zero_copy_only=False)
        if counts.any():
            good_spans += counts
    total = table.num_rows + len(invalid)
    spans = np.ones(total, dtype=np.int64)
    is_good = np.ones(total, dtype=bool)
    for index, span in invalid:
        spans[index] = span
        is_good[index] = False
    spans[is_good] = good_spans
    starts = 2 + np.concatenate([[0], np.cumsum(spans)[:-1]]) if total else spans
    return starts[is_good], [int(starts[index]) for index, _ in invalid]


def parse_jsonl(spec: Dataset, mode: str, file: str, data: bytes, codec: str) -> ParsedFile:
    """Parse one JSONL file (one object per line; missing key and null both mean missing)."""
    utf8 = decode_checked(data, codec, file)
    _check_complete(utf8, file)
    known = {c.name.lower(): c.name for c in spec.columns}
    identity = [n.lower() for n in identity_columns(spec, mode)]
    values: dict[str, list[str | None]] = {k: [] for k in known}
    line_numbers: list[int] = []
    quarantined: list[QuarantinedRow] = []
    extra: set[str] = set()
    records = 0
    for number, raw in enumerate(utf8.split(b"\n")[:-1], start=1):
        text = raw.decode("utf-8").rstrip("\r")
        if not text.strip():
            continue
        records += 1
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            quarantined.append(QuarantinedRow(file, number, "invalid_json", str(err), text))
            continue
        if not isinstance(obj, dict):
            quarantined.append(
                QuarantinedRow(file, number, "invalid_json", "the line is not a JSON object", text)
            )
            continue
        row = {str(k).lower(): _text(v) for k, v in obj.items()}
        extra |= {k for k in row if k not in known}
        problem = _identity_problem(row, identity)
        if problem:
            quarantined.append(QuarantinedRow(file, number, problem[0], problem[1], text))
            continue
        for key in known:
            values[key].append(row.get(key))
        line_numbers.append(number)
    columns: dict[str, Any] = {k: pa.array(v, pa.string()) for k, v in values.items()}
    columns["_line"] = pa.array(line_numbers, pa.int32())
    if mode == "delta" and "czbs" in values:
        columns["_operation"] = pa.array(
            [(v or "").strip().upper() for v in values["czbs"]], pa.string()
        )
    return ParsedFile(file, pa.table(columns), quarantined, records, extra_columns=sorted(extra))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def _identity_problem(row: dict[str, str | None], identity: list[str]) -> tuple[str, str] | None:
    import re

    for key in identity:
        value = (row.get(key) or "").strip()
        if key == "gxsj":
            if not re.match(GXSJ_PATTERN, value):
                return (
                    "unparseable_gxsj",
                    "gxsj is not a YYYYMMDDHHMMSS or YYYY-MM-DD HH:MM:SS time",
                )
        elif key == "czbs":
            if value.upper() not in OPERATIONS:
                return "invalid_operation", "czbs is not I, U or D"
        elif not value:
            return "missing_record_key", f"record key {key} is empty"
    return None
