"""Proposed measures: a finding turned into a request for action, with its evidence package.

A proposal (block, sinkhole, takedown request, neutralisation) is only ever *proposed* here. Deciding and
executing it belongs to the oversight capability; nothing in mamori executes a measure automatically.

The evidence package travels with the proposal and is frozen at proposal time: the finding (scores, sub-scores,
thresholds that fired, first/last seen), its evidence rows, the STIX ids written for it, and SHA-256 digests of
the canonical JSON (RFC 8785) of the evidence rows and of the finding, so a later reviewer can check that what
is decided on is what was proposed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Connection, insert, select

from mamori.errors import InvalidInput, NotFound
from mamori.kernel.canonical import canonical_bytes
from mamori.kernel.timefmt import format_timestamp, parse_timestamp
from mamori.traffic.detect.model import Endpoint, Finding, FindingKind
from mamori.traffic.finding_tables import FindingTables
from mamori.traffic.findings_store import StoredFinding


class MeasureKind(StrEnum):
    BLOCK = "block"
    SINKHOLE = "sinkhole"
    TAKEDOWN_REQUEST = "takedown-request"
    NEUTRALISATION = "neutralisation"

    @classmethod
    def parse(cls, value: str, where: str = "kind") -> MeasureKind:
        try:
            return cls(value.strip().lower().replace("_", "-"))
        except ValueError as e:
            allowed = ", ".join(k.value for k in cls)
            raise InvalidInput(f"unknown measure kind {value!r} (one of {allowed})", where=where) from e


class MeasureState(StrEnum):
    PROPOSED = "proposed"


#: Findings whose source, not destination, is the thing to act on (the scanner, the host asking for DGA names).
_SOURCE_IS_TARGET: Final = frozenset(
    {FindingKind.SCAN, FindingKind.HORIZONTAL_SCAN, FindingKind.VERTICAL_SCAN, FindingKind.NXDOMAIN_BURST}
)


@dataclass(frozen=True)
class ProposedMeasure:
    id: str
    finding_id: str
    kind: MeasureKind
    state: MeasureState
    target: str
    proposed_by: str
    proposed_at: datetime
    reason: str | None
    evidence_package: dict[str, Any]
    evidence_sha256: str


def target_of(finding: Finding) -> str:
    """The endpoint a measure acts on: the hostile side of the finding."""
    end: Endpoint = finding.src if finding.kind in _SOURCE_IS_TARGET else finding.dst
    value = end.address or end.name
    if not value:
        raise InvalidInput(f"a {finding.kind.value} finding names no endpoint a measure could act on",
                           where="finding_id")
    return value


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def evidence_package(stored: StoredFinding) -> dict[str, Any]:
    """The frozen evidence of a finding (see the module docstring), as plain JSON values."""
    f = stored.finding
    rows = [
        {"start_ts": r.start_ts, "src_ip": r.src_ip, "dst_ip": r.dst_ip, "dst_port": r.dst_port,
         "bytes_total": r.bytes_total, "duration": r.duration, "note": r.note}
        for r in f.evidence_sample
    ]
    finding = {
        "id": stored.id,
        "kind": f.kind.value,
        "src": {"address": f.src.address, "name": f.src.name, "port": f.src.port},
        "dst": {"address": f.dst.address, "name": f.dst.name, "port": f.dst.port},
        "score": f.score,
        "severity": f.severity.value,
        "credibility": int(f.credibility),
        "sub_scores": dict(f.sub_scores),
        "thresholds": dict(f.thresholds),
        "fired": list(f.fired),
        "first_seen": format_timestamp(f.first_seen),
        "last_seen": format_timestamp(f.last_seen),
        "days_seen": list(f.days_seen),
        "evidence_count": f.evidence_count,
        "engine": stored.engine,
    }
    return {
        "finding": finding,
        "evidence_rows": rows,
        "stix_ids": list(stored.stix_ids),
        "hashes": {
            "evidence_rows_sha256": sha256_hex(canonical_bytes(rows)),
            "finding_sha256": sha256_hex(canonical_bytes(finding)),
        },
    }


def propose(
    stored: StoredFinding, kind: MeasureKind, *, measure_id: str, proposed_by: str, now: datetime,
    reason: str | None = None,
) -> ProposedMeasure:
    """A proposal for ``stored`` in state ``proposed``; pure (the service stores it)."""
    if not proposed_by.strip():
        raise InvalidInput("a proposal needs the name of who proposes it", where="proposed_by")
    if reason is not None and len(reason) > 4000:
        raise InvalidInput("reason is longer than 4000 characters", where="reason")
    package = evidence_package(stored)
    return ProposedMeasure(
        id=measure_id, finding_id=stored.id, kind=kind, state=MeasureState.PROPOSED, target=target_of(stored.finding),
        proposed_by=proposed_by, proposed_at=now, reason=(reason or "").strip() or None, evidence_package=package,
        evidence_sha256=sha256_hex(canonical_bytes(package)),
    )


class SqlMeasureStore:
    """Proposed measures on one connection (the caller's unit of work)."""

    def __init__(self, conn: Connection, tables: FindingTables) -> None:
        self._conn = conn
        self._t = tables.measures

    def add(self, m: ProposedMeasure) -> None:
        self._conn.execute(insert(self._t).values(
            id=m.id, finding_id=m.finding_id, kind=m.kind.value, state=m.state.value, target=m.target,
            proposed_by=m.proposed_by, proposed_at=format_timestamp(m.proposed_at), reason=m.reason,
            evidence_package=canonical_bytes(m.evidence_package).decode("utf-8"), evidence_sha256=m.evidence_sha256,
        ))

    def get(self, measure_id: str) -> ProposedMeasure:
        m = self._conn.execute(select(self._t).where(self._t.c.id == measure_id)).mappings().first()
        if m is None:
            raise NotFound(f"no measure {measure_id!r}", where="measure_id")
        return _measure_of(m)

    def find(self, finding_id: str | None = None) -> list[ProposedMeasure]:
        q = select(self._t).order_by(self._t.c.proposed_at.desc(), self._t.c.id)
        if finding_id is not None:
            q = q.where(self._t.c.finding_id == finding_id)
        return [_measure_of(m) for m in self._conn.execute(q).mappings()]


def _measure_of(m: Any) -> ProposedMeasure:
    return ProposedMeasure(
        id=m["id"], finding_id=m["finding_id"], kind=MeasureKind(m["kind"]), state=MeasureState(m["state"]),
        target=m["target"], proposed_by=m["proposed_by"], proposed_at=parse_timestamp(m["proposed_at"]),
        reason=m["reason"], evidence_package=json.loads(m["evidence_package"]), evidence_sha256=m["evidence_sha256"],
    )


__all__ = ["MeasureKind", "MeasureState", "ProposedMeasure", "SqlMeasureStore", "evidence_package", "propose",
           "target_of"]
