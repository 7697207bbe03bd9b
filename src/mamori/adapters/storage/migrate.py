"""Run the Alembic migrations programmatically (``mamori db upgrade`` and on start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from mamori.adapters.storage.database import Database

_HERE = Path(__file__).resolve().parent


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.attributes["connection_url"] = db.url
    cfg.attributes["engine"] = db.engine
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    command.upgrade(alembic_config(db), revision)


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
