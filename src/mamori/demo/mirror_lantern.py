"""The demo's threat-intelligence content: MIRROR LANTERN (demo), a fictitious espionage intrusion set
targeting Japan, as a connected STIX 2.1 graph (STIX 2.1 sections 4-6) with TLP 2.0 markings.

Every actor, campaign, malware family and address here is invented. Network indicators use only the
documentation ranges (RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849: 2001:db8::/32)
and reserved names (RFC 2606: .example, .test, example.com/net/org). ATT&CK technique ids and CVE ids are
real public references, cited by name only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mamori.demo.community import (
    INDICATOR_FEED,
    MIRROR_LANTERN,
    NATIONAL_OFFICE,
    NATIONAL_RESTRICTED,
    PUBLIC_ADVISORIES,
    VULNERABILITIES,
)
from mamori.demo.model import DemoOrg, Tlp
from mamori.demo.stix_graph import StixGraphBuilder, tlp_rank

_EVERY_READABLE = (PUBLIC_ADVISORIES, MIRROR_LANTERN, INDICATOR_FEED, VULNERABILITIES, NATIONAL_RESTRICTED)

# STIX 2.1 industry-sector-ov for each critical-infrastructure sector key.
_INDUSTRY_SECTORS: dict[str, list[str]] = {
    "information-communications": ["telecommunications", "technology"],
    "finance": ["financial-services"],
    "aviation": ["transportation", "aerospace"],
    "airports": ["transportation", "infrastructure"],
    "railway": ["transportation"],
    "electric-power": ["energy", "utilities"],
    "gas": ["energy", "utilities"],
    "government-administrative-services": ["government-public-services"],
    "medical": ["healthcare"],
    "water": ["infrastructure-water", "utilities"],
    "logistics": ["transportation"],
    "chemicals": ["chemical"],
    "credit-cards": ["financial-services"],
    "petroleum": ["energy"],
    "ports": ["transportation", "infrastructure"],
}

# (slug, technique id, name, kill-chain phases)
_TECHNIQUES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("t1566-001", "T1566.001", "Spearphishing Attachment", ("initial-access",)),
    ("t1566-002", "T1566.002", "Spearphishing Link", ("initial-access",)),
    ("t1190", "T1190", "Exploit Public-Facing Application", ("initial-access",)),
    ("t1059-001", "T1059.001", "PowerShell", ("execution",)),
    ("t1547-001", "T1547.001", "Registry Run Keys / Startup Folder", ("persistence", "privilege-escalation")),
    ("t1027", "T1027", "Obfuscated Files or Information", ("defense-evasion",)),
    ("t1003-001", "T1003.001", "LSASS Memory", ("credential-access",)),
    ("t1087-002", "T1087.002", "Domain Account", ("discovery",)),
    ("t1021-001", "T1021.001", "Remote Desktop Protocol", ("lateral-movement",)),
    ("t1071-001", "T1071.001", "Web Protocols", ("command-and-control",)),
    ("t1572", "T1572", "Protocol Tunneling", ("command-and-control",)),
    ("t1041", "T1041", "Exfiltration Over C2 Channel", ("exfiltration",)),
)

# Well-known public CVEs in edge devices, referenced by id only.
_CVES: tuple[str, ...] = (
    "CVE-2023-27997",
    "CVE-2023-4966",
    "CVE-2023-46805",
    "CVE-2024-21887",
    "CVE-2024-3400",
)

_IPV4_POOL = tuple(
    f"{net}.{host}" for net in ("192.0.2", "198.51.100", "203.0.113") for host in range(10, 250)
)


@dataclass(frozen=True, slots=True)
class _Infra:
    slug: str
    name: str
    types: tuple[str, ...]
    ipv4: int
    ipv6: int
    domains: tuple[str, ...]
    urls: tuple[str, ...]


_INFRASTRUCTURE: tuple[_Infra, ...] = (
    _Infra(
        "lantern-c2-a",
        "LanternDoor C2 cluster A",
        ("command-and-control",),
        3,
        0,
        ("update.lantern-cdn.example", "cdn-static.lantern-cdn.example", "telemetry.lantern-cdn.example"),
        (),
    ),
    _Infra(
        "lantern-c2-b",
        "LanternDoor C2 cluster B",
        ("command-and-control",),
        3,
        2,
        ("api.kasumi-sync.test", "sync.kasumi-sync.test"),
        (),
    ),
    _Infra(
        "papercrane-staging",
        "PaperCrane staging server",
        ("staging", "hosting-malware"),
        2,
        0,
        ("dl.paper-crane.example.com",),
        (
            "https://dl.paper-crane.example.com/share/seminar_programme.zip",
            "https://dl.paper-crane.example.com/share/policy_review.docx",
            "https://dl.paper-crane.example.com/update/pc_loader.bin",
        ),
    ),
    _Infra(
        "phishing-senders",
        "Spearphishing sender and lure domains",
        ("phishing",),
        0,
        0,
        (
            "seminar-invite.example.org",
            "jp-policy-forum.example.net",
            "notice-portal.example",
            "diplomacy-briefing.example.com",
        ),
        (
            "https://seminar-invite.example.org/register/forum.docx",
            "https://jp-policy-forum.example.net/paper/draft.lnk",
            "https://notice-portal.example/login",
            "https://diplomacy-briefing.example.com/briefing/agenda.pdf.lnk",
        ),
    ),
    _Infra("orb-relays", "Operational relay box network", ("anonymization", "botnet"), 5, 1, (), ()),
    _Infra(
        "exfil-drop",
        "Exfiltration drop",
        ("exfiltration",),
        2,
        0,
        ("files.paper-crane.example.com", "backup-sync.example.net"),
        ("https://files.paper-crane.example.com/api/v2/upload",),
    ),
)

# (slug, name, malware types, file names of known samples)
_MALWARE: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "lanterndoor",
        "LanternDoor",
        ("backdoor", "remote-access-trojan"),
        ("ldr64.dll", "msupdate.dll", "lantern.dat", "svc.exe"),
    ),
    ("lanterndoor-nx", "LanternDoor-NX", ("backdoor",), ("nx_core.dll", "nx_conf.bin")),
    (
        "papercrane",
        "PaperCrane loader",
        ("downloader", "dropper"),
        ("invitation.docx.lnk", "pc.dll", "readme.js", "setup.msi"),
    ),
    ("origamithief", "OrigamiThief", ("spyware", "keylogger"), ("origami.exe", "thumbs.db.exe")),
    ("kasumishell", "KasumiShell", ("webshell",), ("index_bak.jsp", "health.php", "status.aspx")),
)


@dataclass(frozen=True, slots=True)
class _Places:
    japan: str
    tokyo: str
    eastern_asia: str


@dataclass(frozen=True, slots=True)
class _Adversary:
    actor: str
    intrusion_set: str
    campaigns: dict[str, str]  # campaign slug → id


@dataclass(frozen=True, slots=True)
class _Arsenal:
    techniques: dict[str, str]  # ATT&CK id → attack-pattern id
    vulnerabilities: dict[str, str]  # CVE id → vulnerability id
    malware: dict[str, str]  # malware slug → id
    tools: dict[str, str]  # tool slug → id


@dataclass(frozen=True, slots=True)
class _IndicatorSpec:
    slug: str
    name: str
    pattern: str
    indicates: str


@dataclass(frozen=True, slots=True)
class _Indicator:
    id: str
    slug: str
    valid_from_days_ago: int


def build_mirror_lantern(builder: StixGraphBuilder, organisations: Sequence[DemoOrg]) -> dict[str, str]:
    """Fill `builder` with the MIRROR LANTERN graph; return organisation key → STIX identity id."""
    office_id = _office(builder, organisations)
    places = _places(builder)
    identities = _identities(builder, organisations, places, office_id)
    adversary = _adversary(builder, places)
    arsenal = _arsenal(builder, adversary)
    _targeting(builder, adversary, arsenal, identities)
    infrastructure, network_specs = _infrastructure(builder, adversary, arsenal)
    specs = [*network_specs, *_scanner_specs(builder, adversary), *_file_specs(builder, arsenal)]
    indicators = _indicators(builder, specs, adversary)
    observations = _observations(builder, indicators)
    sightings = _sightings(builder, indicators, identities, observations)
    _reports_and_notes(builder, places, adversary, arsenal, infrastructure, indicators, sightings)
    _later_versions(builder, adversary, indicators, len(network_specs) // 2)
    return identities


def _places(b: StixGraphBuilder) -> _Places:
    public = (PUBLIC_ADVISORIES, MIRROR_LANTERN)
    japan = b.sdo(
        "location",
        "japan",
        created=b.ago(400),
        tlp="TLP:CLEAR",
        collections=public,
        name="Japan",
        country="JP",
        region="eastern-asia",
    )
    tokyo = b.sdo(
        "location",
        "tokyo",
        created=b.ago(400),
        tlp=None,
        collections=public,
        name="Tokyo",
        city="Tokyo",
        country="JP",
        region="eastern-asia",
    )
    eastern_asia = b.sdo(
        "location",
        "eastern-asia",
        created=b.ago(400),
        tlp=None,
        collections=public,
        name="Eastern Asia",
        region="eastern-asia",
    )
    b.relate(tokyo, "related-to", japan, description="Tokyo is in Japan.")
    b.relate(japan, "related-to", eastern_asia, description="Japan is in Eastern Asia.")
    return _Places(japan=japan, tokyo=tokyo, eastern_asia=eastern_asia)


def _office(b: StixGraphBuilder, organisations: Sequence[DemoOrg]) -> str:
    """The national office's identity, first of all since every other object names it as creator."""
    office = next(o for o in organisations if o.kind == "national_office")
    office_id = b.sdo(
        "identity",
        office.key,
        created=b.ago(400),
        tlp="TLP:CLEAR",
        collections=_EVERY_READABLE,
        name=office.name,
        description=f"{office.name_ja}. The producer of this demo intelligence.",
        identity_class="organization",
        sectors=["government-national"],
        contact_information="soc@national-office.example",
    )
    if office_id != b.creator_id:
        raise ValueError("the builder's creator must be the national office identity")
    return office_id


