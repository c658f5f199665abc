"""``mdm generate``: realistic department deliveries of a synthetic Guangxi, with ground truth."""

from mdm_tools.generate.deliver import (
    GenerateConfig,
    GenerateSummary,
    generate,
    resend,
    write_all,
    write_frontend,
    write_frontend_late,
)

__all__ = [
    "GenerateConfig",
    "GenerateSummary",
    "generate",
    "resend",
    "write_all",
    "write_frontend",
    "write_frontend_late",
]
