"""Findings written out as STIX 2.1 (OASIS STIX 2.1 sections 3-6) for the intelligence store.

What each finding becomes:

* every finding: an ``observed-data`` (section 4.14) over the finding's endpoints as ``ipv4-addr`` /
  ``ipv6-addr`` / ``domain-name`` SCOs and, when both ends are addresses, a ``network-traffic`` SCO;
* an indicator match: a ``sighting`` (section 5.2) of the indicator that fired (``sighting_of_ref``), with
  ``count``, ``first_seen``/``last_seen``, ``where_sighted_refs`` = the national office identity and
  ``observed_data_refs``;
* hostile infrastructure abroad, for findings of at least ``min_severity``: an ``infrastructure`` (section 4.9)
  per foreign endpoint and type (beacon and fan-in destinations: ``command-and-control``; a fan-in also a
  ``botnet`` that ``consists-of`` its command server; DNS tunnel domains: ``exfiltration``; foreign scanners:
  ``reconnaissance``), which ``consists-of`` the endpoint's SCO; an indicator that matched the same endpoint
  ``indicates`` it. Domestic hosts are victims, never infrastructure.

Every id is deterministic: SCO ids follow STIX 2.1 section 2.9 (computed by the ``stix2`` library), SDO and SRO
ids are UUIDv5 of what they describe, ``created`` is when the finding was first stored and ``modified`` when it
last changed, so writing the same findings again adds nothing to the store. Confidence follows the Admiralty
credibility mapping of STIX 2.1 appendix A. Every object carries the configured TLP 2.0 marking.
"""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import stix2

from mamori.intel.tlp import Tlp, tlp2_marking_definition
from mamori.kernel.ids import stable_uuid
from mamori.kernel.timefmt import format_stix
from mamori.traffic.detect.model import Credibility, Endpoint, FindingKind, Severity
from mamori.traffic.findings_store import StoredFinding

#: STIX 2.1 appendix A, "Admiralty Credibility" to the confidence scale (6: cannot be judged, no value).
ADMIRALTY_CONFIDENCE: Final[dict[Credibility, int | None]] = {
    Credibility.CONFIRMED: 90,
    Credibility.PROBABLY_TRUE: 70,
    Credibility.POSSIBLY_TRUE: 50,
    Credibility.DOUBTFUL: 30,
    Credibility.IMPROBABLE: 10,
    Credibility.CANNOT_BE_JUDGED: None,
}

_IDENTITY_CREATED: Final = datetime(2026, 1, 1, tzinfo=UTC)
_MAX_COUNT: Final = 999_999_999

IsDomestic = Callable[[str], bool]


@dataclass(frozen=True)
class OfficeIdentity:
    """The national office that sights and observes (``where_sighted_refs``, ``created_by_ref``)."""

    key: str
    name: str

    @property
    def stix_id(self) -> str:
        return f"identity--{stable_uuid('identity', self.key)}"

    def to_stix(self, marking: str) -> dict[str, Any]:
        return _plain(stix2.Identity(
            id=self.stix_id, created=_ms(_IDENTITY_CREATED), modified=_ms(_IDENTITY_CREATED), name=self.name,
            identity_class="organization", object_marking_refs=[marking],
        ))


@dataclass(frozen=True)
class StixOutput:
    """The objects to ingest, and which of them each finding produced (to remember on the finding)."""

    objects: tuple[dict[str, Any], ...]
    by_finding: dict[str, tuple[str, ...]]


