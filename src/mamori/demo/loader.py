"""Put the demo seed into a running mamori: organisations, users, collections, agreements, intelligence.

Idempotent: organisations and users that exist are kept, objects already stored are not added twice.
Passwords are random, generated on first load and written once to ``<data_dir>/demo-credentials.txt`` (0600).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from mamori.bootstrap import Context
from mamori.demo.seed import build_demo
from mamori.errors import NotFound
from mamori.intel.model import IngestReport, Problem


@dataclass(frozen=True)
class DemoLoad:
    organisations: int
    users: int
    credentials_file: Path
    report: IngestReport


def load_demo(ctx: Context, seed: int = 7) -> DemoLoad:
    demo = build_demo(ctx.clock.now(), seed=seed)
    org_ids: dict[str, str] = {}
    new_orgs = 0
    for org in demo.organisations:
        try:
            org_ids[org.key] = ctx.identity.organisation(org.key).id
        except NotFound:
            created = ctx.identity.create_organisation(
                org.key, org.name, org.kind, name_ja=org.name_ja, sector=org.sector, country=org.country
            )
            org_ids[org.key] = created.id
            new_orgs += 1
    cred_path = ctx.settings.data_dir / "demo-credentials.txt"
    lines: list[str] = []
    new_users = 0
    for u in demo.users:
        try:
            ctx.identity.user(u.username)
        except NotFound:
            password = secrets.token_urlsafe(12)
            ctx.identity.create_user(
                u.username,
                u.role,
                password=password,
                organisation=u.organisation_key,
                locale=u.locale,
                display_name=u.display_name,
            )
            lines.append(f"{u.username}\t{u.role}\t{password}")
            new_users += 1
    if lines:
        fd = os.open(cred_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write("".join(line + "\n" for line in lines))
    cids: dict[str, str] = {}
    known = {c["id"] for c in ctx.intel.collections()}
    for c in demo.collections:
        if c.uuid not in known:
            ctx.intel.create_collection(
                c.title, collection_id=c.uuid, api_root=c.api_root, description=c.description
            )
        cids[c.key] = c.uuid
    for a in demo.agreements:
        ctx.intel.set_agreement(
            org_ids[a.partner_key],
            a.max_tlp,
            read=[cids[k] for k in a.read_collections],
            write=[cids[k] for k in a.write_collections],
        )
    # Objects go in grouped by their collections so each collection's entries are recorded.
    groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for obj in demo.objects:
        keys = tuple(sorted(demo.object_collections.get(str(obj["id"]), ())))
        groups.setdefault(keys, []).append(obj)
    added = duplicates = 0
    problems: list[Problem] = []
    for keys, objs in groups.items():
        r = ctx.intel.ingest(objs, collections=[cids[k] for k in keys])
        added += r.added
        duplicates += r.duplicates
        problems.extend(r.problems)
    report = IngestReport(received=len(demo.objects), added=added, duplicates=duplicates, problems=tuple(problems))
    return DemoLoad(organisations=new_orgs, users=new_users, credentials_file=cred_path, report=report)


__all__ = ["DemoLoad", "load_demo", "secrets"]
