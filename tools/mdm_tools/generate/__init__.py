"""``mdm generate``: realistic department deliveries of a synthetic Guangxi, with ground truth."""

from mdm_tools.generate.deliver import (
    GenerateConfig,
    GenerateSummary,
    generate,
    resend,
    write_all,
    write_frontend,
)

__all__ = ["GenerateConfig", "GenerateSummary", "generate", "resend", "write_all", "write_frontend"]
