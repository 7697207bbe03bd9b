"""SQL tables of the active-defence outward side: findings, proposed measures, operator constituencies.

Defined on a ``MetaData`` the caller owns (the shared storage schema), so that the schema and its Alembic
migrations stay in one place. Timestamps are text in the store's sortable UTC form
(``YYYY-MM-DDTHH:MM:SS.ffffffZ``, see :mod:`mamori.kernel.timefmt`), as in the rest of the schema, so range
filters behave the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

_TS = String(32)
_ID = String(64)


@dataclass(frozen=True)
class FindingTables:
    findings: Table
    measures: Table
    constituency: Table


def define_tables(metadata: MetaData) -> FindingTables:
    """Define the findings, measures and constituency tables on ``metadata`` (idempotent per MetaData)."""
    names = ("traffic_findings", "traffic_measures", "traffic_constituency")
    if all(n in metadata.tables for n in names):
        return FindingTables(*(metadata.tables[n] for n in names))
    findings = Table(
        "traffic_findings",
        metadata,
        Column("id", _ID, primary_key=True),  # UUIDv5 of (kind, src, dst): the finding's identity across days
        Column("kind", String(32), nullable=False),
        Column("src_address", String(64)),
        Column("src_name", String(300)),
        Column("src_port", Integer),
        Column("dst_address", String(64)),
        Column("dst_name", String(300)),
        Column("dst_port", Integer),
        Column("score", Float, nullable=False),
        Column("severity", String(16), nullable=False),
        Column("severity_rank", Integer, nullable=False),
        Column("credibility", Integer, nullable=False),
        Column("sub_scores", Text, nullable=False),  # JSON object name -> number
        Column("thresholds", Text, nullable=False),  # JSON object name -> number
        Column("fired", Text, nullable=False),  # JSON array of threshold names that fired
        Column("days_seen", Text, nullable=False),  # JSON array of YYYY-MM-DD
        Column("first_seen", _TS, nullable=False),
        Column("last_seen", _TS, nullable=False),
        Column("evidence_count", BigInteger, nullable=False),
        Column("evidence", Text, nullable=False),  # JSON array of evidence rows (a sample)
        Column("engine", String(16), nullable=False),
        Column("stix_ids", Text, nullable=False, server_default="[]"),  # JSON array of STIX ids written
        Column("created_at", _TS, nullable=False),
        Column("updated_at", _TS, nullable=False),
        Index("ix_traffic_findings_kind_last_seen", "kind", "last_seen"),
        Index("ix_traffic_findings_last_seen", "last_seen"),
        Index("ix_traffic_findings_src_address", "src_address"),
        Index("ix_traffic_findings_dst_address", "dst_address"),
    )
    measures = Table(
        "traffic_measures",
        metadata,
        Column("id", _ID, primary_key=True),
        Column("finding_id", _ID, ForeignKey("traffic_findings.id"), nullable=False),
        Column("kind", String(32), nullable=False),  # block | sinkhole | takedown-request | neutralisation
        Column("state", String(16), nullable=False),  # proposed (execution belongs to oversight)
        Column("target", String(300), nullable=False),
        Column("proposed_by", String(150), nullable=False),
        Column("proposed_at", _TS, nullable=False),
        Column("reason", Text),
        Column("evidence_package", Text, nullable=False),  # canonical JSON (RFC 8785)
        Column("evidence_sha256", String(64), nullable=False),
        Index("ix_traffic_measures_finding_id", "finding_id"),
        Index("ix_traffic_measures_state", "state"),
    )
    constituency = Table(
        "traffic_constituency",
        metadata,
        Column("id", _ID, primary_key=True),
        Column("organisation_id", _ID, ForeignKey("organisations.id"), nullable=False),
        Column("kind", String(8), nullable=False),  # prefix | asn | domain
        Column("value", String(300), nullable=False),  # canonical form
        Column("added_at", _TS, nullable=False),
        Column("added_by", String(150), nullable=False),
        UniqueConstraint("organisation_id", "kind", "value", name="uq_traffic_constituency_entry"),
        Index("ix_traffic_constituency_organisation_id", "organisation_id"),
    )
    return FindingTables(findings=findings, measures=measures, constituency=constituency)


__all__ = ["FindingTables", "define_tables"]
