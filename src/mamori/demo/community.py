"""The demo community: the national office, the oversight commission, critical-infrastructure operators
across the fifteen sectors, foreign partner CERTs, their people, sharing agreements and TAXII collections.

All names are fictitious and labelled "demo". Collection ids are UUIDv5 under mamori's namespace, so a
re-seeded demo exposes the same TAXII 2.1 collection URLs (TAXII 2.1 section 5.2).
"""

from __future__ import annotations

from mamori.demo.model import DemoAgreement, DemoCollection, DemoOrg, DemoUser
from mamori.kernel.ids import stable_uuid

NATIONAL_OFFICE = "national-office"
COMMISSION = "oversight-commission"
PARTNERS_API_ROOT = "partners"

# Collection keys, referred to by the STIX content when it places objects.
PUBLIC_ADVISORIES = "public-advisories"
MIRROR_LANTERN = "mirror-lantern"
INDICATOR_FEED = "indicator-feed"
VULNERABILITIES = "vulnerabilities"
PARTNER_CONTRIBUTIONS = "partner-contributions"
NATIONAL_RESTRICTED = "national-restricted"

# (key, English name, Japanese name, sector)
_OPERATORS: tuple[tuple[str, str, str, str], ...] = (
    ("kanto-demo-telecom", "Kanto Demo Telecom Co.", "関東デモ通信", "information-communications"),
    ("hoshizora-demo-cloud", "Hoshizora Demo Cloud K.K.", "星空デモクラウド", "information-communications"),
    ("chuo-demo-bank", "Chuo Demo Bank", "中央デモ銀行", "finance"),
    ("minato-demo-securities", "Minato Demo Securities", "みなとデモ証券", "finance"),
    ("aozora-demo-airlines", "Aozora Demo Airlines", "青空デモ航空", "aviation"),
    ("demo-bay-airport", "Demo Bay International Airport Co.", "デモ湾国際空港", "airports"),
    ("tokai-demo-railway", "Tokai Demo Railway", "東海デモ鉄道", "railway"),
    ("hokuriku-demo-line", "Hokuriku Demo Line", "北陸デモ線", "railway"),
    ("kanto-demo-power", "Kanto Demo Power Co.", "関東デモ電力", "electric-power"),
    ("kyushu-demo-electric", "Kyushu Demo Electric", "九州デモ電力", "electric-power"),
    ("kinki-demo-gas", "Kinki Demo Gas", "近畿デモガス", "gas"),
    (
        "demo-prefecture-shared-services",
        "Demo Prefecture Shared Services Centre",
        "デモ県共同行政センター",
        "government-administrative-services",
    ),
    ("demo-city-hospital", "Demo City General Hospital", "デモ市総合病院", "medical"),
    ("midori-demo-medical", "Midori Demo Medical Network", "みどりデモ医療ネットワーク", "medical"),
    ("demo-basin-water", "Demo Basin Water Authority", "デモ流域水道企業団", "water"),
    ("hayate-demo-logistics", "Hayate Demo Logistics", "はやてデモ物流", "logistics"),
    ("shinkai-demo-chemical", "Shinkai Demo Chemical", "新海デモ化学", "chemicals"),
    ("tsubasa-demo-card", "Tsubasa Demo Card Services", "つばさデモカード", "credit-cards"),
    ("kaigan-demo-petroleum", "Kaigan Demo Petroleum", "海岸デモ石油", "petroleum"),
    ("demo-harbour-terminal", "Demo Harbour Terminal Corp.", "デモ港湾ターミナル", "ports"),
)

# (key, English name, Japanese name, country, liaison username, liaison display name)
_PARTNERS: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "partner-nato",
        "Allied CERT (NATO, demo)",
        "同盟CERT（NATO・デモ）",
        "BE",
        "nato.liaison",
        "Morgan Lee (demo)",
    ),
    (
        "partner-us",
        "Liberty CERT (United States, demo)",
        "リバティCERT（米国・デモ）",
        "US",
        "us.liaison",
        "Jordan Ellis (demo)",
    ),
    (
        "partner-au",
        "Southern Cross CERT (Australia, demo)",
        "サザンクロスCERT（豪州・デモ）",
        "AU",
        "au.liaison",
        "Riley Nguyen (demo)",
    ),
    (
        "partner-in",
        "Indus CERT (India, demo)",
        "インダスCERT（インド・デモ）",
        "IN",
        "in.liaison",
        "Asha Rao (demo)",
    ),
    (
        "partner-lt",
        "Amber Coast CERT (Lithuania, demo)",
        "琥珀海岸CERT（リトアニア・デモ）",
        "LT",
        "lt.liaison",
        "Rūta Kairytė (demo)",
    ),
)


