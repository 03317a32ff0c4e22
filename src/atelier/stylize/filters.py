"""Classical stylisation filters: pure, deterministic functions on RGB images.

Every filter takes an RGB image (``uint8`` array ``HxWx3`` or a PIL image), a ``strength`` in
0..1 and a ``seed``, and returns a new ``uint8`` RGB array of the same size. ``strength`` 0
returns the input unchanged; up to 0.5 the stylised picture is mixed in progressively; above
0.5 the picture is fully stylised and the parameters (colour count, line weight, texture,
brush size…) keep growing. The seed only moves textures, palettes and noise, so the same
input, strength and seed always give the same pixels.

Heavy edge-preserving smoothing runs on a copy reduced to :data:`WORK_SIDE` pixels and is
brought back to full size, where the crisp parts (lines, dots, palette mapping) are drawn, so
each filter stays well under half a second at 1024x1024 on one slow core.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
#: ``filter(image, strength, seed) -> image``
StyleFilter = Callable[[U8, float, int], U8]

WORK_SIDE = 512


# -- helpers ---------------------------------------------------------------------------------
def as_rgb(image: Image.Image | npt.NDArray[Any]) -> U8:
    """A contiguous ``uint8`` RGB array for a PIL image or an array (grey, RGB or RGBA)."""
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB image, got an array of shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr[:, :, :3])


def _u8(x: Any) -> U8:
    return np.asarray(np.clip(x, 0, 255) + 0.5 if np.asarray(x).dtype.kind == "f" else x).astype(
        np.uint8
    )


def _f32(x: Any) -> F32:
    return np.asarray(x, dtype=np.float32)


def _clamp(strength: float) -> float:
    return float(min(1.0, max(0.0, strength)))


def _finish(original: U8, styled: F32 | U8, strength: float) -> U8:
    """Mix the stylised picture over the original: fully from strength 0.5 on."""
    weight = min(1.0, 2.0 * strength)
    out = _f32(styled)
    if weight < 1.0:
        out = _f32(original) * (1.0 - weight) + out * weight
    return _u8(out)


def _unit(size: tuple[int, int]) -> float:
    """Length scale: 1.0 for a 512-pixel short side."""
    return max(0.25, min(size) / 512.0)


def _reduce(img: U8, side: int = WORK_SIDE) -> U8:
    h, w = img.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return img
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return _u8(cv2.resize(img, size, interpolation=cv2.INTER_AREA))


def _resize(img: npt.NDArray[Any], shape: tuple[int, ...]) -> npt.NDArray[Any]:
    h, w = shape[:2]
    if img.shape[:2] == (h, w):
        return img
    return np.asarray(cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR))


def _grey(img: U8) -> F32:
    return _f32(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)) / 255.0


def noise(shape: tuple[int, int], seed: int, scale: float, octaves: int = 3) -> F32:
    """Smooth fractal value noise in 0..1 with features about ``scale`` pixels wide."""
    h, w = shape
    rng = np.random.default_rng(seed)
    total = np.zeros((h, w), np.float32)
    weight_sum = 0.0
    for octave in range(octaves):
        cell = max(1.0, scale / (2**octave))
        gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
        grid = rng.random((gh, gw), dtype=np.float32)
        layer = cv2.resize(grid, (int(gw * cell), int(gh * cell)), interpolation=cv2.INTER_CUBIC)
        weight = 0.5**octave
        total += weight * _f32(layer[:h, :w])
        weight_sum += weight
    out = total / weight_sum
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)


def palette(img: U8, k: int, seed: int, samples: int = 12000, iters: int = 12) -> F32:
    """``k`` representative colours by k-means on a seeded sample of pixels (sorted by light)."""
    pixels = _f32(img.reshape(-1, 3))
    rng = np.random.default_rng(seed)
    sample = pixels[rng.integers(0, len(pixels), min(samples, len(pixels)))]
    centres = sample[rng.choice(len(sample), size=min(k, len(sample)), replace=False)]
    for _ in range(iters):
        dist = ((sample[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        label = dist.argmin(axis=1)
        for i in range(len(centres)):
            members = sample[label == i]
            if len(members):
                centres[i] = members.mean(axis=0)
    return centres[np.argsort(centres.sum(axis=1))]


def quantise(img: U8, centres: F32) -> U8:
    """Map every pixel to its nearest centre through a 32x32x32 lookup cube (fast)."""
    axis = np.arange(32, dtype=np.float32) * 8.0 + 4.0
    cube = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    nearest = np.zeros(len(cube), np.int64)
    best = np.full(len(cube), np.inf, np.float32)
    for i, c in enumerate(centres):
        d = ((cube - c) ** 2).sum(axis=1)
        better = d < best
        best[better], nearest[better] = d[better], i
    lut = _u8(centres)[nearest]
    idx = (img[:, :, 0] >> 3).astype(np.int32) << 10
    idx |= (img[:, :, 1] >> 3).astype(np.int32) << 5
    idx |= (img[:, :, 2] >> 3).astype(np.int32)
    return np.asarray(lut[idx], dtype=np.uint8)


def _smooth(img: U8, passes: int, sigma_color: float) -> U8:
    """Repeated small bilateral filtering: flattens regions, keeps their borders."""
    out = img
    for _ in range(passes):
        out = _u8(cv2.bilateralFilter(out, 7, sigma_color, 5))
    return out


def _edge_lines(grey: F32, block: int, c: float, min_area: int = 0) -> F32:
    """Dark-line mask (0..1) by adaptive thresholding a median-cleaned grey picture; line
    pieces smaller than ``min_area`` pixels (texture specks) are dropped."""
    g8 = _u8(cv2.medianBlur(_u8(grey * 255.0), 5))
    block = block | 1
    binary = cv2.adaptiveThreshold(
        g8, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, c
    )
    if min_area > 0:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        keep = stats[:, cv2.CC_STAT_AREA] >= min_area
        keep[0] = False
        binary = np.where(keep[labels], np.uint8(255), np.uint8(0))
    lines = _f32(binary) / 255.0
    return _f32(cv2.GaussianBlur(lines, (0, 0), 0.7))


def _sobel(grey: F32) -> F32:
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return _f32(np.sqrt(gx * gx + gy * gy))


def _saturate(rgb: F32, amount: float) -> F32:
    grey = rgb.mean(axis=2, keepdims=True)
    return _f32(grey + (rgb - grey) * amount)


# -- filters ---------------------------------------------------------------------------------
def cartoon(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """Flat colour regions (edge-preserving smoothing + k-means palette) with inked outlines."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    unit = _unit(img.shape[:2])
    small = _u8(cv2.edgePreservingFilter(_reduce(img), flags=1, sigma_s=40, sigma_r=0.25 + 0.2 * s))
    small = _u8(cv2.medianBlur(_smooth(small, 1 + round(2 * s), 30 + 40 * s), 5))
    flat = _resize(small, img.shape)
    colours = quantise(flat, palette(_reduce(small, 256), round(20 - 12 * s), seed))
    colours = _u8(cv2.medianBlur(colours, 3 + 2 * round(unit)))
    lines = _edge_lines(
        _grey(img), round(9 * max(1.0, unit)), 5.0 + 4.0 * (1.0 - s), round(40 * unit**2)
    )
    if s > 0.5:
        lines = _f32(cv2.dilate(lines, np.ones((2, 2), np.uint8), iterations=round(unit * s)))
    ink = 1.0 - 0.9 * np.clip(lines, 0, 1)[:, :, None]
    return _finish(img, _f32(colours) * ink, s)


