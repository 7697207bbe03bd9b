"""Who am I, and my API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from mamori.api.auth import ContextDep, CurrentPrincipal, require
from mamori.api.schemas import MePublic, OrganisationPublic, TokenCreate, TokenIssued, TokenPublic
from mamori.errors import NotFound
from mamori.identity.model import ApiToken, Principal, Scope

router = APIRouter(prefix="/api/v1", tags=["identity"])


def _token(t: ApiToken) -> TokenPublic:
    return TokenPublic(id=t.id, name=t.name, prefix=t.prefix, scopes=sorted(s.value for s in t.scopes),
                       created_at=t.created_at, expires_at=t.expires_at, revoked_at=t.revoked_at)


@router.get("/me", response_model=MePublic)
def me(principal: CurrentPrincipal) -> MePublic:
    org = principal.organisation
    return MePublic(
        id=principal.user.id, username=principal.user.username, display_name=principal.user.display_name,
        role=principal.role.value, locale=principal.user.locale,
        organisation=OrganisationPublic(id=org.id, key=org.key, name=org.name, name_ja=org.name_ja,
                                        kind=org.kind.value, sector=org.sector, country=org.country) if org else None,
        scopes=sorted(s.value for s in principal.scopes),
    )


@router.get("/me/tokens", response_model=list[TokenPublic])
def my_tokens(principal: CurrentPrincipal, ctx: ContextDep) -> list[TokenPublic]:
    return [_token(t) for t in ctx.identity.tokens(principal.user.username)]


@router.post("/me/tokens", response_model=TokenIssued, status_code=201)
def create_token(body: TokenCreate, principal: CurrentPrincipal, ctx: ContextDep) -> TokenIssued:
    issued = ctx.identity.issue_token(principal.user.username, name=body.name, scopes=body.scopes,
                                      ttl_days=body.ttl_days)
    return TokenIssued(**_token(issued.token).model_dump(), token=issued.secret)


@router.delete("/me/tokens/{token_id}", status_code=204)
def revoke_token(token_id: str, principal: CurrentPrincipal, ctx: ContextDep) -> None:
    if token_id not in {t.id for t in ctx.identity.tokens(principal.user.username)}:
        raise NotFound(f"no token {token_id!r}", where="token_id")
    ctx.identity.revoke_token(token_id)


@router.get("/organisations", response_model=list[OrganisationPublic])
def organisations(
    principal: Annotated[Principal, Depends(require(Scope.INTEL_WRITE))], ctx: ContextDep
) -> list[OrganisationPublic]:
    return [OrganisationPublic(id=o.id, key=o.key, name=o.name, name_ja=o.name_ja, kind=o.kind.value,
                               sector=o.sector, country=o.country) for o in ctx.identity.organisations()]
