"""The TAXII ``next`` cursor: opaque, signed, and refused when forged, altered or issued under another key."""

from __future__ import annotations

import base64

import orjson
import pytest

from mamori.errors import InvalidInput
from mamori.intel.taxii import CursorSigner

PAYLOAD = {"v": 1, "e": "objects", "c": "c1", "u": "u1", "k": ["2026-11-01T03:00:00.000000Z", "indicator--x", "v"]}


def test_a_cursor_opens_to_what_was_issued() -> None:
    signer = CursorSigner("k" * 48)
    token = signer.issue(PAYLOAD)
    assert signer.open(token) == PAYLOAD
    assert all(c.isalnum() or c in "-_." for c in token), "the cursor must be safe in a URL"


def test_a_cursor_under_another_key_is_refused() -> None:
    token = CursorSigner("k" * 48).issue(PAYLOAD)
    with pytest.raises(InvalidInput) as e:
        CursorSigner("j" * 48).open(token)
    assert e.value.where == "next"


def test_a_modified_payload_with_the_old_signature_is_refused() -> None:
    signer = CursorSigner("k" * 48)
    _body, _, mac = signer.issue(PAYLOAD).partition(".")
    forged = dict(PAYLOAD, u="someone-else")
    forged_body = base64.urlsafe_b64encode(orjson.dumps(forged)).rstrip(b"=").decode()
    with pytest.raises(InvalidInput, match="modified"):
        signer.open(f"{forged_body}.{mac}")


@pytest.mark.parametrize("token", ["", ".", "abc", "abc.", ".abc", "a.b.c", "%%%.%%%", "eyJ2IjoxfQ.AAAA"])
def test_garbage_cursors_are_refused(token: str) -> None:
    with pytest.raises(InvalidInput):
        CursorSigner("k" * 48).open(token)


def test_every_single_character_change_is_detected() -> None:
    signer = CursorSigner("k" * 48)
    token = signer.issue(PAYLOAD)
    for i in range(0, len(token), 7):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        with pytest.raises(InvalidInput):
            signer.open(changed)
