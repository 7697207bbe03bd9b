"""The Alembic history builds exactly the schema the code declares, on every engine."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mamori.adapters.storage.migrate import current_revision
from mamori.adapters.storage.schema import metadata
from mamori.bootstrap import Context


def test_migrations_leave_no_difference_with_the_declared_schema(any_ctx: Context) -> None:
    with any_ctx.db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert diff == []
    assert current_revision(any_ctx.db) is not None
