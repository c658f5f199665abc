"""How a value is written in an open file or page (one rule for CSV, JSON and the portal)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any


def cell_text(value: Any) -> str:
    """A value as CSV text: empty for missing, ``true``/``false``, ISO dates, exact decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | decimal.Decimal):
        return str(value)
    return str(value)


def json_value(value: Any) -> Any:
    """A value for JSON: dates and decimals as text (exact), the rest as it is."""
    if isinstance(value, dt.date | decimal.Decimal):
        return str(value)
    return value
