"""Background redraw: keep the subject, replace what is behind it.

The new background is the photo itself blurred (with the subject filled in first, so it does
not bleed into its own surroundings), a solid colour, a preset (studio gradients, or one of the
painted locations of :mod:`atelier.stylize.backgrounds`), or a picture rendered from a prompt
by a text-to-image model (through the provider policy, like any ``generate`` task). The subject
is laid over it through its soft mask, feathered at the edge, with its colours moved a little
towards the new light (:func:`atelier.stylize.segment.composite`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from atelier.stylize import backgrounds
from atelier.stylize.segment import composite

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Mode = Literal["blur", "color", "preset", "prompt"]
#: ``render(prompt, width, height) -> RGB uint8`` (a text-to-image call).
Render = Callable[[str, int, int], U8]

HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")

STUDIO: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    # top colour, bottom colour
    "studio-white": ((250, 250, 250), (222, 222, 226)),
    "studio-grey": ((150, 152, 156), (88, 90, 95)),
    "studio-dark": ((52, 54, 60), (16, 17, 20)),
    "studio-blue": ((168, 204, 238), (64, 108, 168)),
    "studio-warm": ((250, 226, 196), (206, 148, 104)),
}


def presets() -> list[str]:
    """Every preset id: the studio gradients, then the painted locations."""
    return [*STUDIO, *backgrounds.LOCATIONS]


def parse_colour(text: str) -> tuple[int, int, int]:
    match = HEX.match(text.strip())
    if match is None:
        raise ValueError(f"not a colour: {text!r} (want #rrggbb)")
    value = int(match.group(1), 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def gradient(top: tuple[int, int, int], bottom: tuple[int, int, int], w: int, h: int) -> U8:
    """A vertical gradient with a soft light in the upper middle (a studio backdrop)."""
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    base = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    glow = np.exp(-(((xs - w / 2) / (0.6 * w)) ** 2 + ((ys - 0.35 * h) / (0.6 * h)) ** 2))
    out = base * (0.9 + 0.1 * glow[:, :, None])
    return np.clip(np.broadcast_to(out, (h, w, 3)) + 0.5, 0, 255).astype(np.uint8)


def blurred(rgb: U8, subject: F32, radius: float) -> U8:
    """The photo blurred, with the subject filled in from its surroundings first."""
    h, w = rgb.shape[:2]
    scale = min(1.0, 256 / max(h, w))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    hole = cv2.resize((subject > 0.3).astype(np.uint8) * 255, size, interpolation=cv2.INTER_NEAREST)
    hole = cv2.dilate(hole, np.ones((5, 5), np.uint8))
    filled = cv2.inpaint(small, hole, 5, cv2.INPAINT_TELEA)
    sigma = max(0.5, radius * scale)
    soft = cv2.GaussianBlur(filled, (0, 0), sigma)
    return np.asarray(cv2.resize(soft, (w, h), interpolation=cv2.INTER_CUBIC), np.uint8)


def feather(subject: F32, pixels: float) -> F32:
    """The subject mask with its edge softened over about ``pixels`` pixels."""
    if pixels <= 0:
        return subject
    return np.asarray(np.clip(cv2.GaussianBlur(subject, (0, 0), pixels / 2), 0, 1), np.float32)


def background(
    mode: Mode,
    rgb: U8,
    subject: F32,
    *,
    colour: str | None = None,
    preset: str | None = None,
    prompt: str | None = None,
    blur_radius: float = 18.0,
    seed: int = 0,
    render: Render | None = None,
) -> U8:
    h, w = rgb.shape[:2]
    if mode == "blur":
        return blurred(rgb, subject, blur_radius)
    if mode == "color":
        value = parse_colour(colour or "")
        return np.full((h, w, 3), value, np.uint8)
    if mode == "preset":
        name = preset or ""
        if name in STUDIO:
            return gradient(*STUDIO[name], w, h)
        if name in backgrounds.LOCATIONS:
            return backgrounds.render_background(name, w, h, seed)
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(presets())}")
    if render is None or not prompt:
        raise ValueError("a prompt background needs a prompt and a text-to-image model")
    return render(prompt, w, h)


def redraw(
    rgb: U8, subject: F32, new_background: U8, *, edge: float = 3.0, match: float = 0.0
) -> U8:
    """The subject of ``rgb`` over ``new_background``, blended over ``edge`` pixels."""
    soft = feather(np.clip(subject, 0.0, 1.0).astype(np.float32), edge)
    return np.asarray(composite(rgb, soft, new_background, match=match), np.uint8)