def _identities(
    b: StixGraphBuilder, organisations: Sequence[DemoOrg], places: _Places, office_id: str
) -> dict[str, str]:
    """Organisation key → identity: the national office and one identity per operator."""
    identities: dict[str, str] = {NATIONAL_OFFICE: office_id}
    b.relate(office_id, "located-at", places.tokyo)
    for org in organisations:
        if org.kind != "operator" or org.sector is None:
            continue
        identity_id = b.sdo(
            "identity",
            org.key,
            created=b.ago(380),
            tlp="TLP:GREEN",
            collections=(INDICATOR_FEED,),
            name=org.name,
            description=f"{org.name_ja}（重要インフラ事業者・{org.sector}）",
            identity_class="organization",
            sectors=_INDUSTRY_SECTORS[org.sector],
        )
        b.relate(identity_id, "located-at", places.japan)
        identities[org.key] = identity_id
    return identities


def _adversary(b: StixGraphBuilder, places: _Places) -> _Adversary:
    actor = b.sdo(
        "threat-actor",
        "lantern-keepers",
        created=b.ago(330),
        tlp="TLP:AMBER",
        collections=(MIRROR_LANTERN,),
        name="Lantern Keepers (demo)",
        description="Fictitious operators behind MIRROR LANTERN (demo). No real group is described.",
        threat_actor_types=["spy"],
        aliases=["LK (demo)"],
        first_seen=b.ago(1100),
        roles=["agent"],
        goals=["Collect policy, diplomatic and technical information on Japan"],
        sophistication="expert",
        resource_level="government",
        primary_motivation="organizational-gain",
    )
    intrusion_set = b.sdo(
        "intrusion-set",
        "mirror-lantern",
        created=b.ago(330),
        tlp="TLP:GREEN",
        collections=(MIRROR_LANTERN,),
        name="MIRROR LANTERN (demo)",
        description=(
            "A fictitious espionage intrusion set that targets Japanese government bodies, academia and "
            "critical-infrastructure operators with spearphishing and edge-device exploitation. "
            "日本の政府機関、学術機関及び重要インフラ事業者を標的とする架空の諜報活動グループです。"
        ),
        aliases=["Paper Lantern (demo)", "Earth Kasumi (demo)"],
        first_seen=b.ago(1000),
        goals=["Long-term access to policy and research networks"],
        resource_level="government",
        primary_motivation="organizational-gain",
    )
    b.relate(intrusion_set, "attributed-to", actor)
    b.relate(intrusion_set, "targets", places.japan)
    b.relate(intrusion_set, "targets", places.eastern_asia)

    campaigns = {
        "hanabi-letter": b.sdo(
            "campaign",
            "hanabi-letter",
            created=b.ago(300),
            tlp="TLP:GREEN",
            collections=(MIRROR_LANTERN,),
            name="Operation Hanabi Letter (demo)",
            description="Seminar-invitation spearphishing delivering PaperCrane loader and LanternDoor.",
            aliases=["花火書簡作戦 (demo)"],
            first_seen=b.ago(350),
            last_seen=b.ago(250),
            objective="Access to policy researchers' mailboxes and documents",
        ),
        "winter-fan": b.sdo(
            "campaign",
            "winter-fan",
            created=b.ago(180),
            tlp="TLP:AMBER",
            collections=(MIRROR_LANTERN,),
            name="Operation Winter Fan (demo)",
            description="LanternDoor-NX run through relay boxes against energy and finance operators.",
            first_seen=b.ago(200),
            last_seen=b.ago(120),
            objective="Persistent access to operational-technology support networks",
        ),
        "quiet-harbor": b.sdo(
            "campaign",
            "quiet-harbor",
            created=b.ago(60),
            tlp="TLP:AMBER",
            collections=(MIRROR_LANTERN,),
            name="Operation Quiet Harbor (demo)",
            description="Exploitation of VPN and gateway appliances, KasumiShell web shells on edge devices.",
            first_seen=b.ago(75),
            last_seen=b.ago(62),
            objective="Footholds in ports, logistics and local-government networks",
        ),
    }
    for campaign in campaigns.values():
        b.relate(campaign, "attributed-to", intrusion_set)
    return _Adversary(actor=actor, intrusion_set=intrusion_set, campaigns=campaigns)


