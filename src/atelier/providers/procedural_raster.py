"""Raster primitives for the ``procedural`` provider: the scene, value noise, shapes, blending.

Everything is vectorised numpy on a float32 ``(height, width, 3)`` canvas in 0..1. Shapes are
drawn inside their bounding boxes with one-pixel anti-aliased edges.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from atelier.providers.procedural_lexicon import TERRAIN, Plan

F32 = np.float32
Array = NDArray[np.float32]


@dataclass(frozen=True)
class Layout:
    """Where things go: chosen from the seed, within what the plan allows."""

    hz: int  # horizon row; equal to the height when nothing stands on the ground
    ground: str  # "sea", "desert", "grid", "meadow" or "none"
    body: str  # "sun", "moon" or "none"
    sun_x: float
    sun_y: float
    sun_r: float
    light: float  # +1 when the light comes from the right, -1 from the left


class Scene:
    """One image being painted: plan, size, layout, canvas and named random streams."""

    def __init__(self, plan: Plan, seed: int, width: int, height: int) -> None:
        self.plan = plan
        self.seed = seed
        self.w = width
        self.h = height
        self.unit = float(min(width, height))
        self.canvas: Array = np.zeros((height, width, 3), F32)
        self.ys: Array = np.arange(height, dtype=F32) + F32(0.5)
        self.xs: Array = np.arange(width, dtype=F32) + F32(0.5)
        self.layout = make_layout(plan, self.rng("layout"), width, height)
        self.result: NDArray[np.uint8] | None = None

    def rng(self, name: str) -> np.random.Generator:
        """A random stream for one purpose, fixed by prompt, seed and name (not by size)."""
        s = self.seed % (1 << 64)
        words = [s & 0xFFFFFFFF, s >> 32, zlib.crc32(name.encode())]
        words += [int.from_bytes(self.plan.digest[i : i + 4], "little") for i in range(0, 16, 4)]
        return np.random.default_rng(np.random.SeedSequence(words))

    def col(self, role: str) -> Array:
        return np.asarray(self.plan.colours[role], F32)

    def has(self, motif: str) -> bool:
        return motif in self.plan.motifs

    def comp(self, flag: str) -> bool:
        return flag in self.plan.composition


def make_layout(plan: Plan, rng: np.random.Generator, w: int, h: int) -> Layout:
    motifs = plan.motifs
    terrain = motifs & set(TERRAIN)
    if "sea" in motifs:
        ground, span = "sea", (0.5, 0.62)
    elif "desert" in motifs:
        ground, span = "desert", (0.5, 0.62)
    elif "grid" in motifs:
        ground, span = "grid", (0.56, 0.62)
    elif terrain & {"hills", "flower", "tree", "forest", "mountain"}:
        ground, span = "meadow", (0.58, 0.68)
    elif "city" in motifs:
        ground, span = "none", (0.86, 0.92)
    else:
        ground, span = "none", (1.0, 1.0)
    frac = float(rng.uniform(*span))
    if terrain and motifs & {"stars", "moon"} and len(terrain) == 1 and ground != "none":
        frac = min(0.8, frac + 0.1)  # a sky scene: give the sky the room
    if "minimal" in plan.composition and frac < 1.0:
        frac = max(frac, 0.64)
    hz = min(h, max(1, round(frac * h)))
    body = "sun" if "sun" in motifs else "moon" if "moon" in motifs else "none"
    unit = min(w, h)
    r = unit * float(rng.uniform(0.055, 0.075) if body == "sun" else rng.uniform(0.045, 0.06))
    if "closeup" in plan.composition:
        r *= 1.8
    elif "minimal" in plan.composition:
        r *= 1.35
    side = float(rng.choice([-1.0, 1.0]))
    sx = 0.5 if "centered" in plan.composition else 0.5 + side * float(rng.uniform(0.12, 0.3))
    if plan.mood == "neon" and body == "sun":
        r = unit * 0.2 * (1.3 if "closeup" in plan.composition else 1.0)
        sx, sy = 0.5, hz - r * 0.45
    elif plan.mood_info.low_sun:
        sy = hz - r * float(rng.uniform(0.4, 2.2))
    else:
        sy = hz * float(rng.uniform(0.18, 0.42))
    return Layout(hz, ground, body, sx * w, sy, r, side if sx != 0.5 else -1.0)


# -- noise ------------------------------------------------------------------------------------
def smooth(t: Array) -> Array:
    return t * t * (F32(3.0) - F32(2.0) * t)


def smoothstep(lo: float, hi: float, x: Array) -> Array:
    return smooth(np.clip((x - F32(lo)) / F32(hi - lo), 0.0, 1.0))


def coords(n: int, scale: float, offset: float = 0.0) -> Array:
    """Lattice coordinates of ``n`` pixel centres, ``scale`` lattice cells per pixel."""
    return (np.arange(n, dtype=F32) + F32(0.5)) * F32(scale) + F32(offset)


def noise1(rng: np.random.Generator, c: Array) -> Array:
    if c.size == 0:
        return np.zeros_like(c)
    c = c - np.floor(c.min())
    lattice = rng.random(int(c.max()) + 2, dtype=F32)
    i = c.astype(np.intp)
    t = smooth(c - i)
    out: Array = lattice[i] * (F32(1.0) - t) + lattice[i + 1] * t
    return out


def fbm1(rng: np.random.Generator, c: Array, octaves: int, gain: float = 0.5) -> Array:
    total = np.zeros_like(c)
    amp, norm, freq = 1.0, 0.0, 1.0
    for _ in range(octaves):
        total += F32(amp) * noise1(rng, c * F32(freq) + F32(rng.uniform(0, 16)))
        norm += amp
        amp *= gain
        freq *= 2.0
    return total / F32(norm)


def noise2(rng: np.random.Generator, cy: Array, cx: Array) -> Array:
    """Value noise at the grid of row coordinates ``cy`` and column coordinates ``cx``."""
    if cy.size == 0 or cx.size == 0:
        return np.zeros((cy.size, cx.size), F32)
    cy = cy - np.floor(cy.min())
    cx = cx - np.floor(cx.min())
    lattice = rng.random((int(cy.max()) + 2, int(cx.max()) + 2), dtype=F32)
    ix = cx.astype(np.intp)
    tx = smooth(cx - ix)
    rows = lattice[:, ix] * (F32(1.0) - tx) + lattice[:, ix + 1] * tx
    iy = cy.astype(np.intp)
    ty = smooth(cy - iy)[:, None]
    out: Array = rows[iy] * (F32(1.0) - ty) + rows[iy + 1] * ty
    return out


def fbm2(rng: np.random.Generator, cy: Array, cx: Array, octaves: int, gain: float = 0.5) -> Array:
    """Fractal value noise in 0..1, contrast-stretched back to roughly the full range."""
    total = np.zeros((cy.size, cx.size), F32)
    amp, norm, freq = 1.0, 0.0, 1.0
    for _ in range(octaves):
        oy, ox = rng.uniform(0, 16, 2)
        total += F32(amp) * noise2(rng, cy * F32(freq) + F32(oy), cx * F32(freq) + F32(ox))
        norm += amp
        amp *= gain
        freq *= 2.0
    stretched: Array = np.clip((total / F32(norm) - F32(0.5)) * F32(1.8) + F32(0.5), 0.0, 1.0)
    return stretched


# -- drawing ----------------------------------------------------------------------------------
def gradient(a: Array) -> Array:
    """``np.gradient`` that also accepts a single sample (slope 0)."""
    if a.size < 2:
        return np.zeros_like(a)
    out: Array = np.gradient(a).astype(F32, copy=False)
    return out


def blend(dst: Array, colour: Array, alpha: Array) -> None:
    """``dst`` (a view of the canvas) moves toward ``colour`` by ``alpha`` (2-D), in place."""
    dst += (colour - dst) * alpha[..., None]


def screen(dst: Array, light: Array) -> None:
    """Screen-blend ``light`` (broadcastable to ``dst``) onto ``dst``, in place."""
    room = F32(1.0) - dst
    room *= np.clip(light, 0.0, 1.0)
    dst += room


def lerp(a: Array, b: Array, t: Array | float) -> Array:
    out: Array = a + (b - a) * t
    return out


def box(scene: Scene, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    """Pixel bounds of a float rectangle, clipped to the canvas (may be empty)."""
    return (
        max(0, int(np.floor(x0))),
        max(0, int(np.floor(y0))),
        min(scene.w, int(np.ceil(x1))),
        min(scene.h, int(np.ceil(y1))),
    )


def disc_alpha(
    scene: Scene, cx: float, cy: float, r: float, feather: float = 1.0
) -> tuple[tuple[slice, slice], Array] | None:
    """Coverage of a disc within its bounding box, or None when it is off the canvas."""
    pad = r + feather
    x0, y0, x1, y1 = box(scene, cx - pad, cy - pad, cx + pad, cy + pad)
    if x0 >= x1 or y0 >= y1 or r <= 0:
        return None
    dy = (scene.ys[y0:y1] - F32(cy))[:, None]
    dx = scene.xs[x0:x1] - F32(cx)
    d = np.sqrt(dy * dy + dx * dx)
    alpha: Array = np.clip((F32(r) - d) / F32(max(feather, 1e-3)) + F32(0.5), 0.0, 1.0)
    return (slice(y0, y1), slice(x0, x1)), alpha


def disc(
    scene: Scene,
    cx: float,
    cy: float,
    r: float,
    colour: Array,
    opacity: float = 1.0,
    feather: float = 1.0,
) -> None:
    found = disc_alpha(scene, cx, cy, r, feather)
    if found is not None:
        where, alpha = found
        blend(scene.canvas[where], colour, alpha * F32(opacity))


def capsule(
    scene: Scene,
    a: tuple[float, float],
    b: tuple[float, float],
    r0: float,
    r1: float,
    colour: Array,
) -> None:
    """A tapered line from ``a`` (radius ``r0``) to ``b`` (radius ``r1``); points are (x, y)."""
    pad = max(r0, r1) + 1
    lo_x, hi_x = min(a[0], b[0]) - pad, max(a[0], b[0]) + pad
    lo_y, hi_y = min(a[1], b[1]) - pad, max(a[1], b[1]) + pad
    x0, y0, x1, y1 = box(scene, lo_x, lo_y, hi_x, hi_y)
    if x0 >= x1 or y0 >= y1:
        return
    px = scene.xs[x0:x1] - F32(a[0])
    py = (scene.ys[y0:y1] - F32(a[1]))[:, None]
    vx, vy = b[0] - a[0], b[1] - a[1]
    t = np.clip((px * F32(vx) + py * F32(vy)) / F32(max(vx * vx + vy * vy, 1e-6)), 0.0, 1.0)
    d = np.hypot(px - t * F32(vx), py - t * F32(vy))
    radius = F32(r0) + (F32(r1) - F32(r0)) * t
    blend(scene.canvas[y0:y1, x0:x1], colour, np.clip(radius - d + F32(0.5), 0.0, 1.0))


def fill_below(scene: Scene, top: Array, y_end: int | None = None) -> tuple[int, Array]:
    """Coverage of everything under the profile ``top`` (one row value per column).

    Returns the first row of the band and its ``(rows, width)`` coverage.
    """
    end = scene.h if y_end is None else y_end
    y0 = min(end, max(0, int(np.floor(top.min()))))
    alpha: Array = np.clip(scene.ys[y0:end, None] - top[None, :] + F32(0.5), 0.0, 1.0)
    return y0, alpha


def splat(buf: Array, ys: NDArray[np.intp], xs: NDArray[np.intp], values: Array, size: int) -> None:
    """Add soft dots of radius ``size`` pixels (0 = one pixel) at ``(ys, xs)`` into ``buf``."""
    h, w = buf.shape[:2]
    for dy in range(-size, size + 1):
        for dx in range(-size, size + 1):
            d2 = dy * dy + dx * dx
            if size and d2 > size * size + size:
                continue
            weight = float(np.exp(-d2 / max(0.5, 0.45 * size * size)))
            yy, xx = ys + dy, xs + dx
            ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            np.add.at(buf, (yy[ok], xx[ok]), values[ok] * F32(weight))


def luminance(img: Array) -> Array:
    out: Array = img @ np.asarray([0.2126, 0.7152, 0.0722], F32)
    return out


def hue_sat(img: Array) -> tuple[Array, Array]:
    """Hue in degrees and HSV saturation of each pixel."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    mx = img.max(axis=-1)
    mn = img.min(axis=-1)
    c = mx - mn
    safe = np.where(c > 1e-6, c, F32(1.0))
    hue = np.where(
        mx == r,
        ((g - b) / safe) % F32(6.0),
        np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4),
    )
    sat = np.where(mx > 1e-6, c / np.maximum(mx, F32(1e-6)), F32(0.0))
    return (hue * F32(60.0)).astype(F32), sat.astype(F32)
