"""Captions drawn onto photos with their ground truth: the test set of ``erase``.

:func:`draw` renders lines of text (Chinese or English, in Noto Sans SC, Noto Serif SC or the
Latin font Pillow embeds, with optional outline, soft shadow and slight rotation) onto a photo
and returns, beside the captioned picture, the exact coverage (alpha) of everything it drew and
each line's box, so a result can be scored against the clean photo. :func:`random_captions`
picks varied, readable captions for a photo. The tests and ``bench/erase.py`` use these; nothing
here is part of the erase pipeline itself.

Fonts come from the ``pylopdf-fonts-zh-cn`` package and from Pillow: no system fonts.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
FontName = Literal["sans", "serif", "latin"]
RGB = tuple[int, int, int]

EN_PHRASES = (
    "SALE 50% OFF",
    "New Arrival",
    "Limited Offer",
    "$19.99",
    "Free Shipping",
    "PhotoStock 2024",
    "www.example.com",
    "Summer Collection",
    "Best Price",
    "Call 555-0199",
    "Only Today",
    "Sample Watermark",
    "HAPPY HOLIDAYS",
    "Order Now",
    "Grand Opening",
    "Buy 1 Get 1",
)
ZH_PHRASES = (
    "限时特价",
    "新品上市",
    "全场五折",
    "包邮到家",
    "扫码关注",
    "版权所有",
    "夏季新款",
    "今日特惠",
    "欢迎光临",
    "样片水印",
    "买一送一",
    "品质保证",
    "特价 ¥199",
    "清仓大甩卖",
    "会员专享",
    "春节快乐",
)


def _font_dir() -> Path:
    spec = importlib.util.find_spec("pylopdf_fonts_zh_cn")
    if spec is None or spec.origin is None:  # pragma: no cover - a declared dependency
        raise RuntimeError("the pylopdf-fonts-zh-cn package is not installed")
    return Path(spec.origin).parent


@functools.lru_cache(maxsize=64)
def font(name: FontName, size: int) -> ImageFont.FreeTypeFont:
    """A font at ``size`` pixels: ``sans``/``serif`` (Noto SC, CJK and Latin) or ``latin``
    (Pillow's embedded Aileron, Latin only)."""
    if name == "latin":
        loaded = ImageFont.load_default(size=size)
        assert isinstance(loaded, ImageFont.FreeTypeFont)
        return loaded
    file = "NotoSansSC-Regular.otf" if name == "sans" else "NotoSerifSC-Regular.otf"
    return ImageFont.truetype(str(_font_dir() / file), size)


@dataclass(frozen=True)
class Caption:
    """One line of text and how it is drawn. ``xy`` is the top-left of the line's box."""

    text: str
    xy: tuple[int, int]
    size: int = 32
    font: FontName = "sans"
    fill: RGB = (255, 255, 255)
    bold: bool = False
    stroke: int = 0
    stroke_fill: RGB = (0, 0, 0)
    shadow: tuple[int, int] | None = None
    shadow_blur: float = 1.5
    shadow_alpha: float = 0.7
    angle: float = 0.0


@dataclass(frozen=True)
class DrawnLine:
    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of every pixel the line touched
    alpha: F32  # the line's coverage over the whole picture, 0..1


@dataclass(frozen=True)
class Drawn:
    image: U8
    alpha: F32  # coverage of all lines together, 0..1
    lines: tuple[DrawnLine, ...]

    def ink(self, threshold: float = 0.25) -> npt.NDArray[np.bool_]:
        """Pixels the text visibly covers (coverage above ``threshold``)."""
        return np.asarray(self.alpha > threshold)


def _layers(c: Caption) -> tuple[Image.Image, Image.Image, tuple[int, int]]:
    """The line drawn on its own transparent canvas: (RGBA text with outline, shadow alpha,
    offset of the canvas from ``c.xy``)."""
    f = font(c.font, c.size)
    stroke = c.stroke if c.stroke else (max(1, c.size // 24) if c.bold else 0)
    stroke_fill = c.stroke_fill if c.stroke else c.fill
    left, top, right, bottom = (round(v) for v in f.getbbox(c.text, stroke_width=stroke))
    sx, sy = c.shadow or (0, 0)
    pad = 4 + stroke + round(2 * c.shadow_blur) + max(abs(sx), abs(sy))
    size = (right - left + 2 * pad, bottom - top + 2 * pad)
    origin = (pad - left, pad - top)
    text = Image.new("RGBA", size, (*c.fill, 0))
    ImageDraw.Draw(text).text(
        origin, c.text, font=f, fill=(*c.fill, 255), stroke_width=stroke,
        stroke_fill=(*stroke_fill, 255),
    )  # fmt: skip
    shadow = Image.new("L", size, 0)
    if c.shadow is not None:
        ImageDraw.Draw(shadow).text(
            (origin[0] + sx, origin[1] + sy), c.text, font=f, fill=255, stroke_width=stroke
        )
        if c.shadow_blur > 0:
            shadow = shadow.filter(ImageFilter.GaussianBlur(c.shadow_blur))
        shadow = shadow.point(lambda v: round(v * c.shadow_alpha))
    if c.angle:
        text = text.rotate(c.angle, Image.Resampling.BICUBIC, expand=True)
        shadow = shadow.rotate(c.angle, Image.Resampling.BICUBIC, expand=True)
    return text, shadow, (-pad, -pad)


def draw(photo: U8, captions: Sequence[Caption]) -> Drawn:
    """``photo`` (RGB ``uint8``) with ``captions`` drawn in order, and their coverage."""
    h, w = photo.shape[:2]
    out = photo.astype(np.float32)
    total = np.zeros((h, w), np.float32)
    lines = []
    for c in captions:
        text, shadow, (ox, oy) = _layers(c)
        x0, y0 = c.xy[0] + ox, c.xy[1] + oy
        line_alpha = np.zeros((h, w), np.float32)
        tw, th = text.size
        # the part of the line's canvas inside the picture
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x0 + tw), min(h, y0 + th)
        if cx0 >= cx1 or cy0 >= cy1:
            continue
        crop = (cx0 - x0, cy0 - y0, cx1 - x0, cy1 - y0)
        rgba = np.asarray(text.crop(crop), np.float32) / 255.0
        a_shadow = np.asarray(shadow.crop(crop), np.float32) / 255.0
        a_text = rgba[:, :, 3]
        region = out[cy0:cy1, cx0:cx1]
        region *= (1.0 - a_shadow)[:, :, None]  # a black shadow
        region[:] = (
            region * (1.0 - a_text[:, :, None]) + rgba[:, :, :3] * 255.0 * a_text[:, :, None]
        )
        cover = 1.0 - (1.0 - a_shadow) * (1.0 - a_text)
        line_alpha[cy0:cy1, cx0:cx1] = cover
        total = np.asarray(1.0 - (1.0 - total) * (1.0 - line_alpha), np.float32)
        ys, xs = np.nonzero(line_alpha > 0.02)
        box = (
            (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
            if len(xs)
            else (cx0, cy0, cx1, cy1)
        )
        lines.append(DrawnLine(c.text, box, line_alpha))
    image = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return Drawn(image, total, tuple(lines))


def line_size(c: Caption) -> tuple[int, int]:
    """Width and height of the box ``c`` will cover (before rotation)."""
    text, _, _ = _layers(c)
    return text.size


def _luma(rgb: U8) -> float:
    return float(np.mean(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))) if rgb.size else 128.0


_BRIGHT: tuple[RGB, ...] = ((255, 255, 255), (255, 230, 40), (255, 240, 200), (120, 230, 255))
_DARK: tuple[RGB, ...] = ((0, 0, 0), (200, 20, 30), (20, 40, 140), (40, 40, 40))


def random_captions(
    photo: U8,
    rng: np.random.Generator,
    count: int = 2,
    *,
    languages: Sequence[Literal["en", "zh"]] = ("en", "zh"),
    sizes: tuple[int, int] = (18, 46),
) -> list[Caption]:
    """``count`` captions for ``photo``: random phrases, fonts, sizes, colours chosen to stand
    out from what lies under them, outlines, shadows and small rotations, placed inside the
    picture without overlapping each other."""
    h, w = photo.shape[:2]
    taken: list[tuple[int, int, int, int]] = []
    out: list[Caption] = []
    for i in range(count):
        language = languages[i % len(languages)]
        phrases = EN_PHRASES if language == "en" else ZH_PHRASES
        text = str(phrases[int(rng.integers(len(phrases)))])
        fonts: tuple[FontName, ...] = ("sans", "serif", "latin") if language == "en" else (
            "sans", "serif")  # fmt: skip
        name = fonts[int(rng.integers(len(fonts)))]
        size = int(rng.integers(sizes[0], sizes[1] + 1))
        style = rng.random()
        stroke = int(rng.integers(1, 4)) if style < 0.35 else 0
        shadow = None
        if 0.35 <= style < 0.65:
            shadow = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        angle = float(rng.uniform(-8, 8)) if rng.random() < 0.2 else 0.0
        probe = Caption(text, (0, 0), size, name, stroke=stroke, shadow=shadow, angle=angle)
        tw, th = line_size(probe)
        if tw >= w - 8 or th >= h - 8:
            size = max(12, int(size * min((w - 16) / tw, (h - 16) / th) * 0.9))
            probe = Caption(text, (0, 0), size, name, stroke=stroke, shadow=shadow, angle=angle)
            tw, th = line_size(probe)
        for _ in range(40):
            x = int(rng.integers(4, max(5, w - tw - 4)))
            y = int(rng.integers(4, max(5, h - th - 4)))
            box = (x, y, x + tw, y + th)
            if all(box[2] < t[0] or box[0] > t[2] or box[3] < t[1] or box[1] > t[3] for t in taken):
                break
        taken.append(box)
        under = photo[y : y + th, x : x + tw]
        dark_under = _luma(under) < 128
        palette = _BRIGHT if dark_under else _DARK
        fill = palette[int(rng.integers(len(palette)))]
        stroke_fill: RGB = (0, 0, 0) if dark_under or fill[0] > 128 else (255, 255, 255)
        if stroke and not dark_under:
            # an outlined caption on a bright photo: bright letters, dark outline
            fill, stroke_fill = _BRIGHT[int(rng.integers(len(_BRIGHT)))], (0, 0, 0)
        out.append(
            Caption(
                text,
                (x, y),
                size,
                name,
                fill,
                bold=rng.random() < 0.3,
                stroke=stroke,
                stroke_fill=stroke_fill,
                shadow=shadow,
                shadow_blur=float(rng.uniform(0.0, 2.0)),
                shadow_alpha=float(rng.uniform(0.5, 0.85)),
                angle=angle,
            )
        )
    return out


def square_photo(photo: U8, side: int = 512) -> U8:
    """Centre-crop ``photo`` (RGB or grey) to a square and resize it to ``side``."""
    rgb = np.asarray(photo)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    rgb = rgb[:, :, :3]
    h, w = rgb.shape[:2]
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    crop = np.ascontiguousarray(rgb[y0 : y0 + s, x0 : x0 + s]).astype(np.uint8)
    interp = cv2.INTER_AREA if s > side else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(crop, (side, side), interpolation=interp), np.uint8)
