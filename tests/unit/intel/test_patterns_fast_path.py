"""The regular-expression fast path of the pattern parser agrees with the full parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.intel.patterns import _parse_simple, parse_pattern, parse_pattern_slow

SAMPLES = [
    "[ipv4-addr:value = '198.51.100.7']",
    "[ipv4-addr:value = '203.0.113.0/24']",
    "[ipv6-addr:value = '2001:db8::1']",
    "[domain-name:value = 'evil.example']",
    "[url:value = 'http://evil.example/a?b=c']",
    "[url:value = 'http://evil.example/it\\'s']",
    "[url:value = 'back\\\\slash']",
    "[email-addr:value = 'a@evil.example']",
    "[file:hashes.'SHA-256' = '" + "a" * 64 + "']",
    "[file:hashes.MD5 = '" + "b" * 32 + "']",
]


@pytest.mark.parametrize("pattern", SAMPLES)
def test_fast_path_takes_the_common_shapes_and_agrees(pattern: str) -> None:
    assert _parse_simple(pattern) is not None
    assert parse_pattern(pattern) == parse_pattern_slow(pattern)


@pytest.mark.parametrize("pattern", [
    "[file:hashes.'SHA-256' = 'zz']",
    "[file:hashes.MD5 = 'abc']",
])
def test_fast_path_rejects_what_the_full_parser_rejects(pattern: str) -> None:
    with pytest.raises(InvalidInput):
        parse_pattern_slow(pattern)
    with pytest.raises(InvalidInput):
        parse_pattern(pattern)


@given(st.sampled_from(["ipv4-addr", "domain-name", "url", "email-addr", "file", "mac-addr"]),
       st.sampled_from(["value", "hashes.'SHA-256'", "hashes.MD5", "name"]),
       st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20))
def test_fast_and_full_parser_agree_on_arbitrary_literals(obj: str, path: str, text: str) -> None:
    literal = text.replace("\\", "\\\\").replace("'", "\\'")
    pattern = f"[{obj}:{path} = '{literal}']"
    try:
        slow = parse_pattern_slow(pattern)
    except InvalidInput:
        with pytest.raises(InvalidInput):
            parse_pattern(pattern)
        return
    assert parse_pattern(pattern) == slow


@given(st.ip_addresses(v=4))
def test_ipv4_fast_path_matches_the_standard_library(address: object) -> None:
    import ipaddress

    from mamori.intel.patterns import ip_bounds, normalise

    text = str(address)
    assert normalise("ipv4", text) == ipaddress.IPv4Address(text).compressed
    assert ip_bounds("ipv4", text) == (int(ipaddress.IPv4Address(text)),) * 2


@pytest.mark.parametrize("text", ["01.2.3.4", "256.1.1.1", "1.2.3", "1.2.3.4.5", " 1.2.3.4x"])
def test_ipv4_fast_path_leaves_odd_forms_to_the_standard_library(text: str) -> None:
    from mamori.intel.patterns import normalise

    with pytest.raises(InvalidInput):
        normalise("ipv4", text)