def _arsenal(b: StixGraphBuilder, adversary: _Adversary) -> _Arsenal:
    """Attack patterns, vulnerabilities, malware and tools, and how the adversary uses them."""
    techniques: dict[str, str] = {}
    for slug, technique_id, name, phases in _TECHNIQUES:
        techniques[technique_id] = b.sdo(
            "attack-pattern",
            slug,
            created=b.ago(330),
            tlp="TLP:CLEAR",
            collections=(PUBLIC_ADVISORIES, MIRROR_LANTERN),
            name=name,
            external_references=[
                {
                    "source_name": "mitre-attack",
                    "external_id": technique_id,
                    "url": "https://attack.mitre.org/techniques/" + technique_id.replace(".", "/") + "/",
                }
            ],
            kill_chain_phases=[{"kill_chain_name": "mitre-attack", "phase_name": p} for p in phases],
        )
        b.relate(adversary.intrusion_set, "uses", techniques[technique_id])

    vulnerabilities: dict[str, str] = {}
    for cve in _CVES:
        vulnerabilities[cve] = b.sdo(
            "vulnerability",
            cve.lower(),
            created=b.ago(70),
            tlp=None,
            collections=(VULNERABILITIES, PUBLIC_ADVISORIES),
            name=cve,
            external_references=[
                {"source_name": "cve", "external_id": cve, "url": f"https://www.cve.org/CVERecord?id={cve}"}
            ],
        )

    malware: dict[str, str] = {}
    for slug, name, types, _ in _MALWARE:
        malware[slug] = b.sdo(
            "malware",
            slug,
            created=b.ago(290),
            tlp="TLP:GREEN",
            collections=(MIRROR_LANTERN,),
            name=f"{name} (demo)",
            description=_MALWARE_DESCRIPTIONS[slug],
            malware_types=list(types),
            is_family=True,
            first_seen=b.ago(340 if slug != "kasumishell" else 74),
            implementation_languages=["c++"] if slug.startswith("lantern") else ["javascript"],
            capabilities=_MALWARE_CAPABILITIES[slug],
        )
        b.relate(adversary.intrusion_set, "uses", malware[slug])
    b.relate(malware["lanterndoor-nx"], "variant-of", malware["lanterndoor"])
    b.relate(malware["papercrane"], "downloads", malware["lanterndoor"])
    b.relate(malware["lanterndoor"], "drops", malware["origamithief"])
    b.relate(malware["lanterndoor"], "authored-by", adversary.intrusion_set)
    for cve in ("CVE-2023-46805", "CVE-2024-21887", "CVE-2024-3400"):
        b.relate(malware["kasumishell"], "exploits", vulnerabilities[cve])
    for technique, slug in (
        ("T1566.001", "papercrane"),
        ("T1059.001", "papercrane"),
        ("T1027", "papercrane"),
        ("T1071.001", "lanterndoor"),
        ("T1547.001", "lanterndoor"),
        ("T1041", "origamithief"),
        ("T1190", "kasumishell"),
    ):
        b.relate(malware[slug], "uses", techniques[technique])

    tools: dict[str, str] = {}
    for slug, name, tool_types, technique in (
        ("lanternproxy", "LanternProxy (demo)", ["remote-access"], "T1572"),
        ("psexec", "PsExec", ["remote-access"], "T1021.001"),
        ("adfind", "AdFind", ["information-gathering"], "T1087.002"),
        ("credential-dumper", "Generic LSASS dumper", ["credential-exploitation"], "T1003.001"),
    ):
        tools[slug] = b.sdo(
            "tool",
            slug,
            created=b.ago(250),
            tlp="TLP:GREEN",
            collections=(MIRROR_LANTERN,),
            name=name,
            tool_types=tool_types,
        )
        b.relate(adversary.intrusion_set, "uses", tools[slug])
        b.relate(
            tools[slug],
            "related-to",
            techniques[technique],
            description=f"Observed implementing {technique}.",
        )
    return _Arsenal(techniques=techniques, vulnerabilities=vulnerabilities, malware=malware, tools=tools)


