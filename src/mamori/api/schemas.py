"""Pydantic models at the HTTP boundary (Create/Public shapes per resource)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class OrganisationPublic(BaseModel):
    id: str
    key: str
    name: str
    name_ja: str | None = None
    kind: str
    sector: str | None = None
    country: str | None = None


class MePublic(BaseModel):
    id: str
    username: str
    display_name: str | None
    role: str
    locale: str
    organisation: OrganisationPublic | None
    scopes: list[str]


class TokenCreate(BaseModel):
    name: str = Field(default="api", min_length=1, max_length=200)
    scopes: list[str] | None = None
    ttl_days: int | None = Field(default=None, ge=1, le=3650)


class TokenPublic(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    revoked_at: str | None


class TokenIssued(TokenPublic):
    token: str


class ObjectSummaryPublic(BaseModel):
    id: str
    type: str
    version: str
    name: str | None
    tlp: str
    revoked: bool
    date_added: str
    labels: list[str]
    valid_until: str | None
    confidence: int | None


class SearchResult(BaseModel):
    total: int
    items: list[ObjectSummaryPublic]
    next: str | None


class EdgePublic(BaseModel):
    source: str
    target: str
    type: str
    via: str


class GraphPublic(BaseModel):
    center: str
    nodes: list[ObjectSummaryPublic]
    edges: list[EdgePublic]
    truncated: bool


class ProblemPublic(BaseModel):
    index: int
    id: str | None
    reason: str


class IngestResult(BaseModel):
    received: int
    added: int
    duplicates: int
    invalid: int
    problems: list[ProblemPublic]


class IndicatorHitPublic(BaseModel):
    id: str
    name: str | None
    kind: str
    value: str
    valid_until: str | None
    confidence: int | None
    tlp: str


class ObjectPublic(BaseModel):
    summary: ObjectSummaryPublic
    object: dict[str, Any]
    is_latest: bool