def _ms(dt: datetime) -> datetime:
    """Millisecond precision, as STIX timestamps are conventionally written (keeps ids and versions stable)."""
    dt = dt.astimezone(UTC)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def _plain(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(obj.serialize())
    return out


def _address_sco(address: str, marking: str) -> dict[str, Any] | None:
    try:
        version = ipaddress.ip_address(address).version
    except ValueError:
        return None
    cls = stix2.IPv4Address if version == 4 else stix2.IPv6Address
    return _plain(cls(value=address, object_marking_refs=[marking]))


def _domain_sco(name: str, marking: str) -> dict[str, Any] | None:
    try:
        return _plain(stix2.DomainName(value=name.lower().rstrip("."), object_marking_refs=[marking]))
    except stix2.exceptions.STIXError:
        return None


def _endpoint_sco(end: Endpoint, marking: str) -> dict[str, Any] | None:
    if end.address:
        return _address_sco(end.address, marking)
    if end.name:
        return _domain_sco(end.name, marking)
    return None


def _infrastructure_roles(s: StoredFinding, is_domestic: IsDomestic) -> list[tuple[str, Endpoint]]:
    """(infrastructure type, hostile endpoint) pairs a finding establishes."""
    f = s.finding
    foreign_dst = bool(f.dst.address and not is_domestic(f.dst.address)) or bool(not f.dst.address and f.dst.name)
    foreign_src = bool(f.src.address and not is_domestic(f.src.address))
    dst = Endpoint(address=f.dst.address, name=None if f.dst.address else f.dst.name)
    src = Endpoint(address=f.src.address)
    if f.kind in (FindingKind.BEACON, FindingKind.FAN_IN_C2) and foreign_dst:
        roles = [("command-and-control", dst)]
        if f.kind is FindingKind.FAN_IN_C2:
            roles.append(("botnet", dst))
        return roles
    if f.kind is FindingKind.DNS_TUNNEL and f.dst.name:
        return [("exfiltration", Endpoint(name=f.dst.name))]
    if f.kind in (FindingKind.SCAN, FindingKind.HORIZONTAL_SCAN, FindingKind.VERTICAL_SCAN) and foreign_src:
        return [("reconnaissance", src)]
    return []


_INFRA_NAMES: Final = {
    "command-and-control": "Command-and-control server {}",
    "botnet": "Botnet controlled from {}",
    "exfiltration": "Exfiltration channel via {}",
    "reconnaissance": "Scanner {}",
}


def build_stix(
    findings: Sequence[StoredFinding],
    *,
    office: OfficeIdentity,
    tlp: Tlp = Tlp.AMBER,
    is_domestic: IsDomestic = lambda _a: False,
    min_severity: Severity = Severity.MEDIUM,
) -> StixOutput:
    """STIX 2.1 objects for ``findings`` (see the module docstring); pure and deterministic."""
    marking = tlp.marking_id
    objects: dict[str, dict[str, Any]] = {}
    produced: dict[str, list[str]] = defaultdict(list)

    def put(obj: dict[str, Any], *owners: str) -> str:
        objects.setdefault(obj["id"], obj)
        for owner in owners:
            produced[owner].append(obj["id"])
        return str(obj["id"])

    put(tlp2_marking_definition(tlp))
    put(office.to_stix(marking))
    # hostile infrastructure first: its content depends on every finding that points at it
    infra_members: dict[tuple[str, str], list[StoredFinding]] = defaultdict(list)
    infra_endpoint: dict[tuple[str, str], Endpoint] = {}
    for s in findings:
        if not s.finding.severity.at_least(min_severity):
            continue
        for role, end in _infrastructure_roles(s, is_domestic):
            key = (role, end.address or end.name or "")
            infra_members[key].append(s)
            infra_endpoint[key] = end
    infra_ids: dict[tuple[str, str], str] = {}
    for key in sorted(infra_members):
        role, value = key
        infra_ids[key] = f"infrastructure--{stable_uuid('infrastructure', role, value)}"
    for key, members in sorted(infra_members.items()):
        role, value = key
        end = infra_endpoint[key]
        sco = _endpoint_sco(end, marking)
        owners = [m.id for m in members]
        best = min(int(m.finding.credibility) for m in members)
        confidence = ADMIRALTY_CONFIDENCE[Credibility(best)]
        kinds = sorted({m.finding.kind.value for m in members})
        extra: dict[str, Any] = {"confidence": confidence} if confidence is not None else {}
        infra = _plain(stix2.Infrastructure(
            id=infra_ids[key],
            created=_ms(min(m.created_at for m in members)),
            modified=_ms(max(m.updated_at for m in members)),
            created_by_ref=office.stix_id,
            name=_INFRA_NAMES[role].format(value),
            description=f"Found by mamori flow analytics ({', '.join(kinds)}).",
            infrastructure_types=[role],
            first_seen=_ms(min(m.finding.first_seen for m in members)),
            last_seen=_ms(max(m.finding.last_seen for m in members)),
            object_marking_refs=[marking],
            **extra,
        ))
        put(infra, *owners)
        created = _ms(min(m.created_at for m in members))
        if sco is not None:
            put(sco, *owners)
            put(_relationship("consists-of", infra["id"], sco["id"], created, office, marking), *owners)
        if role == "botnet":
            c2 = infra_ids.get(("command-and-control", value))
            if c2 is not None:
                put(_relationship("consists-of", infra["id"], c2, created, office, marking), *owners)
    by_endpoint: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for (role, value), iid in infra_ids.items():
        if role == "command-and-control":
            first = _ms(min(m.created_at for m in infra_members[(role, value)]))
            by_endpoint[value].append((iid, first))

    for s in findings:
        f = s.finding
        refs: list[str] = []
        for end in (f.src, f.dst):
            sco = _endpoint_sco(end, marking)
            if sco is not None:
                refs.append(put(sco, s.id))
        src_sco = _address_sco(f.src.address, marking) if f.src.address else None
        dst_sco = _address_sco(f.dst.address, marking) if f.dst.address else None
        if src_sco is not None and dst_sco is not None:
            extra_nt: dict[str, Any] = {"dst_port": f.dst.port} if f.dst.port is not None else {}
            if f.src.port is not None:
                extra_nt["src_port"] = f.src.port
            family = "ipv4" if src_sco["type"] == "ipv4-addr" else "ipv6"
            traffic = _plain(stix2.NetworkTraffic(src_ref=src_sco["id"], dst_ref=dst_sco["id"],
                                                  protocols=[family], object_marking_refs=[marking], **extra_nt))
            refs.append(put(traffic, s.id))
        confidence = ADMIRALTY_CONFIDENCE[f.credibility]
        conf: dict[str, Any] = {"confidence": confidence} if confidence is not None else {}
        observed_id = None
        if refs:
            observed = _plain(stix2.ObservedData(
                id=f"observed-data--{stable_uuid('observed-data', s.id)}",
                created=_ms(s.created_at), modified=_ms(s.updated_at), created_by_ref=office.stix_id,
                first_observed=_ms(f.first_seen), last_observed=_ms(f.last_seen),
                number_observed=max(1, min(f.evidence_count, _MAX_COUNT)),
                object_refs=sorted(set(refs)), object_marking_refs=[marking], **conf,
            ))
            observed_id = put(observed, s.id)
        for indicator_id in s.indicator_ids:
            sighting_kw: dict[str, Any] = {"observed_data_refs": [observed_id]} if observed_id else {}
            sighting = _plain(stix2.Sighting(
                id=f"sighting--{stable_uuid('sighting', s.id, indicator_id)}",
                created=_ms(s.created_at), modified=_ms(s.updated_at), created_by_ref=office.stix_id,
                sighting_of_ref=indicator_id, count=max(0, min(f.evidence_count, _MAX_COUNT)),
                first_seen=_ms(f.first_seen), last_seen=_ms(f.last_seen), where_sighted_refs=[office.stix_id],
                object_marking_refs=[marking], **sighting_kw, **conf,
            ))
            put(sighting, s.id)
            target = f.dst.address or f.dst.name or ""
            for iid, infra_created in by_endpoint.get(target, []):
                put(_relationship("indicates", indicator_id, iid, infra_created, office, marking), s.id)
    return StixOutput(
        objects=tuple(objects.values()),
        by_finding={k: tuple(dict.fromkeys(v)) for k, v in produced.items()},
    )


def _relationship(kind: str, source: str, target: str, created: datetime, office: OfficeIdentity,
                  marking: str) -> dict[str, Any]:
    return _plain(stix2.Relationship(
        id=f"relationship--{stable_uuid('relationship', kind, source, target)}",
        created=created, modified=created, created_by_ref=office.stix_id, relationship_type=kind,
        source_ref=source, target_ref=target, object_marking_refs=[marking],
    ))


def endpoints_of(findings: Iterable[StoredFinding]) -> set[str]:
    """Addresses and names the findings touch (to gather every finding sharing an infrastructure object)."""
    out: set[str] = set()
    for s in findings:
        for end in (s.finding.src, s.finding.dst):
            out.update(x for x in (end.address, end.name) if x)
    return out


__all__ = ["ADMIRALTY_CONFIDENCE", "OfficeIdentity", "StixOutput", "build_stix", "endpoints_of", "format_stix"]
