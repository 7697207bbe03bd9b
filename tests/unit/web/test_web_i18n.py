"""mamori.i18n: catalogs complete for every UI message, language negotiation, JST times, numbers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po

from mamori.errors import InvalidInput
from mamori.i18n import (
    SUPPORTED_LOCALES,
    cli_locale,
    format_date_local,
    format_datetime_jst,
    format_number,
    negotiate,
    translations,
)
from mamori.i18n.catalogs import catalog_path

SRC = Path(__file__).resolve().parents[3] / "src" / "mamori"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


CORE_MODULES = ("graph_svg.py", "intel_pages.py", "nav.py", "rendering.py", "routes.py", "search_filters.py",
                "session_pages.py")
"""The core UI; capabilities that add pages (e.g. traffic) may carry their own catalogs."""


def ui_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    sources = [(SRC / "web" / m, "python") for m in CORE_MODULES]
    sources += [(p, "jinja2.ext:babel_extract") for p in sorted((SRC / "web" / "templates").glob("*.html"))]
    for path, method in sources:
        with path.open("rb") as f:
            found.update(msg for _l, msg, _c, _ctx in extract(method, f, keywords=DEFAULT_KEYWORDS))
    assert len(found) > 100
    return found


def catalog(locale: str) -> dict[object, object]:
    with catalog_path(locale).open("rb") as f:
        cat = read_po(f, locale=locale)
    return {m.id: m.string for m in cat if m.id and not m.fuzzy}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_ui_message_is_translated(locale: str) -> None:
    entries = catalog(locale)
    missing = [m for m in ui_messages() if not entries.get(m) or entries[m] in ("", ("",), ("", ""))]
    assert not missing, f"untranslated in {locale}: {missing}"


def cli_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for path in sorted((SRC / "cli").glob("*.py")):
        with path.open("rb") as f:
            found.update(msg for _l, msg, _c, _ctx in extract("python", f, keywords=DEFAULT_KEYWORDS))
    assert len(found) > 30
    return found


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_cli_message_is_translated(locale: str) -> None:
    entries = catalog(locale)
    missing = [m for m in cli_messages() if not entries.get(m)]
    assert not missing, f"untranslated in {locale}: {missing}"
    for message in cli_messages():  # the CLI fills {name} placeholders: a translation keeps the same ones
        assert set(re.findall(r"{(\w+)}", str(entries[message]))) == set(re.findall(r"{(\w+)}", str(message)))


def test_translations_keep_their_placeholders() -> None:
    for msgid, text in catalog("ja").items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        texts = text if isinstance(text, tuple) else (text,)
        wanted = {p for i in ids for p in PLACEHOLDER.findall(str(i))}
        for t in texts:
            assert set(PLACEHOLDER.findall(str(t))) == wanted, msgid


def test_catalogs_translate_and_pluralise() -> None:
    assert translations("ja").gettext("Log out") == "ログアウト"
    assert translations("en").gettext("Log out") == "Log out"
    assert translations("en").ngettext("%(num)s hop", "%(num)s hops", 2) == "%(num)s hops"
    assert translations("ja").ngettext("%(num)s hop", "%(num)s hops", 2) == "%(num)s ホップ"


def test_unsupported_locale_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        translations("fr")
    assert caught.value.where == "locale"


@pytest.mark.parametrize(("header", "expected"), [
    (None, "ja"),
    ("", "ja"),
    ("en-US,en;q=0.9", "en"),
    ("fr-FR, en;q=0.5, ja;q=0.8", "ja"),
    ("ja;q=0, en;q=0.1", "en"),
    ("de, fr", "ja"),
    ("*", "ja"),
    ("en;q=abc, ja;q=0.2", "ja"),
    ("EN-gb", "en"),
])
def test_negotiate_picks_the_preferred_supported_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_negotiate_falls_back_to_the_configured_default() -> None:
    assert negotiate("de", default="en") == "en"


@pytest.mark.parametrize(("environ", "expected"), [
    ({"MAMORI_LOCALE": "en"}, "en"),
    ({"MAMORI_LOCALE": "en", "LANG": "ja_JP.UTF-8"}, "en"),
    ({"LANG": "en_GB.UTF-8"}, "en"),
    ({"LC_ALL": "ja_JP.UTF-8", "LANG": "en_US.UTF-8"}, "ja"),
    ({"LANG": "C.UTF-8"}, "ja"),
    ({"MAMORI_LOCALE": "xx", "LANG": "en_US"}, "en"),
    ({}, "ja"),
])
def test_cli_locale_reads_mamori_locale_then_posix_variables(environ: dict[str, str], expected: str) -> None:
    assert cli_locale(environ) == expected


def test_times_are_shown_in_jst_for_each_locale() -> None:
    assert format_datetime_jst("2026-11-01T03:00:00Z", "ja") == "2026/11/01 12:00:00 JST"
    english = format_datetime_jst("2026-11-01T03:00:00.000000Z", "en")
    assert english.replace("\u202f", " ") == "Nov 1, 2026, 12:00:00 PM JST"
    aware = datetime(2026, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5)))  # 2027-01-01 01:00 UTC
    assert format_datetime_jst(aware, "ja") == "2027/01/01 10:00:00 JST"
    assert format_datetime_jst(None, "ja") == ""


def test_local_date_is_the_japanese_day() -> None:
    assert format_date_local("2026-10-31T16:00:00Z", "ja") == "2026/11/01"


def test_naive_or_malformed_times_are_refused() -> None:
    with pytest.raises(InvalidInput):
        format_datetime_jst(datetime(2026, 1, 1), "ja")
    with pytest.raises(InvalidInput) as caught:
        format_datetime_jst("yesterday", "ja")
    assert "RFC 3339" in caught.value.message


def test_unknown_display_zone_is_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        format_datetime_jst(datetime(2026, 1, 1, tzinfo=UTC), "ja", timezone="Mars/Olympus")
    assert caught.value.where == "display_timezone"


def test_numbers_are_grouped_for_the_locale() -> None:
    assert format_number(1234567, "ja") == "1,234,567"
    assert format_number(1234567.5, "en") == "1,234,567.5"
