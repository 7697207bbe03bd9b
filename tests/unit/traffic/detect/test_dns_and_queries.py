"""Registered-domain rule, name entropy, and dialect rendering of the shared queries."""

from __future__ import annotations

import pytest

from mamori.traffic.detect import queries
from mamori.traffic.detect.dns import registered_domain, shannon_entropy


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.b.example.com", "example.com"),
        ("Example.COM.", "example.com"),
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("x.y.gov.jp", "y.gov.jp"),
        ("localhost", "localhost"),
        ("abc.t.exfil-tunnel.example", "exfil-tunnel.example"),
    ],
)
def test_registered_domain(name: str, expected: str) -> None:
    assert registered_domain(name) == expected


def test_shannon_entropy() -> None:
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abab") == 1.0
    assert shannon_entropy("abcd") == 2.0
    assert shannon_entropy("") == 0.0


def test_render_collect_for_duckdb_filters_nulls() -> None:
    sql = queries.render("SELECT @COLLECT(x + 1), @COLLECT_SET(lower(y)) FROM flows", "duckdb")
    assert sql == (
        "SELECT list(x + 1) FILTER (WHERE (x + 1) IS NOT NULL), "
        "list(DISTINCT lower(y)) FILTER (WHERE (lower(y)) IS NOT NULL) FROM flows"
    )


def test_render_collect_for_spark() -> None:
    sql = queries.render("SELECT @COLLECT(coalesce(a, 0)), @COLLECT_SET(b) FROM flows", "spark")
    assert sql == "SELECT collect_list(coalesce(a, 0)), collect_set(b) FROM flows"


def test_fill_accepts_numbers_only() -> None:
    with pytest.raises(TypeError, match="min_connections"):
        queries.fill(queries.PAIR_SERIES_BY_ADDRESS, min_connections="4; DROP TABLE flows")
    filled = queries.fill(queries.PAIR_SERIES_BY_ADDRESS, min_connections=4)
    assert "HAVING count(*) >= 4" in filled and "@NDISTINCT(ts) >= 4" in filled


def test_render_list_and_distinct_count_for_both_dialects() -> None:
    template = "SELECT @LIST(ts) AS ts FROM flows WHERE @NDISTINCT(ts) >= 3"
    assert queries.render(template, "duckdb") == "SELECT list(ts) AS ts FROM flows WHERE len(list_distinct(ts)) >= 3"
    assert queries.render(template, "spark") == (
        "SELECT collect_list(ts) AS ts FROM flows WHERE size(array_distinct(ts)) >= 3"
    )
