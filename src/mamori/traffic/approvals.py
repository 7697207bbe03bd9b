"""Oversight-commission approvals: the SQL-backed registry and the coverage rule for a batch.

A batch on ``transit`` or ``specific`` is collected only under an approval that is for that channel,
valid and not revoked at acquisition time, whose validity window contains every flow's start time and,
when the approval has a scope, where every flow touches an address of the scope (the suspect servers).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, insert, select, update

from mamori.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mamori.traffic.model import Approval, Channel
from mamori.traffic.tables import TrafficTables


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(f"{name} must be timezone-aware", where=name)
    return value.astimezone(UTC)


class SqlApprovalRegistry:
    """:class:`~mamori.traffic.ports.ApprovalRegistry` on the ``traffic_approvals`` table."""

    def __init__(self, engine: Engine, tables: TrafficTables) -> None:
        self._engine = engine
        self._table = tables.approvals

    def grant(
        self,
        *,
        approval_id: str,
        channel: Channel,
        scope: Sequence[str] | None,
        valid_from: datetime,
        valid_until: datetime,
        granted_by: str,
        created_at: datetime,
    ) -> Approval:
        """Record an approval decided by the commission. Raises Conflict for an existing id."""
        if not approval_id.strip():
            raise InvalidInput("approval id is empty", where="approval_id")
        start = _require_aware(valid_from, "valid_from")
        until = _require_aware(valid_until, "valid_until")
        if until <= start:
            raise InvalidInput("valid_until must be after valid_from", where="valid_until")
        if channel is Channel.SPECIFIC and scope is not None and not scope:
            raise InvalidInput("a specific approval's scope lists no address", where="scope")
        canonical_scope: list[str] | None = None
        if scope is not None:
            canonical_scope = []
            for i, prefix in enumerate(scope):
                try:
                    canonical_scope.append(str(ipaddress.ip_network(prefix, strict=False)))
                except ValueError as e:
                    raise InvalidInput(f"not an IP prefix: {prefix!r}", where=f"scope[{i}]") from e
        approval = Approval(
            id=approval_id,
            channel=channel,
            scope=tuple(canonical_scope) if canonical_scope is not None else None,
            valid_from=start,
            valid_until=until,
            granted_by=granted_by,
            created_at=_require_aware(created_at, "created_at"),
        )
        with self._engine.begin() as conn:
            exists = conn.execute(select(self._table.c.id).where(self._table.c.id == approval_id)).first()
            if exists is not None:
                raise Conflict(f"approval {approval_id!r} already exists", where="approval_id")
            conn.execute(
                insert(self._table).values(
                    id=approval.id,
                    channel=approval.channel.value,
                    scope=canonical_scope,
                    valid_from=approval.valid_from,
                    valid_until=approval.valid_until,
                    granted_by=approval.granted_by,
                    revoked_at=None,
                    created_at=approval.created_at,
                )
            )
        return approval

    def revoke(self, approval_id: str, at: datetime) -> Approval:
        """Mark an approval revoked from ``at`` on."""
        when = _require_aware(at, "revoked_at")
        with self._engine.begin() as conn:
            result = conn.execute(update(self._table).where(self._table.c.id == approval_id).values(revoked_at=when))
            if result.rowcount == 0:
                raise NotFound(f"no approval {approval_id!r}", where="approval_id")
        return self.get(approval_id)

    def get(self, approval_id: str) -> Approval:
        with self._engine.connect() as conn:
            row = conn.execute(select(self._table).where(self._table.c.id == approval_id)).mappings().first()
        if row is None:
            raise NotFound(f"no approval {approval_id!r}", where="approval_id")
        return _from_row(row)

    def list_all(self) -> list[Approval]:
        """Every approval, ordered by start of validity then id."""
        t = self._table
        with self._engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.valid_from, t.c.id)).mappings().all()
        return [_from_row(row) for row in rows]

    def check(self, channel: Channel, approval_id: str, at: datetime) -> Approval:
        approval = self.get(approval_id)
        when = _require_aware(at, "at")
        if approval.channel is not channel:
            raise PermissionDenied(
                f"approval {approval_id!r} is for channel {approval.channel.value}, not {channel.value}",
                where="approval_id",
            )
        if approval.revoked_at is not None and approval.revoked_at <= when:
            raise PermissionDenied(
                f"approval {approval_id!r} was revoked at {approval.revoked_at.isoformat()}",
                where="approval_id",
            )
        if when < approval.valid_from:
            raise PermissionDenied(
                f"approval {approval_id!r} is valid only from {approval.valid_from.isoformat()}",
                where="approval_id",
            )
        if when >= approval.valid_until:
            raise PermissionDenied(
                f"approval {approval_id!r} expired at {approval.valid_until.isoformat()}", where="approval_id"
            )
        return approval


def _from_row(row: Any) -> Approval:
    scope = row["scope"]
    valid_from = _utc(row["valid_from"])
    valid_until = _utc(row["valid_until"])
    created_at = _utc(row["created_at"])
    assert valid_from is not None and valid_until is not None and created_at is not None
    return Approval(
        id=row["id"],
        channel=Channel(row["channel"]),
        scope=tuple(scope) if scope is not None else None,
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by=row["granted_by"],
        created_at=created_at,
        revoked_at=_utc(row["revoked_at"]),
    )


def assert_batch_covered(approval: Approval, table: pa.Table) -> None:
    """Raise PermissionDenied unless every flow of ``table`` lies within the approval's time and scope."""
    if table.num_rows == 0:
        return
    start = table.column("start_ts")
    lo = pc.min(start).as_py()
    hi = pc.max(start).as_py()
    if lo < approval.valid_from.timestamp() or hi >= approval.valid_until.timestamp():
        raise PermissionDenied(
            f"batch has flows from {datetime.fromtimestamp(lo, UTC).isoformat()} to "
            f"{datetime.fromtimestamp(hi, UTC).isoformat()}, outside approval {approval.id!r} "
            f"({approval.valid_from.isoformat()} .. {approval.valid_until.isoformat()})",
            where="approval_id",
        )
    space = approval.scope_space()
    if space is None:
        return
    touches = space.contains(table.column("src_ip").combine_chunks(), table.column("src_ip_num").combine_chunks())
    touches |= space.contains(table.column("dst_ip").combine_chunks(), table.column("dst_ip_num").combine_chunks())
    if not touches.all():
        row = int(np.flatnonzero(~touches)[0])
        raise PermissionDenied(
            f"{int((~touches).sum())} flow(s) touch no address of approval {approval.id!r} scope; "
            f"first: {table.column('src_ip')[row].as_py()} -> {table.column('dst_ip')[row].as_py()}",
            where=f"record {row}",
        )
