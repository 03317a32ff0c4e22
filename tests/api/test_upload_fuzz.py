"""Malformed images thrown at every upload path: always a 4xx with a stable error code (or a
success for what is really a valid image), never a 500, never a crash, nothing stored for a
refused file."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from atelier.config import Settings
from atelier.images.processing import ImageRejected, open_image
from support.api import api, login
from support.profiles import Profile

CODES = {"validation_error", "unsupported_media_type", "payload_too_large"}
FORMATS = ["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"]


def _valid(fmt: str, size: tuple[int, int] = (24, 16)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(out, fmt)
    return out.getvalue()


VALID = {fmt: _valid(fmt) for fmt in FORMATS}
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def _lying_png(width: int, height: int) -> bytes:
    """A PNG whose header claims any size over a tiny, wrong payload."""
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    idat = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


@st.composite
def malformed(draw: st.DrawFn) -> bytes:
    fmt = draw(st.sampled_from(FORMATS))
    base = bytearray(VALID[fmt])
    how = draw(st.sampled_from(["truncate", "flip", "splice", "polyglot", "svg", "noise", "lying"]))
    if how == "truncate":
        return bytes(base[: draw(st.integers(0, len(base) - 1))])
    if how == "flip":
        for _ in range(draw(st.integers(1, 12))):
            i = draw(st.integers(0, len(base) - 1))
            base[i] ^= draw(st.integers(1, 255))
        return bytes(base)
    if how == "splice":
        i = draw(st.integers(0, len(base)))
        return bytes(base[:i]) + draw(st.binary(min_size=1, max_size=64)) + bytes(base[i:])
    if how == "polyglot":  # an image with an archive or a page glued to it
        tail = draw(st.sampled_from([b"PK\x03\x04" + b"\0" * 26, b"<html><script>x</script>"]))
        return bytes(base) + tail
    if how == "svg":
        return SVG
    if how == "lying":
        return _lying_png(draw(st.integers(1, 200_000)), draw(st.integers(1, 200_000)))
    return draw(st.binary(min_size=1, max_size=256))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=malformed())
def test_the_decoder_only_ever_rejects_cleanly(data: bytes) -> None:
    try:
        result, image = open_image(data, max_bytes=1 << 20, max_pixels=4_000_000)
    except ImageRejected as exc:
        assert exc.code in CODES and exc.message
        return
    image.close()
    assert result.width >= 1 and result.height >= 1  # what opens is a real image


def _paths(h: dict[str, str]) -> list[tuple[str, Callable[[bytes], dict[str, Any]]]]:
    def files(field: str) -> Callable[[bytes], dict[str, Any]]:
        return lambda data: {"files": {field: ("upload.png", data, "image/png")}}

    return [
        ("/api/v1/images", files("file")),
        ("/api/v1/stylize", lambda d: {**files("photo")(d), "data": {"style": "watercolor"}}),
        ("/v1/images/edits", lambda d: {**files("image")(d), "data": {"prompt": "a sky"}}),
        ("/api/v1/erase", files("photo")),
    ]


@pytest.fixture
def client_and_headers(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> Any:
    # no worker runs here: the OpenAI-compatible edit answers 504 at once for a valid image
    monkeypatch.setenv("ATELIER_OPENAI__WAIT_SECONDS", "0.01")
    settings_ = Settings(_env_file=None)  # type: ignore[call-arg]
    with api(settings_) as client:
        yield client, login(client), settings_


def _is_image(data: bytes, settings_: Settings) -> bool:
    try:
        _, image = open_image(
            data,
            max_bytes=settings_.images.max_upload_bytes,
            max_pixels=settings_.images.max_pixels,
        )
    except ImageRejected:
        return False
    image.close()
    return True


def test_every_upload_path_answers_malformed_images_with_a_clear_4xx(
    client_and_headers: Any,
) -> None:
    client, headers, settings_ = client_and_headers

    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=malformed())
    def check(data: bytes) -> None:
        valid = _is_image(data, settings_)
        for path, body in _paths(headers):
            r = client.post(path, headers=headers, **body(data))
            if valid:  # accepted; the edit times out waiting for a worker that is not there
                expected = {504} if path.startswith("/v1/") else {201}
                assert r.status_code in expected, (path, r.status_code, r.text[:300])
                continue
            assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:300])
            payload = r.json()
            code = payload.get("error")
            code = code.get("code") if isinstance(code, dict) else code  # OpenAI shape
            assert code in CODES | {"invalid_request_error"}, (path, payload)

    check()
    # only what decoded as an image was stored: every stored object belongs to an image row
    from sqlalchemy import select

    from atelier.images.models import ImageRecord
    from atelier.runtime import build_runtime

    rt = build_runtime(settings_)
    try:
        with rt.db.read() as s:
            keys = set()
            for record in s.scalars(select(ImageRecord)):
                keys.update(k for k in (record.storage_key, record.thumbnail_key) if k)
        root = settings_.storage_root
        stored = {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and not p.name.startswith(".")  # the local backend's .meta sidecars
        }
        assert stored <= keys
    finally:
        rt.close()
