"""Why a delivery was rejected: what is wrong, where, and what to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DeliveryRejectedError(Exception):
    """A delivery-level fault: the whole delivery is rejected and nothing is loaded.

    ``code`` is stable (ledger, scorecard, tests); ``message`` says what is wrong;
    ``file`` and ``line`` say where; ``action`` says what the engineer should do.
    """

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    action: str = "ask the department to re-send the delivery with the fault corrected"

    def describe(self, dataset: str, delivery_id: str) -> str:
        where = f"{dataset}/{delivery_id}"
        if self.file:
            where += f"/{self.file}"
        if self.line:
            where += f" line {self.line}"
        return f"{where}: {self.message} [{self.code}]; to do: {self.action}"

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


class SourceUnavailableError(RuntimeError):
    """A department's front-end database does not answer: an availability failure."""
