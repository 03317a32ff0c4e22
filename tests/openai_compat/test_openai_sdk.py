"""The official openai SDK, unchanged, against Atelier's /v1 images API."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import httpx
import openai
import pytest
from PIL import Image

from support.live import LiveServer, WorkerProcess
from support.profiles import Profile


def test_images_generate_with_the_openai_sdk(profile: Profile, tmp_path: Path) -> None:
    with (
        LiveServer(profile.settings) as server,
        WorkerProcess(profile.process_env(), tmp_path / "worker.log"),
    ):
        token = httpx.get(f"{server.url}/api/v1/tasks").headers["X-Atelier-Session"]
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=token, max_retries=0)
        try:
            result = client.images.generate(
                model="dall-e-3", prompt="a red sunset over the sea", n=2, size="256x192"
            )
            assert len(result.data) == 2
            for item in result.data:
                assert item.b64_json is not None and item.url is None
                with Image.open(io.BytesIO(base64.b64decode(item.b64_json))) as img:
                    assert img.size == (256, 192) and img.format == "PNG"

            urls = client.images.generate(
                prompt="night city", size="128x128", response_format="url", model="procedural"
            )
            url = urls.data[0].url
            assert url is not None and "sig=" in url
            fetched = httpx.get(f"{server.url}{url}")  # no credentials: the URL is signed
            assert fetched.status_code == 200 and fetched.content.startswith(b"\x89PNG")
            forged = httpx.get(f"{server.url}{url[:-4]}0000")
            assert forged.status_code == 404

            # the request is an ordinary task of the caller's
            tasks = httpx.get(
                f"{server.url}/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}
            ).json()["items"]
            assert len(tasks) == 2 and {t["status"] for t in tasks} == {"completed"}

            with pytest.raises(openai.BadRequestError) as bad:
                client.images.generate(prompt="x", size="huge")
            assert "size" in bad.value.message
            with pytest.raises(openai.BadRequestError):
                client.images.generate(prompt="x", n=50)
            models = {m.id for m in client.models.list()}
            assert {"procedural", "classical", "auto"} <= models

            source = io.BytesIO()
            Image.new("RGB", (96, 64), (200, 120, 40)).save(source, format="PNG")
            edited = client.images.edit(
                image=("photo.png", source.getvalue(), "image/png"),
                prompt="pencil sketch",
                n=1,
            )
            assert edited.data[0].b64_json is not None
            with Image.open(io.BytesIO(base64.b64decode(edited.data[0].b64_json))) as img:
                assert img.size == (96, 64)
            with pytest.raises(openai.APIStatusError) as unsupported:
                client.images.edit(image=("x.png", b"not an image", "image/png"), prompt="x")
            assert unsupported.value.status_code == 415
        finally:
            client.close()
        stranger = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-not-a-session")
        with pytest.raises(openai.AuthenticationError):
            stranger.images.generate(prompt="x")
        stranger.close()
