"""The relational schema of mamori, shared by SQLite and PostgreSQL.

Timestamps are stored as text in one sortable form (``YYYY-MM-DDTHH:MM:SS.ffffffZ``, UTC) so that ordering,
range filters and TAXII cursors behave identically on both engines.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

TS = String(32)
ID = String(64)

# --- identity ---------------------------------------------------------------------------------------------

organisations = Table(
    "organisations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("key", String(100), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("name_ja", String(300)),
    Column("kind", String(32), nullable=False),  # national_office | operator | partner | commission
    Column("sector", String(64)),
    Column("country", String(2)),
    Column("created_at", TS, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("username", String(150), nullable=False, unique=True),
    Column("display_name", String(300)),
    Column("password_hash", String(300)),
    Column("role", String(32), nullable=False),
    Column("organisation_id", ID, ForeignKey("organisations.id")),
    Column("locale", String(8), nullable=False, server_default="ja"),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", TS, nullable=False),
    Column("password_changed_at", TS),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("scopes", Text, nullable=False),  # JSON list
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS),
    Column("revoked_at", TS),
    Column("last_used_at", TS),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
)

# --- threat intelligence ----------------------------------------------------------------------------------

stix_objects = Table(
    "stix_objects",
    metadata,
    Column("pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("stix_id", String(120), nullable=False),
    Column("type", String(64), nullable=False),
    Column("spec_version", String(8), nullable=False),
    Column("version", TS, nullable=False),  # modified, else created, else first date added
    Column("created", TS),
    Column("modified", TS),
    Column("revoked", Boolean, nullable=False, server_default="0"),
    Column("valid_from", TS),
    Column("valid_until", TS),
    Column("confidence", Integer),
    Column("tlp", Integer, nullable=False),  # own TLP rank 0..4, -1 when unmarked
    Column("ref_tlp", Integer, nullable=False, server_default="-1"),  # highest TLP of referenced objects
    Column("ref_unmarked", Boolean, nullable=False, server_default="0"),  # references an unmarked object
    Column("name", String(500)),
    Column("labels", Text),  # JSON list
    Column("search_text", Text),  # lower-cased words for free-text search
    Column("is_latest", Boolean, nullable=False),
    Column("date_added", TS, nullable=False),
    Column("added_by", ID),  # organisation of a partner that contributed this version; NULL: the national side
    Column("content_hash", String(64), nullable=False),
    Column("raw", Text, nullable=False),
    UniqueConstraint("stix_id", "version", name="uq_stix_objects_id_version"),
)
# Bulk ingest pays for every index whose key is random (ids, values): each new row dirties a page of it. Indexes
# here are kept to those that queries need, and lead with keys that arrive in order where they can.
Index("ix_stix_objects_type_latest", stix_objects.c.type, stix_objects.c.is_latest)
# Look-ups by id use the unique (stix_id, version) index. No index may lead with is_latest: a planner without
# statistics would pick it for "id IN (...) AND is_latest" and scan every latest row.

indicator_values = Table(
    "indicator_values",
    metadata,
    Column("object_pk", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("stix_objects.pk"), nullable=False),
    Column("stix_id", String(120), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(2048), nullable=False),
    Column("ip_lo", BigInteger),
    Column("ip_hi", BigInteger),
)
Index("ix_indicator_values_kind_value", indicator_values.c.kind, indicator_values.c.value)
Index("ix_indicator_values_ip", indicator_values.c.kind, indicator_values.c.ip_lo, indicator_values.c.ip_hi)
Index("ix_indicator_values_object_pk", indicator_values.c.object_pk)

stix_refs = Table(
    "stix_refs",
    metadata,
    Column("src_id", String(120), nullable=False),
    Column("dst_id", String(120), nullable=False),
    Column("ref_type", String(100), nullable=False),  # relationship type, sighting-of, sighted-at, object_refs...
    Column("via_id", String(120), nullable=False),  # the object that states the link
    Column("via_pk", BigInteger().with_variant(Integer, "sqlite")),  # the stored version of it that does
)
Index("ix_stix_refs_src", stix_refs.c.src_id)
Index("ix_stix_refs_dst", stix_refs.c.dst_id)
Index("ix_stix_refs_via_pk", stix_refs.c.via_pk)

# --- sharing ----------------------------------------------------------------------------------------------

taxii_collections = Table(
    "taxii_collections",
    metadata,
    Column("id", ID, primary_key=True),
    Column("api_root", String(100), nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text),
    Column("alias", String(100)),
    Column("created_at", TS, nullable=False),
)

collection_entries = Table(
    "collection_entries",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("collection_id", ID, ForeignKey("taxii_collections.id"), nullable=False),
    Column("object_pk", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("stix_objects.pk"), nullable=False),
    Column("stix_id", String(120), nullable=False),
    Column("type", String(64), nullable=False),
    Column("version", TS, nullable=False),
    Column("spec_version", String(8), nullable=False),
    Column("date_added", TS, nullable=False),
    Column("tlp", Integer, nullable=False),
    Column("ref_tlp", Integer, nullable=False, server_default="-1"),
    Column("ref_unmarked", Boolean, nullable=False, server_default="0"),
    Column("is_latest", Boolean, nullable=False),
    Column("is_first", Boolean, nullable=False),
    # (object_pk, collection_id): an object's entries are found through its stored versions' keys
    UniqueConstraint("object_pk", "collection_id", name="uq_collection_entries_obj_coll"),
)
Index(
    "ix_collection_entries_page",
    collection_entries.c.collection_id,
    collection_entries.c.date_added,
    collection_entries.c.stix_id,
    collection_entries.c.version,
)

sharing_agreements = Table(
    "sharing_agreements",
    metadata,
    Column("id", ID, primary_key=True),
    Column("organisation_id", ID, ForeignKey("organisations.id"), nullable=False, unique=True),
    Column("max_tlp", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

agreement_collections = Table(
    "agreement_collections",
    metadata,
    Column("agreement_id", ID, ForeignKey("sharing_agreements.id"), primary_key=True),
    Column("collection_id", ID, ForeignKey("taxii_collections.id"), primary_key=True),
    Column("can_read", Boolean, nullable=False),
    Column("can_write", Boolean, nullable=False),
)

disclosures = Table(
    "disclosures",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False),
    Column("user_id", ID),
    Column("organisation_id", ID),
    Column("channel", String(16), nullable=False),  # taxii | api | web | export
    Column("stix_id", String(120), nullable=False),
    Column("version", TS, nullable=False),
)
Index("ix_disclosures_org_at", disclosures.c.organisation_id, disclosures.c.at)

taxii_status = Table(
    "taxii_status",
    metadata,
    Column("id", ID, primary_key=True),
    Column("api_root", String(100), nullable=False),
    Column("collection_id", ID, nullable=False),
    Column("user_id", ID),
    Column("status", String(16), nullable=False),
    Column("request_timestamp", TS, nullable=False),
    Column("total_count", Integer, nullable=False),
    Column("success_count", Integer, nullable=False),
    Column("failure_count", Integer, nullable=False),
    Column("pending_count", Integer, nullable=False),
    Column("detail", Text, nullable=False),  # JSON: successes, failures, pendings
)

taxii_feeds = Table(
    "taxii_feeds",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("collection_url", String(1000), nullable=False),
    Column("username", String(200)),
    Column("secret", Text),  # encrypted with the instance key
    Column("added_after", String(40)),
    Column("interval_s", Integer),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("target_collection_id", ID),
    Column("last_pull_at", TS),
    Column("last_result", Text),
    Column("created_at", TS, nullable=False),
)

# --- active cyber defence -------------------------------------------------------------------------------
# Capabilities define their tables on this MetaData so that one schema and one migration history hold them all.

from mamori.traffic.finding_tables import define_tables as _define_finding_tables  # noqa: E402
from mamori.traffic.tables import define_tables as _define_traffic_tables  # noqa: E402

traffic_tables = _define_traffic_tables(metadata)
finding_tables = _define_finding_tables(metadata)
