"""Dominant colours: k-means over the pixels, each centre named in English and Chinese.

The image is reduced to at most 96 x 96 pixels (transparent ones ignored) and clustered in
CIE Lab (perceptual distances) by k-means with a seeded k-means++ start, so the same image
always gives the same answer. Each centre takes the name of the nearest colour of
:data:`PALETTE` (also in Lab); centres with the same name are merged. Colours are reported
largest share first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from atelier.library.analysis import Color

SAMPLE_SIDE = 96
ITERATIONS = 12


@dataclass(frozen=True)
class Named:
    name: str
    name_zh: str
    rgb: tuple[int, int, int]


PALETTE: tuple[Named, ...] = (
    Named("black", "黑色", (0, 0, 0)),
    Named("dark gray", "深灰色", (64, 64, 64)),
    Named("gray", "灰色", (128, 128, 128)),
    Named("light gray", "浅灰色", (200, 200, 200)),
    Named("white", "白色", (255, 255, 255)),
    Named("red", "红色", (220, 20, 30)),
    Named("dark red", "深红色", (128, 0, 0)),
    Named("orange", "橙色", (255, 140, 0)),
    Named("yellow", "黄色", (255, 225, 0)),
    Named("gold", "金色", (212, 175, 55)),
    Named("olive", "橄榄绿", (128, 128, 0)),
    Named("green", "绿色", (30, 170, 50)),
    Named("dark green", "深绿色", (0, 90, 30)),
    Named("teal", "蓝绿色", (0, 128, 128)),
    Named("cyan", "青色", (0, 210, 220)),
    Named("sky blue", "天蓝色", (135, 206, 235)),
    Named("blue", "蓝色", (20, 60, 230)),
    Named("navy", "藏青色", (0, 0, 110)),
    Named("purple", "紫色", (128, 40, 160)),
    Named("magenta", "品红色", (230, 0, 230)),
    Named("pink", "粉色", (255, 170, 200)),
    Named("brown", "棕色", (130, 75, 30)),
    Named("beige", "米色", (225, 210, 175)),
)


def rgb_to_lab(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    """sRGB values in 0..255, shape (..., 3) -> CIE Lab (D65)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
         [0.0193339, 0.1191920, 0.9503041]]
    )  # fmt: skip
    xyz = linear @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


_PALETTE_LAB = rgb_to_lab(np.array([p.rgb for p in PALETTE], dtype=np.float64))


def nearest_name(rgb: tuple[int, int, int]) -> Named:
    lab = rgb_to_lab(np.array(rgb, dtype=np.float64))
    return PALETTE[int(np.argmin(((_PALETTE_LAB - lab) ** 2).sum(axis=1)))]


def _pixels(image: Image.Image) -> NDArray[np.float64]:
    small = image.copy()
    small.thumbnail((SAMPLE_SIDE, SAMPLE_SIDE), Image.Resampling.BILINEAR)
    rgba = np.asarray(small.convert("RGBA"), dtype=np.float64).reshape(-1, 4)
    opaque = rgba[rgba[:, 3] >= 128, :3]
    return opaque if len(opaque) else rgba[:, :3]


def kmeans(
    points: NDArray[np.float64], k: int, *, iterations: int = ITERATIONS, seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Centres and labels of ``points`` (k-means++ start from a seeded generator)."""
    rng = np.random.default_rng(seed)
    k = max(1, min(k, len(np.unique(points, axis=0))))
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = np.min(((points[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        total = d2.sum()
        pick = rng.choice(len(points), p=d2 / total) if total > 0 else rng.integers(len(points))
        centres.append(points[pick])
    c = np.array(centres)
    labels = np.zeros(len(points), dtype=np.int64)
    for _ in range(iterations):
        labels = np.argmin(((points[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
        moved = np.array(
            [points[labels == j].mean(axis=0) if np.any(labels == j) else c[j] for j in range(k)]
        )
        if np.allclose(moved, c):
            break
        c = moved
    return c, labels


def dominant_colors(image: Image.Image, count: int = 5, *, min_share: float = 0.02) -> list[Color]:
    """Up to ``count`` named colours with their share of the image, largest first."""
    rgb = _pixels(image)
    lab = rgb_to_lab(rgb)
    centres, labels = kmeans(lab, count + 2)
    shares: dict[str, tuple[Named, float, NDArray[np.float64]]] = {}
    for j in range(len(centres)):
        members = labels == j
        share = float(members.mean())
        if share == 0:
            continue
        mean_rgb = rgb[members].mean(axis=0)
        named = nearest_name((int(mean_rgb[0]), int(mean_rgb[1]), int(mean_rgb[2])))
        previous = shares.get(named.name)
        if previous is None:
            shares[named.name] = (named, share, mean_rgb * share)
        else:
            shares[named.name] = (named, previous[1] + share, previous[2] + mean_rgb * share)
    result = []
    for named, share, weighted in sorted(shares.values(), key=lambda item: -item[1])[:count]:
        if share < min_share:
            continue
        r, g, b = (round(float(v)) for v in weighted / share)
        result.append(
            Color(
                hex=f"#{r:02x}{g:02x}{b:02x}",
                name=named.name,
                name_zh=named.name_zh,
                fraction=round(share, 4),
            )
        )
    return result
