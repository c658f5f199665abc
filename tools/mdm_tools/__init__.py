"""Tools beside the platform, not part of what the DAGs run.

- :mod:`mdm_tools.generate`: the seeded synthetic Guangxi (``mdm generate``),
- :mod:`mdm_tools.evaluate`: resolution quality against the generator's truth
  (``mdm evaluate``),
- :mod:`mdm_tools.bench`: the measurements of ``make bench``.

They import the runtime package :mod:`mdm`; nothing in :mod:`mdm` that a DAG
imports imports them (tests/dags/test_dag_integrity.py).
"""
