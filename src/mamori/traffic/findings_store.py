"""The findings store: graded detector findings, de-duplicated across days, persisted in SQL.

A finding's identity is its kind and its two endpoints (:attr:`Finding.key`); its id is a UUIDv5 of that key, so
the same behaviour seen on several days, or found again by a re-run, lands on one row. On every save the stored
finding and the new one are folded with the detection side's :func:`~mamori.traffic.detect.merge.merge_findings`
(earliest first_seen, latest last_seen, union of days, the strongest day's scores) and re-graded on the
Admiralty scale (NATO AJP-2.1); a re-run over flows already counted does not add their evidence again
(see :meth:`SqlFindingStore.save`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from mamori.errors import InvalidInput, NotFound
from mamori.kernel.ids import stable_uuid
from mamori.kernel.timefmt import format_timestamp, parse_timestamp
from mamori.traffic.detect.merge import grade_credibility, merge_findings
from mamori.traffic.detect.model import (
    Credibility,
    Endpoint,
    EvidenceRow,
    Finding,
    FindingKind,
    Severity,
)
from mamori.traffic.finding_tables import FindingTables


def finding_id(finding: Finding) -> str:
    """The stable id of a finding: a UUIDv5 of its kind and endpoints."""
    parts = [finding.kind.value]
    for end in (finding.src, finding.dst):
        parts += [end.address or "", end.name or "", "" if end.port is None else str(end.port)]
    return stable_uuid("traffic-finding", *parts)


@dataclass(frozen=True)
class StoredFinding:
    """A finding as the store keeps it: the detector's explanation plus its id, STIX ids and bookkeeping."""

    id: str
    finding: Finding
    engine: str
    created_at: datetime
    updated_at: datetime
    stix_ids: tuple[str, ...] = ()

    @property
    def kind(self) -> FindingKind:
        return self.finding.kind

    @property
    def indicator_ids(self) -> tuple[str, ...]:
        """STIX ids of the indicators an indicator-match finding fired on."""
        return tuple(f.split(":", 1)[1] for f in self.finding.fired if f.startswith("indicator:"))


