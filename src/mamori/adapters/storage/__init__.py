"""Relational storage: one schema (SQLAlchemy Core), two engines (SQLite embedded, PostgreSQL at scale)."""