def _targeting(
    b: StixGraphBuilder, adversary: _Adversary, arsenal: _Arsenal, identities: dict[str, str]
) -> None:
    """What each campaign used and whom it targeted; victim names are AMBER+STRICT."""
    campaigns = adversary.campaigns
    campaign_uses = {
        "hanabi-letter": (
            ("papercrane", "lanterndoor", "origamithief"),
            ("T1566.001", "T1566.002", "T1059.001"),
        ),
        "winter-fan": (("lanterndoor-nx", "lanterndoor"), ("T1071.001", "T1572", "T1021.001", "T1003.001")),
        "quiet-harbor": (("kasumishell", "lanterndoor-nx"), ("T1190", "T1087.002", "T1041")),
    }
    for slug, (families, used) in campaign_uses.items():
        for family in families:
            b.relate(campaigns[slug], "uses", arsenal.malware[family])
        for technique in used:
            b.relate(campaigns[slug], "uses", arsenal.techniques[technique])
    for cve in _CVES:
        b.relate(campaigns["quiet-harbor"], "targets", arsenal.vulnerabilities[cve])
    b.relate(campaigns["quiet-harbor"], "uses", arsenal.tools["lanternproxy"])
    for campaign_slug, operator_key in (
        ("winter-fan", "kanto-demo-power"),
        ("winter-fan", "chuo-demo-bank"),
        ("quiet-harbor", "demo-harbour-terminal"),
        ("quiet-harbor", "hayate-demo-logistics"),
        ("quiet-harbor", "demo-prefecture-shared-services"),
    ):
        b.relate(campaigns[campaign_slug], "targets", identities[operator_key], tlp="TLP:AMBER+STRICT")


