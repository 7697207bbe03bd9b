"""Feed secrets at rest: Fernet under a key derived from the instance secret."""

from __future__ import annotations

import pytest

from mamori.errors import IntegrityError
from mamori.intel.taxii_client import SecretBox


def test_a_sealed_secret_opens_to_its_kind_and_value_and_does_not_contain_it() -> None:
    box = SecretBox("s" * 48)
    sealed = box.seal("password", "correct horse battery")
    assert "correct horse" not in sealed
    assert box.open(sealed, "feed x") == ("password", "correct horse battery")


def test_another_instance_key_cannot_open_it() -> None:
    sealed = SecretBox("s" * 48).seal("token", "mamori_abc")
    with pytest.raises(IntegrityError) as e:
        SecretBox("t" * 48).open(sealed, "feed x")
    assert e.value.where == "feed x"


def test_a_tampered_secret_is_refused() -> None:
    box = SecretBox("s" * 48)
    sealed = box.seal("token", "mamori_abc")
    with pytest.raises(IntegrityError):
        box.open(sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB"), "feed x")
