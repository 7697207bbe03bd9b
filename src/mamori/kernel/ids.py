"""Identifiers: random ones for new records, deterministic ones (UUIDv5) for idempotent imports."""

from __future__ import annotations

import secrets
import uuid
from typing import Protocol

MAMORI_NAMESPACE = uuid.UUID("6d616d6f-7269-4000-8000-000000000001")


class IdFactory(Protocol):
    def new(self) -> str: ...


class RandomIds:
    def new(self) -> str:
        return str(uuid.uuid4())


class SequentialIds:
    """Predictable ids for tests: 00000000-0000-4000-8000-000000000001, ..."""

    def __init__(self) -> None:
        self._n = 0

    def new(self) -> str:
        self._n += 1
        return str(uuid.UUID(int=(0x4000 << 64) | (0x8 << 60) | self._n))


def stable_uuid(*parts: str) -> str:
    """A UUIDv5 under mamori's namespace: the same parts always give the same id."""
    return str(uuid.uuid5(MAMORI_NAMESPACE, "\x1f".join(parts)))


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
