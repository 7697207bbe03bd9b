"""Sensor feeds built from indicator records: Suricata datasets, Suricata IP reputation, Zeek Intel.

Input records are mappings ``{kind, value, indicator_id, name, confidence, tlp, valid_until}`` as the
store lists them (``kind`` as in :mod:`mamori.intel.patterns`). Every writer normalises each value
again, sorts and de-duplicates its output (the same records always give the same bytes), and can drop
records that expired before ``at`` or whose TLP is above ``max_tlp``.

Formats (as documented by the Suricata 7 user guide and the Zeek intelligence framework):

Suricata datasets ("Datasets" chapter; ``dataset:isset,<name>, type <type>, load <file>``): one item per
line, no header. Type ``string`` items are **base64-encoded** (so any byte may occur in them);
``md5`` and ``sha256`` items are lowercase hexadecimal; ``ipv4`` items are dotted quads and ``ip``
items IPv6 (or IPv4) addresses as plain text. Datasets hold single values, so networks go to the IP
reputation file instead. URL items are written as Zeek's Intel::URL expects them, without the scheme
(``host/path?query``), so that one list serves both sensors.

Suricata IP reputation ("IP Reputation Format"): a categories file of ``<id>,<short name>,<description>``
lines (id 1..60) and reputation files of ``<ip>,<category id>,<score>`` lines, where the IP may be a
CIDR network and the score, 1..127, is the confidence that the address belongs to the category (0 means
"no data", so it is never written). mamori maps STIX confidence 0..100 onto 1..127.

Zeek Intel framework (``Intel::read_files``): a tab-separated file whose first line is
``#fields\\tindicator\\tindicator_type\\tmeta.source\\tmeta.desc\\tmeta.url``; indicator types
``Intel::ADDR``, ``Intel::SUBNET``, ``Intel::DOMAIN``, ``Intel::URL`` (without ``scheme://``),
``Intel::EMAIL`` and ``Intel::FILE_HASH``; ``-`` stands for an unset field. Zeek has no escaping
inside fields, so an indicator value containing a tab, newline or other control character is
refused with :class:`InvalidInput`, and such characters in descriptions become spaces.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from mamori.errors import InvalidInput
from mamori.intel.patterns import normalise
from mamori.intel.tlp import Tlp
from mamori.kernel.timefmt import parse_timestamp

FeedRecord = Mapping[str, Any]

_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_SHORT_NAME: Final = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


@dataclass(frozen=True)
class IpRepCategory:
    """One Suricata IP reputation category: id 1..60, a short name (used in ``iprep`` rules), a text."""

    id: int
    short_name: str
    description: str

    def __post_init__(self) -> None:
        if not 1 <= self.id <= 60:
            raise InvalidInput(f"IP reputation category id must be 1..60, got {self.id}", where="category.id")
        if not _SHORT_NAME.match(self.short_name):
            raise InvalidInput(
                f"category short name {self.short_name!r} must be 1-32 letters, digits, '_', '.' or '-'",
                where="category.short_name",
            )
        if "," in self.description or _CONTROL.search(self.description):
            raise InvalidInput(
                "category description may not contain commas or control characters",
                where="category.description",
            )


DEFAULT_CATEGORY: Final = IpRepCategory(1, "mamori", "Indicators shared through mamori")


# --------------------------------------------------------------------------------------------------
# Record selection
# --------------------------------------------------------------------------------------------------


def _where(index: int, name: str) -> str:
    return f"records[{index}].{name}"


def _tlp_of_record(record: FeedRecord, index: int) -> Tlp | None:
    value = record.get("tlp")
    if value is None or value == "":
        return None
    if isinstance(value, Tlp):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return Tlp(value)
        except ValueError as e:
            raise InvalidInput(f"unknown TLP rank {value}", where=_where(index, "tlp")) from e
    try:
        return Tlp.parse(str(value))
    except InvalidInput as e:
        raise InvalidInput(e.message, where=_where(index, "tlp")) from e


def _expired(record: FeedRecord, index: int, at: datetime | None) -> bool:
    if at is None:
        return False
    until = record.get("valid_until")
    if until is None or until == "":
        return False
    moment = until if isinstance(until, datetime) else parse_timestamp(str(until), where=_where(index, "valid_until"))
    return moment <= at


def _selected(
    records: Iterable[FeedRecord], kinds: frozenset[str], at: datetime | None, max_tlp: Tlp | None
) -> Iterable[tuple[int, FeedRecord, str, str]]:
    """``(index, record, kind, normal value)`` of the records of the wanted kinds that pass the filters."""
    for index, record in enumerate(records):
        kind = record.get("kind")
        if kind not in kinds:
            continue
        raw = record.get("value")
        if not isinstance(raw, str):
            raise InvalidInput("value must be text", where=_where(index, "value"))
        if _CONTROL.search(raw):
            raise InvalidInput(
                f"value {raw!r} contains a tab, newline or control character", where=_where(index, "value")
            )
        value = normalise(str(kind), raw, where=_where(index, "value"))
        if _expired(record, index, at):
            continue
        if max_tlp is not None:
            level = _tlp_of_record(record, index)
            if level is not None and level > max_tlp:
                continue
        yield index, record, str(kind), value


def _lines(items: Iterable[str]) -> str:
    unique = sorted(set(items))
    return "".join(item + "\n" for item in unique)


# --------------------------------------------------------------------------------------------------
# Suricata datasets
# --------------------------------------------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def url_without_scheme(url: str) -> str:
    """``https://example.org/a?b`` → ``example.org/a?b``, as Zeek's Intel::URL and HTTP logs write URLs."""
    _, sep, rest = url.partition("://")
    return rest if sep else url


