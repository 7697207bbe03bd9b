"""SQL table of oversight-commission approvals for flow collection (SQLAlchemy Core).

The table is defined on a ``MetaData`` the caller owns, so that the storage schema and its migrations
stay in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import JSON, Column, DateTime, Index, MetaData, String, Table


@dataclass(frozen=True)
class TrafficTables:
    approvals: Table


def define_tables(metadata: MetaData) -> TrafficTables:
    """Define the traffic tables on ``metadata`` (idempotent for the same MetaData)."""
    name = "traffic_approvals"
    if name in metadata.tables:
        return TrafficTables(approvals=metadata.tables[name])
    approvals = Table(
        name,
        metadata,
        Column("id", String(128), primary_key=True),
        Column("channel", String(16), nullable=False),
        Column("scope", JSON, nullable=True),
        Column("valid_from", DateTime(timezone=True), nullable=False),
        Column("valid_until", DateTime(timezone=True), nullable=False),
        Column("granted_by", String(256), nullable=False),
        Column("revoked_at", DateTime(timezone=True), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("ix_traffic_approvals_channel", "channel"),
    )
    return TrafficTables(approvals=approvals)