def _infrastructure(
    b: StixGraphBuilder, adversary: _Adversary, arsenal: _Arsenal
) -> tuple[dict[str, str], list[_IndicatorSpec]]:
    """Infrastructure made of documentation-range addresses and reserved names, and an indicator spec
    for each of its observables."""
    addresses = iter(b.shuffled("ipv4", _IPV4_POOL))
    ipv6_hosts = iter(range(0x10, 0x100))
    ipv6_prefix = f"2001:db8:{0x4C00 + b.draw('ipv6-prefix', 0x100):x}"
    infra_ids: dict[str, str] = {}
    specs: list[_IndicatorSpec] = []
    for infra in _INFRASTRUCTURE:
        tlp: Tlp = "TLP:AMBER" if infra.slug in ("orb-relays", "exfil-drop") else "TLP:GREEN"
        infra_id = b.sdo(
            "infrastructure",
            infra.slug,
            created=b.ago(240),
            tlp=tlp,
            collections=(MIRROR_LANTERN,),
            name=f"{infra.name} (demo)",
            infrastructure_types=list(infra.types),
            first_seen=b.ago(345),
        )
        infra_ids[infra.slug] = infra_id
        b.relate(adversary.intrusion_set, "uses", infra_id)
        members = [
            *(("ipv4-addr", next(addresses)) for _ in range(infra.ipv4)),
            *(("ipv6-addr", f"{ipv6_prefix}::{next(ipv6_hosts):x}") for _ in range(infra.ipv6)),
            *(("domain-name", d) for d in infra.domains),
            *(("url", u) for u in infra.urls),
        ]
        for sco_type, value in members:
            observable = b.sco(sco_type, tlp=tlp, collections=(INDICATOR_FEED,), value=value)
            b.relate(infra_id, "consists-of", observable)
            specs.append(
                _IndicatorSpec(
                    slug=f"{infra.slug}/{value}",
                    name=f"{infra.name}: {value}",
                    pattern=f"[{sco_type}:value = '{value}']",
                    indicates=infra_id,
                )
            )
    for source, target in (
        ("papercrane-staging", "lantern-c2-a"),
        ("lantern-c2-a", "orb-relays"),
        ("lantern-c2-b", "orb-relays"),
        ("exfil-drop", "orb-relays"),
    ):
        b.relate(infra_ids[source], "communicates-with", infra_ids[target])
    malware = arsenal.malware
    b.relate(malware["lanterndoor"], "beacons-to", infra_ids["lantern-c2-a"])
    b.relate(malware["lanterndoor-nx"], "beacons-to", infra_ids["lantern-c2-b"])
    b.relate(malware["origamithief"], "exfiltrates-to", infra_ids["exfil-drop"])
    b.relate(infra_ids["papercrane-staging"], "delivers", malware["papercrane"])
    b.relate(adversary.campaigns["hanabi-letter"], "uses", infra_ids["phishing-senders"])
    b.relate(adversary.campaigns["winter-fan"], "uses", infra_ids["orb-relays"])
    return infra_ids, specs


