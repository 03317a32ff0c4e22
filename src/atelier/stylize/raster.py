"""Low-level raster helpers shared by the classical stylisation filters.

Pure functions on ``uint8`` RGB arrays (:data:`U8`) and ``float32`` planes (:data:`F32`):
conversions, working-size reduction and resizing, seeded value noise, k-means palettes and
fast quantisation, edge-preserving smoothing, line masks and gradients. Seeded helpers are
deterministic: the same input and seed always give the same result.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]

#: Longest side of the reduced copy heavy smoothing runs on (:func:`shrink`).
WORK_SIDE = 512


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


def to_u8(x: Any) -> U8:
    """``x`` as ``uint8``: floats are clipped to 0..255 and rounded, integers cast."""
    return np.asarray(np.clip(x, 0, 255) + 0.5 if np.asarray(x).dtype.kind == "f" else x).astype(
        np.uint8
    )


def to_f32(x: Any) -> F32:
    """``x`` as a ``float32`` array."""
    return np.asarray(x, dtype=np.float32)


def length_unit(size: tuple[int, int]) -> float:
    """Length scale: 1.0 for a 512-pixel short side."""
    return max(0.25, min(size) / 512.0)


def shrink(img: U8, side: int = WORK_SIDE) -> U8:
    """``img`` scaled down (area interpolation) to at most ``side`` pixels a side."""
    h, w = img.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return img
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return to_u8(cv2.resize(img, size, interpolation=cv2.INTER_AREA))


def resize_to(img: npt.NDArray[Any], shape: tuple[int, ...]) -> npt.NDArray[Any]:
    """``img`` resized (bilinear) to the height and width of ``shape``; as is if equal."""
    h, w = shape[:2]
    if img.shape[:2] == (h, w):
        return img
    return np.asarray(cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR))


def to_grey(img: U8) -> F32:
    """The luma plane of an RGB image, 0..1."""
    return to_f32(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)) / 255.0


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
        total += weight * to_f32(layer[:h, :w])
        weight_sum += weight
    out = total / weight_sum
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)


def palette(img: U8, k: int, seed: int, samples: int = 12000, iters: int = 12) -> F32:
    """``k`` representative colours by k-means on a seeded sample of pixels (sorted by light)."""
    pixels = to_f32(img.reshape(-1, 3))
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
    lut = to_u8(centres)[nearest]
    idx = (img[:, :, 0] >> 3).astype(np.int32) << 10
    idx |= (img[:, :, 1] >> 3).astype(np.int32) << 5
    idx |= (img[:, :, 2] >> 3).astype(np.int32)
    return np.asarray(lut[idx], dtype=np.uint8)


def smooth(img: U8, passes: int, sigma_color: float) -> U8:
    """Repeated small bilateral filtering: flattens regions, keeps their borders."""
    out = img
    for _ in range(passes):
        out = to_u8(cv2.bilateralFilter(out, 7, sigma_color, 5))
    return out


def edge_lines(grey: F32, block: int, c: float, min_area: int = 0) -> F32:
    """Dark-line mask (0..1) by adaptive thresholding a median-cleaned grey picture; line
    pieces smaller than ``min_area`` pixels (texture specks) are dropped."""
    g8 = to_u8(cv2.medianBlur(to_u8(grey * 255.0), 5))
    block = block | 1
    binary = cv2.adaptiveThreshold(
        g8, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, c
    )
    if min_area > 0:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        keep = stats[:, cv2.CC_STAT_AREA] >= min_area
        keep[0] = False
        binary = np.where(keep[labels], np.uint8(255), np.uint8(0))
    lines = to_f32(binary) / 255.0
    return to_f32(cv2.GaussianBlur(lines, (0, 0), 0.7))


def sobel_magnitude(grey: F32) -> F32:
    """Gradient magnitude of a plane (3x3 Sobel)."""
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return to_f32(np.sqrt(gx * gx + gy * gy))


def saturate(rgb: F32, amount: float) -> F32:
    """Scale each pixel's distance from its grey by ``amount`` (1 keeps the colours)."""
    grey = rgb.mean(axis=2, keepdims=True)
    return to_f32(grey + (rgb - grey) * amount)
