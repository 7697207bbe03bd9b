"""leaner intelligence indexes for bulk ingest

Indexes whose keys arrive in random order (STIX ids) cost a page write per new row, so the redundant ones go:
``stix_objects`` is looked up by id through its unique ``(stix_id, version)``; no index may lead with
``is_latest`` (a planner without statistics would use it for ``stix_id IN (...) AND is_latest`` and scan every
latest row); indicator values and links are replaced through the stored version's primary key; collection
entries are found through the keys of the object's stored versions, ``(object_pk, collection_id)``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stix_objects', schema=None) as batch_op:
        batch_op.drop_index('ix_stix_objects_latest_added')
        batch_op.drop_index('ix_stix_objects_stix_id')
        batch_op.drop_index('ix_stix_objects_type_latest')
        batch_op.create_index('ix_stix_objects_type_latest', ['type', 'is_latest'], unique=False)

    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_values_stix_id')
        batch_op.create_index('ix_indicator_values_object_pk', ['object_pk'], unique=False)

    with op.batch_alter_table('stix_refs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
    op.execute(
        "UPDATE stix_refs SET via_pk = (SELECT o.pk FROM stix_objects o "
        "WHERE o.stix_id = stix_refs.via_id AND o.is_latest = true)"
    )
    with op.batch_alter_table('stix_refs', schema=None) as batch_op:
        batch_op.drop_index('ix_stix_refs_via')
        batch_op.create_index('ix_stix_refs_via_pk', ['via_pk'], unique=False)

    with op.batch_alter_table('collection_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_collection_entries_obj')
        batch_op.drop_index('ix_collection_entries_stix_id')
        batch_op.drop_constraint('uq_collection_entries_coll_obj', type_='unique')
        batch_op.create_unique_constraint('uq_collection_entries_obj_coll', ['object_pk', 'collection_id'])


def downgrade() -> None:
    with op.batch_alter_table('collection_entries', schema=None) as batch_op:
        batch_op.drop_constraint('uq_collection_entries_obj_coll', type_='unique')
        batch_op.create_unique_constraint('uq_collection_entries_coll_obj', ['collection_id', 'object_pk'])
        batch_op.create_index('ix_collection_entries_stix_id', ['stix_id'], unique=False)
        batch_op.create_index('ix_collection_entries_obj', ['collection_id', 'stix_id'], unique=False)

    with op.batch_alter_table('stix_refs', schema=None) as batch_op:
        batch_op.drop_index('ix_stix_refs_via_pk')
        batch_op.create_index('ix_stix_refs_via', ['via_id'], unique=False)
        batch_op.drop_column('via_pk')

    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_values_object_pk')
        batch_op.create_index('ix_indicator_values_stix_id', ['stix_id'], unique=False)

    with op.batch_alter_table('stix_objects', schema=None) as batch_op:
        batch_op.drop_index('ix_stix_objects_type_latest')
        batch_op.create_index('ix_stix_objects_type_latest', ['type', 'is_latest', 'modified'], unique=False)
        batch_op.create_index('ix_stix_objects_stix_id', ['stix_id'], unique=False)
        batch_op.create_index('ix_stix_objects_latest_added', ['is_latest', 'date_added'], unique=False)