def _scanner_specs(b: StixGraphBuilder, adversary: _Adversary) -> list[_IndicatorSpec]:
    """Sources seen probing edge devices: indicators without infrastructure of their own. Drawn from
    the end of the shuffled pool so they never collide with infrastructure addresses."""
    pool = b.shuffled("ipv4", _IPV4_POOL)
    return [
        _IndicatorSpec(
            slug=f"scanner/{value}",
            name=f"Edge-device scanning source {value}",
            pattern=f"[ipv4-addr:value = '{value}']",
            indicates=adversary.campaigns["quiet-harbor"],
        )
        for value in pool[-7:]
    ]


def _file_specs(b: StixGraphBuilder, arsenal: _Arsenal) -> list[_IndicatorSpec]:
    return [
        _IndicatorSpec(
            slug=f"{slug}/{file_name}",
            name=f"{name} sample {file_name}",
            pattern=f"[file:hashes.'SHA-256' = '{b.digest_hex(f'{slug}/{file_name}')}']",
            indicates=arsenal.malware[slug],
        )
        for slug, name, _, files in _MALWARE
        for file_name in files
    ]


def _indicators(
    b: StixGraphBuilder, specs: Sequence[_IndicatorSpec], adversary: _Adversary
) -> list[_Indicator]:
    """One indicator per spec with seed-varied validity and confidence; every eighth has already expired."""
    indicators: list[_Indicator] = []
    for index, spec in enumerate(specs):
        # Indicators of the recent campaign cannot predate it.
        recent = spec.slug.startswith(("scanner/", "kasumishell/"))
        start_days = 20 + b.draw(f"start/{spec.slug}", 50 if recent else 320)
        props: dict[str, Any] = {
            "name": spec.name,
            "description": _indicator_description(spec.slug),
            "indicator_types": [_indicator_type(spec.slug)],
            "pattern": spec.pattern,
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": b.ago(start_days),
        }
        if index % 8 == 3:
            props["valid_until"] = b.ago(start_days - 14)  # expired at least six days ago
        elif b.draw(f"open-ended/{spec.slug}", 4) != 0:
            props["valid_until"] = b.ahead(30 + b.draw(f"until/{spec.slug}", 700))
        props["confidence"] = b.pick(f"confidence/{spec.slug}", (15, 30, 50, 65, 80, 90, 95))
        indicator = b.sdo(
            "indicator",
            spec.slug,
            created=b.ago(start_days),
            tlp=_indicator_tlp(index, b.tlp_of(spec.indicates)),
            collections=(INDICATOR_FEED,),
            **props,
        )
        b.relate(indicator, "indicates", spec.indicates)
        indicators.append(_Indicator(id=indicator, slug=spec.slug, valid_from_days_ago=start_days))
    b.relate(indicators[0].id, "indicates", adversary.intrusion_set, tlp="TLP:GREEN")
    return indicators


def _observations(b: StixGraphBuilder, indicators: Sequence[_Indicator]) -> list[str]:
    """Observed files behind four hash indicators, which are `based-on` them."""
    by_slug = {i.slug: i for i in indicators}
    observed: list[str] = []
    for slug in (
        "lanterndoor/msupdate.dll",
        "papercrane/invitation.docx.lnk",
        "kasumishell/health.php",
        "lanterndoor-nx/nx_core.dll",
    ):
        indicator = by_slug[slug]
        file_sco = b.sco(
            "file",
            tlp="TLP:AMBER",
            collections=(INDICATOR_FEED,),
            hashes={"SHA-256": b.digest_hex(slug)},
            name=slug.split("/", 1)[1],
        )
        # Observed in the day before the indicator was written.
        days = indicator.valid_from_days_ago + 1
        observation = b.sdo(
            "observed-data",
            slug,
            created=b.ago(days - 1, hours=1),
            tlp="TLP:AMBER",
            collections=(INDICATOR_FEED,),
            first_observed=b.ago(days),
            last_observed=b.ago(days - 1, hours=2),
            number_observed=1 + b.draw(f"observed/{slug}", 4),
            object_refs=[file_sco],
        )
        b.relate(indicator.id, "based-on", observation)
        observed.append(observation)
    return observed


