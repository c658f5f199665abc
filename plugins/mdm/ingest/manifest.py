"""Finding complete deliveries in the landing zone and checking their manifests."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdm.ingest.errors import DeliveryRejectedError

logger = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
DELIVERY_ID = re.compile(r"^\d{8}-\d{2}$")
ENCODINGS = {"UTF-8": "utf-8", "GB18030": "gb18030", "GBK": "gb18030", "GB2312": "gb18030"}
_CHUNK = 1 << 20


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
    extract_time: str | None
    mode: str
    encoding: str  # as declared
    files: tuple[ManifestFile, ...]
    sha256: str  # of the manifest itself: the delivery's fingerprint
    mtime_ns: int

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
        if path.is_dir() and not path.name.startswith("."):
            folders.append(PendingFolder(dataset, path.name, path, (path / MANIFEST).is_file()))
    return folders


def read_manifest(folder: Path, dataset: str) -> Manifest:
    """Parse and sanity-check ``_manifest.json``; raise DeliveryRejectedError if unusable."""
    path = folder / MANIFEST
    data = path.read_bytes()
    try:
        raw: dict[str, Any] = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DeliveryRejectedError(
            "bad_manifest", f"manifest is not valid UTF-8 JSON: {err}", MANIFEST
        ) from err
    problems = []
    if raw.get("dataset") != dataset:
        problems.append(f"dataset is {raw.get('dataset')!r}, the folder is under {dataset!r}")
    if raw.get("delivery_id") != folder.name:
        problems.append(f"delivery_id is {raw.get('delivery_id')!r}, the folder is {folder.name!r}")
    if not DELIVERY_ID.match(folder.name):
        problems.append(f"delivery id {folder.name!r} is not YYYYMMDD-NN")
    if raw.get("mode") not in ("full", "delta"):
        problems.append(f"mode is {raw.get('mode')!r}, expected 'full' or 'delta'")
    encoding = str(raw.get("encoding") or "")
    if encoding.upper().replace("_", "-") not in ENCODINGS:
        problems.append(f"encoding is {encoding!r}, expected UTF-8 or GB18030")
    files = raw.get("files")
    if not isinstance(files, list) or not files:
        problems.append("files is missing or empty")
        files = []
    entries = []
    for entry in files:
        try:
            entries.append(
                ManifestFile(str(entry["name"]), int(entry["rows"]), str(entry["sha256"]).lower())
            )
        except (KeyError, TypeError, ValueError):
            problems.append(f"file entry {entry!r} lacks name, rows or sha256")
    if problems:
        raise DeliveryRejectedError("bad_manifest", "; ".join(problems), MANIFEST)
    return Manifest(
        dataset=dataset,
        delivery_id=folder.name,
        provider=raw.get("provider"),
        extract_time=raw.get("extract_time"),
        mode=raw["mode"],
        encoding=encoding,
        files=tuple(entries),
        sha256=hashlib.sha256(data).hexdigest(),
        mtime_ns=path.stat().st_mtime_ns,
    )


def verify_files(folder: Path, manifest: Manifest) -> None:
    """Every listed file exists and has the declared checksum (rows are counted when parsed)."""
    for entry in manifest.files:
        path = folder / entry.name
        if not path.is_file() or path.parent != folder:
            raise DeliveryRejectedError(
                "missing_file", "file listed in the manifest is not in the folder", entry.name
            )
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != entry.sha256:
            raise DeliveryRejectedError(
                "checksum_mismatch",
                f"sha256 is {digest.hexdigest()}, the manifest says {entry.sha256}",
                entry.name,
            )
    listed = {f.name for f in manifest.files}
    unlisted = sorted(
        p.name for p in folder.iterdir() if p.name != MANIFEST and p.name not in listed
    )
    if unlisted:
        logger.warning(
            "%s/%s: files not in the manifest are ignored: %s",
            manifest.dataset,
            manifest.delivery_id,
            unlisted,
        )
