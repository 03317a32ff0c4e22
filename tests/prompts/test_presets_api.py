"""GET /api/v1/presets and /api/v1/presets/{kind}/{id} on an app built from the router alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from atelier.api.errors import install
from atelier.prompts.endpoints import router
from atelier.prompts.presets import PresetLibrary

LIBRARY = PresetLibrary()


def make_app() -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    install(app)
    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


def test_listing_in_chinese(client: TestClient) -> None:
    r = client.get("/api/v1/presets", params={"lang": "zh"})
    assert r.status_code == 200
    assert r.headers["content-language"] == "zh"
    assert "max-age" in r.headers["cache-control"]
    body = r.json()
    assert body["language"] == "zh"
    assert [s["id"] for s in body["styles"]] == [p.id for p in LIBRARY.styles()]
    assert [s["id"] for s in body["locations"]] == [p.id for p in LIBRARY.locations()]
    ink = next(s for s in body["styles"] if s["id"] == "ink-wash")
    expected = LIBRARY.style("ink-wash")
    assert ink["kind"] == "style"
    assert ink["name"] == expected.name.zh
    assert ink["description"] == expected.description.zh
    assert ink["tags"] == list(expected.tags)
    assert ink["preview"]["colour"] == expected.preview.colour
    assert ink["params"]["strength"] == expected.params.strength
    assert "prompt" not in ink


def test_listing_language_from_query_header_or_default(client: TestClient) -> None:
    west_lake = LIBRARY.location("west-lake")

    def name(**kwargs: object) -> str:
        r = client.get("/api/v1/presets", **kwargs)  # type: ignore[arg-type]
        assert r.status_code == 200
        return str(next(x["name"] for x in r.json()["locations"] if x["id"] == "west-lake"))

    assert name(params={"lang": "en"}) == west_lake.name.en
    assert name(params={"lang": "zh-CN"}) == west_lake.name.zh
    assert name(headers={"Accept-Language": "fr-FR,zh-CN;q=0.8,en;q=0.5"}) == west_lake.name.zh
    assert name(headers={"Accept-Language": "fr"}) == west_lake.name.en
    assert name() == west_lake.name.en
    # the query wins over the header
    assert name(params={"lang": "en"}, headers={"Accept-Language": "zh"}) == west_lake.name.en


def test_bad_language_is_422(client: TestClient) -> None:
    r = client.get("/api/v1/presets", params={"lang": "klingon"})
    assert r.status_code == 422
    assert r.json()["error"] == "validation_error"
    assert r.json()["details"]["field"] == "lang"


@pytest.mark.parametrize("kind", ["styles", "style"])
def test_detail_has_prompt_fragments(client: TestClient, kind: str) -> None:
    r = client.get(f"/api/v1/presets/{kind}/watercolor", params={"lang": "zh"})
    assert r.status_code == 200
    body = r.json()
    expected = LIBRARY.style("watercolor")
    assert body["id"] == "watercolor"
    assert body["kind"] == "style"
    assert body["language"] == "zh"
    assert body["name"] == expected.name.zh
    assert body["prompt"] == expected.prompt.zh
    assert body["negative_prompt"] == expected.negative.zh


def test_location_detail_in_english(client: TestClient) -> None:
    r = client.get("/api/v1/presets/locations/great-wall")
    assert r.status_code == 200
    assert r.json()["prompt"] == LIBRARY.location("great-wall").prompt.en


def test_unknown_id_is_404(client: TestClient) -> None:
    r = client.get("/api/v1/presets/styles/great-wall")  # a location id, not a style
    assert r.status_code == 404
    body = r.json()
    assert body["error"] == "not_found"
    assert body["details"]["id"] == "great-wall"
    assert "watercolor" in body["details"]["available"]


def test_unknown_kind_is_404(client: TestClient) -> None:
    r = client.get("/api/v1/presets/filters/watercolor")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_detail_rejects_bad_language(client: TestClient) -> None:
    r = client.get("/api/v1/presets/styles/watercolor", params={"lang": "de"})
    assert r.status_code == 422


def test_app_state_library_is_used(tmp_path: Path) -> None:
    (tmp_path / "house.toml").write_text(
        """
[[styles]]
id = "house-style"
name = { en = "House", zh = "本店风格" }
description = { en = "Ours.", zh = "我们的。" }
prompt = { en = "house look", zh = "本店质感" }
preview = { colour = "#ABCDEF", thumbnail = "🏠" }
""",
        encoding="utf-8",
    )
    app = make_app()
    app.state.presets = PresetLibrary(tmp_path, include_builtin=False)
    with TestClient(app) as client:
        body = client.get("/api/v1/presets", params={"lang": "zh"}).json()
        assert [s["id"] for s in body["styles"]] == ["house-style"]
        assert body["styles"][0]["name"] == "本店风格"
        assert body["styles"][0]["params"] == {"strength": None, "guidance": None, "steps": None}
        assert body["locations"] == []
        assert client.get("/api/v1/presets/styles/watercolor").status_code == 404


def test_openapi_schema_lists_the_routes() -> None:
    schema = make_app().openapi()
    assert "/api/v1/presets" in schema["paths"]
    assert "/api/v1/presets/{kind}/{preset_id}" in schema["paths"]
    assert schema["paths"]["/api/v1/presets"]["get"]["tags"] == ["presets"]
