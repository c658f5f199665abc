"""The headless browser of the browser tests: the distribution's Chromium package."""

from __future__ import annotations

import os
import shutil

import pytest


def chromium_binary() -> str:
    """Its path; the test skips without it, or fails where CI requires it
    (``MDM_REQUIRE_BROWSER``, set by ``.ci/run``, which installs it)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if os.environ.get("MDM_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (.ci/run installs it with apt-get)")
        pytest.skip("chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    return binary
