"""``erase`` end to end: upload, the task on the real runner (and on a live worker process),
the stored picture and masks behind the owner's access checks, the report, bad input."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from erase_support import captioned
from fastapi.testclient import TestClient
from PIL import Image

from atelier.erase import detect
from atelier.erase.pipeline import STAGES
from atelier.erase.synth import Caption
from support.api import api, login, run_now
from support.live import LiveServer, WorkerProcess, read_sse
from support.profiles import Profile, make_env

CAPTIONS = [
    Caption("SALE 50% OFF", (30, 40), 40, fill=(255, 255, 255), stroke=2),
    Caption("限时特价", (60, 300), 44, fill=(255, 230, 40), shadow=(2, 2)),
]


def jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def picture() -> bytes:
    return jpeg(captioned("astronaut", CAPTIONS).image)


def fetch(client: TestClient, url: str, headers: dict[str, str]) -> np.ndarray:
    r = client.get(url, headers=headers)
    assert r.status_code == 200, r.text
    with Image.open(io.BytesIO(r.content)) as img:
        return np.asarray(img.convert("RGB"))


def test_erase_a_photo_end_to_end(profile: Profile, ocr: detect.OcrEngine) -> None:
    with api(profile.settings) as client:
        h = login(client)
        r = client.post(
            "/api/v1/erase",
            files={"photo": ("sale.jpg", picture(), "image/jpeg")},
            data={"redraw": "blur", "segmenter": "classical", "keep": ["nothing-like-this"]},
            headers=h,
        )
        assert r.status_code == 201, r.text
        task_id = r.json()["task_id"]
        run_now(profile.settings, task_id)
        task = client.get(f"/api/v1/tasks/{task_id}", headers=h).json()
        assert task["kind"] == "erase" and task["status"] == "completed", task
        result: dict[str, Any] = task["result"]
        report = result["report"]
        assert result["images"] == [result["image"]]
        assert [*report["timings"]] == [s for s in STAGES]  # every stage, in order, timed
        assert report["quality"]["lines_still_read"] == 0
        assert {t["status"] for t in report["texts"]} == {"erase"}
        assert len(report["erased"]) == 2 and report["redraw"]["mode"] == "blur"
        final = fetch(client, result["image"]["url"], h)
        text_mask = fetch(client, result["text_mask"]["url"], h)
        subject_mask = fetch(client, result["subject_mask"]["url"], h)
        assert final.shape == text_mask.shape == subject_mask.shape == (384, 384, 3)
        assert 0 < (text_mask[:, :, 0] > 127).mean() < 0.2
        # the text is gone: the OCR reads none of it on the stored result
        read = [detect.normalise(t.text)[0] for t in ocr.read(final) if t.confidence > 0.5]
        assert not any("sale" in t or "特价" in t for t in read), read
        # the owner's access checks apply to the masks as to any image
        stranger = login(client)
        for link in (result["image"], result["text_mask"], result["subject_mask"]):
            assert client.get(link["url"], headers=stranger).status_code == 404
        # the same, through POST /tasks with an image id
        image_id = client.post(
            "/api/v1/images", files={"file": ("sale.jpg", picture(), "image/jpeg")}, headers=h
        ).json()["image_id"]
        created = client.post(
            "/api/v1/tasks",
            json={"kind": "erase", "params": {"image_id": image_id, "keep": ["sale 50% off"]}},
            headers=h,
        )
        assert created.status_code == 201, created.text
        run_now(profile.settings, created.json()["task_id"])
        second = client.get(f"/api/v1/tasks/{created.json()['task_id']}", headers=h).json()
        statuses = sorted(t["status"] for t in second["result"]["report"]["texts"])
        assert statuses == ["erase", "keep"], second["result"]["report"]["texts"]
        assert second["result"]["subject_mask"] is None  # no model, no redraw: not computed


def test_erase_rejects_bad_input(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        cases: list[tuple[dict[str, Any], int]] = [
            ({"roi": "1,2,3"}, 422),
            ({"roi": "a,b,c,d"}, 422),
            ({"roi": "0,0,0,10"}, 422),
            ({"roi": "300,300,200,200"}, 422),  # outside the 384x384 photo
            ({"keep": ["ok", "  "]}, 422),
            ({"min_confidence": "2"}, 422),
            ({"inpainter": "magic"}, 422),
            ({"redraw": "color"}, 422),  # no colour given
            ({"redraw": "color", "redraw_color": "red"}, 422),
            ({"redraw": "preset", "redraw_preset": "mars"}, 422),
            ({"redraw": "prompt", "redraw_prompt": "a beach", "redraw_model": "classical"}, 422),
            ({"redraw": "prompt", "redraw_prompt": "a beach", "redraw_model": "nope"}, 422),
        ]
        for data, status in cases:
            r = client.post(
                "/api/v1/erase",
                files={"photo": ("p.jpg", picture(), "image/jpeg")},
                data=data,
                headers=h,
            )
            assert r.status_code == status, (data, r.text)
            assert r.json()["error"] == "validation_error"
        bad = client.post(
            "/api/v1/erase", files={"photo": ("x.jpg", b"nope", "image/jpeg")}, headers=h
        )
        assert bad.status_code == 415
        unknown = client.post(
            "/api/v1/tasks", json={"kind": "erase", "params": {"image_id": "nope"}}, headers=h
        )
        assert unknown.status_code == 422 and unknown.json()["details"]["field"] == "image_id"
        mine = client.post(
            "/api/v1/images", files={"file": ("p.jpg", picture(), "image/jpeg")}, headers=h
        ).json()["image_id"]
        theirs = client.post(
            "/api/v1/tasks",
            json={"kind": "erase", "params": {"image_id": mine}},
            headers=login(client),
        )
        assert theirs.status_code == 422 and theirs.json()["details"]["field"] == "image_id"
        extra = client.post(
            "/api/v1/tasks",
            json={"kind": "erase", "params": {"image_id": mine, "colour": "x"}},
            headers=h,
        )
        assert extra.status_code == 422


def test_live_worker_streams_every_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Request:
        param = "embedded"

    mode = Profile("embedded", make_env("embedded", tmp_path, Request()), monkeypatch)  # type: ignore[arg-type]
    with (
        LiveServer(mode.settings) as server,
        WorkerProcess(mode.process_env(), tmp_path / "worker.log") as worker,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        created = client.post(
            "/api/v1/erase",
            files={"photo": ("sale.jpg", picture(), "image/jpeg")},
            data={"redraw": "color", "redraw_color": "#20a0ff", "segmenter": "classical"},
        )
        assert created.status_code == 201, created.text
        client.headers["Authorization"] = f"Bearer {created.headers['X-Atelier-Session']}"
        task_id = created.json()["task_id"]
        with client.stream("GET", f"/api/v1/tasks/{task_id}/stream") as stream:
            events = [event for _, event in read_sse(stream)]
        assert events[-1]["type"] == "completed", (events[-1], worker.output()[-3000:])
        stages = [e["stage"] for e in events if e["type"] == "progress"]
        seen = list(dict.fromkeys(stages))
        assert seen == [s for s in STAGES], seen
        progress = [e["progress"] for e in events]
        assert progress == sorted(progress) and progress[-1] == 100
        result = events[-1]["result"]
        for key in ("image", "text_mask", "subject_mask"):
            got = client.get(result[key]["url"])
            assert got.status_code == 200 and got.content.startswith(b"\x89PNG")
