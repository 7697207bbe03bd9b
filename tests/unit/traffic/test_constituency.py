"""Operator constituencies: validated, canonical entries; all-or-nothing storage; membership tests."""

from __future__ import annotations

import pytest
from tests.unit.traffic.test_findings_store import create_tables

from mamori.bootstrap import Context
from mamori.errors import InvalidInput, NotFound
from mamori.traffic.constituency import (
    Constituency,
    ConstituencyEntry,
    EntryKind,
    PrefixAsnTable,
    parse_asn,
    parse_domain,
    parse_entries,
    parse_prefix,
)
from mamori.traffic.service import traffic_service


def test_entries_are_canonicalised() -> None:
    entries = parse_entries(["192.0.2.77/24", "2001:DB8::/32"], ["AS64500", 64501], ["Example.JP."])
    assert [(e.kind.value, e.value) for e in entries] == [
        ("asn", "64500"), ("asn", "64501"), ("domain", "example.jp"), ("prefix", "192.0.2.0/24"),
        ("prefix", "2001:db8::/32")]


@pytest.mark.parametrize(("call", "where"), [
    (lambda: parse_prefix("10.0.0.0/33", where="prefix[1]"), "prefix[1]"),
    (lambda: parse_prefix("10.0.0.1"), "prefix"),
    (lambda: parse_prefix("example"), "prefix"),
    (lambda: parse_asn("AS0"), "asn"),
    (lambda: parse_asn("4294967296"), "asn"),
    (lambda: parse_domain("no_such..domain"), "domain"),
    (lambda: parse_domain("localhost"), "domain"),
    (lambda: parse_entries(), "constituency"),
])
def test_bad_entries_name_the_field(call: object, where: str) -> None:
    with pytest.raises(InvalidInput) as e:
        call()  # type: ignore[operator]
    assert e.value.where == where


def test_membership_by_prefix_domain_and_asn_through_a_routing_table() -> None:
    c = Constituency("org", tuple(parse_entries(["192.0.2.0/24"], [64500], ["example.jp"])))
    assert c.covers_address("192.0.2.9") and not c.covers_address("192.0.3.9") and not c.covers_address(None)
    assert c.covers_name("www.example.jp") and c.covers_name("EXAMPLE.JP.") and not c.covers_name("badexample.jp")
    routing = PrefixAsnTable({"198.51.100.0/24": 64500, "198.51.0.0/16": 64999})
    assert not c.covers_address("198.51.100.4")  # no routing data: an ASN matches nothing
    assert c.covers_address("198.51.100.4", routing) and not c.covers_address("198.51.7.4", routing)


def test_service_adds_all_or_nothing_and_skips_known_entries(ctx: Context) -> None:
    create_tables(ctx)
    ctx.identity.create_organisation("power-co", "Power Co", "operator")
    svc = traffic_service(ctx)
    with pytest.raises(InvalidInput) as e:
        svc.add_constituency("power-co", prefixes=["192.0.2.0/24", "300.1.1.0/24"], added_by="t")
    assert e.value.where == "prefix[1]"
    assert svc.constituency_entries("power-co") == []
    assert len(svc.add_constituency("power-co", prefixes=["192.0.2.0/24"], domains=["power.example"],
                                    added_by="t")) == 2
    assert svc.add_constituency("power-co", prefixes=["192.0.2.5/24"], added_by="t") == []
    assert {e.entry for e in svc.constituency_entries("power-co")} == {
        ConstituencyEntry(EntryKind.PREFIX, "192.0.2.0/24"), ConstituencyEntry(EntryKind.DOMAIN, "power.example")}
    assert svc.remove_constituency("power-co", domains=["power.example"]) == 1


def test_unknown_or_non_operator_organisation_is_refused(ctx: Context) -> None:
    create_tables(ctx)
    ctx.identity.create_organisation("nato-cert", "NATO CERT", "partner")
    svc = traffic_service(ctx)
    with pytest.raises(NotFound):
        svc.add_constituency("nobody", prefixes=["192.0.2.0/24"], added_by="t")
    with pytest.raises(InvalidInput, match="not an operator") as e:
        svc.add_constituency("nato-cert", prefixes=["192.0.2.0/24"], added_by="t")
    assert e.value.where == "organisation"
