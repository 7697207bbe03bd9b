"""Reading the search form: checks with named fields, JST calendar days as UTC bounds, paging links."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from mamori.errors import InvalidInput
from mamori.web.search_filters import MAX_TEXT, SearchFilters


def test_dates_are_japanese_calendar_days() -> None:
    filters = SearchFilters.from_params({"added_since": ["2026-11-01"], "added_until": ["2026-11-01"]})
    query = filters.to_query("Asia/Tokyo")
    assert query.added_since == "2026-10-31T15:00:00.000000Z"
    assert query.added_until == "2026-11-01T15:00:00.000000Z"  # the whole of 1 November JST


def test_dates_follow_the_configured_zone() -> None:
    query = SearchFilters.from_params({"added_since": ["2026-11-01"]}).to_query("UTC")
    assert query.added_since == "2026-11-01T00:00:00.000000Z"


def test_filters_become_a_store_query() -> None:
    filters = SearchFilters.from_params({"q": [" lantern "], "type": ["indicator"], "label": ["c2"],
                                         "tlp": ["green", "TLP:AMBER+STRICT", "tlp:green"]})
    query = filters.to_query("Asia/Tokyo", limit=10)
    assert query.text == "lantern"
    assert query.types == ("indicator",) and query.labels == ("c2",)
    assert query.tlp == (1, 3)
    assert query.limit == 10 and query.cursor is None


@pytest.mark.parametrize(("params", "where"), [
    ({"q": ["x" * (MAX_TEXT + 1)]}, "q"),
    ({"type": ["Indicator!"]}, "type"),
    ({"tlp": ["blue"]}, "tlp"),
    ({"added_since": ["01/11/2026"]}, "added_since"),
    ({"added_until": ["2026-02-30"]}, "added_until"),
    ({"page": ["-1"]}, "page"),
    ({"page": ["two"]}, "page"),
])
def test_bad_values_name_their_field(params: dict[str, list[str]], where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        SearchFilters.from_params(params)
    assert caught.value.where == where


def test_paging_links_keep_the_filters() -> None:
    filters = SearchFilters.from_params({"q": ["a b"], "tlp": ["red", "clear"], "added_since": ["2026-01-01"]})
    link = parse_qs(filters.query_string(cursor="abc", page=2))
    assert link == {"q": ["a b"], "tlp": ["TLP:RED", "TLP:CLEAR"], "added_since": ["2026-01-01"],
                    "cursor": ["abc"], "page": ["2"]}
    assert "cursor" not in parse_qs(filters.query_string(cursor="", page=1))
