"""Ingestion: department file drops and front-end tables into ``raw``, with a ledger.

- :mod:`mdm.ingest.raw_tables`: the ``raw.<dataset>`` tables, derived from the registry.
- :mod:`mdm.ingest.manifest` / :mod:`mdm.ingest.parse`: delivery- and row-level checks.
- :mod:`mdm.ingest.files`: find, order, check and load file-drop deliveries.
- :mod:`mdm.ingest.frontend`: incremental pulls from the front-end database.
- :mod:`mdm.ingest.gate`: the Great Expectations gate on each loaded batch.
- :mod:`mdm.ingest.ledger`: ``ops.delivery`` and its events.
"""