def suricata_dataset_domains(
    records: Iterable[FeedRecord], *, at: datetime | None = None, max_tlp: Tlp | None = None
) -> str:
    """A ``type string`` dataset of domain names (base64 lines), for ``dns.query`` or ``tls.sni``."""
    return _lines(_b64(value) for _, _, _, value in _selected(records, frozenset({"domain"}), at, max_tlp))


def suricata_dataset_urls(
    records: Iterable[FeedRecord], *, at: datetime | None = None, max_tlp: Tlp | None = None
) -> str:
    """A ``type string`` dataset of URLs without scheme (base64 lines)."""
    selected = _selected(records, frozenset({"url"}), at, max_tlp)
    return _lines(_b64(url_without_scheme(value)) for _, _, _, value in selected)


def suricata_dataset_ipv4(
    records: Iterable[FeedRecord], *, at: datetime | None = None, max_tlp: Tlp | None = None
) -> str:
    """A ``type ipv4`` dataset: one dotted-quad address per line (networks are left to IP reputation)."""
    return _lines(value for _, _, _, value in _selected(records, frozenset({"ipv4"}), at, max_tlp))


def suricata_dataset_ipv6(
    records: Iterable[FeedRecord], *, at: datetime | None = None, max_tlp: Tlp | None = None
) -> str:
    """A ``type ip`` dataset of IPv6 addresses, one per line."""
    return _lines(value for _, _, _, value in _selected(records, frozenset({"ipv6"}), at, max_tlp))


def suricata_dataset_md5(
    records: Iterable[FeedRecord], *, at: datetime | None = None, max_tlp: Tlp | None = None
) -> str:
    """A ``type md5`` dataset: lowercase hexadecimal digests, one per line."""
    return _lines(value for _, _, _, value in _selected(records, frozenset({"md5"}), at, max_tlp))


def suricata_dataset_sha256(
    records: Iterable[FeedRecord], *, at: datetime | None = None, max_tlp: Tlp | None = None
) -> str:
    """A ``type sha256`` dataset: lowercase hexadecimal digests, one per line."""
    return _lines(value for _, _, _, value in _selected(records, frozenset({"sha256"}), at, max_tlp))


SuricataWriter = Callable[..., str]

# file name → (dataset type in suricata.yaml, writer)
SURICATA_DATASETS: Final[dict[str, tuple[str, SuricataWriter]]] = {
    "domains.lst": ("string", suricata_dataset_domains),
    "urls.lst": ("string", suricata_dataset_urls),
    "ipv4.lst": ("ipv4", suricata_dataset_ipv4),
    "ipv6.lst": ("ip", suricata_dataset_ipv6),
    "md5.lst": ("md5", suricata_dataset_md5),
    "sha256.lst": ("sha256", suricata_dataset_sha256),
}


def suricata_datasets(
    records: Iterable[FeedRecord],
    *,
    at: datetime | None = None,
    max_tlp: Tlp | None = None,
    prefix: str = "mamori-",
) -> dict[str, str]:
    """Every Suricata dataset file, by file name (``mamori-domains.lst`` …), plus ``mamori-datasets.yaml``.

    The YAML file is the ``datasets:`` section to include from ``suricata.yaml``.
    """
    if not re.match(r"^[A-Za-z0-9_.-]*$", prefix):
        raise InvalidInput(f"file name prefix {prefix!r} may hold only letters, digits, '_', '.', '-'")
    materialised = list(records)
    files: dict[str, str] = {}
    yaml_lines = ["datasets:"]
    for name, (dataset_type, writer) in SURICATA_DATASETS.items():
        file_name = prefix + name
        files[file_name] = writer(materialised, at=at, max_tlp=max_tlp)
        yaml_lines += [
            f"  {file_name.removesuffix('.lst')}:",
            f"    type: {dataset_type}",
            f"    load: {file_name}",
        ]
    files[prefix + "datasets.yaml"] = "\n".join(yaml_lines) + "\n"
    return files


