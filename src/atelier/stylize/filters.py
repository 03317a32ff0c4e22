"""Classical stylisation filters: pure, deterministic functions on RGB images.

Every filter takes an RGB image (``uint8`` array ``HxWx3`` or a PIL image), a ``strength`` in
0..1 and a ``seed``, and returns a new ``uint8`` RGB array of the same size. ``strength`` 0
returns the input unchanged; up to 0.5 the stylised picture is mixed in progressively; above
0.5 the picture is fully stylised and the parameters (colour count, line weight, texture,
brush size…) keep growing. The seed only moves textures, palettes and noise, so the same
input, strength and seed always give the same pixels.

Heavy edge-preserving smoothing runs on a copy reduced to
:data:`~atelier.stylize.raster.WORK_SIDE` pixels and is brought back to full size, where the
crisp parts (lines, dots, palette mapping) are drawn, so each filter stays well under half a
second at 1024x1024 on one slow core. The low-level helpers live in :mod:`atelier.stylize.raster`.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from atelier.stylize.raster import (
    F32,
    U8,
    as_rgb,
    edge_lines,
    length_unit,
    noise,
    palette,
    quantise,
    resize_to,
    saturate,
    shrink,
    smooth,
    sobel_magnitude,
    to_f32,
    to_grey,
    to_u8,
)

__all__ = [
    "F32",
    "STYLES",
    "U8",
    "StyleFilter",
    "apply",
    "as_rgb",
    "cartoon",
    "colour_pencil",
    "ink_wash",
    "noise",
    "oil",
    "palette",
    "pixel_art",
    "pop_art",
    "quantise",
    "sketch",
    "vintage",
    "watercolour",
]

#: ``filter(image, strength, seed) -> image``
StyleFilter = Callable[[U8, float, int], U8]


# -- helpers ---------------------------------------------------------------------------------
def _clamp(strength: float) -> float:
    return float(min(1.0, max(0.0, strength)))


def _finish(original: U8, styled: F32 | U8, strength: float) -> U8:
    """Mix the stylised picture over the original: fully from strength 0.5 on."""
    weight = min(1.0, 2.0 * strength)
    out = to_f32(styled)
    if weight < 1.0:
        out = to_f32(original) * (1.0 - weight) + out * weight
    return to_u8(out)


# -- filters ---------------------------------------------------------------------------------
def cartoon(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """Flat colour regions (edge-preserving smoothing + k-means palette) with inked outlines."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    unit = length_unit(img.shape[:2])
    small = to_u8(
        cv2.edgePreservingFilter(shrink(img), flags=1, sigma_s=40, sigma_r=0.25 + 0.2 * s)
    )
    small = to_u8(cv2.medianBlur(smooth(small, 1 + round(2 * s), 30 + 40 * s), 5))
    flat = resize_to(small, img.shape)
    colours = quantise(flat, palette(shrink(small, 256), round(20 - 12 * s), seed))
    colours = to_u8(cv2.medianBlur(colours, 3 + 2 * round(unit)))
    lines = edge_lines(
        to_grey(img), round(9 * max(1.0, unit)), 5.0 + 4.0 * (1.0 - s), round(40 * unit**2)
    )
    if s > 0.5:
        lines = to_f32(cv2.dilate(lines, np.ones((2, 2), np.uint8), iterations=round(unit * s)))
    ink = 1.0 - 0.9 * np.clip(lines, 0, 1)[:, :, None]
    return _finish(img, to_f32(colours) * ink, s)


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
    unit = length_unit((h, w))
    grey = to_grey(img)
    blur = to_f32(cv2.GaussianBlur(1.0 - grey, (0, 0), (2.0 + 6.0 * s) * unit))
    dodge = np.clip(grey / np.maximum(1.0 - blur, 1e-3), 0.0, 1.0)
    lines = dodge ** (1.5 + 3.0 * s)
    # hatching: seeded noise smeared along a diagonal, shown where the picture is dark
    length = max(3, round(9 * unit)) | 1
    kernel = np.eye(length, dtype=np.float32)[::-1] / length
    rng = np.random.default_rng(seed)
    strokes = to_f32(cv2.filter2D(rng.random((h, w), dtype=np.float32), -1, kernel))
    strokes = np.clip((strokes - strokes.mean()) * 6.0 + 0.5, 0.0, 1.0)
    tone = to_f32(cv2.GaussianBlur(grey, (0, 0), 3.0 * unit))
    shade = np.clip((0.65 - tone) / 0.65, 0.0, 1.0) * (0.35 + 0.4 * s)
    pencil = lines * (1.0 - shade * strokes)
    paper = 0.97 + 0.03 * noise((h, w), seed + 1, 3.0 * unit, 2)
    value = (pencil * paper)[:, :, None]
    if not colour:
        return _finish(img, np.repeat(value * 255.0, 3, axis=2), s)
    tint = np.clip(saturate(to_f32(img) / 255.0, 1.4), 0.0, 1.0)
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
    unit = length_unit((h, w))
    small = shrink(img)
    sh, sw = small.shape[:2]
    spread = (15 + 35 * s) * length_unit((sh, sw))
    wash = to_u8(cv2.edgePreservingFilter(small, flags=1, sigma_s=spread, sigma_r=0.25 + 0.2 * s))
    wash = to_u8(cv2.medianBlur(wash, 5))
    # wet-in-wet: some areas bleed softly, displaced along low-frequency noise
    amp = (1.0 + 3.0 * s) * sw / 512.0
    dx = (noise((sh, sw), seed, sw / 10, 2) - 0.5) * 2 * amp
    dy = (noise((sh, sw), seed + 7, sw / 10, 2) - 0.5) * 2 * amp
    gx, gy = np.meshgrid(np.arange(sw, dtype=np.float32), np.arange(sh, dtype=np.float32))
    wash = to_u8(cv2.remap(wash, gx + dx, gy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    wet = np.clip((noise((sh, sw), seed + 5, sw / 6, 2) - 0.45) * 4.0, 0.0, 1.0)[:, :, None]
    soft = to_f32(cv2.GaussianBlur(wash, (0, 0), 2.0 + 3.0 * s))
    layers = to_f32(quantise(wash, palette(wash, round(28 - 12 * s), seed)))
    layers = to_f32(cv2.GaussianBlur(layers, (0, 0), 0.8))
    wash_f = to_f32(wash) * (0.6 - 0.2 * s) + layers * (0.4 + 0.2 * s)
    wash_f = wash_f * (1.0 - wet * s) + soft * (wet * s)
    colour = to_f32(resize_to(wash_f, (h, w))) / 255.0
    # pigment density: turbulence, granulation, and pigment pooled along wash borders
    border = sobel_magnitude(to_f32(resize_to(layers.mean(axis=2), (h, w))) / 255.0)
    rims = to_f32(cv2.GaussianBlur(np.clip(border * 3.0, 0.0, 1.0), (0, 0), 1.2 * unit))
    turbulence = noise((h, w), seed + 2, 80 * unit, 3) - 0.5
    grain = noise((h, w), seed + 3, 2.0 * unit, 2) - 0.5
    density = 1.0 + (0.6 * turbulence + 0.8 * grain + 0.6 * rims) * (0.4 + 0.6 * s)
    colour = colour - (colour - colour * colour) * (density[:, :, None] - 1.0)
    colour = 1.0 - (1.0 - np.clip(colour, 0.0, 1.0)) * (1.0 - 0.06 * s)  # transparency
    tooth = to_f32(cv2.GaussianBlur(noise((h, w), seed + 4, 4.0 * unit, 2), (0, 0), 1.0))
    relief = to_f32(cv2.Sobel(tooth, cv2.CV_32F, 1, 0) + cv2.Sobel(tooth, cv2.CV_32F, 0, 1))
    paper = 1.0 + np.clip(relief * 1.5, -0.03, 0.03)[:, :, None]
    return _finish(img, np.clip(colour * paper, 0.0, 1.0) * 255.0, s)


def _kuwahara(img: F32, radius: float, q: float = 4.0) -> F32:
    """Generalised Kuwahara: four Gaussian-weighted quadrant means, each weighted by
    ``std ** -q``, so every pixel takes the colour of its most uniform neighbourhood."""
    sigma = max(0.8, radius / 2.0)
    grey = img.mean(axis=2)
    mean = to_f32(cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REFLECT))
    g1 = to_f32(cv2.GaussianBlur(grey, (0, 0), sigma, borderType=cv2.BORDER_REFLECT))
    g2 = to_f32(cv2.GaussianBlur(grey * grey, (0, 0), sigma, borderType=cv2.BORDER_REFLECT))
    std = np.sqrt(np.maximum(g2 - g1 * g1, 0.0)) + 2e-3
    d = max(1, round(radius / 2))
    pad_m = cv2.copyMakeBorder(mean, d, d, d, d, cv2.BORDER_REFLECT)
    pad_s = cv2.copyMakeBorder(std, d, d, d, d, cv2.BORDER_REFLECT)
    h, w = grey.shape
    acc = np.zeros_like(img)
    weights = np.zeros((h, w, 1), np.float32)
    for oy in (0, 2 * d):
        for ox in (0, 2 * d):
            wq = to_f32(pad_s[oy : oy + h, ox : ox + w])[:, :, None] ** -q
            acc += wq * pad_m[oy : oy + h, ox : ox + w]
            weights += wq
    return to_f32(acc / weights)


def _brush_strokes(grey: F32, seed: int, length: int) -> F32:
    """Noise smeared along the picture's contours (structure-tensor tangent, 8 directions)."""
    h, w = grey.shape
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    sig = max(2.0, w / 48)
    # a weak diagonal bias gives flat, featureless areas one steady stroke direction
    bias = 0.15 * float((gx * gx + gy * gy).mean()) + 1e-6
    jxx = to_f32(cv2.GaussianBlur(gx * gx, (0, 0), sig)) + bias
    jyy = to_f32(cv2.GaussianBlur(gy * gy, (0, 0), sig)) + bias
    jxy = to_f32(cv2.GaussianBlur(gx * gy, (0, 0), sig)) + bias
    angle = 0.5 * np.arctan2(2 * jxy, jxx - jyy) + np.pi / 2  # along the edges
    bins = np.round(angle / (np.pi / 8)).astype(np.int32) % 8
    rng = np.random.default_rng(seed)
    base = to_f32(cv2.GaussianBlur(rng.random((h, w), dtype=np.float32), (0, 0), 0.9))
    out = np.zeros((h, w), np.float32)
    c = length // 2
    for b in range(8):
        kernel = np.zeros((length, length), np.float32)
        dx, dy = np.cos(b * np.pi / 8) * c, np.sin(b * np.pi / 8) * c
        cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1)
        kernel /= kernel.sum()
        out = np.where(bins == b, to_f32(cv2.filter2D(base, -1, kernel)), out)
    out -= out.mean()
    return to_f32(np.clip(out / (3.0 * float(out.std()) + 1e-6) + 0.5, 0.0, 1.0))


