"""Studio mode: several bridges and workers on one PostgreSQL store and one Redis event stream."""