def _sightings(
    b: StixGraphBuilder,
    indicators: Sequence[_Indicator],
    identities: dict[str, str],
    observations: Sequence[str],
) -> list[str]:
    """Operators sighting indicators after they were published; the sighter's identity makes them AMBER or
    AMBER+STRICT, and a sighting of a RED indicator stays RED."""
    operators = sorted(k for k in identities if k != NATIONAL_OFFICE)
    sightings: list[str] = []
    for n in range(12):
        indicator = indicators[b.draw(f"sighted/{n}", len(indicators))]
        last = 1 + b.draw(f"last/{n}", indicator.valid_from_days_ago - 2)
        first = last + b.draw(f"span/{n}", indicator.valid_from_days_ago - last)
        props: dict[str, Any] = {
            "sighting_of_ref": indicator.id,
            "where_sighted_refs": [identities[operators[b.draw(f"sighter/{n}", len(operators))]]],
            "first_seen": b.ago(first, hours=1),
            "last_seen": b.ago(last),
            "count": 1 + b.draw(f"count/{n}", 40),
        }
        if n < len(observations):
            props["observed_data_refs"] = [observations[n]]
        tlp: Tlp = "TLP:AMBER+STRICT" if n % 3 == 0 else "TLP:AMBER"
        if b.tlp_of(indicator.id) == "TLP:RED":
            tlp = "TLP:RED"
        sightings.append(
            b.sighting(f"{n}", created=b.ago(last), tlp=tlp, collections=(INDICATOR_FEED,), **props)
        )
    return sightings


def _reports_and_notes(
    b: StixGraphBuilder,
    places: _Places,
    adversary: _Adversary,
    arsenal: _Arsenal,
    infrastructure: dict[str, str],
    indicators: Sequence[_Indicator],
    sightings: Sequence[str],
) -> None:
    campaigns, malware, techniques = adversary.campaigns, arsenal.malware, arsenal.techniques
    shareable = [i.id for i in indicators[:8] if b.tlp_of(i.id) != "TLP:RED"]
    b.sdo(
        "report",
        "hanabi-letter",
        created=b.ago(290),
        tlp="TLP:GREEN",
        collections=(MIRROR_LANTERN,),
        name="MIRROR LANTERN (demo): Operation Hanabi Letter",
        description="Seminar-invitation lures deliver PaperCrane loader, which installs LanternDoor.",
        report_types=["campaign", "threat-actor"],
        published=b.ago(290),
        object_refs=[
            campaigns["hanabi-letter"],
            adversary.intrusion_set,
            malware["papercrane"],
            malware["lanterndoor"],
            infrastructure["phishing-senders"],
            techniques["T1566.001"],
            *shareable,
        ],
    )
    b.sdo(
        "report",
        "winter-fan",
        created=b.ago(170),
        tlp="TLP:AMBER",
        collections=(MIRROR_LANTERN,),
        name="Operation Winter Fan (demo): LanternDoor-NX and relay boxes",
        description="LanternDoor-NX beacons through compromised small-office routers (relay boxes).",
        report_types=["campaign", "malware"],
        published=b.ago(170),
        object_refs=[
            campaigns["winter-fan"],
            malware["lanterndoor-nx"],
            infrastructure["orb-relays"],
            infrastructure["lantern-c2-b"],
            adversary.actor,
        ],
    )
    advisory = b.sdo(
        "report",
        "edge-device-advisory",
        created=b.ago(50),
        tlp="TLP:CLEAR",
        collections=(PUBLIC_ADVISORIES, VULNERABILITIES),
        name=(
            "注意喚起: エッジ機器の脆弱性を悪用する攻撃について / "
            "Advisory: exploitation of edge devices (demo)"
        ),
        description=(
            "VPN and gateway appliances are being exploited to install web shells. Patch the listed "
            "vulnerabilities and review appliance logs. 該当する脆弱性への対策を速やかに実施してください。"
        ),
        report_types=["threat-report", "vulnerability"],
        published=b.ago(50),
        object_refs=[
            *arsenal.vulnerabilities.values(),
            techniques["T1190"],
            techniques["T1572"],
            places.japan,
            *(i.id for i in indicators if b.tlp_of(i.id) == "TLP:CLEAR"),
        ],
    )
    b.sdo(
        "report",
        "quiet-harbor",
        created=b.ago(55),
        tlp="TLP:AMBER",
        collections=(MIRROR_LANTERN,),
        name="Operation Quiet Harbor (demo): interim assessment",
        description="KasumiShell on edge devices at ports, logistics and local-government operators.",
        report_types=["campaign"],
        published=b.ago(45),
        object_refs=[
            campaigns["quiet-harbor"],
            malware["kasumishell"],
            arsenal.tools["lanternproxy"],
            advisory,
        ],
    )
    b.sdo(
        "note",
        "quiet-harbor-overlap",
        created=b.ago(40),
        tlp="TLP:AMBER",
        collections=(MIRROR_LANTERN,),
        abstract="Quiet Harbor overlaps Winter Fan",
        content="LanternDoor-NX configuration blocks in Quiet Harbor match Winter Fan samples byte for byte.",
        authors=["Alex Brown (demo)"],
        object_refs=[campaigns["quiet-harbor"], campaigns["winter-fan"]],
    )
    b.sdo(
        "note",
        "first-sighting",
        created=b.ago(1),
        tlp="TLP:AMBER+STRICT",
        collections=(INDICATOR_FEED,),
        abstract="事業者での検知について",
        content=(
            "事業者のプロキシログで検知されました。影響範囲を調査中です。"
            " (Detected in an operator's proxy logs; scope under investigation.)"
        ),
        authors=["佐藤 美咲 (demo)"],
        object_refs=[sightings[0]],
    )