@dataclass(frozen=True)
class FindingFilter:
    """What to list: kinds, a window on last_seen (``since <= last_seen``, ``first_seen < until``), a minimum
    severity, an address on either side."""

    kinds: tuple[FindingKind, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    min_severity: Severity | None = None
    address: str | None = None
    limit: int = 200
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 10_000:
            raise InvalidInput(f"limit must lie in 1..10000, got {self.limit}", where="limit")
        if self.offset < 0:
            raise InvalidInput(f"offset must not be negative, got {self.offset}", where="offset")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidInput(f"{name} must carry a time zone", where=name)
        if self.since and self.until and self.until <= self.since:
            raise InvalidInput("until must be after since", where="until")


def parse_kinds(values: Iterable[str], where: str = "kind") -> tuple[FindingKind, ...]:
    """Finding kinds from their names, with a clear error naming the allowed ones."""
    out: list[FindingKind] = []
    for v in values:
        try:
            out.append(FindingKind(v.strip().lower().replace("-", "_")))
        except ValueError as e:
            allowed = ", ".join(k.value for k in FindingKind)
            raise InvalidInput(f"unknown finding kind {v!r} (one of {allowed})", where=where) from e
    return tuple(out)


def parse_severity(value: str, where: str = "min_severity") -> Severity:
    try:
        return Severity(value.strip().lower())
    except ValueError as e:
        allowed = ", ".join(s.value for s in Severity)
        raise InvalidInput(f"unknown severity {value!r} (one of {allowed})", where=where) from e


# --- row <-> domain --------------------------------------------------------------------------------------

def _row_order(r: EvidenceRow) -> tuple[object, ...]:
    return (r.start_ts, r.src_ip, r.dst_ip or "", -1 if r.dst_port is None else r.dst_port, r.note or "")


def _evidence_json(rows: Sequence[EvidenceRow]) -> str:
    # stored in time order, whatever order a detector or a merge produced, so equal samples compare equal
    return json.dumps(
        [
            {"start_ts": r.start_ts, "src_ip": r.src_ip, "dst_ip": r.dst_ip, "dst_port": r.dst_port,
             "bytes_total": r.bytes_total, "duration": r.duration, "note": r.note}
            for r in sorted(rows, key=_row_order)
        ],
        separators=(",", ":"),
    )


def _evidence_of(text: str) -> tuple[EvidenceRow, ...]:
    return tuple(
        EvidenceRow(start_ts=float(r["start_ts"]), src_ip=r["src_ip"], dst_ip=r.get("dst_ip"),
                    dst_port=r.get("dst_port"), bytes_total=r.get("bytes_total"), duration=r.get("duration"),
                    note=r.get("note"))
        for r in json.loads(text)
    )


def _values_of(f: Finding) -> dict[str, Any]:
    return {
        "kind": f.kind.value,
        "src_address": f.src.address, "src_name": f.src.name, "src_port": f.src.port,
        "dst_address": f.dst.address, "dst_name": f.dst.name, "dst_port": f.dst.port,
        "score": f.score,
        "severity": f.severity.value,
        "severity_rank": f.severity.rank,
        "credibility": int(f.credibility),
        "sub_scores": json.dumps(dict(f.sub_scores), sort_keys=True),
        "thresholds": json.dumps(dict(f.thresholds), sort_keys=True),
        "fired": json.dumps(list(f.fired)),
        "days_seen": json.dumps(list(f.days_seen)),
        "first_seen": format_timestamp(f.first_seen),
        "last_seen": format_timestamp(f.last_seen),
        "evidence_count": f.evidence_count,
        "evidence": _evidence_json(f.evidence_sample),
    }


def _finding_of(m: Any) -> Finding:
    return Finding(
        kind=FindingKind(m["kind"]),
        src=Endpoint(address=m["src_address"], name=m["src_name"], port=m["src_port"]),
        dst=Endpoint(address=m["dst_address"], name=m["dst_name"], port=m["dst_port"]),
        score=float(m["score"]),
        severity=Severity(m["severity"]),
        sub_scores=json.loads(m["sub_scores"]),
        thresholds=json.loads(m["thresholds"]),
        fired=tuple(json.loads(m["fired"])),
        first_seen=parse_timestamp(m["first_seen"]),
        last_seen=parse_timestamp(m["last_seen"]),
        evidence_count=int(m["evidence_count"]),
        evidence_sample=_evidence_of(m["evidence"]),
        credibility=Credibility(int(m["credibility"])),
        days_seen=tuple(json.loads(m["days_seen"])),
    )


def _stored_of(m: Any) -> StoredFinding:
    return StoredFinding(
        id=m["id"], finding=_finding_of(m), engine=m["engine"], created_at=parse_timestamp(m["created_at"]),
        updated_at=parse_timestamp(m["updated_at"]), stix_ids=tuple(json.loads(m["stix_ids"] or "[]")),
    )


def _fold(old: Finding, new: Finding) -> Finding:
    """Merge a newly detected finding into the stored one.

    When the new finding's window lies inside what is already stored (a re-run over the same flows), its
    evidence is already counted: the stored count is kept unless the new run counts more. Otherwise the
    detection side's merge adds the counts of the two days.
    """
    if old.first_seen <= new.first_seen and new.last_seen <= old.last_seen:
        merged = merge_findings([old], [new])[0]
        count = max(old.evidence_count, new.evidence_count)
        merged = replace(merged, evidence_count=count)
    else:
        merged = merge_findings([old], [new])[0]
    best = min(int(old.credibility), int(new.credibility))
    regraded = grade_credibility([merged])[0]
    return replace(merged, credibility=Credibility(min(best, int(regraded.credibility))))


@dataclass(frozen=True)
class SaveReport:
    """What one save did: findings new to the store, changed, and unchanged (already known as they are)."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    stored: tuple[StoredFinding, ...] = field(default=())


class SqlFindingStore:
    """Findings on one connection (the caller's unit of work)."""

    def __init__(self, conn: Connection, tables: FindingTables) -> None:
        self._conn = conn
        self._t = tables.findings

    def save(self, findings: Iterable[Finding], *, engine: str, now: datetime) -> SaveReport:
        """Insert new findings, fold known ones into their stored row; a finding equal to the stored one is
        left as it is (its ``updated_at`` does not move)."""
        t = self._t
        stamp = format_timestamp(now)
        groups: dict[str, list[Finding]] = {}
        for f in findings:
            groups.setdefault(finding_id(f), []).append(f)
        # one per key even if a batch repeats one (merged per key: endpoints of different keys need not compare)
        by_id = {fid: merge_findings(*([f] for f in group))[0] for fid, group in groups.items()}
        existing: dict[str, StoredFinding] = {}
        ids = list(by_id)
        for i in range(0, len(ids), 500):
            rows = self._conn.execute(select(t).where(t.c.id.in_(ids[i:i + 500]))).mappings()
            existing.update({m["id"]: _stored_of(m) for m in rows})
        added: list[str] = []
        changed: list[str] = []
        unchanged: list[str] = []
        stored: list[StoredFinding] = []
        for fid, f in by_id.items():
            old = existing.get(fid)
            if old is None:
                values = _values_of(f)
                self._conn.execute(insert(t).values(id=fid, engine=engine, stix_ids="[]", created_at=stamp,
                                                    updated_at=stamp, **values))
                added.append(fid)
                stored.append(StoredFinding(fid, f, engine, now, now))
                continue
            merged = _fold(old.finding, f)
            if _values_of(merged) == _values_of(old.finding):
                unchanged.append(fid)
                stored.append(old)
                continue
            self._conn.execute(update(t).where(t.c.id == fid).values(engine=engine, updated_at=stamp,
                                                                      **_values_of(merged)))
            changed.append(fid)
            stored.append(StoredFinding(fid, merged, engine, old.created_at, now, old.stix_ids))
        return SaveReport(tuple(added), tuple(changed), tuple(unchanged), tuple(stored))

    def set_stix_ids(self, fid: str, stix_ids: Sequence[str]) -> None:
        self._conn.execute(update(self._t).where(self._t.c.id == fid)
                           .values(stix_ids=json.dumps(sorted(set(stix_ids)))))

    def get(self, fid: str) -> StoredFinding:
        m = self._conn.execute(select(self._t).where(self._t.c.id == fid)).mappings().first()
        if m is None:
            raise NotFound(f"no finding {fid!r}", where="finding_id")
        return _stored_of(m)

    def find(self, flt: FindingFilter) -> tuple[list[StoredFinding], int]:
        """Matching findings, strongest and latest first, and how many match in all."""
        t = self._t
        q = select(t)
        cnt = select(func.count()).select_from(t)
        conds: list[ColumnElement[bool]] = []
        if flt.kinds:
            conds.append(t.c.kind.in_([k.value for k in flt.kinds]))
        if flt.since is not None:
            conds.append(t.c.last_seen >= format_timestamp(flt.since))
        if flt.until is not None:
            conds.append(t.c.first_seen < format_timestamp(flt.until))
        if flt.min_severity is not None:
            conds.append(t.c.severity_rank >= flt.min_severity.rank)
        if flt.address:
            conds.append((t.c.src_address == flt.address) | (t.c.dst_address == flt.address))
        for c in conds:
            q = q.where(c)
            cnt = cnt.where(c)
        q = q.order_by(t.c.severity_rank.desc(), t.c.score.desc(), t.c.last_seen.desc(), t.c.id)
        q = q.limit(flt.limit).offset(flt.offset)
        total = int(self._conn.execute(cnt).scalar_one())
        return [_stored_of(m) for m in self._conn.execute(q).mappings()], total

    def seen_between(self, start: datetime, end: datetime) -> list[StoredFinding]:
        """Every finding active in ``[start, end)`` (for the daily early-warning reports)."""
        t = self._t
        q = (select(t).where(t.c.last_seen >= format_timestamp(start))
             .where(t.c.first_seen < format_timestamp(end)).order_by(t.c.kind, t.c.id))
        return [_stored_of(m) for m in self._conn.execute(q).mappings()]

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(self._t)).scalar_one())


__all__ = [
    "FindingFilter",
    "SaveReport",
    "SqlFindingStore",
    "StoredFinding",
    "finding_id",
    "parse_kinds",
    "parse_severity",
]
