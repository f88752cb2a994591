"""Connectors: trackers the sync engine talks to, behind the interface in runtime.connector."""
