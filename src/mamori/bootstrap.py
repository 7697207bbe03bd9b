"""The composition root: the only place that picks concrete adapters and wires services together."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamori.adapters.storage.database import Database
from mamori.adapters.storage.identity_store import SqlIdentityStore
from mamori.adapters.storage.migrate import upgrade
from mamori.config import Settings
from mamori.identity.service import IdentityService
from mamori.intel.service import IntelService, parse_tlp
from mamori.kernel.clock import Clock, SystemClock
from mamori.kernel.ids import IdFactory, RandomIds


@dataclass
class Context:
    settings: Settings
    db: Database
    clock: Clock
    ids: IdFactory
    identity: IdentityService
    intel: IntelService
    secret_key: str
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        self.db.dispose()


def _secret_key(settings: Settings) -> str:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    # Development only (production refuses to start without one): a random key kept beside the data.
    path = settings.data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def build_context(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    ids: IdFactory | None = None,
    migrate: bool = True,
) -> Context:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    if migrate:
        upgrade(db)
    clock = clock or SystemClock()
    ids = ids or RandomIds()
    identity = IdentityService(db, SqlIdentityStore, clock, ids, session_max_age_s=settings.session_max_age_s)
    intel = IntelService(db, clock, ids, unmarked_default=parse_tlp(settings.tlp_unmarked_default,
                                                                     "MAMORI_TLP_UNMARKED_DEFAULT"),
                         import_chunk=settings.intel_import_chunk, import_workers=settings.intel_import_workers)
    return Context(settings=settings, db=db, clock=clock, ids=ids, identity=identity, intel=intel,
                   secret_key=_secret_key(settings))


__all__ = ["Context", "Path", "build_context"]
