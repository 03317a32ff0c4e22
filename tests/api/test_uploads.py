"""POST /api/v1/images: uploads are validated, turned upright and stripped of metadata."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from support.api import api, login
from support.profiles import Profile


def photo_with_exif() -> bytes:
    """A 60x40 JPEG, EXIF orientation 6 (rotate 90° clockwise to view) and a GPS tag."""
    img = Image.new("RGB", (60, 40), (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, 30, 40))  # blue on the left half
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0)}
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    return buf.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG whose header claims a huge size, with a few bytes of pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_upload_is_upright_and_clean(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        r = client.post(
            "/api/v1/images", files={"file": ("p.jpg", photo_with_exif(), "image/jpeg")}, headers=h
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["width"], body["height"]) == (40, 60)  # rotated upright
        got = client.get(body["url"], headers=h)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(got.content)) as img:
            assert img.size == (40, 60)
            assert not img.getexif()  # orientation applied, GPS and the rest stripped
            top = img.getpixel((20, 5))
            assert isinstance(top, tuple) and top[2] > 150  # the blue half is on top now
        assert client.get(body["thumbnail_url"], headers=h).status_code == 200
        # another owner cannot see it
        assert client.get(body["url"], headers=login(client)).status_code == 404


def test_bad_uploads_get_clear_errors(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        cases = [
            (b"hello, I am text", 415, "unsupported_media_type"),
            (b"", 422, "validation_error"),
            (png_bomb(100_000, 100_000), 413, "payload_too_large"),
            (photo_with_exif()[:200], 422, "validation_error"),
        ]
        for data, status, code in cases:
            r = client.post(
                "/api/v1/images", files={"file": ("x", data, "application/octet-stream")}, headers=h
            )
            assert (r.status_code, r.json()["error"]) == (status, code), r.text
        missing = client.post("/api/v1/images", headers=h)
        assert missing.status_code == 422 and missing.json()["error"] == "validation_error"
        big = b"\xff\xd8" + b"\0" * (profile.settings.images.max_upload_bytes + 10)
        r = client.post("/api/v1/images", files={"file": ("big.jpg", big, "image/jpeg")}, headers=h)
        assert r.status_code == 413
        # nothing was stored by any of that
        storage = profile.settings.storage_root
        assert not storage.exists() or not [p for p in storage.rglob("*") if p.is_file()]


def test_heic_photos_with_the_heic_extra(profile: Profile) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(buf, format="HEIF")
    with api(profile.settings) as client:
        h = login(client)
        r = client.post(
            "/api/v1/images",
            files={"file": ("IMG_0001.HEIC", buf.getvalue(), "image/heic")},
            headers=h,
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["width"], body["height"]) == (64, 48) and body["format"] == "jpeg"


def test_a_replayed_submission_keeps_only_the_first_photo(profile: Profile) -> None:
    from pathlib import Path

    from sqlalchemy import func, select

    from atelier.images.models import ImageRecord

    buf = io.BytesIO()
    Image.new("RGB", (48, 32), (20, 120, 200)).save(buf, format="PNG")
    photo = ("lake.png", buf.getvalue(), "image/png")
    with api(profile.settings) as client:
        h = {**login(client), "Idempotency-Key": "lake-1"}
        runtime = client.app.state.runtime  # type: ignore[attr-defined]

        def kept() -> tuple[int, int]:
            with runtime.db.read() as s:
                rows = s.scalar(select(func.count()).select_from(ImageRecord))
            root = Path(runtime.settings.storage_root)
            return int(rows or 0), len([p for p in root.rglob("*") if p.is_file()])

        data = {"text": "a quiet lake"}
        first = client.post("/api/v1/stylize", files={"photo": photo}, data=data, headers=h)
        assert first.status_code == 201, first.text
        once = kept()
        assert once[0] == 1 and once[1] >= 1
        again = client.post("/api/v1/stylize", files={"photo": photo}, data=data, headers=h)
        assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["task_id"] == first.json()["task_id"]
        assert kept() == once  # the replay's own copy of the photo was withdrawn
