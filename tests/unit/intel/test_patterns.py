"""Behaviour of STIX pattern parsing, observable extraction, normalisation and pattern building."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest
import stix2
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2patterns.validator import run_validator

from mamori.errors import InvalidInput
from mamori.intel.patterns import (
    Observable,
    check_pattern,
    detect_kind,
    indicator_for,
    indicator_id_for,
    ip_bounds,
    normalise,
    observables_in_pattern,
    observables_of,
    parse_pattern,
    pattern_for,
    quote,
)

T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
SHA256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"


def reference_accepts(pattern: str) -> bool:
    try:
        return not run_validator(pattern, stix_version="2.1")
    except (AttributeError, NameError, ValueError, TypeError):  # a crash of the reference is a rejection
        return False


def mine_accepts(pattern: str) -> bool:
    try:
        check_pattern(pattern)
    except InvalidInput:
        return False
    return True


# --- extraction --------------------------------------------------------------------------------------


def test_equality_comparisons_yield_normalised_observables_in_order() -> None:
    pattern = (
        "[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'Evil.Example.COM.'] AND "
        f"[file:hashes.'SHA-256' = '{SHA256}'] AND [network-traffic:dst_port = 8443] AND "
        "[ipv6-addr:value = '2001:DB8:0::1'] AND [url:value = 'HTTP://Example.ORG/Path?q=1'] AND "
        "[email-addr:value = 'Ops@Example.ORG'] AND [autonomous-system:number = 64500]"
    )
    assert observables_in_pattern(pattern) == [
        Observable("ipv4", "198.51.100.7"),
        Observable("domain", "evil.example.com"),
        Observable("sha256", SHA256.lower()),
        Observable("port", "8443"),
        Observable("ipv6", "2001:db8::1"),
        Observable("url", "http://example.org/Path?q=1"),
        Observable("email", "Ops@example.org"),
        Observable("asn", "64500"),
    ]


def test_networks_are_normalised_to_their_network_address() -> None:
    found = observables_in_pattern("[ipv4-addr:value ISSUBSET '203.0.113.77/24']")
    assert found == [Observable("ipv4-cidr", "203.0.113.0/24")]


def test_network_written_with_equals_is_a_network() -> None:
    found = observables_in_pattern("[ipv6-addr:value = '2001:db8:1::5/48']")
    assert found == [Observable("ipv6-cidr", "2001:db8:1::/48")]


def test_full_length_prefix_is_a_single_address() -> None:
    assert observables_in_pattern("[ipv4-addr:value = '192.0.2.1/32']") == [Observable("ipv4", "192.0.2.1")]


def test_negated_and_ordering_comparisons_are_not_extracted() -> None:
    pattern = (
        "[ipv4-addr:value != '192.0.2.1' AND ipv4-addr:value NOT = '192.0.2.2' "
        "AND network-traffic:dst_port > 1024 AND domain-name:value LIKE '%.example']"
    )
    assert observables_in_pattern(pattern) == []


def test_in_sets_yield_every_member() -> None:
    found = observables_in_pattern("[domain-name:value IN ('a.example', 'B.example')]")
    assert found == [Observable("domain", "a.example"), Observable("domain", "b.example")]


def test_values_that_do_not_fit_their_kind_are_skipped() -> None:
    assert observables_in_pattern("[ipv4-addr:value = 'not-an-ip' OR url:value = 'nourl']") == []


def test_referenced_addresses_and_email_senders_are_extracted() -> None:
    pattern = (
        "[network-traffic:dst_ref.value = '192.0.2.9' AND network-traffic:dst_port = 25] AND "
        "[email-message:from_ref.value = 'x@Mail.Example'] AND "
        "[domain-name:resolves_to_refs[*].value = '2001:db8::9']"
    )
    assert observables_in_pattern(pattern) == [
        Observable("ipv4", "192.0.2.9"),
        Observable("port", "25"),
        Observable("email", "x@mail.example"),
        Observable("ipv6", "2001:db8::9"),
    ]


def test_all_hash_spellings_are_recognised() -> None:
    md5, sha1, sha512 = "a" * 32, "b" * 40, "c" * 128
    pattern = f"[file:hashes.MD5 = '{md5}' OR file:hashes.'SHA-1' = '{sha1}' OR file:hashes.'SHA-512' = '{sha512}']"
    assert observables_in_pattern(pattern) == [
        Observable("md5", md5),
        Observable("sha1", sha1),
        Observable("sha512", sha512),
    ]


def test_duplicate_values_are_reported_once() -> None:
    pattern = "[ipv4-addr:value = '192.0.2.1'] OR [ipv4-addr:value = '192.0.2.1']"
    assert observables_in_pattern(pattern) == [Observable("ipv4", "192.0.2.1")]


def test_other_pattern_languages_have_no_observables() -> None:
    assert observables_of({"pattern_type": "sigma", "pattern": "title: x"}) == []


def test_broken_indicator_pattern_names_the_indicator_and_offset() -> None:
    with pytest.raises(InvalidInput) as e:
        observables_of({"id": "indicator--x", "pattern_type": "stix", "pattern": "[ipv4-addr:value = ]"})
    assert e.value.where == "indicator--x.pattern:19"


# --- grammar -----------------------------------------------------------------------------------------

VALID_PATTERNS = [
    "[ipv4-addr:value = '198.51.100.1']",
    "[file:name = 'it\\'s' AND file:size <= 20.5]",
    "[file:size IN (1, 2, 3)]",
    "[file:name NOT IN ('a', 'b')]",
    "[file:name <> 'a']",
    "[file:name NOT MATCHES '^a']",
    "[file:created = t'2020-01-01T00:00:00.123Z']",
    "[artifact:payload_bin = b'AAAA'] AND [artifact:payload_bin = h'00ff']",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[network-traffic:protocols[0] = 'tcp']",
    "[ipv4-addr:value = '192.0.2.1'] REPEATS 5 TIMES WITHIN 300 SECONDS",
    "[ipv4-addr:value = '192.0.2.1'] START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'",
    "([x-a:b = 1] OR [x-a:c = 2]) FOLLOWEDBY [x-a:d = 3]",
    "[(file:name = 'a' OR file:name = 'b') AND file:size = 3]",
    "[EXISTS file:name]",
    "[file:hashes.ssdeep = '3:abc']",
    "[file:hashes[*] = 'zz']",
    "[a:b IN ()]",
    "(([a:b = 'x']))",
    "[file:size = -5]",
]
INVALID_PATTERNS = [
    "",
    "[]",
    "[ipv4-addr:value = ]",
    "[ipv4-addr:value = '1.2.3.4'",
    "ipv4-addr:value = '1.2.3.4'",
    "[x-foo:bar-baz = 'q']",
    "[file:name = 'a\\b']",
    "[file:name = 'a'] AND",
    "[file:hashes.MD5 = 'bb']",
    f"[file:hashes.'SHA-256' = '{SHA256[:-1]}']",
    "[file:size = 1e5]",
    "[a:b = 05]",
    "[a:b = t'2020-13-01T00:00:00Z']",
    "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS",
    "[a:b = 1] REPEATS -1 TIMES",
    "[a:b = True]",
    "[NOT a:b = 1]",
    "[a:b NOT NOT = 1]",
    "[[a:b = 'x']]",
    "[network-traffic:protocols[-1] = 'tcp']",
    '[file:name = "a"]',
    "[file:hashes[8] = 'zz']",
    "[file:nam.NOT MATCHES '^a']",
    "[file:true = 1]",
]


@pytest.mark.parametrize("pattern", VALID_PATTERNS)
def test_valid_patterns_are_accepted_as_the_reference_parser_does(pattern: str) -> None:
    assert reference_accepts(pattern)
    assert mine_accepts(pattern)


@pytest.mark.parametrize("pattern", INVALID_PATTERNS)
def test_invalid_patterns_are_refused_as_the_reference_parser_does(pattern: str) -> None:
    assert not reference_accepts(pattern)
    assert not mine_accepts(pattern)


def test_syntax_error_names_the_offset() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_pattern("[file:name = 'a' AND ]")
    assert e.value.where == "pattern:21"


def test_comparisons_keep_operator_negation_and_decoded_values() -> None:
    [comparison] = parse_pattern("[file:name NOT IN ('a\\'b', 'c')]")
    assert (comparison.object_type, comparison.path, comparison.operator) == ("file", ("name",), "IN")
    assert comparison.negated is True
    assert comparison.values == ("a'b", "c")


# --- normalisation and detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("domain", "WWW.Example.COM.", "www.example.com"),
        ("domain", "bücher.example", "xn--bcher-kva.example"),
        ("ipv6", "2001:0DB8::0001", "2001:db8::1"),
        ("ipv4-cidr", "10.1.2.3/8", "10.0.0.0/8"),
        ("url", "HTTPS://User@Example.COM:8443/A", "https://User@example.com:8443/A"),
        ("md5", "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
        ("asn", "AS64500", "64500"),
        ("port", "0443", "443"),
    ],
)
def test_values_are_normalised(kind: str, raw: str, expected: str) -> None:
    assert normalise(kind, raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("ipv4", "256.1.1.1"),
        ("ipv4", "01.2.3.4"),
        ("ipv4-cidr", "10.0.0.0/33"),
        ("domain", "-bad.example"),
        ("domain", "a" * 64 + ".example"),
        ("url", "example.org/path"),
        ("url", "http://exa mple.org/"),
        ("email", "no-at-sign.example"),
        ("sha1", "z" * 40),
        ("port", "65536"),
        ("asn", "AS-1"),
        ("colour", "red"),
    ],
)
def test_bad_values_are_refused_with_the_kind_named(kind: str, raw: str) -> None:
    with pytest.raises(InvalidInput) as e:
        normalise(kind, raw, where="input.txt:3")
    assert e.value.where == "input.txt:3"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("192.0.2.1", "ipv4"),
        ("2001:db8::1", "ipv6"),
        ("192.0.2.0/24", "ipv4-cidr"),
        ("2001:db8::/32", "ipv6-cidr"),
        ("https://example.org/x", "url"),
        ("soc@example.org", "email"),
        ("a" * 32, "md5"),
        ("a" * 40, "sha1"),
        ("a" * 64, "sha256"),
        ("a" * 128, "sha512"),
        ("example.org", "domain"),
        ("1.2.3", None),
        ("999.1.1.1", None),
        ("localhost", None),
        ("hello world", None),
        ("", None),
    ],
)
def test_kinds_are_detected(value: str, kind: str | None) -> None:
    assert detect_kind(value) == kind


def test_ip_bounds_cover_ipv4_addresses_and_networks_only() -> None:
    assert ip_bounds("ipv4", "0.0.0.1") == (1, 1)
    assert ip_bounds("ipv4-cidr", "10.0.0.0/8") == (167772160, 184549375)
    assert ip_bounds("ipv6", "::1") is None
    assert ip_bounds("domain", "example.org") is None


# --- building ----------------------------------------------------------------------------------------


def test_quote_escapes_backslash_and_quote() -> None:
    assert quote("a\\b'c") == "'a\\\\b\\'c'"


def test_built_patterns_are_valid_and_give_back_the_value() -> None:
    for kind, value in [
        ("ipv4", "192.0.2.1"),
        ("ipv4-cidr", "192.0.2.0/24"),
        ("ipv6-cidr", "2001:db8::/32"),
        ("domain", "example.org"),
        ("url", "http://example.org/it's\\here"),
        ("email", "a@example.org"),
        ("sha256", SHA256),
        ("port", "443"),
        ("asn", "64500"),
    ]:
        pattern = pattern_for(kind, value)
        assert reference_accepts(pattern), pattern
        assert observables_in_pattern(pattern) == [Observable(kind, normalise(kind, value))]


def test_indicator_for_is_valid_stix_with_a_deterministic_id() -> None:
    indicator = indicator_for(
        "domain",
        "Evil.Example",
        created=T0,
        confidence=80,
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        labels=["phishing"],
        object_marking_refs=["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
    )
    stix2.parse(indicator, version="2.1")
    assert indicator["id"] == indicator_id_for("domain", "evil.example")
    assert indicator["id"] == indicator_for("domain", "evil.example.", created=T0)["id"]
    assert indicator["pattern"] == "[domain-name:value = 'evil.example']"
    assert indicator["created"] == "2026-11-01T03:00:00.000Z"


def test_indicator_for_refuses_expiry_before_creation() -> None:
    with pytest.raises(InvalidInput):
        indicator_for("ipv4", "192.0.2.1", created=T0, valid_until=T0)


def test_different_kinds_of_the_same_text_get_different_ids() -> None:
    assert indicator_id_for("md5", "a" * 32) != indicator_id_for("domain", "a" * 32 + ".example")


# --- properties --------------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=0, max_value=32))
def test_any_ipv4_network_round_trips_through_a_pattern(address: int, prefix: int) -> None:
    network = ipaddress.IPv4Network((address, prefix), strict=False)
    found = observables_in_pattern(pattern_for("ipv4-cidr", str(network)))
    expected_kind = "ipv4" if prefix == 32 else "ipv4-cidr"
    expected_value = str(network.network_address) if prefix == 32 else str(network)
    assert found == [Observable(expected_kind, expected_value)]
    low, high = ip_bounds(found[0].kind, found[0].value) or (0, -1)
    assert low == int(network.network_address) and high == int(network.broadcast_address)


@given(st.text(min_size=1, max_size=60))
def test_any_text_survives_quoting_inside_a_pattern(text: str) -> None:
    [comparison] = parse_pattern(f"[file:name = {quote(text)}]")
    assert comparison.values == (text,)


_ATOMS = st.sampled_from(
    [
        "[ipv4-addr:value = '192.0.2.1']",
        "[domain-name:value = 'a.example']",
        "[file:size > 3]",
        "[x-a:b NOT IN ('q', 'r')]",
        "[EXISTS file:name]",
    ]
)
_JOINERS = st.sampled_from([" AND ", " OR ", " FOLLOWEDBY "])
_QUALIFIERS = st.sampled_from(["", " WITHIN 5 SECONDS", " REPEATS 2 TIMES"])


@st.composite
def _observation_expressions(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(_ATOMS, _QUALIFIERS), min_size=1, max_size=4))
    text = draw(_JOINERS).join(atom + qualifier for atom, qualifier in parts)
    return f"({text})" if draw(st.booleans()) else text


@settings(max_examples=60, deadline=None)
@given(_observation_expressions())
def test_generated_valid_patterns_are_accepted_by_both_parsers(pattern: str) -> None:
    assert reference_accepts(pattern)
    assert mine_accepts(pattern)


@settings(max_examples=80, deadline=None)
@given(_observation_expressions(), st.integers(min_value=0, max_value=200), st.sampled_from(list("[]()'=: ,.")))
def test_mutated_patterns_get_the_same_verdict_from_both_parsers(pattern: str, position: int, char: str) -> None:
    position %= len(pattern)
    mutated = pattern[:position] + char + pattern[position + 1 :]
    assert mine_accepts(mutated) == reference_accepts(mutated), mutated


@given(st.text(max_size=80))
def test_arbitrary_text_never_crashes_the_parser(text: str) -> None:
    try:
        parse_pattern(text)
    except InvalidInput as e:
        assert e.where is not None and e.where.startswith("pattern")