def _later_versions(
    b: StixGraphBuilder, adversary: _Adversary, indicators: Sequence[_Indicator], revoked_index: int
) -> None:
    """Second versions (STIX 2.1 section 3.6): a new alias, a campaign still active, a revoked indicator."""
    b.new_version(
        adversary.intrusion_set,
        modified=b.ago(20),
        aliases=["Paper Lantern (demo)", "Earth Kasumi (demo)", "Kasumi Lantern (demo)"],
    )
    b.new_version(adversary.campaigns["quiet-harbor"], modified=b.ago(4), last_seen=b.ago(6))
    revoked = indicators[revoked_index].id
    b.new_version(revoked, modified=b.ago(8), revoked=True)
    b.sdo(
        "note",
        "revocation",
        created=b.ago(8),
        tlp="TLP:GREEN",
        collections=(INDICATOR_FEED,),
        abstract="Indicator revoked",
        content="The address was reassigned to an unrelated hosting customer; the indicator is revoked.",
        authors=["田中 健 (demo)"],
        object_refs=[revoked],
    )


_MALWARE_DESCRIPTIONS = {
    "lanterndoor": "Fictitious modular backdoor; HTTPS beacons, plugin loading. 架空のバックドアです。",
    "lanterndoor-nx": "Fictitious LanternDoor variant with a relay-aware transport.",
    "papercrane": "Fictitious loader delivered in shortcut files inside archives. 架空のローダーです。",
    "origamithief": "Fictitious document and keystroke stealer.",
    "kasumishell": "Fictitious web shell planted on VPN and gateway appliances.",
}

_MALWARE_CAPABILITIES = {
    "lanterndoor": ["communicates-with-c2", "persists-after-system-reboot", "exfiltrates-data"],
    "lanterndoor-nx": ["communicates-with-c2", "evades-av"],
    "papercrane": ["installs-other-components", "evades-av"],
    "origamithief": ["captures-input", "steals-authentication-credentials", "exfiltrates-data"],
    "kasumishell": ["accesses-remote-machines", "compromises-system-availability"],
}


def _indicator_type(slug: str) -> str:
    if slug.startswith("orb-relays/"):
        return "anonymization"
    if slug.startswith("scanner/"):
        return "anomalous-activity"
    if slug.startswith("phishing-senders/"):
        return "attribution"
    return "malicious-activity"


def _indicator_description(slug: str) -> str:
    if slug.startswith("scanner/"):
        return "Scanned VPN and gateway appliances shortly before exploitation. 不審なスキャン元です。"
    if slug.split("/", 1)[0] in _MALWARE_DESCRIPTIONS:  # file indicators are keyed by malware slug
        return "SHA-256 of a known sample; hunt for it in endpoint telemetry."
    return "Part of MIRROR LANTERN (demo) infrastructure; block it and search proxy and DNS logs."


def _indicator_tlp(index: int, target_tlp: Tlp | None) -> Tlp:
    """Mostly GREEN; every seventh public (CLEAR), every eleventh from a sensitive source (RED), and never
    less restrictive than AMBER when what it indicates is AMBER."""
    if index % 11 == 5:
        return "TLP:RED"
    if index % 7 == 3 and tlp_rank(target_tlp) <= tlp_rank("TLP:GREEN"):
        return "TLP:CLEAR"
    if tlp_rank(target_tlp) >= tlp_rank("TLP:AMBER"):
        return "TLP:AMBER"
    return "TLP:GREEN"
