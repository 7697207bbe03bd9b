"""The demo seed: fictitious organisations, users, sharing agreements, TAXII collections and STIX 2.1
content that make a new mamori installation look alive. See `mamori.demo.seed.build_demo`."""

from mamori.demo.model import (
    CRITICAL_INFRASTRUCTURE_SECTORS,
    TLP_MARKING_IDS,
    DemoAgreement,
    DemoCollection,
    DemoOrg,
    DemoSeed,
    DemoUser,
)
from mamori.demo.seed import DEFAULT_SEED, build_demo

__all__ = [
    "CRITICAL_INFRASTRUCTURE_SECTORS",
    "DEFAULT_SEED",
    "TLP_MARKING_IDS",
    "DemoAgreement",
    "DemoCollection",
    "DemoOrg",
    "DemoSeed",
    "DemoUser",
    "build_demo",
]