def sketch(
    image: U8 | Image.Image, strength: float = 0.6, seed: int = 0, colour: bool = False
) -> U8:
    """Pencil drawing: colour-dodge outlines plus seeded hatching in the shadows.

    The grey version has equal channels; ``colour=True`` tints the strokes with the picture's
    own (lightened) colours, like coloured pencils."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    h, w = img.shape[:2]
    unit = _unit((h, w))
    grey = _grey(img)
    blur = _f32(cv2.GaussianBlur(1.0 - grey, (0, 0), (2.0 + 6.0 * s) * unit))
    dodge = np.clip(grey / np.maximum(1.0 - blur, 1e-3), 0.0, 1.0)
    lines = dodge ** (1.5 + 3.0 * s)
    # hatching: seeded noise smeared along a diagonal, shown where the picture is dark
    length = max(3, round(9 * unit)) | 1
    kernel = np.eye(length, dtype=np.float32)[::-1] / length
    rng = np.random.default_rng(seed)
    strokes = _f32(cv2.filter2D(rng.random((h, w), dtype=np.float32), -1, kernel))
    strokes = np.clip((strokes - strokes.mean()) * 6.0 + 0.5, 0.0, 1.0)
    tone = _f32(cv2.GaussianBlur(grey, (0, 0), 3.0 * unit))
    shade = np.clip((0.65 - tone) / 0.65, 0.0, 1.0) * (0.35 + 0.4 * s)
    pencil = lines * (1.0 - shade * strokes)
    paper = 0.97 + 0.03 * noise((h, w), seed + 1, 3.0 * unit, 2)
    value = (pencil * paper)[:, :, None]
    if not colour:
        return _finish(img, np.repeat(value * 255.0, 3, axis=2), s)
    tint = np.clip(_saturate(_f32(img) / 255.0, 1.4), 0.0, 1.0)
    coverage = (0.35 + 0.45 * strokes + 0.2 * (1.0 - tone))[:, :, None]  # paper shows through
    tint = 1.0 - (1.0 - tint) * np.clip(coverage, 0.0, 1.0)
    return _finish(img, 255.0 * value * tint, s)


def colour_pencil(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    return sketch(image, strength, seed, colour=True)


def watercolour(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """Transparent washes: abstraction, wet bleeds, granulation, pooled rims, paper grain."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    h, w = img.shape[:2]
    unit = _unit((h, w))
    small = _reduce(img)
    sh, sw = small.shape[:2]
    spread = (15 + 35 * s) * _unit((sh, sw))
    wash = _u8(cv2.edgePreservingFilter(small, flags=1, sigma_s=spread, sigma_r=0.25 + 0.2 * s))
    wash = _u8(cv2.medianBlur(wash, 5))
    # wet-in-wet: some areas bleed softly, displaced along low-frequency noise
    amp = (1.0 + 3.0 * s) * sw / 512.0
    dx = (noise((sh, sw), seed, sw / 10, 2) - 0.5) * 2 * amp
    dy = (noise((sh, sw), seed + 7, sw / 10, 2) - 0.5) * 2 * amp
    gx, gy = np.meshgrid(np.arange(sw, dtype=np.float32), np.arange(sh, dtype=np.float32))
    wash = _u8(cv2.remap(wash, gx + dx, gy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    wet = np.clip((noise((sh, sw), seed + 5, sw / 6, 2) - 0.45) * 4.0, 0.0, 1.0)[:, :, None]
    soft = _f32(cv2.GaussianBlur(wash, (0, 0), 2.0 + 3.0 * s))
    layers = _f32(quantise(wash, palette(wash, round(28 - 12 * s), seed)))
    layers = _f32(cv2.GaussianBlur(layers, (0, 0), 0.8))
    wash_f = _f32(wash) * (0.6 - 0.2 * s) + layers * (0.4 + 0.2 * s)
    wash_f = wash_f * (1.0 - wet * s) + soft * (wet * s)
    colour = _f32(_resize(wash_f, (h, w))) / 255.0
    # pigment density: turbulence, granulation, and pigment pooled along wash borders
    border = _sobel(_f32(_resize(layers.mean(axis=2), (h, w))) / 255.0)
    rims = _f32(cv2.GaussianBlur(np.clip(border * 3.0, 0.0, 1.0), (0, 0), 1.2 * unit))
    turbulence = noise((h, w), seed + 2, 80 * unit, 3) - 0.5
    grain = noise((h, w), seed + 3, 2.0 * unit, 2) - 0.5
    density = 1.0 + (0.6 * turbulence + 0.8 * grain + 0.6 * rims) * (0.4 + 0.6 * s)
    colour = colour - (colour - colour * colour) * (density[:, :, None] - 1.0)
    colour = 1.0 - (1.0 - np.clip(colour, 0.0, 1.0)) * (1.0 - 0.06 * s)  # transparency
    tooth = _f32(cv2.GaussianBlur(noise((h, w), seed + 4, 4.0 * unit, 2), (0, 0), 1.0))
    relief = _f32(cv2.Sobel(tooth, cv2.CV_32F, 1, 0) + cv2.Sobel(tooth, cv2.CV_32F, 0, 1))
    paper = 1.0 + np.clip(relief * 1.5, -0.03, 0.03)[:, :, None]
    return _finish(img, np.clip(colour * paper, 0.0, 1.0) * 255.0, s)


def _kuwahara(img: F32, radius: float, q: float = 4.0) -> F32:
    """Generalised Kuwahara: four Gaussian-weighted quadrant means, each weighted by
    ``std ** -q``, so every pixel takes the colour of its most uniform neighbourhood."""
    sigma = max(0.8, radius / 2.0)
    grey = img.mean(axis=2)
    mean = _f32(cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REFLECT))
    g1 = _f32(cv2.GaussianBlur(grey, (0, 0), sigma, borderType=cv2.BORDER_REFLECT))
    g2 = _f32(cv2.GaussianBlur(grey * grey, (0, 0), sigma, borderType=cv2.BORDER_REFLECT))
    std = np.sqrt(np.maximum(g2 - g1 * g1, 0.0)) + 2e-3
    d = max(1, round(radius / 2))
    pad_m = cv2.copyMakeBorder(mean, d, d, d, d, cv2.BORDER_REFLECT)
    pad_s = cv2.copyMakeBorder(std, d, d, d, d, cv2.BORDER_REFLECT)
    h, w = grey.shape
    acc = np.zeros_like(img)
    weights = np.zeros((h, w, 1), np.float32)
    for oy in (0, 2 * d):
        for ox in (0, 2 * d):
            wq = _f32(pad_s[oy : oy + h, ox : ox + w])[:, :, None] ** -q
            acc += wq * pad_m[oy : oy + h, ox : ox + w]
            weights += wq
    return _f32(acc / weights)


def _brush_strokes(grey: F32, seed: int, length: int) -> F32:
    """Noise smeared along the picture's contours (structure-tensor tangent, 8 directions)."""
    h, w = grey.shape
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    sig = max(2.0, w / 48)
    # a weak diagonal bias gives flat, featureless areas one steady stroke direction
    bias = 0.15 * float((gx * gx + gy * gy).mean()) + 1e-6
    jxx = _f32(cv2.GaussianBlur(gx * gx, (0, 0), sig)) + bias
    jyy = _f32(cv2.GaussianBlur(gy * gy, (0, 0), sig)) + bias
    jxy = _f32(cv2.GaussianBlur(gx * gy, (0, 0), sig)) + bias
    angle = 0.5 * np.arctan2(2 * jxy, jxx - jyy) + np.pi / 2  # along the edges
    bins = np.round(angle / (np.pi / 8)).astype(np.int32) % 8
    rng = np.random.default_rng(seed)
    base = _f32(cv2.GaussianBlur(rng.random((h, w), dtype=np.float32), (0, 0), 0.9))
    out = np.zeros((h, w), np.float32)
    c = length // 2
    for b in range(8):
        kernel = np.zeros((length, length), np.float32)
        dx, dy = np.cos(b * np.pi / 8) * c, np.sin(b * np.pi / 8) * c
        cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1)
        kernel /= kernel.sum()
        out = np.where(bins == b, _f32(cv2.filter2D(base, -1, kernel)), out)
    out -= out.mean()
    return _f32(np.clip(out / (3.0 * float(out.std()) + 1e-6) + 0.5, 0.0, 1.0))


