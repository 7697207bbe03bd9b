"""identity, threat intelligence and sharing

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 19:03:20.499114
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disclosures',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('organisation_id', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('stix_id', sa.String(length=120), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_disclosures'))
    )
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.create_index('ix_disclosures_org_at', ['organisation_id', 'at'], unique=False)

    op.create_table('organisations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_ja', sa.String(length=300), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('sector', sa.String(length=64), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('key', name=op.f('uq_organisations_key'))
    )
    op.create_table('stix_objects',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('stix_id', sa.String(length=120), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('spec_version', sa.String(length=8), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('created', sa.String(length=32), nullable=True),
    sa.Column('modified', sa.String(length=32), nullable=True),
    sa.Column('revoked', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('valid_from', sa.String(length=32), nullable=True),
    sa.Column('valid_until', sa.String(length=32), nullable=True),
    sa.Column('confidence', sa.Integer(), nullable=True),
    sa.Column('tlp', sa.Integer(), nullable=False),
    sa.Column('ref_tlp', sa.Integer(), server_default='-1', nullable=False),
    sa.Column('ref_unmarked', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('name', sa.String(length=500), nullable=True),
    sa.Column('labels', sa.Text(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=True),
    sa.Column('is_latest', sa.Boolean(), nullable=False),
    sa.Column('date_added', sa.String(length=32), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_stix_objects')),
    sa.UniqueConstraint('stix_id', 'version', name='uq_stix_objects_id_version')
    )
    with op.batch_alter_table('stix_objects', schema=None) as batch_op:
        batch_op.create_index('ix_stix_objects_latest_added', ['is_latest', 'date_added'], unique=False)
        batch_op.create_index('ix_stix_objects_stix_id', ['stix_id'], unique=False)
        batch_op.create_index('ix_stix_objects_type_latest', ['type', 'is_latest', 'modified'], unique=False)

    op.create_table('stix_refs',
    sa.Column('src_id', sa.String(length=120), nullable=False),
    sa.Column('dst_id', sa.String(length=120), nullable=False),
    sa.Column('ref_type', sa.String(length=100), nullable=False),
    sa.Column('via_id', sa.String(length=120), nullable=False)
    )
    with op.batch_alter_table('stix_refs', schema=None) as batch_op:
        batch_op.create_index('ix_stix_refs_dst', ['dst_id'], unique=False)
        batch_op.create_index('ix_stix_refs_src', ['src_id'], unique=False)
        batch_op.create_index('ix_stix_refs_via', ['via_id'], unique=False)

    op.create_table('taxii_collections',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('api_root', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('alias', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxii_collections'))
    )
    op.create_table('taxii_feeds',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('collection_url', sa.String(length=1000), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=True),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('added_after', sa.String(length=40), nullable=True),
    sa.Column('interval_s', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('target_collection_id', sa.String(length=64), nullable=True),
    sa.Column('last_pull_at', sa.String(length=32), nullable=True),
    sa.Column('last_result', sa.Text(), nullable=True),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxii_feeds')),
    sa.UniqueConstraint('name', name=op.f('uq_taxii_feeds_name'))
    )
    op.create_table('taxii_status',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('api_root', sa.String(length=100), nullable=False),
    sa.Column('collection_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('request_timestamp', sa.String(length=32), nullable=False),
    sa.Column('total_count', sa.Integer(), nullable=False),
    sa.Column('success_count', sa.Integer(), nullable=False),
    sa.Column('failure_count', sa.Integer(), nullable=False),
    sa.Column('pending_count', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxii_status'))
    )
    op.create_table('collection_entries',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('collection_id', sa.String(length=64), nullable=False),
    sa.Column('object_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stix_id', sa.String(length=120), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('spec_version', sa.String(length=8), nullable=False),
    sa.Column('date_added', sa.String(length=32), nullable=False),
    sa.Column('tlp', sa.Integer(), nullable=False),
    sa.Column('ref_tlp', sa.Integer(), server_default='-1', nullable=False),
    sa.Column('ref_unmarked', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('is_latest', sa.Boolean(), nullable=False),
    sa.Column('is_first', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['taxii_collections.id'], name=op.f('fk_collection_entries_collection_id_taxii_collections')),
    sa.ForeignKeyConstraint(['object_pk'], ['stix_objects.pk'], name=op.f('fk_collection_entries_object_pk_stix_objects')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_collection_entries')),
    sa.UniqueConstraint('collection_id', 'object_pk', name='uq_collection_entries_coll_obj')
    )
    with op.batch_alter_table('collection_entries', schema=None) as batch_op:
        batch_op.create_index('ix_collection_entries_obj', ['collection_id', 'stix_id'], unique=False)
        batch_op.create_index('ix_collection_entries_page', ['collection_id', 'date_added', 'stix_id', 'version'], unique=False)

    op.create_table('indicator_values',
    sa.Column('object_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stix_id', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=2048), nullable=False),
    sa.Column('ip_lo', sa.BigInteger(), nullable=True),
    sa.Column('ip_hi', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['object_pk'], ['stix_objects.pk'], name=op.f('fk_indicator_values_object_pk_stix_objects'))
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_values_ip', ['kind', 'ip_lo', 'ip_hi'], unique=False)
        batch_op.create_index('ix_indicator_values_kind_value', ['kind', 'value'], unique=False)
        batch_op.create_index('ix_indicator_values_stix_id', ['stix_id'], unique=False)

    op.create_table('sharing_agreements',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('max_tlp', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sharing_agreements_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_agreements')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_sharing_agreements_organisation_id'))
    )
    op.create_table('users',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.Column('display_name', sa.String(length=300), nullable=True),
    sa.Column('password_hash', sa.String(length=300), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=True),
    sa.Column('locale', sa.String(length=8), server_default='ja', nullable=False),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('password_changed_at', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('agreement_collections',
    sa.Column('agreement_id', sa.String(length=64), nullable=False),
    sa.Column('collection_id', sa.String(length=64), nullable=False),
    sa.Column('can_read', sa.Boolean(), nullable=False),
    sa.Column('can_write', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['sharing_agreements.id'], name=op.f('fk_agreement_collections_agreement_id_sharing_agreements')),
    sa.ForeignKeyConstraint(['collection_id'], ['taxii_collections.id'], name=op.f('fk_agreement_collections_collection_id_taxii_collections')),
    sa.PrimaryKeyConstraint('agreement_id', 'collection_id', name=op.f('pk_agreement_collections'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.String(length=32), nullable=True),
    sa.Column('revoked_at', sa.String(length=32), nullable=True),
    sa.Column('last_used_at', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('web_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_web_sessions'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))

    op.drop_table('web_sessions')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('agreement_collections')
    op.drop_table('users')
    op.drop_table('sharing_agreements')
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_values_stix_id')
        batch_op.drop_index('ix_indicator_values_kind_value')
        batch_op.drop_index('ix_indicator_values_ip')

    op.drop_table('indicator_values')
    with op.batch_alter_table('collection_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_collection_entries_page')
        batch_op.drop_index('ix_collection_entries_obj')

    op.drop_table('collection_entries')
    op.drop_table('taxii_status')
    op.drop_table('taxii_feeds')
    op.drop_table('taxii_collections')
    with op.batch_alter_table('stix_refs', schema=None) as batch_op:
        batch_op.drop_index('ix_stix_refs_via')
        batch_op.drop_index('ix_stix_refs_src')
        batch_op.drop_index('ix_stix_refs_dst')

    op.drop_table('stix_refs')
    with op.batch_alter_table('stix_objects', schema=None) as batch_op:
        batch_op.drop_index('ix_stix_objects_type_latest')
        batch_op.drop_index('ix_stix_objects_stix_id')
        batch_op.drop_index('ix_stix_objects_latest_added')

    op.drop_table('stix_objects')
    op.drop_table('organisations')
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosures_org_at')

    op.drop_table('disclosures')
