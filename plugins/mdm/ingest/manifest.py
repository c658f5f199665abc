"""Finding complete deliveries in the landing zone, checking their manifests, opening files.

Everything in a delivery folder is opened relative to the folder, without following
symbolic links: a link could make the platform load any file it can read.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from mdm.ingest.errors import DeliveryRejectedError

logger = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
DELIVERY_ID = re.compile(r"^\d{8}-\d{2}$")
ENCODINGS = {"UTF-8": "utf-8", "GB18030": "gb18030", "GBK": "gb18030", "GB2312": "gb18030"}
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_MANIFEST_BYTES = 1 << 20
MAX_ROWS = 1 << 53  # the ledger's bigint and any sum of them stay exact
SYMLINK_ACTION = (
    "ask the department to deliver regular files into the folder; a symbolic link is "
    "refused (it could point the platform at any file it can read)"
)


@dataclass(frozen=True)
class ManifestFile:
    name: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    dataset: str
    delivery_id: str
    provider: str | None
    extract_time: dt.datetime | None
    mode: str
    encoding: str  # as declared
    files: tuple[ManifestFile, ...]
    sha256: str  # of the manifest itself: the delivery's fingerprint

    @property
    def codec(self) -> str:
        """Python codec of the declared encoding (GBK is read as GB18030)."""
        return ENCODINGS[self.encoding.upper().replace("_", "-")]

    @property
    def rows_declared(self) -> int:
        return sum(f.rows for f in self.files)


@dataclass(frozen=True)
class PendingFolder:
    dataset: str
    delivery_id: str
    path: Path
    complete: bool  # the manifest exists


def scan_landing(landing: Path, dataset: str) -> list[PendingFolder]:
    """Delivery folders of ``dataset``, in delivery-id order (the order they apply in)."""
    root = landing / dataset
    if not root.is_dir():
        return []
    folders = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not (path.is_dir() or path.is_symlink()):
            continue
        try:
            path.name.encode("utf-8")
        except UnicodeEncodeError:
            logger.warning("%s: folder %r is not a delivery id, ignored", dataset, path.name)
            continue
        complete = path.is_symlink() or os.path.lexists(path / MANIFEST)
        folders.append(PendingFolder(dataset, path.name, path, complete))
    return folders


def open_folder(folder: Path) -> int:
    """A descriptor of the delivery folder itself (refused if it is a link)."""
    try:
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR):
            raise DeliveryRejectedError(
                "symlink",
                "the delivery folder is a symbolic link, not a folder",
                action=SYMLINK_ACTION,
            ) from err
        raise


def open_delivered(folder_fd: int, name: str) -> IO[bytes]:
    """A delivered file, opened once (no link followed, regular files only)."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
    except FileNotFoundError as err:
        raise DeliveryRejectedError(
            "missing_file",
            "file listed in the manifest is not in the folder",
            name,
            action="wait for the file or ask the department to deliver it (the delivery is "
            "checked again on every run while a listed file is missing)",
        ) from err
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise DeliveryRejectedError(
                "symlink", "the file is a symbolic link", name, action=SYMLINK_ACTION
            ) from err
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DeliveryRejectedError(
            "not_a_file", "the name is not a regular file", name, action=SYMLINK_ACTION
        )
    return os.fdopen(fd, "rb")


def read_manifest_bytes(folder_fd: int) -> tuple[bytes, int]:
    """The manifest's bytes and modification time, read once."""
    with open_delivered(folder_fd, MANIFEST) as handle:
        data = handle.read(MAX_MANIFEST_BYTES + 1)
        mtime_ns = os.fstat(handle.fileno()).st_mtime_ns
    if len(data) > MAX_MANIFEST_BYTES:
        raise DeliveryRejectedError(
            "bad_manifest", f"the manifest is larger than {MAX_MANIFEST_BYTES} bytes", MANIFEST
        )
    return data, mtime_ns


