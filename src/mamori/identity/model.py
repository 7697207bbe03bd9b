"""Identity domain types: who someone is, which organisation they act for, what they may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"  # national office
    OPERATOR = "operator"  # bound to one critical-infrastructure organisation
    COMMISSIONER = "commissioner"  # oversight commission
    PARTNER = "partner"  # bound to one partner organisation (e.g. a NATO CERT)


class OrgKind(StrEnum):
    NATIONAL_OFFICE = "national_office"
    OPERATOR = "operator"
    PARTNER = "partner"
    COMMISSION = "commission"


ROLE_ORG_KIND: dict[Role, OrgKind | None] = {
    Role.ADMIN: None,
    Role.ANALYST: None,
    Role.OPERATOR: OrgKind.OPERATOR,
    Role.COMMISSIONER: None,
    Role.PARTNER: OrgKind.PARTNER,
}
"""Roles that must be bound to an organisation of a given kind (None: binding optional, any kind)."""


class Scope(StrEnum):
    INTEL_READ = "intel:read"
    INTEL_WRITE = "intel:write"
    TAXII_READ = "taxii:read"
    TAXII_WRITE = "taxii:write"
    TRAFFIC_READ = "traffic:read"
    TRAFFIC_WRITE = "traffic:write"
    ADMIN = "admin"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset(Scope),
    Role.ANALYST: frozenset(
        {Scope.INTEL_READ, Scope.INTEL_WRITE, Scope.TAXII_READ, Scope.TAXII_WRITE, Scope.TRAFFIC_READ,
         Scope.TRAFFIC_WRITE}
    ),
    Role.OPERATOR: frozenset({Scope.INTEL_READ, Scope.TAXII_READ, Scope.TRAFFIC_READ}),
    Role.COMMISSIONER: frozenset({Scope.INTEL_READ, Scope.TRAFFIC_READ}),
    Role.PARTNER: frozenset({Scope.INTEL_READ, Scope.TAXII_READ, Scope.TAXII_WRITE}),
}


@dataclass(frozen=True)
class Organisation:
    id: str
    key: str
    name: str
    kind: OrgKind
    name_ja: str | None = None
    sector: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class User:
    id: str
    username: str
    role: Role
    organisation_id: str | None
    locale: str = "ja"
    display_name: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the user, its organisation and the scopes of the credential used."""

    user: User
    organisation: Organisation | None
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    via: str = "session"  # session | token | basic

    @property
    def role(self) -> Role:
        return self.user.role

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    @property
    def is_national(self) -> bool:
        return self.user.role in (Role.ADMIN, Role.ANALYST)


@dataclass(frozen=True)
class ApiToken:
    id: str
    user_id: str
    name: str
    prefix: str
    scopes: frozenset[Scope]
    created_at: str
    expires_at: str | None
    revoked_at: str | None


@dataclass(frozen=True)
class IssuedToken:
    """A token as shown once at creation: the secret is never stored or shown again."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class WebSession:
    user_id: str
    csrf_token: str
    expires_at: str
