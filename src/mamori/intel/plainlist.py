"""Plain indicator lists (text and CSV) read into STIX 2.1 indicators (section 4.7).

Text lists hold one value per line; blank lines and lines starting with ``#`` are skipped, and a
``#`` preceded by whitespace starts a trailing comment (a ``#`` inside a URL, as in ``/a#frag``,
does not). CSV lists (RFC 4180) have a header row naming the columns, in any order and case:

* ``value`` or ``indicator`` (required): the observable;
* ``type`` (optional): its kind (``ipv4``, ``ip``, ``cidr``, ``domain``, ``hostname``, ``url``,
  ``email``, ``md5``, ``sha1``, ``sha256``, ``sha512``, …); detected from the value when absent;
* ``description``, ``valid_until`` (RFC 3339), ``labels`` (separated by ``;`` or ``|``),
  ``tlp`` (``TLP:AMBER``, ``green``, …) and ``confidence`` (0..100) (all optional).

Every indicator id is a UUIDv5 over kind and normalised value, so importing the same list twice gives
the same ids. A line that cannot be read is reported with its number and reason, never imported; a
value seen twice is imported once.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from mamori.errors import InvalidInput
from mamori.intel.patterns import detect_kind, indicator_for, indicator_id_for, observable
from mamori.intel.tlp import Tlp
from mamori.kernel.timefmt import parse_timestamp


@dataclass(frozen=True)
class LineProblem:
    """A line that was not imported: its 1-based number, the text (shortened) and why."""

    line: int
    value: str
    reason: str


@dataclass(frozen=True)
class ListOptions:
    """What every indicator of a list gets unless its CSV row says otherwise.

    ``created`` is the import time (the caller's clock); it is also ``valid_from``.
    """

    created: datetime
    default_tlp: Tlp | None = None
    confidence: int | None = None
    valid_until: datetime | None = None
    labels: tuple[str, ...] = ()
    created_by_ref: str | None = None
    source: str = "<input>"
    extra_marking_refs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.created.tzinfo is None:
            raise InvalidInput("created must be timezone-aware", where="created")
        if self.confidence is not None and not 0 <= self.confidence <= 100:
            raise InvalidInput(f"confidence must be 0..100, got {self.confidence}", where="confidence")
        if self.valid_until is not None and self.valid_until <= self.created:
            raise InvalidInput("valid_until must be after the import time", where="valid_until")


_TYPE_ALIASES: Final[dict[str, str | None]] = {
    "ipv4": "ipv4",
    "ipv4-addr": "ipv4",
    "ip-dst": None,
    "ip-src": None,
    "ip": None,
    "ipv6": "ipv6",
    "ipv6-addr": "ipv6",
    "cidr": None,
    "ipv4-cidr": "ipv4-cidr",
    "ipv6-cidr": "ipv6-cidr",
    "network": None,
    "domain": "domain",
    "domain-name": "domain",
    "hostname": "domain",
    "fqdn": "domain",
    "url": "url",
    "uri": "url",
    "email": "email",
    "email-addr": "email",
    "md5": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha512": "sha512",
    "sha-512": "sha512",
    "hash": None,
}
_IP_FAMILY_TYPES: Final = frozenset({"ip", "ip-dst", "ip-src", "cidr", "network"})
_MAX_SHOWN: Final = 200
_COMMENT: Final = re.compile(r"\s#")


def _shown(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"


def _kind_for(declared: str | None, value: str) -> str:
    """The kind of a value, honouring a declared type; raises InvalidInput with the reason."""
    detected = detect_kind(value)
    if declared is None or declared.strip() == "":
        if detected is None:
            raise InvalidInput("not an IP address, network, domain, URL, e-mail address or hash")
        return detected
    key = declared.strip().lower()
    if key not in _TYPE_ALIASES:
        raise InvalidInput(f"unknown type {declared!r}")
    wanted = _TYPE_ALIASES[key]
    if wanted is None:
        allowed = (
            {"ipv4", "ipv6", "ipv4-cidr", "ipv6-cidr"}
            if key in _IP_FAMILY_TYPES
            else {"md5", "sha1", "sha256", "sha512"}
        )
        if detected not in allowed:
            raise InvalidInput(f"value does not fit type {declared!r}")
        return detected
    observable(wanted, value)  # raises with the reason when the value does not fit
    return wanted


class _Builder:
    """Collects indicators and problems for one list; the first occurrence of a value wins."""

    def __init__(self, options: ListOptions) -> None:
        self.options = options
        self.objects: dict[str, dict[str, Any]] = {}
        self.problems: list[LineProblem] = []

    def problem(self, line: int, value: str, reason: str) -> None:
        self.problems.append(LineProblem(line, _shown(value), reason))

    def add(
        self,
        line: int,
        value: str,
        *,
        declared_type: str | None = None,
        description: str | None = None,
        valid_until: datetime | None = None,
        labels: Sequence[str] = (),
        tlp: Tlp | None = None,
        confidence: int | None = None,
    ) -> None:
        options = self.options
        try:
            kind = _kind_for(declared_type, value)
            found = observable(kind, value)
        except InvalidInput as e:
            self.problem(line, value, e.message)
            return
        indicator_id = indicator_id_for(found.kind, found.value)
        if indicator_id in self.objects:
            return
        until = valid_until or options.valid_until
        if until is not None and until <= options.created:
            self.problem(line, value, "valid_until is not after the import time")
            return
        level = tlp if tlp is not None else options.default_tlp
        markings = tuple(options.extra_marking_refs) + ((level.marking_id,) if level is not None else ())
        all_labels = tuple(dict.fromkeys((*options.labels, *labels)))
        self.objects[indicator_id] = indicator_for(
            found.kind,
            found.value,
            created=options.created,
            description=description or None,
            confidence=confidence if confidence is not None else options.confidence,
            valid_until=until,
            labels=all_labels,
            created_by_ref=options.created_by_ref,
            object_marking_refs=markings,
            indicator_id=indicator_id,
        )

    def result(self) -> tuple[list[dict[str, Any]], list[LineProblem]]:
        return list(self.objects.values()), self.problems


def read_text_list(text: str, options: ListOptions) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    """Indicators from a text list (one value per line), and the lines that were not imported."""
    builder = _Builder(options)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("\ufeff"):
            line = line[1:].strip()
        if not line or line.startswith("#"):
            continue
        comment = _COMMENT.search(line)
        if comment is not None:
            line = line[: comment.start()].strip()
        if any(ch.isspace() for ch in line):
            builder.problem(number, line, "more than one value on the line")
            continue
        builder.add(number, line)
    return builder.result()


def _cell(row: dict[str, str | None], name: str | None) -> str:
    if name is None:
        return ""
    return (row.get(name) or "").strip()


def read_csv_list(text: str, options: ListOptions) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    """Indicators from a CSV list with a header row; :class:`InvalidInput` if no column holds values."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and (not lines[skipped].strip() or lines[skipped].lstrip().startswith("#")):
        skipped += 1
    reader = csv.DictReader(lines[skipped:], restkey="\x00extra")
    header = reader.fieldnames
    if not header:
        raise InvalidInput("CSV list has no header row", where=f"{options.source}:{skipped + 1}")
    columns = {name.strip().lower(): name for name in header if name is not None}
    value_column = columns.get("value") or columns.get("indicator")
    if value_column is None:
        raise InvalidInput(
            f"CSV header has no 'value' or 'indicator' column (found: {', '.join(columns)})",
            where=f"{options.source}:{skipped + 1}",
        )
    builder = _Builder(options)
    try:
        for row in reader:
            number = reader.line_num + skipped
            if row.get("\x00extra"):
                cells = ",".join(str(v) for v in row.values())
                builder.problem(number, cells, "more cells than header columns")
                continue
            value = _cell(row, value_column)
            if not value or value.startswith("#"):
                continue
            try:
                until_text = _cell(row, columns.get("valid_until"))
                until = parse_timestamp(until_text, where="valid_until") if until_text else None
                tlp_text = _cell(row, columns.get("tlp"))
                tlp = Tlp.parse(tlp_text) if tlp_text else None
                confidence_text = _cell(row, columns.get("confidence"))
                confidence = int(confidence_text) if confidence_text else None
                if confidence is not None and not 0 <= confidence <= 100:
                    raise InvalidInput(f"confidence must be 0..100, got {confidence}")
            except ValueError as e:
                builder.problem(number, value, f"bad confidence: {e}")
                continue
            except InvalidInput as e:
                builder.problem(number, value, f"{e.where}: {e.message}" if e.where else e.message)
                continue
            label_cell = _cell(row, columns.get("labels"))
            labels = [label.strip() for label in re.split(r"[;|]", label_cell) if label.strip()]
            builder.add(
                number,
                value,
                declared_type=_cell(row, columns.get("type")) or None,
                description=_cell(row, columns.get("description")) or None,
                valid_until=until,
                labels=labels,
                tlp=tlp,
                confidence=confidence,
            )
    except csv.Error as e:
        where = f"{options.source}:{reader.line_num + skipped}"
        raise InvalidInput(f"malformed CSV: {e}", where=where) from e
    return builder.result()


def read_list(text: str, options: ListOptions) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    """A text or CSV list: CSV when the first non-comment line is a header naming a value column."""
    for raw in text.splitlines():
        line = raw.strip().lstrip("\ufeff").strip()
        if not line or line.startswith("#"):
            continue
        cells = {cell.strip().strip('"').lower() for cell in line.split(",")}
        if "," in line and cells & {"value", "indicator"}:
            return read_csv_list(text, options)
        break
    return read_text_list(text, options)


def _options(
    created: datetime | None,
    default_tlp: Tlp | str | None,
    confidence: int | None,
    valid_until: datetime | None,
    labels: Sequence[str],
    created_by_ref: str | None,
    source: str,
) -> ListOptions:
    return ListOptions(
        created=created if created is not None else datetime.now(UTC),
        default_tlp=Tlp.parse(default_tlp) if isinstance(default_tlp, str) else default_tlp,
        confidence=confidence,
        valid_until=valid_until,
        labels=tuple(labels),
        created_by_ref=created_by_ref,
        source=source,
    )


def parse_text(
    text: str,
    *,
    created: datetime | None = None,
    default_tlp: Tlp | str | None = None,
    confidence: int | None = None,
    valid_until: datetime | None = None,
    labels: Sequence[str] = (),
    created_by_ref: str | None = None,
    source: str = "<input>",
) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    """:func:`read_text_list` with keyword options; ``created`` should come from the caller's clock."""
    options = _options(created, default_tlp, confidence, valid_until, labels, created_by_ref, source)
    return read_text_list(text, options)


def parse_csv(
    text: str,
    *,
    created: datetime | None = None,
    default_tlp: Tlp | str | None = None,
    confidence: int | None = None,
    valid_until: datetime | None = None,
    labels: Sequence[str] = (),
    created_by_ref: str | None = None,
    source: str = "<input>",
) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    """:func:`read_csv_list` with keyword options; ``created`` should come from the caller's clock."""
    options = _options(created, default_tlp, confidence, valid_until, labels, created_by_ref, source)
    return read_csv_list(text, options)
