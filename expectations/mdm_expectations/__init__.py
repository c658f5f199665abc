"""Great Expectations suites as code, imported as the package ``mdm_expectations``.

The folder ``expectations/`` holds the package; ``pip install -e .`` puts it on the
path (pyproject.toml, package discovery), so the platform imports the suites like
any module instead of loading them from a file path.
"""
