"""traffic approvals, contributors of partner objects

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:35:51.627488
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('traffic_approvals',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('granted_by', sa.String(length=256), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_traffic_approvals'))
    )
    with op.batch_alter_table('traffic_approvals', schema=None) as batch_op:
        batch_op.create_index('ix_traffic_approvals_channel', ['channel'], unique=False)

    with op.batch_alter_table('collection_entries', schema=None) as batch_op:
        batch_op.create_index('ix_collection_entries_stix_id', ['stix_id'], unique=False)

    with op.batch_alter_table('stix_objects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('added_by', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('stix_objects', schema=None) as batch_op:
        batch_op.drop_column('added_by')

    with op.batch_alter_table('collection_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_collection_entries_stix_id')

    with op.batch_alter_table('traffic_approvals', schema=None) as batch_op:
        batch_op.drop_index('ix_traffic_approvals_channel')

    op.drop_table('traffic_approvals')
