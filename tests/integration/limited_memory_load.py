"""Run by test_poison_deliveries in a subprocess: load a delivery under an address-space limit.

Usage: python limited_memory_load.py WAREHOUSE_URL LANDING BIG_FILE HEADROOM_BYTES

Loads the small delivery of day 1 first (imports, threads, connections: what a task
process has warm), then limits the address space to what the process uses plus
HEADROOM_BYTES, tries to read BIG_FILE whole, and loads the rest. Prints one JSON line.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
from pathlib import Path

import great_expectations  # noqa: F401 - imported before the limit, as in a task process

from mdm.connections import params_from_url
from mdm.ingest.files import ingest_file_drops
from mdm.registry import dataset

logger = logging.getLogger("limited_memory_load")


def vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def main() -> None:
    url, landing, big, headroom = (
        sys.argv[1],
        Path(sys.argv[2]),
        Path(sys.argv[3]),
        int(sys.argv[4]),
    )
    warehouse, spec = params_from_url(url), dataset("gat_czrk")
    warm = ingest_file_drops(warehouse, landing, spec, "warm-up", until="20261101")
    limit = vm_size() + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        big.read_bytes()
        whole_read = "fits"
    except MemoryError:
        whole_read = "MemoryError"
    try:
        outcomes = [
            (o.delivery_id, o.status, o.rows_loaded, o.error)
            for o in ingest_file_drops(warehouse, landing, spec, "limited").outcomes
        ]
    except MemoryError:
        outcomes = [("load", "MemoryError", 0, None)]
    warmed = [(o.delivery_id, o.status, o.rows_loaded, o.error) for o in warm.outcomes]
    sys.stdout.write(json.dumps({"whole_read": whole_read, "outcomes": warmed + outcomes}) + "\n")


if __name__ == "__main__":
    main()