def demo_organisations() -> tuple[DemoOrg, ...]:
    """The office, the commission, twenty operators (every sector at least once) and five partners."""
    office = DemoOrg(
        key=NATIONAL_OFFICE,
        name="National Cyber Defence Office (demo)",
        name_ja="国家サイバー防御局（デモ）",
        kind="national_office",
        sector=None,
        country="JP",
    )
    commission = DemoOrg(
        key=COMMISSION,
        name="Cyber Oversight Commission (demo)",
        name_ja="サイバー通信情報監理委員会（デモ）",
        kind="commission",
        sector=None,
        country="JP",
    )
    operators = tuple(
        DemoOrg(key=key, name=name, name_ja=name_ja, kind="operator", sector=sector, country="JP")
        for key, name, name_ja, sector in _OPERATORS
    )
    partners = tuple(
        DemoOrg(key=key, name=name, name_ja=name_ja, kind="partner", sector=None, country=country)
        for key, name, name_ja, country, _, _ in _PARTNERS
    )
    return (office, commission, *operators, *partners)


def demo_users() -> tuple[DemoUser, ...]:
    """At least one account per role; operators and partners get one account per organisation."""
    staff = (
        DemoUser("admin", "admin", NATIONAL_OFFICE, "ja", "デモ管理者 (Demo Administrator)"),
        DemoUser("analyst.sato", "analyst", NATIONAL_OFFICE, "ja", "佐藤 美咲 (demo)"),
        DemoUser("analyst.tanaka", "analyst", NATIONAL_OFFICE, "ja", "田中 健 (demo)"),
        DemoUser("analyst.brown", "analyst", NATIONAL_OFFICE, "en", "Alex Brown (demo)"),
        DemoUser("commissioner.yamamoto", "commissioner", COMMISSION, "ja", "山本 直子 (demo)"),
        DemoUser("commissioner.ito", "commissioner", COMMISSION, "ja", "伊藤 誠 (demo)"),
    )
    operators = tuple(
        DemoUser(f"op.{key}", "operator", key, "ja", f"{name_ja} セキュリティ窓口")
        for key, _, name_ja, _ in _OPERATORS
    )
    partners = tuple(
        DemoUser(username, "partner", key, "en", display) for key, _, _, _, username, display in _PARTNERS
    )
    return (*staff, *operators, *partners)


def demo_collections() -> tuple[DemoCollection, ...]:
    """The TAXII collections of the partners API root; ids do not depend on the seed or the time."""

    def collection(key: str, title: str, description: str) -> DemoCollection:
        return DemoCollection(
            key=key,
            uuid=stable_uuid("demo", "taxii-collection", key),
            title=title,
            description=description,
            api_root=PARTNERS_API_ROOT,
        )

    return (
        collection(
            PUBLIC_ADVISORIES,
            "Public advisories / 公開注意喚起",
            "TLP:CLEAR advisories and reference material anyone may redistribute.",
        ),
        collection(
            MIRROR_LANTERN,
            "MIRROR LANTERN tracking / MIRROR LANTERN 追跡",
            "Intrusion set, campaigns, tooling and infrastructure of the fictitious MIRROR LANTERN (demo).",
        ),
        collection(
            INDICATOR_FEED,
            "Indicator feed / 指標フィード",
            "Network and file indicators, observations and operator sightings.",
        ),
        collection(
            VULNERABILITIES,
            "Exploited vulnerabilities / 悪用されている脆弱性",
            "Vulnerabilities seen exploited against Japanese critical infrastructure.",
        ),
        collection(
            PARTNER_CONTRIBUTIONS,
            "Partner contributions / パートナー提供情報",
            "Where partner CERTs submit their own intelligence for the national office to review.",
        ),
        collection(
            NATIONAL_RESTRICTED,
            "National restricted / 国内限定",
            "TLP:RED material for named national recipients only; no partner agreement reads it.",
        ),
    )


def demo_agreements() -> tuple[DemoAgreement, ...]:
    """Partner sharing agreements of differing reach, from AMBER+STRICT down to GREEN."""
    return (
        DemoAgreement(
            "partner-nato",
            "TLP:AMBER",
            (PUBLIC_ADVISORIES, MIRROR_LANTERN, INDICATOR_FEED, VULNERABILITIES),
            (PARTNER_CONTRIBUTIONS,),
        ),
        DemoAgreement(
            "partner-us",
            "TLP:AMBER+STRICT",
            (PUBLIC_ADVISORIES, MIRROR_LANTERN, INDICATOR_FEED, VULNERABILITIES),
            (PARTNER_CONTRIBUTIONS, INDICATOR_FEED),
        ),
        DemoAgreement(
            "partner-au",
            "TLP:AMBER",
            (PUBLIC_ADVISORIES, INDICATOR_FEED, VULNERABILITIES),
            (PARTNER_CONTRIBUTIONS,),
        ),
        DemoAgreement("partner-in", "TLP:GREEN", (PUBLIC_ADVISORIES, INDICATOR_FEED), ()),
        DemoAgreement(
            "partner-lt",
            "TLP:GREEN",
            (PUBLIC_ADVISORIES, VULNERABILITIES),
            (PARTNER_CONTRIBUTIONS,),
        ),
    )