# --------------------------------------------------------------------------------------------------
# Suricata IP reputation
# --------------------------------------------------------------------------------------------------


def iprep_score(confidence: object) -> int:
    """STIX confidence 0..100 (50 when absent) → Suricata reputation score 1..127."""
    if confidence is None:
        confidence = 50
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 100:
        raise InvalidInput(f"confidence must be 0..100, got {confidence!r}", where="confidence")
    return max(1, min(127, math.ceil(confidence * 127 / 100)))


def suricata_iprep_categories(categories: Sequence[IpRepCategory] = (DEFAULT_CATEGORY,)) -> str:
    """The categories file: ``<id>,<short name>,<description>`` per line."""
    ids = [category.id for category in categories]
    if len(set(ids)) != len(ids):
        raise InvalidInput("IP reputation category ids must be unique", where="categories")
    return "".join(f"{c.id},{c.short_name},{c.description}\n" for c in sorted(categories, key=lambda c: c.id))


def suricata_iprep(
    records: Iterable[FeedRecord],
    *,
    category: IpRepCategory = DEFAULT_CATEGORY,
    at: datetime | None = None,
    max_tlp: Tlp | None = None,
) -> str:
    """A reputation file: ``<ip or CIDR>,<category>,<score>``; the highest score wins for repeated IPs."""
    best: dict[str, int] = {}
    kinds = frozenset({"ipv4", "ipv6", "ipv4-cidr", "ipv6-cidr"})
    for index, record, _, value in _selected(records, kinds, at, max_tlp):
        try:
            score = iprep_score(record.get("confidence"))
        except InvalidInput as e:
            raise InvalidInput(e.message, where=_where(index, "confidence")) from e
        best[value] = max(score, best.get(value, 0))
    return "".join(f"{ip},{category.id},{score}\n" for ip, score in sorted(best.items()))


# --------------------------------------------------------------------------------------------------
# Zeek Intel framework
# --------------------------------------------------------------------------------------------------

ZEEK_HEADER: Final = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"
ZEEK_TYPES: Final[dict[str, str]] = {
    "ipv4": "Intel::ADDR",
    "ipv6": "Intel::ADDR",
    "ipv4-cidr": "Intel::SUBNET",
    "ipv6-cidr": "Intel::SUBNET",
    "domain": "Intel::DOMAIN",
    "url": "Intel::URL",
    "email": "Intel::EMAIL",
    "md5": "Intel::FILE_HASH",
    "sha1": "Intel::FILE_HASH",
    "sha256": "Intel::FILE_HASH",
    "sha512": "Intel::FILE_HASH",
}


def _zeek_field(text: object) -> str:
    """A free-text Zeek field: control characters become spaces; empty becomes ``-`` (unset)."""
    if text is None:
        return "-"
    cleaned = " ".join(_CONTROL.sub(" ", str(text)).split())
    return cleaned or "-"


def zeek_intel(
    records: Iterable[FeedRecord],
    *,
    source: str = "mamori",
    url_template: str | None = None,
    at: datetime | None = None,
    max_tlp: Tlp | None = None,
) -> str:
    """A Zeek Intel file; ``url_template`` (e.g. ``https://cti.example/i/{indicator_id}``) fills meta.url."""
    rows: dict[tuple[str, str], str] = {}
    for _, record, kind, value in _selected(records, frozenset(ZEEK_TYPES), at, max_tlp):
        indicator = url_without_scheme(value) if kind == "url" else value
        zeek_type = ZEEK_TYPES[kind]
        url = "-"
        if url_template and record.get("indicator_id"):
            url = _zeek_field(url_template.format(indicator_id=record["indicator_id"]))
        line = "\t".join((indicator, zeek_type, _zeek_field(source), _zeek_field(record.get("name")), url))
        rows.setdefault((indicator, zeek_type), line)
    return ZEEK_HEADER + "".join(line + "\n" for _, line in sorted(rows.items()))


def suricata_files(
    records: Iterable[FeedRecord],
    *,
    category: IpRepCategory = DEFAULT_CATEGORY,
    at: datetime | None = None,
    max_tlp: Tlp | None = None,
    prefix: str = "mamori-",
) -> dict[str, str]:
    """All Suricata files: the datasets (see :func:`suricata_datasets`) and the IP reputation pair.

    ``<prefix>iprep-categories.txt`` is for ``reputation-categories-file`` and ``<prefix>iprep.list``
    for ``reputation-files``.
    """
    materialised = list(records)
    files = suricata_datasets(materialised, at=at, max_tlp=max_tlp, prefix=prefix)
    files[prefix + "iprep-categories.txt"] = suricata_iprep_categories((category,))
    files[prefix + "iprep.list"] = suricata_iprep(materialised, category=category, at=at, max_tlp=max_tlp)
    return files
