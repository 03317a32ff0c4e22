"""stylize end to end on the real runner: upload, presets, prompt, provider, stored result."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from support.api import api, login, run_now
from support.profiles import Profile


def photo() -> bytes:
    img = Image.linear_gradient("L").resize((160, 120)).convert("RGB")
    draw = ImageDraw.Draw(img)
    draw.ellipse((50, 20, 110, 80), fill=(220, 170, 140))
    draw.rectangle((60, 80, 100, 120), fill=(40, 60, 160))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def test_stylize_a_photo(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        r = client.post(
            "/api/v1/stylize",
            files={"photo": ("me.jpg", photo(), "image/jpeg")},
            data={"style": "watercolor", "location": "west-lake", "text": "smiling"},
            headers=h,
        )
        if r.status_code == 404:  # preset ids come from the shipped presets
            raise AssertionError(r.json())
        assert r.status_code == 201, r.text
        task_id = r.json()["task_id"]
        run_now(profile.settings, task_id)
        task = client.get(f"/api/v1/tasks/{task_id}", headers=h).json()
        assert task["kind"] == "stylize" and task["status"] == "completed", task
        result = task["result"]
        assert result["provider"] == "classical" and "smiling" in result["prompt"]
        image = client.get(result["images"][0]["url"], headers=h)
        with Image.open(io.BytesIO(image.content)) as out:
            assert out.size == (160, 120)
        # the same photo and options again: same seed, so the same picture
        again = client.post(
            "/api/v1/stylize",
            files={"photo": ("me.jpg", photo(), "image/jpeg")},
            data={"style": "watercolor", "location": "west-lake", "text": "smiling"},
            headers=h,
        ).json()["task_id"]
        run_now(profile.settings, again)
        second = client.get(f"/api/v1/tasks/{again}", headers=h).json()
        assert second["params"]["seed"] == task["params"]["seed"]
        other = client.get(second["result"]["images"][0]["url"], headers=h)
        assert other.content == image.content


def test_stylize_rejects_bad_input(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        cases = [
            ({"style": "no-such-style"}, 404),
            ({}, 422),  # no style, location or text
            ({"style": "watercolor", "model": "procedural"}, 422),  # text-to-image only
            ({"style": "watercolor", "strength": "2"}, 422),
        ]
        for data, status in cases:
            r = client.post(
                "/api/v1/stylize",
                files={"photo": ("me.jpg", photo(), "image/jpeg")},
                data=data,
                headers=h,
            )
            assert r.status_code == status, (data, r.text)
        bad = client.post(
            "/api/v1/stylize", files={"photo": ("x.jpg", b"nope", "image/jpeg")}, headers=h
        )
        assert bad.status_code == 415
        # another owner's image cannot be stylized through the task API
        mine = client.post(
            "/api/v1/images", files={"file": ("me.jpg", photo(), "image/jpeg")}, headers=h
        ).json()["image_id"]
        theirs = client.post(
            "/api/v1/tasks",
            json={"kind": "stylize", "params": {"image_id": mine, "style": "watercolor"}},
            headers=login(client),
        )
        assert theirs.status_code == 422 and theirs.json()["details"]["field"] == "image_id"
        # generate refuses an image-only model
        gen = client.post(
            "/api/v1/tasks",
            json={"kind": "generate", "params": {"prompt": "x", "model": "classical"}},
            headers=h,
        )
        assert gen.status_code == 422


def test_large_photos_are_scaled_down_first(profile: Profile) -> None:
    buf = io.BytesIO()
    Image.linear_gradient("L").resize((2600, 120)).convert("RGB").save(buf, format="JPEG")
    with api(profile.settings) as client:
        h = login(client)
        r = client.post(
            "/api/v1/stylize",
            files={"photo": ("wide.jpg", buf.getvalue(), "image/jpeg")},
            data={"style": "pencil-sketch"},
            headers=h,
        )
        task_id = r.json()["task_id"]
        run_now(profile.settings, task_id)
        image = client.get(f"/api/v1/tasks/{task_id}", headers=h).json()["result"]["images"][0]
        side = profile.settings.stylize.max_side
        assert (image["width"], image["height"]) == (side, round(120 * side / 2600))
