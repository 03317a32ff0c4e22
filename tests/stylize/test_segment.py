"""Person segmentation, compositing and location backgrounds.

The "person" is drawn here: a head-and-shoulders figure with eyes, brows, nose and mouth that
OpenCV's bundled frontal-face Haar cascades really detect (checked below, not assumed). It is
cartoon-simple, so these tests show that detection seeds GrabCut correctly and the mask follows
the figure; they say nothing about hard real photos (see the limits in ``segment``'s doc).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from atelier.stylize import backgrounds, segment
from atelier.stylize.filters import U8

Colour = tuple[int, int, int]


def _figure(canvas: np.ndarray, size: tuple[int, int], cx: float, colours: list[object]) -> None:
    """Shirt, neck, hair and face of the figure, in ``colours`` (in that order)."""
    width, height = size
    shirt, skin, hair = colours
    fw = round(width * 0.22)
    fh, fy = round(fw * 1.3), round(height * 0.32)
    cx = round(cx)
    shoulders = fy + round(fh * 1.35)
    cv2.ellipse(canvas, (cx, shoulders), (round(fw * 1.4), round(fh * 0.6)), 0, 180, 360, shirt, -1)
    cv2.rectangle(
        canvas, (cx - round(fw * 1.4), shoulders), (cx + round(fw * 1.4), height), shirt, -1
    )
    cv2.rectangle(canvas, (cx - fw // 4, fy), (cx + fw // 4, fy + round(fh * 0.85)), skin, -1)
    cv2.ellipse(
        canvas, (cx, fy - fh // 6), (round(fw * 0.62), round(fh * 0.6)), 0, 0, 360, hair, -1
    )
    cv2.ellipse(canvas, (cx, fy), (fw // 2, fh // 2), 0, 0, 360, skin, -1)


def portrait(
    width: int = 360,
    height: int = 480,
    *,
    skin: Colour = (224, 172, 140),
    shirt: Colour = (40, 90, 60),
    bg: Colour = (200, 120, 160),
    cx_frac: float = 0.5,
) -> tuple[U8, np.ndarray]:
    """The drawn figure over a flat background, and its exact mask (before a slight blur)."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = bg
    truth = np.zeros((height, width), np.uint8)
    hair = (40, 30, 25)
    cx = width * cx_frac
    _figure(img, (width, height), cx, [shirt, skin, hair])
    _figure(truth, (width, height), cx, [255, 255, 255])
    fw = round(width * 0.22)
    fh, fy, x0 = round(fw * 1.3), round(height * 0.32), round(cx)
    cv2.ellipse(img, (x0, fy - fh // 3), (round(fw * 0.55), round(fh * 0.3)), 0, 180, 360, hair, -1)
    ey, ex = fy - fh // 12, fw // 5
    for side in (-1, 1):
        x = x0 + side * ex
        cv2.ellipse(img, (x, ey - fh // 9), (fw // 8, fh // 40 + 1), 0, 0, 360, (50, 35, 30), -1)
        cv2.ellipse(img, (x, ey), (fw // 9, fh // 22), 0, 0, 360, (245, 245, 240), -1)
        cv2.circle(img, (x, ey), fh // 24, (60, 40, 30), -1)
    nose = (int(skin[0] * 0.55), int(skin[1] * 0.55), int(skin[2] * 0.55))
    cv2.ellipse(img, (x0, fy + fh // 10), (fw // 14, fh // 10), 0, 0, 360, nose, -1)
    cv2.ellipse(img, (x0, fy + fh // 4), (fw // 6, fh // 30 + 1), 0, 0, 360, (150, 70, 70), -1)
    return np.asarray(cv2.GaussianBlur(img, (0, 0), 1.2), np.uint8), truth > 0


def no_person(width: int = 360, height: int = 300) -> U8:
    """A still life: gradient, fruit-like discs, a box, noise. Nothing face-like."""
    yy = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    img = np.zeros((height, width, 3), np.float32) + np.array([170, 150, 120], np.float32)
    img = img * (0.7 + 0.4 * yy)
    cv2.circle(img, (width // 4, height * 2 // 3), height // 6, (210, 60, 40), -1)
    cv2.circle(img, (width // 2, height * 2 // 3), height // 7, (230, 190, 40), -1)
    cv2.rectangle(img, (width * 2 // 3, height // 3), (width - 20, height - 20), (70, 90, 150), -1)
    img += np.random.default_rng(1).normal(0, 5, img.shape).astype(np.float32)
    return np.clip(cv2.GaussianBlur(img, (0, 0), 1.0), 0, 255).astype(np.uint8)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


# -- detection and masks ---------------------------------------------------------------------
def test_the_haar_cascades_find_the_drawn_face() -> None:
    img, _ = portrait()
    faces = segment.detect_faces(img)
    assert len(faces) == 1
    x, y, w, h = faces[0]
    assert abs(x + w / 2 - 180) < 15 and abs(y + h / 2 - 154) < 25


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"width": 240, "height": 320},
        {"width": 800, "height": 600},
        {"skin": (120, 80, 60)},
        {"skin": (90, 60, 45), "bg": (230, 230, 230)},
        {"bg": (90, 140, 200), "cx_frac": 0.35},
        {"bg": (230, 230, 230), "shirt": (200, 40, 40)},
    ],
)
def test_person_mask_follows_the_figure(kwargs: dict[str, object]) -> None:
    img, truth = portrait(**kwargs)  # type: ignore[arg-type]
    mask = segment.person_mask(img)
    assert mask is not None
    assert mask.shape == truth.shape and mask.dtype == np.float32
    assert float(mask.min()) >= 0.0 and float(mask.max()) <= 1.0
    assert iou(mask > 0.5, truth) > 0.9
    assert mask[:20, :20].max() < 0.05 and mask[:20, -20:].max() < 0.05


def test_person_mask_is_soft_at_the_outline_only() -> None:
    img, truth = portrait()
    mask = segment.person_mask(img)
    assert mask is not None
    partial = (mask > 0.05) & (mask < 0.95)
    outline = cv2.morphologyEx(truth.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((9, 9)))
    assert partial.any()
    assert (partial & (outline > 0)).sum() / partial.sum() > 0.9


def test_person_mask_is_deterministic() -> None:
    img, _ = portrait()
    first, second = segment.person_mask(img), segment.person_mask(img)
    assert first is not None and second is not None
    assert np.array_equal(first, second)


def test_no_person_gives_none() -> None:
    assert segment.person_mask(no_person()) is None
    assert segment.person_mask(np.full((200, 200, 3), 128, np.uint8)) is None
    assert segment.person_mask(backgrounds.render_background("city", 320, 240, 0)) is None


# -- compositing -----------------------------------------------------------------------------
def test_cover_scales_and_centre_crops() -> None:
    bg = np.zeros((100, 400, 3), np.uint8)
    bg[:, :100] = (255, 0, 0)
    bg[:, 100:300] = (0, 255, 0)
    bg[:, 300:] = (0, 0, 255)
    out = segment.cover(bg, (200, 200))
    assert out.shape == (200, 200, 3)
    assert (out[:, 5:-5, 1] > 200).all()  # only the green middle survives the crop


def test_composite_is_the_person_inside_and_exactly_the_background_outside() -> None:
    img, truth = portrait()
    mask = cv2.GaussianBlur(truth.astype(np.float32), (0, 0), 1.5)
    bg = backgrounds.render_background("beach", 500, 400, 2)
    out = np.asarray(segment.composite(img, mask, bg, match=0.4, shadow=0.0))
    covered = segment.cover(bg, (360, 480))
    matched = segment.match_colours(img, mask, covered, 0.4)
    outside, inside = mask == 0, mask >= 0.999
    assert np.array_equal(out[outside], covered[outside])
    assert np.abs(out[inside].astype(int) - matched[inside]).max() <= 1
    plain = np.asarray(segment.composite(img, mask, bg, match=0.0))
    assert np.array_equal(plain[inside], img[inside])


def test_colour_matching_moves_the_person_towards_the_background() -> None:
    img, truth = portrait()
    mask = truth.astype(np.float32)
    blue = np.full((480, 360, 3), (40, 80, 200), np.uint8)

    def b_minus_r(a: U8) -> float:
        px = a[truth].astype(np.float32)
        return float((px[:, 2] - px[:, 0]).mean())

    assert b_minus_r(segment.match_colours(img, mask, blue, 0.6)) > b_minus_r(img) + 20
    assert np.array_equal(segment.match_colours(img, mask, blue, 0.0), img)


def test_the_shadow_only_darkens_the_background_near_the_person() -> None:
    img, truth = portrait()
    mask = truth.astype(np.float32)
    bg = np.full((480, 360, 3), 200, np.uint8)
    out = np.asarray(segment.composite(img, mask, bg, match=0.0, shadow=1.0)).astype(int)
    outside = ~truth
    assert (out[outside] <= 200).all()
    assert out[outside].min() < 170  # a visible shadow beside the figure
    assert (out[:10, :10] == 200).all()  # far away: untouched


def test_composite_rejects_a_mask_of_the_wrong_size() -> None:
    img, _ = portrait()
    with pytest.raises(ValueError, match="mask shape"):
        segment.composite(img, np.ones((10, 10), np.float32), img)


# -- backgrounds -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("me on a sunny beach", "beach"),
        ("watercolour, snowy mountains", "snowy_peaks"),
        ("hiking in the mountains", "mountains"),
        ("neon city at night", "neon_street"),
        ("under the cherry blossoms", "cherry_blossom"),
        ("卡通 樱花", "cherry_blossom"),
        ("水墨 寺庙", "temple"),
        ("在海边", "beach"),
        ("沙漠 旅行", "desert"),
        ("downtown skyline", "city"),
        ("在山上", "mountains"),
        (
            "beside West Lake in Hangzhou, a pagoda on the far shore, mist over distant hills",
            "lake",
        ),
        ("the Forbidden City, vermilion palace walls, first snow dusting the eaves", "temple"),
        ("大胆的波普艺术 六十年代画廊海报", None),  # 海报 is a poster, not the sea
        ("宫崎骏风格", None),
        ("just a portrait", None),
        ("soil and toil", None),
    ],
)
def test_find_location(text: str, location: str | None) -> None:
    assert backgrounds.find_location(text) == location


@pytest.mark.parametrize("location", list(backgrounds.LOCATIONS))
def test_every_background_any_size_deterministic_per_seed(location: str) -> None:
    a = backgrounds.render_background(location, 200, 150, 7)
    assert a.shape == (150, 200, 3) and a.dtype == np.uint8
    assert np.array_equal(a, backgrounds.render_background(location, 200, 150, 7))
    assert not np.array_equal(a, backgrounds.render_background(location, 200, 150, 8))
    assert a.std() > 10  # a picture, not a flat fill
    assert backgrounds.render_background(location, 37, 91, 0).shape == (91, 37, 3)
    assert backgrounds.render_background(location, 1200, 300, 0).shape == (300, 1200, 3)


def test_locations_look_different_and_unknown_ones_raise() -> None:
    names = ("beach", "desert", "neon_street")
    means = {k: backgrounds.render_background(k, 64, 64, 0).mean((0, 1)) for k in names}
    assert np.abs(means["beach"] - means["neon_street"]).max() > 30
    assert np.abs(means["desert"] - means["neon_street"]).max() > 30
    with pytest.raises(ValueError, match="unknown location"):
        backgrounds.render_background("moon base", 10, 10)


def test_segmentation_in_parallel_threads_matches_serial() -> None:
    images = [portrait(cx_frac=f)[0] for f in (0.4, 0.5, 0.6)]
    serial = [segment.person_mask(img) for img in images]
    with ThreadPoolExecutor(3) as pool:
        parallel = list(pool.map(segment.person_mask, images * 2))
    for i, mask in enumerate(parallel):
        expected = serial[i % 3]
        assert mask is not None and expected is not None
        assert np.array_equal(mask, expected)
