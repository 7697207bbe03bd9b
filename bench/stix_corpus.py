"""Deterministic, realistic STIX 2.1 corpora for the threat-intelligence benchmarks.

A corpus looks like a national CERT feed: indicators with IPv4, IPv4 CIDR, domain and SHA-256 patterns
(STIX 2.1 section 9, patterning), the malware families they indicate, ``indicates`` relationships and
sightings by reporting organisations, marked TLP 2.0 CLEAR/GREEN/AMBER. The same seed always gives the
same objects, byte for byte, so mamori and its peers receive exactly the same input.

Values come from disjoint spaces so that lookups can be planned as certain hits or certain misses:
indicator IPv4 addresses never fall in 203.0.0.0/8 (the miss space), CIDR indicators are /24 networks in
100.0.0.0/8-199.0.0.0/8, and domains end in ``.example.com`` / ``.example.org`` while misses use
``.example.net``.
"""

from __future__ import annotations

import ipaddress
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mamori.intel.tlp import TLP2_MARKING_IDS, Tlp

BASE_TIME = datetime(2026, 6, 1, tzinfo=UTC)
MARKINGS = (TLP2_MARKING_IDS[Tlp.CLEAR], TLP2_MARKING_IDS[Tlp.GREEN], TLP2_MARKING_IDS[Tlp.AMBER])
MISS_FIRST_OCTET = 203
_FAMILIES = (
    "LanternDoor",
    "KuroganeRAT",
    "PaperCrane",
    "SilentKoi",
    "TsubameLoader",
    "AkaneStealer",
    "MistGate",
    "HoshiWiper",
    "YamaBot",
    "KitsuneProxy",
)
_WORDS = (
    "cdn",
    "update",
    "portal",
    "secure",
    "mail",
    "login",
    "sync",
    "static",
    "api",
    "files",
    "auth",
    "cloud",
    "drive",
    "news",
    "shop",
    "track",
    "img",
    "dl",
    "vpn",
    "admin",
)