def oil(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """Oil paint: Kuwahara colour patches, brush strokes along contours, lit impasto."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    h, w = img.shape[:2]
    small = to_f32(shrink(img)) / 255.0
    small_unit = length_unit(small.shape[:2])
    paint = _kuwahara(small, (2 + 4 * s) * small_unit)
    paint = _kuwahara(paint, (1.5 + 2 * s) * small_unit)
    paint = np.clip(saturate(paint, 1.1 + 0.2 * s), 0.0, 1.0)
    length = max(5, round((9 + 8 * s) * small_unit)) | 1
    strokes = _brush_strokes(paint.mean(axis=2), seed, length)
    height = to_f32(cv2.GaussianBlur(strokes, (0, 0), 0.6)) * (0.4 + 0.4 * s)
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3)
    shade = (0.98 + 0.04 * strokes) * (1.0 - np.clip(to_f32(gx + gy) * 0.25, -0.04, 0.04))
    paint = to_f32(resize_to(paint * shade[:, :, None], (h, w)))
    return _finish(img, np.clip(paint, 0, 1) * 255.0, s)


def ink_wash(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """水墨 ink wash: a few soft grey washes, bleeding brush lines, warm rice paper."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    h, w = img.shape[:2]
    unit = length_unit((h, w))
    small = shrink(img)
    flat = to_grey(to_u8(cv2.edgePreservingFilter(small, flags=1, sigma_s=40, sigma_r=0.35)))
    lo, hi = np.percentile(flat, [3, 97])
    flat = np.clip((flat - lo) / max(float(hi - lo), 0.05), 0.0, 1.0)
    levels = 3 + round(2 * (1.0 - s))
    ink_small = np.floor((1.0 - flat) ** (1.6 + 0.8 * s) * levels + 0.35) / levels
    ink_small = to_f32(cv2.GaussianBlur(ink_small, (0, 0), 2.0))
    # ink pools along the rim of each wash, and soaks unevenly into the paper
    pooled = np.clip(ink_small - to_f32(cv2.GaussianBlur(ink_small, (0, 0), 6.0)), 0.0, 1.0)
    ink = to_f32(resize_to(ink_small * 0.8 + pooled * 1.5, (h, w)))
    bleed = noise((h, w), seed + 1, 40 * unit, 3)
    lines = edge_lines(resize_to(flat, (h, w)), round(15 * unit), 5.0, round(60 * unit**2))
    dry = noise((h, w), seed, 5 * unit, 2)
    lines = to_f32(cv2.GaussianBlur(lines * np.clip(dry * 1.6 - 0.1, 0, 1), (0, 0), 1.0 * unit))
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
    unit = length_unit((h, w))
    flat = resize_to(smooth(shrink(img), 3, 60), (h, w))
    grey = to_grey(flat)
    eq = to_f32(cv2.equalizeHist(to_u8(grey * 255.0))) / 255.0
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
    lines = edge_lines(grey, round(11 * unit), 3.0)
    lines = to_f32(cv2.dilate(lines, np.ones((2, 2), np.uint8), iterations=max(1, round(unit))))
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
    small = to_f32(cv2.resize(img, (gw, gh), interpolation=cv2.INTER_AREA))
    small = np.clip(saturate(small, 1.25), 0, 255)
    bayer = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], np.float32)
    dither = (np.tile(bayer, (gh // 4 + 1, gw // 4 + 1))[:gh, :gw] / 16.0 - 0.5) * 18.0
    small_u8 = to_u8(small + dither[:, :, None])
    pal = palette(to_u8(small), round(24 - 16 * s), seed)
    cells = quantise(small_u8, pal)
    big = np.repeat(np.repeat(cells, block, axis=0), block, axis=1)[:h, :w]
    return _finish(img, big, s)


def vintage(image: U8 | Image.Image, strength: float = 0.6, seed: int = 0) -> U8:
    """Old print: faded warm tones, partial sepia, soft focus, vignette, grain, a light leak."""
    img, s = as_rgb(image), _clamp(strength)
    if s == 0.0:
        return img.copy()
    h, w = img.shape[:2]
    unit = length_unit((h, w))
    rgb = to_f32(cv2.GaussianBlur(img, (0, 0), 0.6 * unit)) / 255.0
    luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    sepia = luma[:, :, None] * np.array([1.07, 0.86, 0.62], np.float32)
    rgb = rgb * (1.0 - 0.6 * s) + sepia * (0.6 * s)
    rgb = saturate(rgb, 1.0 - 0.3 * s)
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
    grain = to_f32(cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 0.7))
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
