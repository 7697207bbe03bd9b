"""Proposed measures: a finding becomes a proposal with its evidence package; never executed, never automatic."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from tests.unit.traffic.test_findings_store import DAY1, create_tables, make_finding

from mamori.bootstrap import Context
from mamori.errors import InvalidInput, NotFound
from mamori.kernel.canonical import canonical_bytes
from mamori.traffic.detect.model import Endpoint, FindingKind
from mamori.traffic.findings_store import StoredFinding, finding_id
from mamori.traffic.measures import MeasureKind, MeasureState, SqlMeasureStore, evidence_package, propose, target_of
from mamori.traffic.service import traffic_service


def stored(kind: FindingKind = FindingKind.BEACON, **kw: object) -> StoredFinding:
    f = make_finding(kind, **kw)  # type: ignore[arg-type]
    return StoredFinding(id=finding_id(f), finding=f, engine="duckdb", created_at=DAY1, updated_at=DAY1,
                         stix_ids=("infrastructure--00000000-0000-4000-8000-000000000001",))


def test_proposal_carries_finding_evidence_stix_ids_and_their_hashes() -> None:
    s = stored()
    m = propose(s, MeasureKind.SINKHOLE, measure_id="m1", proposed_by="analyst", now=DAY1, reason=" C2 ")
    assert m.state is MeasureState.PROPOSED and m.target == "198.51.100.7" and m.reason == "C2"
    pkg = m.evidence_package
    assert pkg["finding"]["id"] == s.id and pkg["finding"]["fired"] == ["min_connections", "min_score"]
    assert pkg["finding"]["thresholds"] == {"min_connections": 24.0, "min_score": 0.5}
    assert len(pkg["evidence_rows"]) == 2 and pkg["stix_ids"] == list(s.stix_ids)
    assert pkg["hashes"]["evidence_rows_sha256"] == hashlib.sha256(canonical_bytes(pkg["evidence_rows"])).hexdigest()
    assert pkg["hashes"]["finding_sha256"] == hashlib.sha256(canonical_bytes(pkg["finding"])).hexdigest()
    assert m.evidence_sha256 == hashlib.sha256(canonical_bytes(pkg)).hexdigest()


def test_evidence_package_is_deterministic() -> None:
    assert canonical_bytes(evidence_package(stored())) == canonical_bytes(evidence_package(stored()))


def test_target_is_the_hostile_side() -> None:
    assert target_of(stored(FindingKind.HORIZONTAL_SCAN, src="192.0.2.66", dst=None).finding) == "192.0.2.66"
    assert target_of(stored(FindingKind.DNS_TUNNEL, dst=None, dst_name="x.example").finding) == "x.example"
    f = stored(FindingKind.FAN_IN_C2, src=None, dst=None).finding
    with pytest.raises(InvalidInput, match="names no endpoint"):
        target_of(f)
    assert Endpoint() == f.dst


def test_bad_measure_kind_and_missing_proposer_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"unknown measure kind 'nuke'.*takedown-request") as e:
        MeasureKind.parse("nuke")
    assert e.value.where == "kind"
    assert MeasureKind.parse("takedown_request") is MeasureKind.TAKEDOWN_REQUEST
    with pytest.raises(InvalidInput) as e2:
        propose(stored(), MeasureKind.BLOCK, measure_id="m", proposed_by=" ", now=DAY1)
    assert e2.value.where == "proposed_by"


def test_service_stores_the_proposal_in_state_proposed(ctx: Context) -> None:
    ft = create_tables(ctx)
    svc = traffic_service(ctx)
    f = make_finding()
    with ctx.db.begin() as conn:
        from mamori.traffic.findings_store import SqlFindingStore

        SqlFindingStore(conn, ft).save([f], engine="duckdb", now=DAY1)
    m = svc.propose_measure(finding_id(f), "takedown-request", proposed_by="analyst")
    (listed,) = svc.measures(finding_id(f))
    assert listed == m and listed.state is MeasureState.PROPOSED
    with ctx.db.connect() as conn:
        assert SqlMeasureStore(conn, ft).get(m.id).evidence_sha256 == m.evidence_sha256
    assert ctx.clock.now() - m.proposed_at < timedelta(seconds=1)


def test_proposal_for_an_unknown_finding_or_kind_stores_nothing(ctx: Context) -> None:
    create_tables(ctx)
    svc = traffic_service(ctx)
    with pytest.raises(NotFound, match="no finding"):
        svc.propose_measure("no-such-finding", "block", proposed_by="analyst")
    f = make_finding()
    with ctx.db.begin() as conn:
        from mamori.traffic.findings_store import SqlFindingStore

        SqlFindingStore(conn, create_tables(ctx)).save([f], engine="duckdb", now=DAY1)
    with pytest.raises(InvalidInput):
        svc.propose_measure(finding_id(f), "launch", proposed_by="analyst")
    assert svc.measures() == []
