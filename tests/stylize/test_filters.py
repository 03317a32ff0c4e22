"""The classical stylisation filters, on synthetic photos: each measurable promise in turn."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from PIL import Image

from atelier.stylize import filters
from atelier.stylize.filters import STYLES, U8

SEEDED = ("sketch", "colour_pencil", "watercolour", "oil", "ink_wash", "vintage")


def photo(width: int = 320, height: int = 256, seed: int = 0) -> U8:
    """Photo-like: a sky gradient, a few soft-edged objects and sensor noise (many colours)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    img[:] = [90, 140, 210]
    img += (yy / height)[:, :, None] * np.array([80, 60, 20], np.float32)
    cv2.circle(img, (width // 3, height // 2), height // 4, (200, 60, 50), -1)
    cv2.rectangle(img, (width // 2, height // 3), (width - 20, height - 20), (60, 160, 70), -1)
    cv2.ellipse(img, (width // 2, height - 30), (width // 5, 18), 0, 0, 360, (240, 220, 120), -1)
    img += (xx / width)[:, :, None] * 25
    img = cv2.GaussianBlur(img, (0, 0), 1.5)
    img += np.random.default_rng(seed).normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def step_edge(width: int = 256, height: int = 192) -> U8:
    """Two light flat greys meeting along one vertical edge at the middle column."""
    img = np.full((height, width, 3), 230, np.uint8)
    img[:, width // 2 :] = 170
    return img


def distinct_colours(img: U8) -> int:
    return len(np.unique(img.reshape(-1, 3), axis=0))


@pytest.mark.parametrize("style", list(STYLES))
def test_every_style_keeps_size_and_type_and_changes_the_picture(style: str) -> None:
    src = photo()
    out = filters.apply(style, src, 0.6, 0)
    assert out.shape == src.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - src).mean() > 3


@pytest.mark.parametrize("style", list(STYLES))
def test_strength_zero_is_the_input_and_the_input_is_not_modified(style: str) -> None:
    src = photo()
    before = src.copy()
    assert np.array_equal(filters.apply(style, src, 0.0, 5), src)
    filters.apply(style, src, 1.0, 5)
    assert np.array_equal(src, before)


@pytest.mark.parametrize("style", list(STYLES))
def test_same_input_strength_and_seed_give_the_same_pixels(style: str) -> None:
    src = photo()
    assert np.array_equal(filters.apply(style, src, 0.7, 3), filters.apply(style, src, 0.7, 3))


@pytest.mark.parametrize("style", SEEDED)
def test_the_seed_moves_textures(style: str) -> None:
    src = photo()
    assert not np.array_equal(filters.apply(style, src, 0.7, 1), filters.apply(style, src, 0.7, 2))


def test_strength_grows_the_effect() -> None:
    src = photo()
    diffs = [np.abs(filters.cartoon(src, s).astype(int) - src).mean() for s in (0.1, 0.3, 0.6)]
    assert diffs[0] < diffs[1] < diffs[2]


def test_accepts_pil_images_greyscale_and_rgba() -> None:
    src = photo()
    from_pil = filters.sketch(Image.fromarray(src), 0.6)
    assert np.array_equal(from_pil, filters.sketch(src, 0.6))
    grey = filters.cartoon(src[:, :, 0], 0.6)
    assert grey.shape == src.shape
    rgba = np.dstack([src, np.full(src.shape[:2], 255, np.uint8)])
    assert filters.watercolour(rgba, 0.6).shape == src.shape


def test_unknown_style_and_bad_arrays_raise() -> None:
    with pytest.raises(ValueError, match="unknown style"):
        filters.apply("cubism", photo())
    with pytest.raises(ValueError):
        filters.as_rgb(np.zeros((4, 4, 2), np.uint8))


def test_cartoon_flattens_colours_and_inks_the_outlines() -> None:
    src = photo()
    out = filters.cartoon(src, 0.6)
    assert distinct_colours(out) < distinct_colours(src) / 10
    grey = out.astype(np.float32).mean(axis=2)
    # along the left rim of the red circle (radius 64 around (106, 128)) runs a dark line
    yy, xx = np.mgrid[0 : src.shape[0], 0 : src.shape[1]]
    r, left = np.hypot(xx - 106, yy - 128), xx < 86
    profile = [grey[(r >= k) & (r < k + 1) & left].mean() for k in range(50, 80)]
    inside, outside = profile[0], profile[-1]
    assert min(profile) < min(inside, outside) - 50


def test_sketch_is_grey_with_lines_only_where_the_picture_has_edges() -> None:
    src = step_edge()
    out = filters.sketch(src, 0.6)
    assert np.array_equal(out[:, :, 0], out[:, :, 1])
    assert np.array_equal(out[:, :, 1], out[:, :, 2])
    ink = 1.0 - out[:, :, 0].astype(np.float32) / 255.0
    mid = src.shape[1] // 2
    at_edge = ink[:, mid - 6 : mid + 6].mean(axis=0).max()
    flat = np.concatenate([ink[:, 10:60], ink[:, -60:-10]], axis=1).mean()
    assert at_edge > 0.2
    assert flat < 0.05
    assert at_edge > 8 * flat


def test_colour_pencil_keeps_colour_on_light_paper() -> None:
    src = photo()
    out = filters.colour_pencil(src, 0.6).astype(np.float32)
    spread = out.max(axis=2) - out.min(axis=2)
    assert spread.mean() > 20
    assert out.mean() > src.mean()


def test_watercolour_adds_texture_but_keeps_the_mean_colour() -> None:
    src = photo()
    out = filters.watercolour(src, 0.6)
    assert np.abs(out.reshape(-1, 3).mean(0) - src.reshape(-1, 3).mean(0)).max() < 12
    flat = np.full((200, 200, 3), (120, 160, 200), np.uint8)
    washed = filters.watercolour(flat, 0.6).astype(np.float32)
    assert washed.std(axis=(0, 1)).min() > 1.0  # granulation and paper grain
    assert np.abs(washed.mean((0, 1)) - [120, 160, 200]).max() < 12


def test_oil_smooths_noise_into_patches() -> None:
    rng = np.random.default_rng(0)
    noisy = np.clip(rng.normal(128, 25, (200, 200, 3)), 0, 255).astype(np.uint8)
    out = filters.oil(noisy, 0.8).astype(np.float32)
    assert out.std() < noisy.std() / 2


def test_ink_wash_is_ink_on_warm_paper() -> None:
    out = filters.ink_wash(photo(), 0.6).astype(np.float32)
    spread = out.max(axis=2) - out.min(axis=2)
    assert spread.mean() < 25  # nearly neutral ink
    assert (out[:, :, 0] >= out[:, :, 2] - 2).mean() > 0.95  # the paper is warm, never blue
    assert (out.mean(axis=2) > 200).mean() > 0.2  # plenty of bare paper


def test_pop_art_paints_with_its_four_inks() -> None:
    out = filters.pop_art(photo(), 1.0, seed=0).astype(np.float32)
    inks = np.array(
        [[int(c[i : i + 2], 16) for i in (0, 2, 4)] for c in filters._POP_PALETTES[0]],
        np.float32,
    )
    nearest = np.abs(out.reshape(-1, 1, 3) - inks[None]).max(axis=2).min(axis=1)
    assert (nearest < 40).mean() > 0.85


def test_pixel_art_is_blocks_of_a_small_palette() -> None:
    src = photo(320, 256)
    out = filters.pixel_art(src, 1.0)
    block = max(2, round(256 / 40))
    assert distinct_colours(out) <= 8
    cells = out[::block, ::block]
    expanded = np.repeat(np.repeat(cells, block, axis=0), block, axis=1)[:256, :320]
    assert np.array_equal(expanded, out)


def test_vintage_warms_and_darkens_the_corners() -> None:
    src = np.full((200, 300, 3), 150, np.uint8)
    out = filters.vintage(src, 0.8).astype(np.float32)
    assert out[:, :, 0].mean() > out[:, :, 2].mean() + 15
    centre = out[80:120, 130:170].mean()
    corners = np.mean([out[:15, :15].mean(), out[-15:, -15:].mean(), out[:15, -15:].mean()])
    assert corners < centre - 10


def test_filters_are_fast_at_1024() -> None:
    src = cv2.resize(photo(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    for style in STYLES:
        filters.apply(style, src, 0.6)  # warm up
        start = time.perf_counter()
        filters.apply(style, src, 0.6)
        # the budget is 0.5 s on a slow core; generous here for busy shared test machines
        assert time.perf_counter() - start < 3.0, style