def oil(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """Oil paint: Kuwahara colour patches, brush strokes along contours, lit impasto."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    h, w = img.shape[:2]
    small = _f32(_reduce(img)) / 255.0
    small_unit = _unit(small.shape[:2])
    paint = _kuwahara(small, (2 + 4 * s) * small_unit)
    paint = _kuwahara(paint, (1.5 + 2 * s) * small_unit)
    paint = np.clip(_saturate(paint, 1.1 + 0.2 * s), 0.0, 1.0)
    length = max(5, round((9 + 8 * s) * small_unit)) | 1
    strokes = _brush_strokes(paint.mean(axis=2), seed, length)
    height = _f32(cv2.GaussianBlur(strokes, (0, 0), 0.6)) * (0.4 + 0.4 * s)
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3)
    shade = (0.98 + 0.04 * strokes) * (1.0 - np.clip(_f32(gx + gy) * 0.25, -0.04, 0.04))
    paint = _f32(_resize(paint * shade[:, :, None], (h, w)))
    return _finish(img, np.clip(paint, 0, 1) * 255.0, s)


def ink_wash(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """水墨 ink wash: a few soft grey washes, bleeding brush lines, warm rice paper."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    h, w = img.shape[:2]
    unit = _unit((h, w))
    small = _reduce(img)
    flat = _grey(_u8(cv2.edgePreservingFilter(small, flags=1, sigma_s=40, sigma_r=0.35)))
    lo, hi = np.percentile(flat, [3, 97])
    flat = np.clip((flat - lo) / max(float(hi - lo), 0.05), 0.0, 1.0)
    levels = 3 + round(2 * (1.0 - s))
    ink_small = np.floor((1.0 - flat) ** (1.6 + 0.8 * s) * levels + 0.35) / levels
    ink_small = _f32(cv2.GaussianBlur(ink_small, (0, 0), 2.0))
    # ink pools along the rim of each wash, and soaks unevenly into the paper
    pooled = np.clip(ink_small - _f32(cv2.GaussianBlur(ink_small, (0, 0), 6.0)), 0.0, 1.0)
    ink = _f32(_resize(ink_small * 0.8 + pooled * 1.5, (h, w)))
    bleed = noise((h, w), seed + 1, 40 * unit, 3)
    lines = _edge_lines(_resize(flat, (h, w)), round(15 * unit), 5.0, round(60 * unit**2))
    dry = noise((h, w), seed, 5 * unit, 2)
    lines = _f32(cv2.GaussianBlur(lines * np.clip(dry * 1.6 - 0.1, 0, 1), (0, 0), 1.0 * unit))
    ink = np.clip(ink * (0.8 + 0.4 * bleed) + lines * (0.6 + 0.3 * s), 0.0, 1.0)
    fibre = noise((h, w), seed + 2, 1.5 * unit, 2)
    paper = np.array([0.96, 0.94, 0.88], np.float32) * (0.97 + 0.03 * fibre)[:, :, None]
    ink_colour = np.array([0.08, 0.08, 0.1], np.float32)
    out = paper * (1.0 - ink[:, :, None]) + ink_colour * ink[:, :, None]
    return _finish(img, out * 255.0, s)


_POP_PALETTES: tuple[tuple[str, ...], ...] = (
    ("1a1a40", "e6194b", "ffd400", "fff6e0"),
    ("101820", "0077c8", "ff5fa2", "fff200"),
    ("2b0f3a", "ff6b00", "33c4c4", "fdf3c8"),
    ("111111", "7a1fa2", "00b050", "ffe066"),
)


def pop_art(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """Pop art: posterised into bold flat inks, Ben-Day halftone dots and black outlines."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    h, w = img.shape[:2]
    unit = _unit((h, w))
    flat = _resize(_smooth(_reduce(img), 3, 60), (h, w))
    grey = _grey(flat)
    eq = _f32(cv2.equalizeHist(_u8(grey * 255.0))) / 255.0
    hexes = _POP_PALETTES[seed % len(_POP_PALETTES)]
    inks = np.array([[int(c[i : i + 2], 16) for i in (0, 2, 4)] for c in hexes], np.float32)
    level = np.clip((eq * 4).astype(np.int32), 0, 3)
    out = inks[level]
    # halftone dots (45°) in the second-lightest band, darker dots of the next ink
    cell = (5.0 + 4.0 * s) * unit
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = (xx + yy) / (cell * 1.414), (xx - yy) / (cell * 1.414)
    dist = np.hypot(u - np.round(u), v - np.round(v))
    band = (eq * 4 - level).astype(np.float32)  # position inside the band
    radius = 0.45 * np.sqrt(1.0 - band)
    dots = np.clip((radius - dist) * cell, 0.0, 1.0)[:, :, None]
    mid = (level == 2)[:, :, None]
    out = np.where(mid, out * (1 - dots) + inks[1] * dots, out)
    lines = _edge_lines(grey, round(11 * unit), 3.0)
    lines = _f32(cv2.dilate(lines, np.ones((2, 2), np.uint8), iterations=max(1, round(unit))))
    out = out * (1.0 - np.clip(lines, 0.0, 1.0)[:, :, None]) + inks[0] * lines[:, :, None] * 0.2
    return _finish(img, out, s)


def pixel_art(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """Pixel art: big square pixels, a small k-means palette and light ordered dithering."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    h, w = img.shape[:2]
    block = max(2, round(min(h, w) / (160 - 120 * s)))
    gh, gw = -(-h // block), -(-w // block)
    small = _f32(cv2.resize(img, (gw, gh), interpolation=cv2.INTER_AREA))
    small = np.clip(_saturate(small, 1.25), 0, 255)
    bayer = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], np.float32)
    dither = (np.tile(bayer, (gh // 4 + 1, gw // 4 + 1))[:gh, :gw] / 16.0 - 0.5) * 18.0
    small_u8 = _u8(small + dither[:, :, None])
    pal = palette(_u8(small), round(24 - 16 * s), seed)
    cells = quantise(small_u8, pal)
    big = np.repeat(np.repeat(cells, block, axis=0), block, axis=1)[:h, :w]
    return _finish(img, big, s)


def vintage(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """Old print: faded warm tones, partial sepia, soft focus, vignette, grain, a light leak."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    h, w = img.shape[:2]
    unit = _unit((h, w))
    rgb = _f32(cv2.GaussianBlur(img, (0, 0), 0.6 * unit)) / 255.0
    luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    sepia = luma[:, :, None] * np.array([1.07, 0.86, 0.62], np.float32)
    rgb = rgb * (1.0 - 0.6 * s) + sepia * (0.6 * s)
    rgb = _saturate(rgb, 1.0 - 0.3 * s)
    lift, top = 0.06 + 0.1 * s, 0.95 - 0.05 * s
    rgb = lift + (top - lift) * np.clip(rgb, 0.0, 1.0) ** 0.95
    rgb = rgb * np.array([1.04, 1.0, 0.9], np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2) * 2.0
    vignette = 1.0 - (0.25 + 0.35 * s) * np.clip(r2, 0.0, 1.0) ** 1.5
    rng = np.random.default_rng(seed)
    lx, ly = rng.choice([0.0, 1.0]), rng.random()
    leak = np.exp(-((xx / w - lx) ** 2 + (yy / h - ly) ** 2) / 0.08) * 0.25 * s
    rgb = rgb * vignette[:, :, None] + leak[:, :, None] * np.array([1.0, 0.45, 0.15], np.float32)
    grain = _f32(cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 0.7))
    rgb = rgb + (0.03 + 0.05 * s) * grain[:, :, None]
    return _finish(img, np.clip(rgb, 0.0, 1.0) * 255.0, s)


#: Filters by style id.
STYLES: dict[str, StyleFilter] = {
    "cartoon": cartoon,
    "sketch": sketch,
    "colour_pencil": colour_pencil,
    "watercolour": watercolour,
    "oil": oil,
    "ink_wash": ink_wash,
    "pop_art": pop_art,
    "pixel_art": pixel_art,
    "vintage": vintage,
}


def apply(style: str, image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """Apply the filter named ``style`` (a key of :data:`STYLES`)."""
    try:
        fn = STYLES[style]
    except KeyError:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(STYLES)}") from None
    return fn(as_rgb(image), strength, seed)
