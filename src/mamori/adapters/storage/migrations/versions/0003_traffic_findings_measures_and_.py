"""traffic findings, measures and constituencies

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 19:42:34.551316
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('traffic_findings',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('src_address', sa.String(length=64), nullable=True),
    sa.Column('src_name', sa.String(length=300), nullable=True),
    sa.Column('src_port', sa.Integer(), nullable=True),
    sa.Column('dst_address', sa.String(length=64), nullable=True),
    sa.Column('dst_name', sa.String(length=300), nullable=True),
    sa.Column('dst_port', sa.Integer(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('severity_rank', sa.Integer(), nullable=False),
    sa.Column('credibility', sa.Integer(), nullable=False),
    sa.Column('sub_scores', sa.Text(), nullable=False),
    sa.Column('thresholds', sa.Text(), nullable=False),
    sa.Column('fired', sa.Text(), nullable=False),
    sa.Column('days_seen', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.String(length=32), nullable=False),
    sa.Column('last_seen', sa.String(length=32), nullable=False),
    sa.Column('evidence_count', sa.BigInteger(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('engine', sa.String(length=16), nullable=False),
    sa.Column('stix_ids', sa.Text(), server_default='[]', nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_traffic_findings'))
    )
    with op.batch_alter_table('traffic_findings', schema=None) as batch_op:
        batch_op.create_index('ix_traffic_findings_dst_address', ['dst_address'], unique=False)
        batch_op.create_index('ix_traffic_findings_kind_last_seen', ['kind', 'last_seen'], unique=False)
        batch_op.create_index('ix_traffic_findings_last_seen', ['last_seen'], unique=False)
        batch_op.create_index('ix_traffic_findings_src_address', ['src_address'], unique=False)

    op.create_table('traffic_constituency',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.Column('added_at', sa.String(length=32), nullable=False),
    sa.Column('added_by', sa.String(length=150), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_traffic_constituency_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_traffic_constituency')),
    sa.UniqueConstraint('organisation_id', 'kind', 'value', name='uq_traffic_constituency_entry')
    )
    with op.batch_alter_table('traffic_constituency', schema=None) as batch_op:
        batch_op.create_index('ix_traffic_constituency_organisation_id', ['organisation_id'], unique=False)

    op.create_table('traffic_measures',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('finding_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('proposed_by', sa.String(length=150), nullable=False),
    sa.Column('proposed_at', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('evidence_package', sa.Text(), nullable=False),
    sa.Column('evidence_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['traffic_findings.id'], name=op.f('fk_traffic_measures_finding_id_traffic_findings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_traffic_measures'))
    )
    with op.batch_alter_table('traffic_measures', schema=None) as batch_op:
        batch_op.create_index('ix_traffic_measures_finding_id', ['finding_id'], unique=False)
        batch_op.create_index('ix_traffic_measures_state', ['state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('traffic_measures', schema=None) as batch_op:
        batch_op.drop_index('ix_traffic_measures_state')
        batch_op.drop_index('ix_traffic_measures_finding_id')

    op.drop_table('traffic_measures')
    with op.batch_alter_table('traffic_constituency', schema=None) as batch_op:
        batch_op.drop_index('ix_traffic_constituency_organisation_id')

    op.drop_table('traffic_constituency')
    with op.batch_alter_table('traffic_findings', schema=None) as batch_op:
        batch_op.drop_index('ix_traffic_findings_src_address')
        batch_op.drop_index('ix_traffic_findings_last_seen')
        batch_op.drop_index('ix_traffic_findings_kind_last_seen')
        batch_op.drop_index('ix_traffic_findings_dst_address')

    op.drop_table('traffic_findings')
