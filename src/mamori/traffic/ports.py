"""Ports the flow-ingest capability needs: the commission's approval registry and the flow store."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import pyarrow as pa

from mamori.traffic.model import Approval, Channel, PurgeReport


class ApprovalRegistry(Protocol):
    """Approvals of the oversight commission, as the collection side may consult them."""

    def check(self, channel: Channel, approval_id: str, at: datetime) -> Approval:
        """The approval, valid at ``at`` for ``channel``.

        Raises NotFound when no such approval exists, PermissionDenied when it is for another
        channel, not yet valid, expired or revoked.
        """
        ...


class FlowStore(Protocol):
    """Where minimised flow records are kept until they expire."""

    def write(self, table: pa.Table, batch_id: str) -> list[str]:
        """Store a minimised batch (FLOW_SCHEMA) atomically; return the files written."""
        ...

    def read(self, start: float, end: float, channel: Channel | None = None) -> pa.Table:
        """Records with ``start <= start_ts < end`` (epoch seconds)."""
        ...

    def purge(self, now: datetime) -> PurgeReport:
        """Remove every record whose ``expires_at <= now``."""
        ...
