"""Watermarks drawn in one corner only, policies per owner class, and PNG provenance records."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from atelier import __version__
from atelier.images.watermark import (
    PROVENANCE_KEY,
    WatermarkPolicy,
    WatermarkSpec,
    apply,
    embed_provenance,
    mark_box,
    owner_class,
    pixel_sha256,
    provenance,
    read_provenance,
    verify_provenance,
)

CORNERS = ["top-left", "top-right", "bottom-left", "bottom-right"]


def noise(width: int = 400, height: int = 300, mode: str = "RGB", seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    channels = len(mode)
    return Image.fromarray(rng.integers(0, 256, (height, width, channels), dtype=np.uint8), mode)


def changed(before: Image.Image, after: Image.Image) -> np.ndarray:
    """Per-pixel mask of what differs."""
    a = np.asarray(before.convert(after.mode), dtype=np.int16)
    b = np.asarray(after, dtype=np.int16)
    mask: np.ndarray = np.any(a != b, axis=-1)
    return mask


def difference(before: Image.Image, after: Image.Image) -> int:
    a = np.asarray(before.convert(after.mode), dtype=np.int64)
    return int(np.abs(a - np.asarray(after, dtype=np.int64)).sum())


def png_bytes(image: Image.Image, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **kwargs)
    return buf.getvalue()


@pytest.mark.parametrize("corner", CORNERS)
def test_text_mark_changes_only_its_corner(corner: str) -> None:
    image = noise()
    spec = WatermarkSpec(text="Atelier", corner=corner)  # type: ignore[arg-type]
    out = apply(image, spec)
    assert out.size == image.size and out.mode == "RGB"
    mask = changed(image, out)
    assert mask.any()
    box = mark_box(image.size, spec)
    assert box is not None
    left, top, right, bottom = box
    outside = mask.copy()
    outside[top:bottom, left:right] = False
    assert not outside.any()
    # and the box lies in the chosen quadrant, away from the edges
    w, h = image.size
    margin = round(spec.margin * min(w, h))
    ys, xs = np.nonzero(mask)
    if corner.startswith("top"):
        assert ys.min() >= margin and ys.max() < h // 2
    else:
        assert ys.max() < h - margin and ys.min() >= h // 2
    if corner.endswith("left"):
        assert xs.min() >= margin and xs.max() < w // 2
    else:
        assert xs.max() < w - margin and xs.min() >= w // 2


def test_input_is_not_modified() -> None:
    image = noise()
    before = image.tobytes()
    apply(image, WatermarkSpec(text="Atelier", opacity=1.0))
    assert image.tobytes() == before


def test_opacity_zero_changes_nothing() -> None:
    image = noise()
    out = apply(image, WatermarkSpec(text="Atelier", opacity=0.0))
    assert out.tobytes() == image.tobytes()


def test_more_opacity_more_difference() -> None:
    image = noise()
    diffs = [
        difference(image, apply(image, WatermarkSpec(text="Atelier", opacity=o)))
        for o in (0.1, 0.4, 0.7, 1.0)
    ]
    assert 0 < diffs[0] < diffs[1] < diffs[2] < diffs[3]


def test_scale_sets_the_mark_width() -> None:
    small = mark_box((800, 600), WatermarkSpec(text="Atelier", scale=0.1))
    large = mark_box((800, 600), WatermarkSpec(text="Atelier", scale=0.4))
    assert small is not None and large is not None
    small_w, large_w = small[2] - small[0], large[2] - large[0]
    assert 0.08 * 800 <= small_w <= 0.14 * 800
    assert 0.35 * 800 <= large_w <= 0.45 * 800


def write_logo(path: Path) -> Path:
    """40x20: the left half opaque red, the right half fully transparent green."""
    logo = Image.new("RGBA", (40, 20), (0, 255, 0, 0))
    logo.paste((255, 0, 0, 255), (0, 0, 20, 20))
    logo.save(path)
    return path


def test_logo_is_composited_through_its_alpha(tmp_path: Path) -> None:
    logo = write_logo(tmp_path / "logo.png")
    image = noise(400, 300)
    # scale 0.1 of 400 px = the logo's own 40 px: no resampling, exact pixels
    spec = WatermarkSpec(kind="logo", logo_path=logo, corner="top-left", opacity=1.0, scale=0.1)
    out = apply(image, spec)
    assert mark_box(image.size, spec) == (6, 6, 46, 26)
    pixels = np.asarray(out)
    original = np.asarray(image)
    assert (pixels[6:26, 6:26] == [255, 0, 0]).all()
    assert (pixels[6:26, 26:46] == original[6:26, 26:46]).all()
    mask = changed(image, out)
    mask[6:26, 6:26] = False
    assert not mask.any()
    half = np.asarray(apply(image, spec.model_copy(update={"opacity": 0.5})), dtype=np.int16)
    expected = (original[6:26, 6:26].astype(np.int16) + np.array([255, 0, 0])) / 2
    assert np.abs(half[6:26, 6:26] - expected).max() <= 2


def test_transparent_images_keep_their_alpha() -> None:
    image = noise(200, 200, "RGBA", seed=3)
    out = apply(image, WatermarkSpec(text="Atelier", opacity=1.0))
    assert out.mode == "RGBA"
    box = mark_box(image.size, WatermarkSpec(text="Atelier", opacity=1.0))
    assert box is not None
    a, b = np.asarray(image), np.asarray(out)
    keep = np.ones(a.shape[:2], dtype=bool)
    keep[box[1] : box[3], box[0] : box[2]] = False
    assert (a[keep] == b[keep]).all()


def test_tiny_images_do_not_break() -> None:
    for size in ((1, 1), (3, 50), (16, 16)):
        image = noise(*size)
        out = apply(image, WatermarkSpec(text="Atelier", scale=1.0, margin=0.25))
        assert out.size == image.size


def test_spec_validation(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="needs text"):
        WatermarkSpec(text="  ")
    with pytest.raises(ValidationError, match="needs logo_path"):
        WatermarkSpec(kind="logo")
    with pytest.raises(ValidationError):
        WatermarkSpec(text="x", opacity=1.5)
    with pytest.raises(ValidationError):
        WatermarkSpec(text="x", corner="middle")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        WatermarkSpec(text="x", colour="white")
    assert WatermarkSpec(kind="logo", logo_path=tmp_path / "x.png").logo_path is not None


def test_policy_per_owner_class() -> None:
    mark = WatermarkSpec(text="Atelier")
    policy = WatermarkPolicy.model_validate(
        {"classes": {"anonymous": mark.model_dump(), "user": None}, "default": {"text": "API"}}
    )
    assert policy.spec_for("anonymous") == mark
    assert policy.spec_for("user") is None
    assert policy.spec_for("api") == WatermarkSpec(text="API")
    image = noise()
    assert policy.apply(image, "user").tobytes() == image.tobytes()
    assert policy.apply(image, "anonymous").tobytes() == apply(image, mark).tobytes()
    assert WatermarkPolicy().spec_for("anonymous") is None


def test_owner_class() -> None:
    assert owner_class("anon:3f2b1c9e-0000-4000-8000-000000000000") == "anonymous"
    assert owner_class("api:partner") == "api"
    assert owner_class("key:abc") == "api"
    assert owner_class("alice") == "user"
    assert owner_class("user:alice") == "user"


# -- provenance ------------------------------------------------------------------------------
def record_for(image: Image.Image) -> dict[str, object]:
    return provenance(
        image,
        model="procedural-v1",
        provider="procedural",
        task_id="task-123",
        created=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        extra={"style": "ink-wash"},
    )


def test_provenance_record_fields() -> None:
    image = noise()
    record = record_for(image)
    assert record["generator"] == "Atelier"
    assert record["version"] == __version__
    assert record["model"] == "procedural-v1"
    assert record["provider"] == "procedural"
    assert record["task_id"] == "task-123"
    assert record["created"] == "2025-01-02T03:04:05Z"
    assert (record["width"], record["height"]) == (400, 300)
    assert record["pixel_sha256"] == pixel_sha256(image)
    assert record["extra"] == {"style": "ink-wash"}


def test_provenance_round_trip_in_png() -> None:
    image = apply(noise(), WatermarkSpec(text="Atelier"))
    png = png_bytes(image)
    record = record_for(image)
    data = embed_provenance(png, record)
    assert read_provenance(data) == record
    assert verify_provenance(data) is True
    with Image.open(io.BytesIO(data)) as reopened:  # Pillow accepts the chunk (CRC, layout)
        reopened.load()
        assert reopened.text[PROVENANCE_KEY].startswith("{")  # type: ignore[attr-defined]
        assert reopened.tobytes() == image.tobytes()
    assert read_provenance(png) is None
    assert verify_provenance(png) is None


def test_embedding_again_replaces_the_record() -> None:
    image = noise()
    data = embed_provenance(png_bytes(image), record_for(image))
    newer = {**record_for(image), "task_id": "task-456"}
    again = embed_provenance(data, newer)
    assert again.count(PROVENANCE_KEY.encode()) == 1
    assert read_provenance(again) == newer


def test_pixel_hash_ignores_encoding_and_metadata() -> None:
    image = noise()
    fast, small = png_bytes(image, compress_level=0), png_bytes(image, compress_level=9)
    assert fast != small
    record = record_for(image)
    assert verify_provenance(embed_provenance(fast, record)) is True
    assert verify_provenance(embed_provenance(small, record)) is True


def test_tampering_is_detected() -> None:
    image = noise()
    record = record_for(image)
    edited = image.copy()
    edited.putpixel((10, 10), (0, 0, 0) if image.getpixel((10, 10)) != (0, 0, 0) else (1, 1, 1))
    forged = embed_provenance(png_bytes(edited), record)
    assert read_provenance(forged) == record
    assert verify_provenance(forged) is False
    cropped = embed_provenance(png_bytes(image.crop((0, 0, 399, 300))), record)
    assert verify_provenance(cropped) is False


def test_damaged_or_foreign_data() -> None:
    image = noise(64, 64)
    data = embed_provenance(png_bytes(image), record_for(image))
    # a record edited in place is still valid JSON, but its chunk CRC no longer matches
    edited = data.replace(b'"task-123"', b'"task-999"')
    assert edited != data
    assert read_provenance(edited) is None
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG")
    assert read_provenance(jpeg.getvalue()) is None
    with pytest.raises(ValueError, match="PNG"):
        embed_provenance(jpeg.getvalue(), record_for(image))
    with pytest.raises(ValueError, match="IEND"):
        embed_provenance(png_bytes(image)[:-12], record_for(image))
    assert read_provenance(b"") is None
