"""Parsing of TAXII 2.1 query parameters and envelopes (section 3.4, 3.7), and Accept negotiation."""

from __future__ import annotations

import pytest

from mamori.api.routers.taxii import accepts_taxii
from mamori.errors import InvalidInput
from mamori.intel.taxii import EntryQuery, parse_envelope, parse_filters


def test_match_values_may_repeat_and_be_comma_separated() -> None:
    q, limit, nxt = parse_filters(
        [
            ("match[type]", "indicator,malware"),
            ("match[type]", "malware"),
            ("match[id]", "indicator--1"),
            ("match[version]", "first,2026-01-01T00:00:00Z"),
            ("match[spec_version]", "2.1"),
            ("limit", "5"),
            ("next", "abc"),
            ("added_after", "2026-11-01T03:00:00.123Z"),
        ]
    )
    assert q == EntryQuery(
        ids=("indicator--1",),
        types=("indicator", "malware"),
        versions=("first", "2026-01-01T00:00:00.000000Z"),
        spec_versions=("2.1",),
        added_after="2026-11-01T03:00:00.123000Z",
    )
    assert limit == 5 and nxt == "abc"


def test_no_parameters_mean_the_endpoint_defaults() -> None:
    assert parse_filters([]) == (EntryQuery(), None, None)
    assert parse_filters([("match[relationship_type]", "uses")]) == (EntryQuery(), None, None)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("limit", "0"),
        ("limit", "-3"),
        ("limit", "ten"),
        ("added_after", "yesterday"),
        ("match[version]", "latest"),
        ("match[version]", "2026-13-01T00:00:00Z"),
        ("match[type]", "indicator,,malware"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(key: str, value: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_filters([(key, value)])
    assert e.value.where == key


def test_conflicting_repeats_of_a_single_parameter_are_refused() -> None:
    with pytest.raises(InvalidInput, match="twice"):
        parse_filters([("limit", "5"), ("limit", "6")])


def test_an_envelope_yields_its_objects() -> None:
    assert parse_envelope(b'{"objects": [{"type": "x"}, 3]}') == [{"type": "x"}, 3]


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        (b'{"objects": [', "body:1:", "malformed JSON"),
        (b'{\n  "objects": [}\n', "body:2:", "malformed JSON"),
        (b"[]", "body", "not a JSON array"),
        (b'{"type": "bundle", "id": "bundle--1", "objects": []}', "body", "STIX bundle"),
        (b'{"more": false}', "body.objects", "no 'objects'"),
        (b'{"objects": {}}', "body.objects", "must be a list"),
        (b'{"objects": []}', "body.objects", "empty"),
    ],
)
def test_bad_envelopes_are_refused_with_where(body: bytes, where: str, message: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_envelope(body)
    assert (e.value.where or "").startswith(where)
    assert message in e.value.message


@pytest.mark.parametrize(
    ("accept", "ok"),
    [
        (None, True),
        ("", True),
        ("*/*", True),
        ("application/*", True),
        ("application/taxii+json;version=2.1", True),
        ("application/taxii+json", True),
        ("text/html, application/taxii+json; version=2.1; q=0.5", True),
        ("application/taxii+json;version=2.0", False),
        ("application/vnd.oasis.taxii+json", False),
        ("text/html", False),
        ("application/json", False),
        ("application/taxii+json;version=2.1;q=0", False),
    ],
)
def test_accept_negotiation(accept: str | None, ok: bool) -> None:
    assert accepts_taxii(accept) is ok
