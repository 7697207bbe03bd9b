"""The error families of mamori, each carrying the offending value and where it came from.

Entry points map them to their medium in one place each: HTTP problem details (RFC 9457) in
``mamori.api.problems``, TAXII error messages in the TAXII router, one-line reasons in the CLI.
"""

from __future__ import annotations

from typing import Any


class MamoriError(Exception):
    """Base of every error mamori raises on purpose."""

    http_status = 500
    title = "Internal error"

    def __init__(self, message: str, *, where: str | None = None, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.detail = detail or {}

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class InvalidInput(MamoriError):
    """The caller sent something malformed or not allowed; nothing was changed."""

    http_status = 400
    title = "Invalid input"


class Unauthenticated(MamoriError):
    """No credentials, or credentials that do not identify anyone."""

    http_status = 401
    title = "Authentication required"


class PermissionDenied(MamoriError):
    """The caller is known but may not do this."""

    http_status = 403
    title = "Permission denied"


class NotFound(MamoriError):
    """The thing does not exist, or the caller may not know that it exists."""

    http_status = 404
    title = "Not found"


class Conflict(MamoriError):
    """The request contradicts the current state (duplicate name, stale version)."""

    http_status = 409
    title = "Conflict"


class PayloadTooLarge(MamoriError):
    """The request body exceeds the configured limit."""

    http_status = 413
    title = "Payload too large"


class UnsupportedMediaType(MamoriError):
    """The request body or Accept header names a media type this endpoint does not speak."""

    http_status = 415
    title = "Unsupported media type"


class NotAcceptable(MamoriError):
    """The client accepts none of the media types this endpoint produces."""

    http_status = 406
    title = "Not acceptable"


class Unsupported(MamoriError):
    """A valid request for something mamori does not do (yet, or on this engine)."""

    http_status = 501
    title = "Not supported"


class IntegrityError(MamoriError):
    """Stored data or a proof does not verify: tampering or corruption."""

    http_status = 500
    title = "Integrity failure"
