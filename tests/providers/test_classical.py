"""The ``classical`` image-to-image provider: words to style and location, sizes, batches,
progress and cancellation, determinism, validation, and person-on-location compositing."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from atelier.providers import classical
from atelier.providers.base import ImageToImageProvider, ImageToImageRequest
from atelier.providers.classical import ClassicalStylizer, parse_style
from atelier.providers.errors import InvalidRequest
from atelier.stylize import filters, segment


class Stop(Exception):
    pass


def portrait(width: int = 360, height: int = 480) -> Image.Image:
    """A drawn head-and-shoulders figure that OpenCV's frontal-face cascades detect, on a flat
    pink background (the same figure as in ``tests/stylize/test_segment.py``)."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = (200, 120, 160)
    skin, hair = (224, 172, 140), (40, 30, 25)
    cx, fw = width // 2, round(width * 0.22)
    fh, fy = round(fw * 1.3), round(height * 0.32)
    sh = fy + round(fh * 1.35)
    cv2.ellipse(img, (cx, sh), (round(fw * 1.4), round(fh * 0.6)), 0, 180, 360, (40, 90, 60), -1)
    cv2.rectangle(img, (cx - round(fw * 1.4), sh), (cx + round(fw * 1.4), height), (40, 90, 60), -1)
    cv2.rectangle(img, (cx - fw // 4, fy), (cx + fw // 4, fy + round(fh * 0.85)), skin, -1)
    cv2.ellipse(img, (cx, fy - fh // 6), (round(fw * 0.62), round(fh * 0.6)), 0, 0, 360, hair, -1)
    cv2.ellipse(img, (cx, fy), (fw // 2, fh // 2), 0, 0, 360, skin, -1)
    cv2.ellipse(img, (cx, fy - fh // 3), (round(fw * 0.55), round(fh * 0.3)), 0, 180, 360, hair, -1)
    ey, ex = fy - fh // 12, fw // 5
    for x in (cx - ex, cx + ex):
        cv2.ellipse(img, (x, ey - fh // 9), (fw // 8, fh // 40 + 1), 0, 0, 360, (50, 35, 30), -1)
        cv2.ellipse(img, (x, ey), (fw // 9, fh // 22), 0, 0, 360, (245, 245, 240), -1)
        cv2.circle(img, (x, ey), fh // 24, (60, 40, 30), -1)
    cv2.ellipse(img, (cx, fy + fh // 10), (fw // 14, fh // 10), 0, 0, 360, (123, 95, 77), -1)
    cv2.ellipse(img, (cx, fy + fh // 4), (fw // 6, fh // 30 + 1), 0, 0, 360, (150, 70, 70), -1)
    return Image.fromarray(np.asarray(cv2.GaussianBlur(img, (0, 0), 1.2), np.uint8))


def still_life(width: int = 320, height: int = 240) -> Image.Image:
    yy = np.linspace(0.7, 1.1, height, dtype=np.float32)[:, None, None]
    img = np.zeros((height, width, 3), np.float32) + np.array([170, 150, 120], np.float32) * yy
    cv2.circle(img, (width // 4, height * 2 // 3), height // 6, (210, 60, 40), -1)
    cv2.rectangle(img, (width * 2 // 3, height // 3), (width - 20, height - 20), (70, 90, 150), -1)
    img += np.random.default_rng(1).normal(0, 5, img.shape).astype(np.float32)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def request(image: Image.Image, prompt: str = "", **kw: object) -> ImageToImageRequest:
    return ImageToImageRequest(image=image, prompt=prompt, **kw)  # type: ignore[arg-type]


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"))


@pytest.fixture(scope="module")
def provider() -> ClassicalStylizer:
    return ClassicalStylizer()


def test_is_an_image_to_image_provider_with_one_model(provider: ClassicalStylizer) -> None:
    assert isinstance(provider, ImageToImageProvider)
    (info,) = provider.models()
    assert (info.id, info.provider, info.kind) == ("classical", "classical", "procedural")
    assert info.capabilities == ("image_to_image",)


@pytest.mark.parametrize(
    ("prompt", "style"),
    [
        ("watercolour portrait", "watercolour"),
        ("a Watercolor of me", "watercolour"),
        ("水彩 肖像", "watercolour"),
        ("pencil sketch", "sketch"),
        ("素描", "sketch"),
        ("colour pencil drawing", "colour_pencil"),
        ("anime style", "cartoon"),
        ("卡通头像", "cartoon"),
        ("ink wash mountains", "ink_wash"),
        ("水墨山水", "ink_wash"),
        ("oil painting", "oil"),
        ("油画", "oil"),
        ("pop art", "pop_art"),
        ("pop_art", "pop_art"),
        ("8-bit pixel hero", "pixel_art"),
        ("vintage photo", "vintage"),
        ("复古", "vintage"),
        ("sketch, then watercolour", "sketch"),  # the first style named wins
        ("boiling soil", None),  # "oil" only as a whole word
        ("", None),
    ],
)
def test_parse_style(prompt: str, style: str | None) -> None:
    assert parse_style(prompt) == style


def test_progress_is_reported_in_order_per_stage(provider: ClassicalStylizer) -> None:
    calls: list[tuple[int, int]] = []
    result = provider.image_to_image(
        request(still_life(), "sketch", num_images=3), lambda d, t: calls.append((d, t))
    )
    assert len(result.images) == 3
    assert calls == [(i, 10) for i in range(1, 11)]


def test_a_raising_callback_stops_the_work(
    provider: ClassicalStylizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    applied: list[str] = []
    real_apply = filters.apply

    def counting_apply(style: str, *args: object, **kw: object) -> filters.U8:
        applied.append(style)
        return real_apply(style, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(filters, "apply", counting_apply)

    def cancel(done: int, total: int) -> None:
        calls.append(done)
        if done == 3:  # after the first image's filter
            raise Stop

    with pytest.raises(Stop):
        provider.image_to_image(request(still_life(), "oil", num_images=4), cancel)
    assert calls == [1, 2, 3]
    assert applied == ["oil"]  # nothing ran after the callback raised


def test_output_size_defaults_to_the_photo_or_follows_the_request(
    provider: ClassicalStylizer,
) -> None:
    photo = still_life(320, 240)
    assert provider.image_to_image(request(photo, "cartoon")).images[0].image.size == (320, 240)
    sized = provider.image_to_image(request(photo, "cartoon", width=200, height=200))
    assert sized.images[0].image.size == (200, 200)
    wide = provider.image_to_image(request(photo, "cartoon", width=160))
    assert wide.images[0].image.size == (160, 120)
    tall = provider.image_to_image(request(photo, "cartoon", height=60))
    assert tall.images[0].image.size == (80, 60)


def test_same_request_same_pixels_and_batches_vary_by_seed(provider: ClassicalStylizer) -> None:
    req = request(still_life(), "watercolour", num_images=2, seed=11)
    first, second = provider.image_to_image(req), provider.image_to_image(req)
    assert [g.seed for g in first.images] == [11, 12]
    for a, b in zip(first.images, second.images, strict=True):
        assert np.array_equal(pixels(a.image), pixels(b.image))
    assert not np.array_equal(pixels(first.images[0].image), pixels(first.images[1].image))
    # image i of a batch is the single image drawn with seed + i
    alone = provider.image_to_image(request(still_life(), "watercolour", seed=12))
    assert np.array_equal(pixels(alone.images[0].image), pixels(first.images[1].image))


def test_style_and_strength_come_from_the_request(provider: ClassicalStylizer) -> None:
    photo = still_life()
    result = provider.image_to_image(request(photo, "素描", strength=0.8))
    assert result.metadata["style"] == "sketch" and result.metadata["strength"] == "0.80"
    out = pixels(result.images[0].image)
    assert np.array_equal(out, filters.sketch(pixels(photo), 0.8, 0))
    unchanged = provider.image_to_image(request(photo, "oil", strength=0.0))
    assert np.array_equal(pixels(unchanged.images[0].image), pixels(photo))
    default = provider.image_to_image(request(photo, "make it nice"))
    assert default.metadata["style"] == classical.DEFAULT_STYLE


def test_a_person_is_put_in_front_of_the_location(provider: ClassicalStylizer) -> None:
    photo = portrait()
    result = provider.image_to_image(request(photo, "cartoon at the beach", seed=2))
    meta = result.metadata
    assert (meta["location"], meta["person"], meta["composited"]) == ("beach", "found", "true")
    out = pixels(result.images[0].image).astype(np.float32)
    plain = pixels(provider.image_to_image(request(photo, "cartoon", seed=2)).images[0].image)
    # the pink backdrop is gone: the top corners now show the beach's blue sky
    corner = out[:60, :60].reshape(-1, 3).mean(0)
    assert corner[2] > corner[0] + 30
    assert plain[:60, :60, 0].mean() > plain[:60, :60, 2].mean()
    # the face is still there, much as in the plain stylisation
    face = (slice(130, 180), slice(160, 200))
    assert np.abs(out[face].mean((0, 1)) - plain[face].astype(np.float32).mean((0, 1))).max() < 40


def test_no_person_means_no_composite(
    provider: ClassicalStylizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = still_life()
    with_location = provider.image_to_image(request(photo, "cartoon on the beach", seed=4))
    meta = with_location.metadata
    assert (meta["location"], meta["person"], meta["composited"]) == ("beach", "not_found", "false")
    without = provider.image_to_image(request(photo, "cartoon", seed=4))
    assert without.metadata["person"] == "not_checked"
    assert np.array_equal(pixels(with_location.images[0].image), pixels(without.images[0].image))

    def fail(image: object) -> None:
        raise AssertionError("segmentation should not run without a location")

    monkeypatch.setattr(segment, "person_mask", fail)
    provider.image_to_image(request(photo, "vintage"))


def test_a_mask_limits_the_style_to_its_white_part(provider: ClassicalStylizer) -> None:
    photo = still_life(320, 240)
    mask = Image.new("L", (320, 240), 0)
    mask.paste(255, (0, 0, 160, 240))
    out = pixels(provider.image_to_image(request(photo, "pop art", mask=mask)).images[0].image)
    src = pixels(photo)
    assert np.array_equal(out[:, 160:], src[:, 160:])
    assert np.abs(out[:, :160].astype(int) - src[:, :160]).mean() > 20


def test_inputs_are_normalised(provider: ClassicalStylizer) -> None:
    base = still_life(320, 240)
    # EXIF orientation 6 (rotate 90° clockwise) is applied before anything else
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    base.save(buf, "JPEG", exif=exif)
    rotated = Image.open(io.BytesIO(buf.getvalue()))
    assert provider.image_to_image(request(rotated, "sketch")).images[0].image.size == (240, 320)
    # transparency is flattened onto white; palette, greyscale and WebP-decoded inputs work
    rgba = base.convert("RGBA")
    rgba.putalpha(0)
    clear = pixels(provider.image_to_image(request(rgba, "vintage", strength=0.0)).images[0].image)
    assert (clear == 255).all()
    buf = io.BytesIO()
    base.save(buf, "WEBP")
    for img in (base.convert("P"), base.convert("L"), Image.open(io.BytesIO(buf.getvalue()))):
        out = provider.image_to_image(request(img, "cartoon")).images[0].image
        assert out.mode == "RGB" and out.size == (320, 240)


@pytest.mark.parametrize(
    "kw",
    [
        {"strength": 1.5},
        {"strength": -0.1},
        {"width": 0},
        {"height": 5000},
        {"num_images": 0},
        {"seed": 1.5},
    ],
)
def test_invalid_requests_are_rejected(provider: ClassicalStylizer, kw: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest):
        provider.image_to_image(request(still_life(), "cartoon", **kw))


def test_an_image_that_is_not_a_picture_is_rejected(provider: ClassicalStylizer) -> None:
    with pytest.raises(InvalidRequest):
        provider.image_to_image(request(b"not an image", "cartoon"))  # type: ignore[arg-type]