def read_manifest(folder: Path, dataset: str, data: bytes | None = None) -> Manifest:
    """Parse and sanity-check ``_manifest.json``; raise DeliveryRejectedError if unusable.

    ``data``: the manifest's bytes, if already read (the bytes fingerprinted are the
    bytes checked).
    """
    if data is None:
        fd = open_folder(folder)
        try:
            data, _ = read_manifest_bytes(fd)
        finally:
            os.close(fd)
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise DeliveryRejectedError(
            "bad_manifest", f"manifest is not valid UTF-8 JSON: {err}", MANIFEST
        ) from err
    if not isinstance(raw, dict):
        raise DeliveryRejectedError("bad_manifest", "manifest is not a JSON object", MANIFEST)
    problems = []
    if raw.get("dataset") != dataset:
        problems.append(f"dataset is {raw.get('dataset')!r}, the folder is under {dataset!r}")
    if raw.get("delivery_id") != folder.name:
        problems.append(f"delivery_id is {raw.get('delivery_id')!r}, the folder is {folder.name!r}")
    if not DELIVERY_ID.match(folder.name):
        problems.append(f"delivery id {folder.name!r} is not YYYYMMDD-NN")
    if raw.get("mode") not in ("full", "delta"):
        problems.append(f"mode is {raw.get('mode')!r}, expected 'full' or 'delta'")
    encoding = raw.get("encoding")
    if not isinstance(encoding, str) or encoding.upper().replace("_", "-") not in ENCODINGS:
        problems.append(f"encoding is {encoding!r}, expected UTF-8 or GB18030")
    provider = raw.get("provider")  # may be left out; given, it names the department
    if "provider" in raw and not (_plain_text(provider, 200) and str(provider).strip()):
        problems.append(
            f"provider is {json.dumps(provider, ensure_ascii=False)}, expected a name (text, at "
            "most 200 characters)"
        )
    extract_time = _timestamp(raw.get("extract_time"))
    if extract_time is False:
        problems.append(
            f"extract_time is {raw.get('extract_time')!r}, expected an ISO 8601 date and time "
            "with its UTC offset such as 2026-11-01T02:00:00+08:00 (without one the time is "
            "ambiguous, and timeliness is measured from it)"
        )
    files = raw.get("files")
    if not isinstance(files, list) or not files:
        problems.append("files is missing or empty")
        files = []
    entries = []
    for entry in files:
        problem = _file_problem(entry)
        if problem:
            problems.append(f"file entry {entry!r}: {problem}")
        else:
            entries.append(ManifestFile(entry["name"], int(entry["rows"]), entry["sha256"].lower()))
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        problems.append(f"a file is listed twice: {names}")
    if problems:
        raise DeliveryRejectedError("bad_manifest", "; ".join(problems), MANIFEST)
    return Manifest(
        dataset=dataset,
        delivery_id=folder.name,
        provider=provider,
        extract_time=extract_time if extract_time is not False else None,
        mode=raw["mode"],
        encoding=str(encoding),
        files=tuple(entries),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _plain_text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit and "\x00" not in value


def _timestamp(value: Any) -> dt.datetime | None | Literal[False]:
    """The time, None when absent, False when malformed (a date alone, no UTC offset)."""
    if value is None:
        return None
    if not _plain_text(value, 40):
        return False
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return moment if moment.tzinfo is not None and len(value.strip()) > 10 else False


def _file_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "expected an object with name, rows and sha256"
    name, rows, sha = entry.get("name"), entry.get("rows"), entry.get("sha256")
    if (
        not _plain_text(name, 255)
        or not name
        or name in (".", "..", MANIFEST)
        or "/" in name
        or "\\" in name
    ):
        return "name must be a file name in the delivery folder"
    if isinstance(rows, bool) or not isinstance(rows, int) or not 0 <= rows < MAX_ROWS:
        return "rows must be a whole number of data rows"
    if not isinstance(sha, str) or not SHA256.match(sha.lower()):
        return "sha256 must be 64 hexadecimal digits"
    return None


def unlisted_files(folder_fd: int, manifest: Manifest) -> list[str]:
    listed = {f.name for f in manifest.files}
    return sorted(n for n in os.listdir(folder_fd) if n != MANIFEST and n not in listed)
