"""The SQLite store: models, async engine, migrations and the event log."""
