"""``/docs`` works offline: Swagger UI's script, styles and icon come from the package, never a CDN."""

from __future__ import annotations

import re

import httpx

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)
ASSET = re.compile(r"""(?:src|href)\s*=\s*["'](/[^"']+)["']""", re.IGNORECASE)


async def test_docs_reference_no_external_host_and_every_asset_answers(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert not EXTERNAL.search(page.text), "the docs page loads something from another host"
    assets = ASSET.findall(page.text)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "favicon-32x32.png",
    }
    for asset in assets:
        answer = await client.get(asset)
        assert answer.status_code == 200, asset
        assert len(answer.content) > 500, asset
    assert "url: '/openapi.json'" in page.text


async def test_control_the_detector_sees_a_cdn_reference() -> None:
    cdn_page = '<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>'
    assert EXTERNAL.search(cdn_page)


async def test_redoc_is_off_and_the_licence_ships(client: httpx.AsyncClient) -> None:
    assert (await client.get("/redoc")).status_code == 404
    licence = await client.get("/static/swagger-ui/LICENSE")
    assert licence.status_code == 200
    assert "Apache License" in licence.text
