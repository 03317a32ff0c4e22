"""NSFW checks with the real open_nsfw model: scores, the actions, every upload path, outputs.

No explicit image can ship with the tests, so the actions are exercised by putting the
threshold at or below the score of an ordinary picture (0.0), and passing by putting it above.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from atelier.config import SafetySettings, Settings
from atelier.images import processing
from atelier.images.models import ImageRecord
from atelier.runtime import build_runtime
from atelier.safety import nsfw
from atelier.safety.errors import ContentRejected
from atelier.safety.images import annotate, blur, check, summary
from support.api import api, login, run_now, submit
from support.profiles import Profile


def picture() -> Image.Image:
    """An ordinary, harmless picture with hard edges: sky, sea, a sun and a checkered boat."""
    img = Image.new("RGB", (160, 120), (90, 150, 230))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 70, 160, 120), fill=(20, 60, 140))
    draw.ellipse((110, 10, 140, 40), fill=(250, 220, 60))
    for i in range(8):
        for j in range(2):
            if (i + j) % 2 == 0:
                draw.rectangle((30 + i * 8, 56 + j * 8, 37 + i * 8, 63 + j * 8), fill=(0, 0, 0))
            else:
                draw.rectangle((30 + i * 8, 56 + j * 8, 37 + i * 8, 63 + j * 8), fill="white")
    return img


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def edges(image: Image.Image) -> float:
    """The largest step between neighbouring pixels: 255 for black beside white, small once
    blurred."""
    a = np.asarray(image.convert("L"), dtype=np.float64)
    return float(max(np.abs(np.diff(a, axis=1)).max(), np.abs(np.diff(a, axis=0)).max()))


def with_safety(settings: Settings, **values: Any) -> Settings:
    return settings.model_copy(update={"safety": SafetySettings(**values)})


# -- the classifier and the actions ------------------------------------------------------------
def test_an_ordinary_picture_scores_low_and_the_score_is_stable() -> None:
    first = nsfw.score(picture())
    assert 0.0 <= first < 0.2
    assert nsfw.score(picture()) == first
    assert nsfw.classifier() is nsfw.classifier()  # one shared session
    transparent = picture().convert("RGBA")
    transparent.putalpha(128)
    assert 0.0 <= nsfw.score(transparent) < 0.5


def test_actions_at_and_below_the_threshold() -> None:
    image = picture()
    score = nsfw.score(image)
    # above the score: nothing happens, the score is recorded
    kept, verdict = check(
        SafetySettings(upload_action="reject", upload_threshold=0.99), "upload", image
    )
    assert kept is image and verdict is not None
    assert verdict.action == "none" and not verdict.flagged and verdict.score == score
    # at or below it: each action
    with pytest.raises(ContentRejected) as refused:
        check(SafetySettings(upload_action="reject", upload_threshold=0.0), "upload", image)
    assert refused.value.code == "content_rejected" and refused.value.status_code == 422
    assert refused.value.details["action"] == "reject"
    blurred, verdict = check(
        SafetySettings(output_action="blur", output_threshold=0.0), "output", image
    )
    assert verdict is not None and verdict.action == "blur" and verdict.flagged
    assert blurred.size == image.size and edges(blurred) < edges(image) / 5
    flagged, verdict = check(
        SafetySettings(output_action="flag", output_threshold=0.0), "output", image
    )
    assert flagged is image and verdict is not None and verdict.action == "flag"
    off, verdict = check(SafetySettings(output_action="off", output_threshold=0.0), "output", image)
    assert off is image and verdict is None
    # directions are configured apart
    _, verdict = check(
        SafetySettings(upload_action="reject", upload_threshold=0.0), "output", image
    )
    assert verdict is not None and verdict.action == "none"


def test_blur_keeps_size_and_mode() -> None:
    for mode in ("RGB", "RGBA"):
        image = picture().convert(mode)
        out = blur(image)
        assert (out.size, out.mode) == (image.size, image.mode)
        assert edges(out) < edges(image) / 5


def test_results_are_annotated_per_image_and_in_all() -> None:
    image = picture()
    _, low = check(SafetySettings(output_action="blur", output_threshold=0.99), "output", image)
    _, high = check(SafetySettings(output_action="blur", output_threshold=0.0), "output", image)
    assert low is not None and high is not None
    result = {"images": [{"image_id": "a"}, {"image_id": "b"}], "image": {"image_id": "b"}}
    out = annotate(result, {"a": low, "b": high})
    assert out["safety"]["action"] == "blur" and out["safety"]["flagged"] is True
    assert set(out["safety"]["images"]) == {"a", "b"}
    assert out["images"][0]["safety"]["action"] == "none"
    assert out["images"][1]["safety"]["action"] == "blur"
    assert out["image"]["safety"]["action"] == "blur"
    assert annotate(result, {}) is result and summary({}) is None


# -- uploads: every path -------------------------------------------------------------------------
def _upload_paths(
    client: Any, headers: dict[str, str], data: bytes, *, openai: bool = True
) -> dict[str, Any]:
    """Post ``data`` to every upload path (``/v1/images/edits`` waits for its task, so it is
    only tried where the upload is refused)."""
    files = {"name": ("p.png", data, "image/png")}
    answers = {
        "images": client.post("/api/v1/images", files={"file": files["name"]}, headers=headers),
        "stylize": client.post(
            "/api/v1/stylize",
            files={"photo": files["name"]},
            data={"style": "watercolor"},
            headers=headers,
        ),
        "erase": client.post("/api/v1/erase", files={"photo": files["name"]}, headers=headers),
        "library": client.post(
            "/api/v1/library/images", files={"files": files["name"]}, headers=headers
        ),
    }
    if openai:
        answers["openai_edits"] = client.post(
            "/v1/images/edits",
            files={"image": files["name"]},
            data={"prompt": "make it a watercolor"},
            headers=headers,
        )
    return answers


def test_every_upload_path_refuses_rejected_content(profile: Profile) -> None:
    settings = with_safety(profile.settings, upload_action="reject", upload_threshold=0.0)
    with api(settings) as client:
        h = login(client)
        answers = _upload_paths(client, h, png(picture()))
        for path, r in answers.items():
            if path == "openai_edits":  # OpenAI's error shape, and its 400 for bad requests
                assert r.status_code == 400, r.text
                assert r.json()["error"]["code"] == "content_rejected"
                continue
            assert r.status_code == 422, (path, r.text)
            body = r.json()
            assert body["error"] == "content_rejected", (path, body)
            assert "adult content" in body["message"]
            assert body["details"]["score"] < 0.2  # the ordinary picture's own low score
        # nothing was stored and no task was made
        assert client.get("/api/v1/tasks", headers=h).json()["items"] == []
    rt = build_runtime(settings)
    try:
        with rt.db.read() as s:
            assert s.scalars(select(ImageRecord.id)).all() == []
    finally:
        rt.close()
    root = settings.storage_root
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_uploads_pass_below_the_threshold(profile: Profile) -> None:
    settings = with_safety(profile.settings, upload_action="reject", upload_threshold=0.99)
    with api(settings) as client:
        answers = _upload_paths(client, login(client), png(picture()), openai=False)
        assert answers["images"].status_code == 201
        assert answers["stylize"].status_code == 201
        assert answers["erase"].status_code == 201
        assert answers["library"].status_code == 201


def test_blurred_and_flagged_uploads(profile: Profile, caplog: pytest.LogCaptureFixture) -> None:
    original = picture()
    blurring = with_safety(profile.settings, upload_action="blur", upload_threshold=0.0)
    with api(blurring) as client:
        h = login(client)
        r = client.post(
            "/api/v1/images", files={"file": ("p.png", png(original), "image/png")}, headers=h
        )
        assert r.status_code == 201, r.text
        with Image.open(io.BytesIO(client.get(r.json()["url"], headers=h).content)) as stored:
            assert stored.size == original.size
            assert edges(stored) < edges(original) / 5
    flagging = with_safety(profile.settings, upload_action="flag", upload_threshold=0.0)
    with caplog.at_level(logging.WARNING, logger="atelier.images.service"), api(flagging) as client:
        h = login(client)
        r = client.post(
            "/api/v1/images", files={"file": ("p.png", png(original), "image/png")}, headers=h
        )
        assert r.status_code == 201, r.text
        image_id = r.json()["image_id"]
        stored = client.get(r.json()["url"], headers=h).content
        assert stored == processing.encode(original, "jpeg").data  # kept as it was
    marks = [rec for rec in caplog.records if getattr(rec, "image_id", None) == image_id]
    assert marks and marks[0].safety["action"] == "flag"  # type: ignore[attr-defined]


# -- outputs -------------------------------------------------------------------------------------
def _generate(settings: Settings) -> tuple[dict[str, Any], bytes | None]:
    with api(settings) as client:
        h = login(client)
        task_id = submit(client, h)
        run_now(settings, task_id)
        task = client.get(f"/api/v1/tasks/{task_id}", headers=h).json()
        if task["status"] != "completed":
            return task, None
        return task, client.get(task["result"]["images"][0]["url"], headers=h).content


def test_outputs_blurred_flagged_passed_and_rejected(profile: Profile) -> None:
    passed, plain = _generate(
        with_safety(profile.settings, output_action="blur", output_threshold=0.99)
    )
    assert passed["status"] == "completed" and plain is not None
    safety = passed["result"]["safety"]
    assert safety["action"] == "none" and safety["flagged"] is False and 0 <= safety["score"] < 0.99

    blurred, data = _generate(
        with_safety(profile.settings, output_action="blur", output_threshold=0.0)
    )
    assert blurred["status"] == "completed" and data is not None
    assert blurred["result"]["safety"]["action"] == "blur"
    assert blurred["result"]["images"][0]["safety"]["flagged"] is True
    assert data != plain
    with Image.open(io.BytesIO(data)) as b, Image.open(io.BytesIO(plain)) as p:
        assert b.size == p.size and edges(b) < edges(p)

    flagged, same = _generate(
        with_safety(profile.settings, output_action="flag", output_threshold=0.0)
    )
    assert flagged["result"]["safety"]["action"] == "flag" and same == plain  # kept as is

    rejected, nothing = _generate(
        with_safety(profile.settings, output_action="reject", output_threshold=0.0)
    )
    assert nothing is None and rejected["status"] == "failed"
    assert rejected["error"]["code"] == "content_rejected"
    assert rejected["attempts"] == 1  # permanent: not retried
    rt = build_runtime(profile.settings)
    try:
        with rt.db.read() as s:
            kept = s.scalars(
                select(ImageRecord.id).where(ImageRecord.task_id == rejected["task_id"])
            )
            assert kept.all() == []
    finally:
        rt.close()
