"""Master-data platform for government data sharing (natural and legal persons)."""

__version__ = "0.1.0"