def timestamp(moment: datetime) -> str:
    """STIX 2.1 timestamp with millisecond precision (section 3.2)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class LookupPlan:
    """Values the corpus is known to contain (or not), to build lookups with known answers."""

    ipv4: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    cidrs: list[str] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)

    def keep(self, kind: str, value: str, rng: random.Random, limit: int = 5000) -> None:
        """Reservoir-sample at most ``limit`` values of each kind."""
        bucket = {"ipv4": self.ipv4, "domain": self.domains, "ipv4-cidr": self.cidrs}[kind]
        seen = self.seen[kind] = self.seen.get(kind, 0) + 1
        if len(bucket) < limit:
            bucket.append(value)
        else:
            slot = rng.randrange(seen)
            if slot < limit:
                bucket[slot] = value


class CorpusGenerator:
    """Yields STIX 2.1 objects in a fixed order from a seed."""

    def __init__(self, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self._plan_rng = random.Random(seed + 1)
        self.plan = LookupPlan()
        self._sources = [self._identity(i) for i in range(8)]
        self._families = [self._malware(name) for name in _FAMILIES]
        self._recent_indicators: list[str] = []

    # --- building blocks -----------------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _moment(self) -> datetime:
        return BASE_TIME + timedelta(seconds=self.rng.randrange(150 * 86400), milliseconds=self.rng.randrange(1000))

    def _marking(self) -> list[str]:
        return [MARKINGS[self.rng.choices((0, 1, 2), weights=(3, 5, 2))[0]]]

    def _identity(self, i: int) -> dict[str, Any]:
        created = timestamp(BASE_TIME)
        return {
            "type": "identity",
            "spec_version": "2.1",
            "id": f"identity--{self._uuid()}",
            "created": created,
            "modified": created,
            "name": f"Reporting organisation {i + 1}",
            "identity_class": "organization",
            "sectors": [self.rng.choice(("energy", "telecommunications", "finance", "government-national"))],
            "object_marking_refs": [MARKINGS[1]],
        }

    def _malware(self, name: str) -> dict[str, Any]:
        created = timestamp(BASE_TIME - timedelta(days=self.rng.randrange(400)))
        return {
            "type": "malware",
            "spec_version": "2.1",
            "id": f"malware--{self._uuid()}",
            "created": created,
            "modified": created,
            "name": name,
            "is_family": True,
            "malware_types": [
                self.rng.choice(("backdoor", "remote-access-trojan", "infostealer", "wiper", "bot", "downloader"))
            ],
            "description": f"{name}: a family tracked by the national CERT.",
            "object_marking_refs": self._marking(),
        }

    def _ipv4(self) -> str:
        while True:
            first = self.rng.randrange(1, 224)
            if first not in (10, 127, MISS_FIRST_OCTET) and not 100 <= first <= 199:
                return f"{first}.{self.rng.randrange(256)}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"

    def _cidr(self) -> str:
        return f"{self.rng.randrange(100, 200)}.{self.rng.randrange(256)}.{self.rng.randrange(256)}.0/24"

    def _domain(self) -> str:
        label = f"{self.rng.choice(_WORDS)}-{self.rng.getrandbits(40):010x}"
        if self.rng.random() < 0.3:
            label = f"{self.rng.choice(_WORDS)}.{label}"
        return f"{label}.{self.rng.choice(('example.com', 'example.org'))}"

    def indicator(self) -> dict[str, Any]:
        """One indicator: 40% IPv4, 10% IPv4 /24, 30% domain, 20% SHA-256."""
        roll = self.rng.random()
        if roll < 0.4:
            kind, value = "ipv4", self._ipv4()
            pattern, name = f"[ipv4-addr:value = '{value}']", f"C2 address {value}"
        elif roll < 0.5:
            kind, value = "ipv4-cidr", self._cidr()
            pattern, name = f"[ipv4-addr:value ISSUBSET '{value}']", f"Scanning network {value}"
        elif roll < 0.8:
            kind, value = "domain", self._domain()
            pattern, name = f"[domain-name:value = '{value}']", f"Phishing domain {value}"
        else:
            kind, value = "sha256", f"{self.rng.getrandbits(256):064x}"
            pattern, name = f"[file:hashes.'SHA-256' = '{value}']", f"Dropper {value[:12]}"
        if kind != "sha256":
            self.plan.keep(kind, value, self._plan_rng)
        created = self._moment()
        obj: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{self._uuid()}",
            "created": timestamp(created),
            "modified": timestamp(created),
            "name": name,
            "indicator_types": ["malicious-activity"],
            "pattern": pattern,
            "pattern_type": "stix",
            "valid_from": timestamp(created),
            "confidence": self.rng.randrange(30, 100),
            "labels": [self.rng.choice(("c2", "phishing", "scanning", "malware-distribution"))],
            "created_by_ref": self.rng.choice(self._sources)["id"],
            "object_marking_refs": self._marking(),
        }
        if self.rng.random() < 0.7:
            obj["valid_until"] = timestamp(created + timedelta(days=self.rng.randrange(365, 720)))
        self._recent_indicators.append(obj["id"])
        if len(self._recent_indicators) > 512:
            del self._recent_indicators[:256]
        return obj

    def relationship(self, indicator_id: str) -> dict[str, Any]:
        created = timestamp(self._moment())
        return {
            "type": "relationship",
            "spec_version": "2.1",
            "id": f"relationship--{self._uuid()}",
            "created": created,
            "modified": created,
            "relationship_type": "indicates",
            "source_ref": indicator_id,
            "target_ref": self.rng.choice(self._families)["id"],
            "object_marking_refs": self._marking(),
        }

    def sighting(self, indicator_id: str) -> dict[str, Any]:
        first = self._moment()
        last = first + timedelta(hours=self.rng.randrange(1, 96))
        return {
            "type": "sighting",
            "spec_version": "2.1",
            "id": f"sighting--{self._uuid()}",
            "created": timestamp(last),
            "modified": timestamp(last),
            "first_seen": timestamp(first),
            "last_seen": timestamp(last),
            "count": self.rng.randrange(1, 500),
            "sighting_of_ref": indicator_id,
            "where_sighted_refs": [self.rng.choice(self._sources)["id"]],
            "object_marking_refs": [MARKINGS[1]],
        }

    # --- corpora -------------------------------------------------------------------------------------
    def mixed(self, count: int) -> Iterator[dict[str, Any]]:
        """``count`` objects: the identities and malware families first, then per 20 objects about
        12 indicators, 5 relationships and 3 sightings (each referring to an indicator already given)."""
        emitted = 0
        for obj in (*self._sources, *self._families):
            if emitted == count:
                return
            yield obj
            emitted += 1
        while emitted < count:
            roll = self.rng.random()
            if roll < 0.6 or not self._recent_indicators:
                yield self.indicator()
            elif roll < 0.85:
                yield self.relationship(self.rng.choice(self._recent_indicators))
            else:
                yield self.sighting(self.rng.choice(self._recent_indicators))
            emitted += 1

    def indicators(self, count: int) -> Iterator[dict[str, Any]]:
        """``count`` indicators only (for the large lookup store)."""
        for _ in range(count):
            yield self.indicator()


def mixed_corpus(count: int, seed: int = 2026) -> tuple[list[dict[str, Any]], LookupPlan]:
    gen = CorpusGenerator(seed)
    return list(gen.mixed(count)), gen.plan


def lookup_values(plan: LookupPlan, count: int, seed: int = 7) -> list[tuple[str, str]]:
    """``count`` lookups as (expected, value): a third IPv4 (exact or inside a CIDR), a third domains
    (exact or a sub-domain of a listed one), and a third certain misses (IPv4 in 203/8, ``.example.net``)."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for i in range(count):
        slot = i % 6
        if slot == 0 and plan.ipv4:
            out.append(("hit", rng.choice(plan.ipv4)))
        elif slot == 1 and plan.cidrs:
            net = ipaddress.IPv4Network(rng.choice(plan.cidrs))
            out.append(("hit", str(net.network_address + rng.randrange(1, 255))))
        elif slot == 2 and plan.domains:
            out.append(("hit", rng.choice(plan.domains)))
        elif slot == 3 and plan.domains:
            out.append(("hit", f"{rng.choice(_WORDS)}.{rng.choice(plan.domains)}"))
        elif slot == 4:
            out.append(
                ("miss", f"{MISS_FIRST_OCTET}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}")
            )
        else:
            out.append(("miss", f"absent-{rng.getrandbits(40):010x}.example.net"))
    return out
