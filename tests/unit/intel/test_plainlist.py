"""Behaviour of plain indicator lists (text and CSV) read into STIX indicators."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest
import stix2
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.intel.patterns import indicator_id_for, observables_of
from mamori.intel.plainlist import (
    LineProblem,
    ListOptions,
    parse_csv,
    parse_text,
    read_csv_list,
    read_list,
    read_text_list,
)
from mamori.intel.tlp import Tlp

T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
OPTIONS = ListOptions(created=T0)

TEXT = """\
# threat list, 2026-11-01
198.51.100.7
2001:db8::bad:1
203.0.113.0/24   # scanning subnet
Evil.Example.
http://phish.example/login#frag
d41d8cd98f00b204e9800998ecf8427e

not a value
999.1.1.1
198.51.100.7
"""


def values_of(objects: list[dict[str, object]]) -> list[tuple[str, str]]:
    return [tuple(observables_of(obj)[0]) for obj in objects]  # type: ignore[misc]


def test_text_list_yields_one_indicator_per_distinct_valid_line() -> None:
    objects, problems = read_text_list(TEXT, OPTIONS)
    assert values_of(objects) == [
        ("ipv4", "198.51.100.7"),
        ("ipv6", "2001:db8::bad:1"),
        ("ipv4-cidr", "203.0.113.0/24"),
        ("domain", "evil.example"),
        ("url", "http://phish.example/login#frag"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ]
    assert problems == [
        LineProblem(9, "not a value", "more than one value on the line"),
        LineProblem(10, "999.1.1.1", "not an IP address, network, domain, URL, e-mail address or hash"),
    ]
    for obj in objects:
        stix2.parse(obj, version="2.1")


def test_reimport_gives_the_same_ids() -> None:
    first, _ = read_text_list(TEXT, OPTIONS)
    second, _ = read_text_list(TEXT, ListOptions(created=datetime(2027, 1, 1, tzinfo=UTC)))
    assert [o["id"] for o in first] == [o["id"] for o in second]
    assert first[0]["id"] == indicator_id_for("ipv4", "198.51.100.7")


def test_options_apply_to_every_indicator() -> None:
    options = ListOptions(
        created=T0,
        default_tlp=Tlp.AMBER,
        confidence=70,
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        labels=("botnet",),
        created_by_ref="identity--0c9b5a3e-8f1d-4c2b-9a7e-6d5c4b3a2f10",
    )
    [obj], _ = read_text_list("192.0.2.1\n", options)
    assert obj["object_marking_refs"] == [Tlp.AMBER.marking_id]
    assert obj["confidence"] == 70
    assert obj["valid_until"] == "2027-01-01T00:00:00.000Z"
    assert obj["labels"] == ["botnet"]
    assert obj["created_by_ref"] == "identity--0c9b5a3e-8f1d-4c2b-9a7e-6d5c4b3a2f10"
    assert obj["created"] == obj["valid_from"] == "2026-11-01T03:00:00.000Z"


def test_bad_options_are_refused() -> None:
    with pytest.raises(InvalidInput):
        ListOptions(created=T0, confidence=120)
    with pytest.raises(InvalidInput):
        ListOptions(created=T0, valid_until=T0)
    with pytest.raises(InvalidInput):
        ListOptions(created=datetime(2026, 1, 1))  # a naive datetime is the point of the test


CSV = """\
Value,Type,Description,valid_until,labels,TLP,confidence
192.0.2.10,ipv4,c2 server,2027-01-01T00:00:00Z,c2;botnet,amber,90
evil.example,domain,,,,green,
192.0.2.11,domain,mismatch,,,,
a@b.example,,phisher,,,,
192.0.2.12,,,never,,,
192.0.2.13,,,,,purple,
192.0.2.14,,,,,,x
192.0.2.15,,,2020-01-01T00:00:00Z,,,
2001:db8::/32,cidr,,,,,
"""


def test_csv_rows_use_their_own_columns() -> None:
    objects, problems = read_csv_list(CSV, OPTIONS)
    by_value = {observables_of(o)[0].value: o for o in objects}
    assert set(by_value) == {"192.0.2.10", "evil.example", "a@b.example", "2001:db8::/32"}
    c2 = by_value["192.0.2.10"]
    assert c2["description"] == "c2 server"
    assert c2["labels"] == ["c2", "botnet"]
    assert c2["object_marking_refs"] == [Tlp.AMBER.marking_id]
    assert c2["confidence"] == 90
    assert c2["valid_until"] == "2027-01-01T00:00:00.000Z"
    assert by_value["evil.example"]["object_marking_refs"] == [Tlp.GREEN.marking_id]
    assert [p.line for p in problems] == [4, 6, 7, 8, 9]
    assert "does not fit" in problems[0].reason or "not a valid domain" in problems[0].reason
    assert "valid_until" in problems[1].reason
    assert "TLP" in problems[2].reason
    assert "confidence" in problems[3].reason
    assert "import time" in problems[4].reason


def test_csv_without_value_column_is_refused_at_the_header() -> None:
    with pytest.raises(InvalidInput) as e:
        read_csv_list("ip,comment\n192.0.2.1,x\n", ListOptions(created=T0, source="feed.csv"))
    assert e.value.where == "feed.csv:1"


def test_csv_with_leading_comments_counts_lines_from_the_file_start() -> None:
    text = "# exported by a partner\n\nindicator\nnot-valid\n"
    objects, problems = read_csv_list(text, OPTIONS)
    assert objects == []
    assert problems == [LineProblem(4, "not-valid", problems[0].reason)]


def test_row_with_more_cells_than_the_header_is_reported() -> None:
    _, problems = read_csv_list("value\n192.0.2.1,extra\n", OPTIONS)
    assert [p.line for p in problems] == [2]


def test_unknown_declared_type_is_reported() -> None:
    _, problems = read_csv_list("value,type\n192.0.2.1,colour\n", OPTIONS)
    assert problems[0].reason == "unknown type 'colour'"


def test_read_list_detects_csv_by_its_header() -> None:
    objects, _ = read_list("indicator,description\n192.0.2.1,x\n", OPTIONS)
    assert objects[0]["description"] == "x"
    objects, _ = read_list("192.0.2.1\n", OPTIONS)
    assert len(objects) == 1


def test_keyword_entry_points_accept_tlp_text() -> None:
    objects, _ = parse_text("192.0.2.1\n", created=T0, default_tlp="TLP:RED")
    assert objects[0]["object_marking_refs"] == [Tlp.RED.marking_id]
    objects, _ = parse_csv("value\n192.0.2.1\n", created=T0, default_tlp="clear")
    assert objects[0]["object_marking_refs"] == [Tlp.CLEAR.marking_id]
    with pytest.raises(InvalidInput):
        parse_text("192.0.2.1\n", created=T0, default_tlp="purple")


# --- properties --------------------------------------------------------------------------------------


@settings(max_examples=50)
@given(st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=20))
def test_any_list_of_ipv4_addresses_imports_each_once(numbers: list[int]) -> None:
    text = "\n".join(str(ipaddress.IPv4Address(n)) for n in numbers)
    objects, problems = read_text_list(text, OPTIONS)
    assert problems == []
    assert {observables_of(o)[0].value for o in objects} == {str(ipaddress.IPv4Address(n)) for n in numbers}
    assert len(objects) == len(set(numbers))


@given(st.text(max_size=300))
def test_arbitrary_text_gives_indicators_or_line_problems_never_errors(text: str) -> None:
    objects, problems = read_text_list(text, OPTIONS)
    lines = text.splitlines()
    assert all(1 <= p.line <= len(lines) for p in problems)
    for obj in objects:
        assert obj["type"] == "indicator" and observables_of(obj)


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200))
def test_arbitrary_csv_bodies_are_read_or_refused_cleanly(body: str) -> None:
    try:
        objects, problems = read_csv_list("value,type,tlp\n" + body, OPTIONS)
    except InvalidInput as e:
        assert e.where is not None and e.where.startswith("<input>:")
        return
    assert all(p.line >= 2 for p in problems)
    assert all(o["type"] == "indicator" for o in objects)
