"""Check, decode and parse one delivered file, streaming, into Arrow batches of text values.

A file is read once: :func:`convert_checked` hashes the delivered bytes while it
decodes them strictly and writes them as UTF-8 to a private spool, so the bytes
checked against the manifest are the bytes loaded. The spool is then parsed in
batches (:class:`CsvReader`, :class:`JsonlReader`): memory stays at a few blocks
whatever the file's size.

Delivery-level faults raise :class:`DeliveryRejectedError` (the caller rejects
the whole delivery). Row-level faults put the row into ``quarantined`` with
its line and raw text: a line over a megabyte or holding bytes that are not the
declared encoding is one (a file whose lines mostly do not decode is in another
encoding: rejected). For every file that is not rejected,
``records == rows loaded + len(quarantined)``.

Row-level checks cover the values a row cannot be placed without: the record
key, ``GXSJ`` (when it happened) and, in deltas, ``CZBS`` (what happened); a
value a database text cannot hold (a NUL character); and a ``CZBS = D`` row in a
full delivery (a full lists the live records: a delete has no place in it). Other
defects (a bad ID number, a malformed date) are data: they are loaded as
delivered and standardised or flagged downstream.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

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
# No value of the interface standard comes near a megabyte: a longer line is a file without
# line ends or not text at all. Reads are of this size, so a line is measured across reads only.
MAX_LINE_BYTES = 1 << 20
CSV_BLOCK_BYTES = 2 * MAX_LINE_BYTES  # the longest record parsed (a line as UTF-8, or lines)
JSONL_BATCH_ROWS = 50_000

_NUL_REASON = (
    "nul_byte",
    "a value holds a NUL character (U+0000), which a database text value cannot hold",
)
_DELETE_IN_FULL = (
    "delete_in_full",
    "CZBS = D (delete) in a full delivery: a full lists the live records, so the record is "
    "left out of this full (not live) and kept here to be checked with the department",
)


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
    # The streaming load leaves it None (the rows went to the database batch by batch).
    table: pa.Table | None
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


@dataclass(frozen=True)
class FileCheck:
    """What reading a file once found out (see :func:`convert_checked`)."""

    sha256: str  # of the bytes as delivered
    size: int
    blank: bool  # nothing but white space
    quoted: bool  # a quote character occurs: values may hold line breaks
    # Lines that cannot be loaded (over MAX_LINE_BYTES, bytes not in the declared encoding),
    # by line number: the spool holds FAULT_MARKER in their place, the readers quarantine them.
    faults: dict[int, QuarantinedRow] = field(default_factory=dict)


def printable(text: str) -> str:
    """``text`` as the database can store it: a NUL character written as ``\\x00``."""
    return text.replace("\x00", "\\x00")


def identity_columns(spec: Dataset, mode: str) -> list[str]:
    """Registry column names a row cannot be loaded without."""
    names = list(spec.record_key) + ["GXSJ"]
    if mode == "delta":
        names.append("CZBS")
    return [n for n in spec.column_names if n.upper() in {x.upper() for x in names}]


# What the spool holds instead of a faulty line: one field (never a CSV row of a dataset,
# never JSON), so the readers count it as a record at its line and quarantine it.
FAULT_MARKER = b"\x00\n"
RAW_TEXT_PREFIX_BYTES = 2000  # of a line too long to keep whole in the quarantine


@dataclass
class _Converter:
    """The state of :func:`convert_checked`: complete lines are decoded and written, the
    current line's bytes wait in ``pending``; a line over the limit is read to its end
    without being kept."""

    codec: str
    file: str
    sink: IO[bytes]
    lines: int = 0  # complete lines handled
    pending: bytes = b""
    long_line: tuple[bytes, int] | None = None  # (first bytes, size so far) of a line too long
    faults: dict[int, QuarantinedRow] = field(default_factory=dict)
    first_undecodable: DeliveryRejectedError | None = None
    undecodable: int = 0
    non_ascii_lines: int = 0  # in the reads that held an undecodable line

    def feed(self, chunk: bytes) -> None:
        end = chunk.rfind(b"\n")
        if end < 0:
            self._grow(chunk)
            return
        head, rest = chunk[: end + 1], chunk[end + 1 :]
        if self.long_line is not None:
            first_end = head.find(b"\n")
            self._grow(head[:first_end])
            self._end_long_line()
            head = head[first_end + 1 :]
        block, self.pending = self.pending + head, b""
        first_end = block.find(b"\n")
        if first_end > MAX_LINE_BYTES:  # pending + the start of this read
            self._grow(block[:first_end])
            self._end_long_line()
            block = block[first_end + 1 :]
        self._write(block)
        self._grow(rest)

    def finish(self) -> None:
        """The end of the file: a last line without a line end (the caller rejects a file
        cut off; a blank one is written as it is)."""
        if self.long_line is not None:
            self._end_long_line()
        elif self.pending:
            try:
                text = self.pending.decode(self.codec)
            except UnicodeDecodeError:
                return
            self.sink.write(text.encode("utf-8"))

    def _grow(self, data: bytes) -> None:
        if self.long_line is not None:
            self.long_line = (self.long_line[0], self.long_line[1] + len(data))
            return
        self.pending += data
        if len(self.pending) > MAX_LINE_BYTES:
            self.long_line = (self.pending[:RAW_TEXT_PREFIX_BYTES], len(self.pending))
            self.pending = b""

    def _end_long_line(self) -> None:
        prefix, size = self.long_line or (b"", 0)
        self.long_line = None
        self._fault(
            "line_too_long",
            f"the line is {size} bytes, longer than {MAX_LINE_BYTES} (no value of the "
            f"standard comes near; its first {RAW_TEXT_PREFIX_BYTES} bytes are kept): to do: "
            "ask the department to check the record and re-send it",
            printable(prefix.decode(self.codec, "replace")) + f"… [{size} bytes]",
        )

    def _fault(self, code: str, reason: str, raw_text: str) -> None:
        self.lines += 1
        self.faults[self.lines] = QuarantinedRow(self.file, self.lines, code, reason, raw_text)
        self.sink.write(FAULT_MARKER)

    def _write(self, block: bytes) -> None:
        """Complete lines (a line end is one byte in both encodings, never inside a
        character): the whole block at once, line by line only when it does not decode."""
        try:
            text = block.decode(self.codec)
        except UnicodeDecodeError:
            pass
        else:
            self.sink.write(block if self.codec == "utf-8" else text.encode("utf-8"))
            self.lines += block.count(b"\n")
            return
        for line in block.split(b"\n")[:-1]:
            self.non_ascii_lines += not line.isascii()
            try:
                text = line.decode(self.codec)
            except UnicodeDecodeError as err:
                self.undecodable += 1
                if self.first_undecodable is None:
                    self.first_undecodable = _undecodable(err, self.codec, self.file, self.lines)
                self._fault(
                    "undecodable",
                    f"bytes {line[err.start : err.start + 4]!r} are not valid "
                    f"{self.codec.upper()}, the encoding the manifest declares: to do: ask the "
                    "department to correct the value and re-send the record",
                    printable(line.decode(self.codec, "backslashreplace")),
                )
                continue
            self.sink.write((text + "\n").encode("utf-8"))
            self.lines += 1


def convert_checked(
    source: IO[bytes], codec: str, file: str, sink: IO[bytes], sha256: str | None = None
) -> FileCheck:
    """Copy ``source`` (a file as delivered) to ``sink`` as UTF-8, checking it in one read.

    The delivered bytes are hashed as they are converted, a BOM is dropped, and the
    declared encoding is decoded strictly. A line over ``MAX_LINE_BYTES`` and a line
    holding bytes that are not the declared encoding are row faults: ``FileCheck.faults``
    (the spool holds ``FAULT_MARKER`` in their place). Raises
    :class:`DeliveryRejectedError`, in this order: ``checksum_mismatch`` (against
    ``sha256``), ``encoding_mismatch`` (a UTF-8 file declared GB18030), ``undecodable``
    (two or more lines, and most of the lines with other characters than ASCII, do not
    decode: the file is in another encoding than declared), ``truncated_file``. An empty
    or blank file passes: the format decides.
    """
    digest = hashlib.sha256()
    converter = _Converter(codec, file, sink)
    # Real GB18030 Chinese text is practically never valid UTF-8: such a file is UTF-8.
    utf8 = codecs.getincrementaldecoder("utf-8")("strict") if codec == "gb18030" else None
    utf8_valid, non_ascii = True, False
    size = 0
    blank, quoted, last = True, False, b""
    while chunk := source.read(MAX_LINE_BYTES):
        digest.update(chunk)
        if not size and chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8) :]
        size += len(chunk)
        if not chunk:
            continue
        last = chunk[-1:]
        if utf8 is not None and utf8_valid:
            non_ascii = non_ascii or not chunk.isascii()
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                utf8_valid = False
        converter.feed(chunk)
        blank = blank and chunk.isspace()
        quoted = quoted or b'"' in chunk
    converter.finish()
    if utf8 is not None and utf8_valid:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_valid = False
    if sha256 is not None and digest.hexdigest() != sha256:
        raise DeliveryRejectedError(
            "checksum_mismatch",
            f"sha256 is {digest.hexdigest()}, the manifest says {sha256}",
            file,
            action="ask the department to re-send the file (it is checked again on every run "
            "while it does not match: a file still being copied loads once complete)",
        )
    if codec == "gb18030" and non_ascii and utf8_valid:
        raise DeliveryRejectedError(
            "encoding_mismatch",
            "the file is UTF-8 but the manifest declares GB18030 (decoding it as GB18030 "
            "would load garbled text)",
            file,
            action="ask the department to re-send with encoding UTF-8 in the manifest",
        )
    if (
        converter.first_undecodable
        and min(converter.undecodable - 1, converter.undecodable * 2 - converter.non_ascii_lines)
        > 0
    ):
        raise converter.first_undecodable  # not a value here and there: the whole file
    if size and not blank and last != b"\n":
        raise DeliveryRejectedError(
            "truncated_file",
            "the last line has no line end: the file was cut off while being written or sent",
            file,
            converter.lines + 1,
        )
    return FileCheck(digest.hexdigest(), size, blank, quoted, converter.faults)


def _undecodable(
    err: UnicodeDecodeError, codec: str, file: str, lines_before: int
) -> DeliveryRejectedError:
    data = bytes(err.object)
    return DeliveryRejectedError(
        "undecodable",
        f"bytes {data[err.start : err.start + 4]!r} are not valid {codec.upper()}, "
        "the encoding the manifest declares, in most lines that hold other characters "
        "than ASCII",
        file,
        lines_before + data[: err.start].count(b"\n") + 1,
        "ask the department to re-send with the manifest's encoding matching the file "
        "(GBK/GB18030 files must declare GB18030)",
    )


def decode_checked(data: bytes, codec: str, file: str) -> bytes:
    """UTF-8 bytes of ``data`` decoded strictly from the declared encoding (BOM removed)."""
    sink = io.BytesIO()
    convert_checked(io.BytesIO(data), codec, file, sink)
    return sink.getvalue()


class CsvReader:
    """One CSV file (UTF-8, from :func:`convert_checked`): the checked header, then the
    rows in Arrow batches; quarantined rows and counts are complete once read."""

    def __init__(
        self, spec: Dataset, mode: str, file: str, source: IO[bytes], check: FileCheck
    ) -> None:
        if check.blank:
            raise DeliveryRejectedError(
                "empty_file", "the file is empty: not even the header line", file
            )
        if 1 in check.faults:
            fault = check.faults[1]
            raise DeliveryRejectedError(
                fault.reason_code, f"the header line: {fault.reason}", file, 1
            )
        self.faults = check.faults
        self.spec, self.mode, self.file, self.source, self.quoted = (
            spec,
            mode,
            file,
            source,
            check.quoted,
        )
        source.seek(0)
        first = source.readline()
        try:
            header = next(csv.reader([first.decode("utf-8").rstrip("\r\n")]))
        except (csv.Error, StopIteration) as err:
            raise DeliveryRejectedError(
                "bad_header", f"the header line cannot be read: {err}", file, 1
            ) from err
        names = [h.strip().lstrip("\ufeff").upper() for h in header]
        if len(set(names)) != len(names):
            raise DeliveryRejectedError(
                "bad_header", f"the header repeats a column: {header!r}", file, 1
            )
        expected = spec.file_columns(mode)
        required = {c.name for c in spec.columns if c.required} | set(identity_columns(spec, mode))
        self.missing = [c for c in expected if c not in names]
        missing_required = [c for c in self.missing if c in required]
        if missing_required:
            raise DeliveryRejectedError(
                "missing_required_column",
                f"required column(s) {missing_required} missing from the header "
                f"(header: {header!r})",
                file,
                1,
            )
        self.names = names
        self.extra = [
            printable(h) for h, n in zip(header, names, strict=True) if n not in spec.column_names
        ]
        self.header_line = first.decode("utf-8").rstrip("\r\n")
        self.column_names = [f"c{i}" for i in range(len(names))]
        self.by_name = dict(zip(names, self.column_names, strict=True))
        self.quarantined: list[QuarantinedRow] = []
        self.records = 0
        self._pending: list[Any] = []  # rows with a wrong field count, not placed yet
        self._next_record = 0  # 0-based index of the next data record to place
        self._next_line = 2  # its physical line
        self._raw_text_wanted: dict[int, int] = {}  # line -> span, for rows quarantined here

    def batches(self) -> Iterator[pa.Table]:
        """The rows to load, in batches of the raw table's columns, ``_line`` (and
        ``_operation`` in deltas)."""
        self.source.seek(0)

        def on_invalid(row: Any) -> str:
            self._pending.append(row)
            return "skip"

        try:
            # Serial: only a serial read numbers the rows it skips.
            reader = pacsv.open_csv(
                self.source,
                read_options=pacsv.ReadOptions(
                    column_names=self.column_names,
                    skip_rows=1,
                    use_threads=False,
                    block_size=CSV_BLOCK_BYTES,
                ),
                parse_options=pacsv.ParseOptions(
                    newlines_in_values=self.quoted, invalid_row_handler=on_invalid
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in self.column_names},
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    null_values=[""],
                ),
            )
            for batch in reader:
                table = pa.Table.from_batches([batch])
                if table.num_rows:
                    yield self._checked(table)
        except pa.ArrowInvalid as err:
            raise DeliveryRejectedError(
                "unparseable_csv",
                f"the file cannot be read as CSV: {printable(str(err))}",
                self.file,
                action="ask the department to re-send the file as the standard's CSV "
                "(quoted values, one record per line)",
            ) from err
        self._place([])
        self._fill_raw_text()
        self._replace_faults()
        self.quarantined.sort(key=lambda q: q.line)

    def _replace_faults(self) -> None:
        """The lines the conversion took out (``FAULT_MARKER``, quarantined as a wrong field
        count) get their own reason and text."""
        found = set()
        for i, row in enumerate(self.quarantined):
            if row.line in self.faults and row.reason_code == "wrong_field_count":
                self.quarantined[i] = self.faults[row.line]
                found.add(row.line)
        lost = sorted(set(self.faults) - found)
        if lost:  # inside a quoted value spanning lines: the record cannot be told apart
            fault = self.faults[lost[0]]
            raise DeliveryRejectedError(
                fault.reason_code,
                f"{fault.reason} (inside a quoted value that spans lines)",
                self.file,
                fault.line,
            )

    def result(self, table: pa.Table | None = None) -> ParsedFile:
        return ParsedFile(
            self.file,
            table,
            self.quarantined,
            records=self.records,
            extra_columns=self.extra,
            missing_columns=self.missing,
            header_columns=[n.lower() for n in self.names],
            quoted=self.quoted,
        )

    def empty_table(self) -> pa.Table:
        return _empty_table(self.spec, self.mode, "CZBS" in self.by_name)

    def _place(self, good_spans: list[int] | np.ndarray) -> np.ndarray:
        """Physical start lines of a batch's rows, placing the skipped rows among them.

        pyarrow numbers a skipped row by record (the header is record 1); a record
        spans 1 + the line breaks in its values.
        """
        n = len(good_spans)
        pending = [(int(row.number) - 2 - self._next_record, row) for row in self._pending]
        total = n + len(pending) if n else len(pending)
        skipped = np.zeros(total, dtype=bool)
        spans = np.ones(total, dtype=np.int64)
        for offset, row in pending:
            if offset < total:
                skipped[offset] = True
                spans[offset] = 1 + row.text.count("\n")
        good = np.flatnonzero(~skipped)[:n]
        end = int(good[-1]) + 1 if n else total
        spans[good] = good_spans
        starts = self._next_line + np.concatenate([[0], np.cumsum(spans[:end])[:-1]])
        placed = [(offset, row) for offset, row in pending if offset < end]
        for offset, row in placed:
            self.quarantined.append(
                QuarantinedRow(
                    self.file,
                    int(starts[offset]),
                    "wrong_field_count",
                    f"{row.actual_columns} fields, the header has {row.expected_columns}",
                    printable(row.text),
                )
            )
        self.records += len(placed)
        self._pending = [row for offset, row in pending if offset >= end]
        self._next_record += end
        self._next_line += int(spans[:end].sum())
        return starts[good] if n else np.zeros(0, dtype=np.int64)

    def _checked(self, table: pa.Table) -> pa.Table:
        """Row checks on one batch (vectorised; the first failing check names the reason)."""
        good_spans = np.ones(table.num_rows, dtype=np.int64)
        for column in table.columns if self.quoted else ():
            counts = pc.fill_null(pc.count_substring(column, "\n"), 0)
            good_spans += counts.to_numpy(zero_copy_only=False)
        line_numbers = self._place(good_spans)
        self.records += table.num_rows

        n = table.num_rows
        reason = np.zeros(n, dtype=np.int8)
        reasons = [("ok", "")]

        def fail(mask: pa.Array | pa.ChunkedArray, why: tuple[str, str]) -> None:
            reasons.append(why)
            reason[(reason == 0) & mask.to_numpy(zero_copy_only=False)] = len(reasons) - 1

        nul = None
        for column in table.columns:
            has = pc.fill_null(pc.match_substring(column, "\x00"), False)
            nul = has if nul is None else pc.or_(nul, has)
        if nul is not None:
            fail(nul, _NUL_REASON)
        for name in identity_columns(self.spec, self.mode):
            values = pc.utf8_trim_whitespace(table[self.by_name[name]])
            if name == "GXSJ":
                fails = pc.invert(
                    pc.fill_null(pc.match_substring_regex(values, GXSJ_PATTERN), False)
                )
                why = (
                    "unparseable_gxsj",
                    "GXSJ is not a YYYYMMDDHHMMSS or YYYY-MM-DD HH:MM:SS time",
                )
            elif name == "CZBS":
                fails = pc.invert(
                    pc.fill_null(pc.is_in(pc.utf8_upper(values), pa.array(OPERATIONS)), False)
                )
                why = ("invalid_operation", "CZBS is not I, U or D")
            else:
                fails = pc.fill_null(pc.equal(values, ""), True)
                why = ("missing_record_key", f"record key {name} is empty")
            fail(fails, why)
        if self.mode == "full" and "CZBS" in self.by_name:
            operation = pc.utf8_upper(pc.utf8_trim_whitespace(table[self.by_name["CZBS"]]))
            fail(pc.fill_null(pc.equal(operation, "D"), False), _DELETE_IN_FULL)
        bad = np.flatnonzero(reason)
        for i in bad:
            code, text = reasons[reason[i]]
            line = int(line_numbers[i])
            self._raw_text_wanted[line] = int(good_spans[i])
            self.quarantined.append(QuarantinedRow(self.file, line, code, text, None))
        if len(bad):
            keep = reason == 0
            table = table.filter(pa.array(keep))
            line_numbers = line_numbers[keep]

        columns: dict[str, pa.Array | pa.ChunkedArray] = {}
        rows = table.num_rows
        for column in self.spec.columns:
            if column.name in self.by_name:
                columns[column.name.lower()] = table[self.by_name[column.name]]
            else:
                columns[column.name.lower()] = pa.nulls(rows, pa.string())
        columns["_line"] = pa.array(line_numbers, pa.int32())
        if self.mode == "delta" and "CZBS" in self.by_name:
            columns["_operation"] = pc.utf8_upper(
                pc.utf8_trim_whitespace(table[self.by_name["CZBS"]])
            )
        return pa.table(columns)

    def _fill_raw_text(self) -> None:
        """The delivered lines of the rows quarantined by the row checks (one more read of
        the spool, only when there are such rows)."""
        if not self._raw_text_wanted:
            return
        wanted = self._raw_text_wanted
        texts: dict[int, str] = {}
        self.source.seek(0)
        collecting: tuple[int, int, list[bytes]] | None = None
        for number, line in enumerate(self.source, start=1):
            if collecting is None and number in wanted:
                collecting = (number, wanted[number], [])
            if collecting is not None:
                collecting[2].append(line.rstrip(b"\n"))
                if len(collecting[2]) == collecting[1]:
                    text = b"\n".join(collecting[2]).decode("utf-8", "replace").rstrip("\r")
                    texts[collecting[0]] = printable(text)
                    collecting = None
        for row in self.quarantined:
            if row.raw_text is None and row.line in texts:
                row.raw_text = texts[row.line]


def _empty_table(spec: Dataset, mode: str, with_operation: bool) -> pa.Table:
    columns: dict[str, pa.Array] = {c.name.lower(): pa.array([], pa.string()) for c in spec.columns}
    columns["_line"] = pa.array([], pa.int32())
    if mode == "delta" and with_operation:
        columns["_operation"] = pa.array([], pa.string())
    return pa.table(columns)


def parse_csv(spec: Dataset, mode: str, file: str, data: bytes, codec: str) -> ParsedFile:
    """Parse one whole CSV file held in memory (tests, small files): checked header, typed
    as text, lines kept."""
    spool = io.BytesIO()
    check = convert_checked(io.BytesIO(data), codec, file, spool)
    reader = CsvReader(spec, mode, file, spool, check)
    tables = list(reader.batches())
    return reader.result(pa.concat_tables(tables) if tables else reader.empty_table())


class JsonlReader:
    """One JSONL file (UTF-8, from :func:`convert_checked`): one object per line; a missing
    key and null both mean missing. Rows in Arrow batches, like :class:`CsvReader`."""

    def __init__(
        self, spec: Dataset, mode: str, file: str, source: IO[bytes], check: FileCheck
    ) -> None:
        self.spec, self.mode, self.file, self.source = spec, mode, file, source
        self.known = {c.name.lower(): c.name for c in spec.columns}
        self.identity = [n.lower() for n in identity_columns(spec, mode)]
        self.quarantined: list[QuarantinedRow] = []
        self.extra: set[str] = set()
        self.records = 0
        self.faults = check.faults

    def batches(self) -> Iterator[pa.Table]:
        self.source.seek(0)
        values: dict[str, list[str | None]] = {k: [] for k in self.known}
        lines: list[int] = []
        for number, raw in enumerate(self.source, start=1):
            if number in self.faults:  # taken out by the conversion (FAULT_MARKER)
                self.records += 1
                self.quarantined.append(self.faults[number])
                continue
            text = raw.decode("utf-8").rstrip("\n").rstrip("\r")
            if not text.strip():
                continue
            self.records += 1
            row = self._row(number, text)
            if row is None:
                continue
            for key in self.known:
                values[key].append(row.get(key))
            lines.append(number)
            if len(lines) >= JSONL_BATCH_ROWS:
                yield self._table(values, lines)
                values, lines = {k: [] for k in self.known}, []
        if lines:
            yield self._table(values, lines)

    def _row(self, number: int, text: str) -> dict[str, str | None] | None:
        """The row of one line, or None when it is quarantined."""

        def quarantine(code: str, reason: str) -> None:
            self.quarantined.append(
                QuarantinedRow(self.file, number, code, reason, printable(text))
            )

        try:
            obj = json.loads(text)
        except (ValueError, RecursionError) as err:
            quarantine("invalid_json", printable(str(err)))
            return None
        if not isinstance(obj, dict):
            quarantine("invalid_json", "the line is not a JSON object")
            return None
        row = {str(k).lower(): _text(v) for k, v in obj.items()}
        if "\\u" in text:  # only an escape can put a NUL or a lone surrogate into a value
            # An object value (e.g. the e-certificates' zmxx) is kept as JSON text, where a
            # NUL stays escaped; PostgreSQL's jsonb cannot hold it either.
            nested = any(
                isinstance(v, dict | list) and "\\u0000" in (_text(v) or "") for v in obj.values()
            )
            for key, value in row.items():
                if nested or "\x00" in key or (value is not None and "\x00" in value):
                    quarantine(*_NUL_REASON)
                    return None
                try:
                    key.encode("utf-8")
                    if value is not None:
                        value.encode("utf-8")
                except UnicodeEncodeError:
                    quarantine(
                        "invalid_unicode",
                        f"{printable(key)!r} holds a lone surrogate escape (\\ud800-\\udfff), "
                        "which is not a character",
                    )
                    return None
        self.extra |= {printable(k) for k in row if k not in self.known}
        problem = _identity_problem(row, self.identity)
        if (
            problem is None
            and self.mode == "full"
            and (row.get("czbs") or "").strip().upper() == "D"
        ):
            problem = _DELETE_IN_FULL
        if problem:
            quarantine(*problem)
            return None
        return row

    def _table(self, values: dict[str, list[str | None]], lines: list[int]) -> pa.Table:
        columns: dict[str, Any] = {k: pa.array(v, pa.string()) for k, v in values.items()}
        columns["_line"] = pa.array(lines, pa.int32())
        if self.mode == "delta" and "czbs" in values:
            columns["_operation"] = pa.array(
                [(v or "").strip().upper() for v in values["czbs"]], pa.string()
            )
        return pa.table(columns)

    def result(self, table: pa.Table | None = None) -> ParsedFile:
        return ParsedFile(
            self.file, table, self.quarantined, self.records, extra_columns=sorted(self.extra)
        )

    def empty_table(self) -> pa.Table:
        return _empty_table(self.spec, self.mode, "czbs" in self.known)


def parse_jsonl(spec: Dataset, mode: str, file: str, data: bytes, codec: str) -> ParsedFile:
    """Parse one whole JSONL file held in memory (tests, small files)."""
    spool = io.BytesIO()
    check = convert_checked(io.BytesIO(data), codec, file, spool)
    reader = JsonlReader(spec, mode, file, spool, check)
    tables = list(reader.batches())
    return reader.result(pa.concat_tables(tables) if tables else reader.empty_table())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


_GXSJ = re.compile(GXSJ_PATTERN)


def _identity_problem(row: dict[str, str | None], identity: list[str]) -> tuple[str, str] | None:
    for key in identity:
        value = (row.get(key) or "").strip()
        if key == "gxsj":
            if not _GXSJ.match(value):
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
