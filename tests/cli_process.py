"""The ``mdm`` command in a process of its own, as an operator runs it."""

from __future__ import annotations

import subprocess
import sys


def run_mdm(
    *args: str, env: dict[str, str], timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mdm.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
