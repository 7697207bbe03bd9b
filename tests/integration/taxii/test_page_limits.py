"""Page sizes: the configured default when no limit is given, the configured maximum above it."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.conftest import T0, make_settings
from tests.stixgen import indicator

from mamori.api.app import create_app
from mamori.bootstrap import build_context
from mamori.intel.taxii import TAXII_MEDIA_TYPE
from mamori.kernel.clock import FixedClock


def test_limit_defaults_and_is_capped_by_settings(tmp_path: Path) -> None:
    ctx = build_context(make_settings(tmp_path, taxii_default_page_size=2, taxii_max_page_size=3),
                        clock=FixedClock(T0))
    try:
        cid = ctx.intel.create_collection("c")["id"]
        ctx.intel.ingest([indicator(n, f"192.0.2.{n}") for n in range(1, 8)], collections=[cid])
        ctx.identity.create_user("analyst", "analyst")
        headers = {"Accept": TAXII_MEDIA_TYPE,
                   "Authorization": f"Bearer {ctx.identity.issue_token('analyst').secret}"}
        client = TestClient(create_app(ctx))
        url = f"/taxii2/partners/collections/{cid}/objects/"
        assert len(client.get(url, headers=headers).json()["objects"]) == 2
        capped = client.get(url, params={"limit": 50}, headers=headers).json()
        assert len(capped["objects"]) == 3 and capped["more"] is True
        seen = [o["id"] for o in capped["objects"]]
        nxt = capped["next"]
        while nxt:
            page = client.get(url, params={"limit": 50, "next": nxt}, headers=headers).json()
            seen += [o["id"] for o in page["objects"]]
            nxt = page.get("next")
        assert sorted(seen) == sorted(indicator(n)["id"] for n in range(1, 8))
        root = client.get("/taxii2/partners/", headers=headers).json()
        assert root["max_content_length"] == ctx.settings.taxii_max_content_length
    finally:
        ctx.close()
