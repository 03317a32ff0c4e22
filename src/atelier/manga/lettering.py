"""Lettering: caption boxes and speech balloons, placed off the faces and drawn on the page.

Placement is a search over candidates, each scored (lower is better) by:

- the share of the box over a face (faces grown by 8 %), weighted heavily;
- the share over text already placed in the panel, weighted heavily;
- reading order: captions prefer the panel's first corner (top left, or top right for
  right-to-left pages); balloons prefer the top of the panel, the reading side, and to come
  after the balloon before them;
- for a balloon whose speaker's face is known, the distance to that face (stay near it);
- covering the middle of the panel (the picture's subject), lightly.

Captions are rectangles in the panel's corners. Balloons are ellipses (or rounded rectangles)
on a 5 x 5 grid of positions, with a tail toward the speaker's face (or toward the lower middle
of the panel when the speaker is known but their face is not); lines whose speaker nobody knows
get no tail. Text is fitted with :func:`atelier.manga.text.fit_text`; what does not fit even at
the smallest size is shortened with an ellipsis (and marked ``truncated``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import ImageDraw

from atelier.manga.models import Language
from atelier.manga.text import Fitted, fit_text, line_height, load_font, shorten

Box = tuple[int, int, int, int]
Kind = Literal["caption", "balloon"]
ELLIPSE = 1.42  # an ellipse this much larger than a rectangle contains its corners
FACE_WEIGHT = 100.0
TEXT_WEIGHT = 100.0


@dataclass(frozen=True)
class Placement:
    kind: Kind
    text: str
    shape: Box  # the caption box or the balloon's bounding box
    text_box: Box
    fitted: Fitted
    tail: tuple[int, int] | None = None
    truncated: bool = False


def area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def overlap(a: Box, b: Box) -> int:
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def grow(box: Box, fraction: float) -> Box:
    dx, dy = (box[2] - box[0]) * fraction, (box[3] - box[1]) * fraction
    return (int(box[0] - dx), int(box[1] - dy), int(box[2] + dx), int(box[3] + dy))


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _covered(box: Box, others: list[Box]) -> float:
    return sum(overlap(box, o) for o in others) / max(1, area(box))


@dataclass(frozen=True)
class Lettering:
    """Sizes and fonts for one page."""

    font_path: Path | None
    max_size: int
    min_size: int
    line_width: int
    rtl: bool
    language: Language

    @classmethod
    def for_page(
        cls, page_width: int, font_path: Path | None, rtl: bool, language: Language
    ) -> Lettering:
        return cls(
            font_path=font_path,
            max_size=max(14, round(page_width / 40)),
            min_size=max(12, round(page_width / 95)),
            line_width=max(2, round(page_width / 500)),
            rtl=rtl,
            language=language,
        )

    def _fit(
        self, text: str, max_w: int, max_h: int, aspect: float | None
    ) -> tuple[str, Fitted, bool]:
        truncated = False
        while True:
            fitted = fit_text(
                text,
                max(1, max_w),
                max(1, max_h),
                max_size=self.max_size,
                min_size=self.min_size,
                aspect=aspect,
                font_path=self.font_path,
            )
            if (fitted.width <= max_w and fitted.height <= max_h) or len(text) <= 4:
                return text, fitted, truncated
            text = shorten(text.removesuffix("…"), max(4, int(len(text) * 0.85)), self.language)
            truncated = True

    # -- captions -----------------------------------------------------------------------------
    def caption(self, text: str, panel: Box, faces: list[Box], placed: list[Box]) -> Placement:
        pw, ph = panel[2] - panel[0], panel[3] - panel[1]
        pad = max(4, self.max_size // 3)
        inset = self.line_width
        shown, fitted, truncated = self._fit(
            text, int(pw * 0.62) - 2 * pad, int(ph * 0.32) - 2 * pad, None
        )
        w, h = fitted.width + 2 * pad, fitted.height + 2 * pad
        left, right = panel[0] + inset, panel[2] - inset - w
        top, bottom = panel[1] + inset, panel[3] - inset - h
        corners = [(left, top), (right, top), (left, bottom), (right, bottom)]
        if self.rtl:
            corners = [corners[1], corners[0], corners[3], corners[2]]
        grown = [grow(f, 0.08) for f in faces]
        best: tuple[float, Box] | None = None
        for rank, (x, y) in enumerate(corners):
            box = (x, y, x + w, y + h)
            cost = FACE_WEIGHT * _covered(box, grown) + TEXT_WEIGHT * _covered(box, placed)
            cost += 0.05 * rank
            if best is None or cost < best[0] - 1e-9:
                best = (cost, box)
        assert best is not None
        shape = best[1]
        text_box = (shape[0] + pad, shape[1] + pad, shape[2] - pad, shape[3] - pad)
        return Placement("caption", shown, shape, text_box, fitted, None, truncated)

    # -- balloons -----------------------------------------------------------------------------
    def balloon(
        self,
        text: str,
        panel: Box,
        faces: list[Box],
        placed: list[Box],
        *,
        previous: Box | None,
        speaker_face: Box | None,
        speaker_known: bool,
        shape: Literal["ellipse", "rounded"],
    ) -> Placement:
        pw, ph = panel[2] - panel[0], panel[3] - panel[1]
        pad = max(4, self.max_size // 3)
        factor = ELLIPSE if shape == "ellipse" else 1.0
        max_w = int((pw * 0.66 - 2 * pad) / factor)
        max_h = int((ph * 0.46 - 2 * pad) / factor)
        shown, fitted, truncated = self._fit(text, max_w, max_h, 1.7)
        w = min(pw - 2 * self.line_width, int(fitted.width * factor) + 2 * pad)
        h = min(ph - 2 * self.line_width, int(fitted.height * factor) + 2 * pad)
        inset = max(self.line_width * 2, int(min(pw, ph) * 0.025))
        xs = _steps(panel[0] + inset, panel[2] - inset - w)
        ys = _steps(panel[1] + inset, panel[3] - inset - h)
        grown = [grow(f, 0.08) for f in faces]
        best: tuple[float, Box] | None = None
        for y in ys:
            for x in xs:
                box = (x, y, x + w, y + h)
                cost = self._balloon_cost(box, panel, grown, placed, previous, speaker_face)
                if best is None or cost < best[0] - 1e-9:
                    best = (cost, box)
        assert best is not None
        outer = best[1]
        cx, cy = _centre(outer)
        text_box = (
            int(cx - fitted.width / 2),
            int(cy - fitted.height / 2),
            int(cx + fitted.width / 2 + 0.999),
            int(cy + fitted.height / 2 + 0.999),
        )
        tail = _tail(outer, panel, speaker_face) if speaker_known else None
        return Placement("balloon", shown, outer, text_box, fitted, tail, truncated)

    def _balloon_cost(
        self,
        box: Box,
        panel: Box,
        faces: list[Box],
        placed: list[Box],
        previous: Box | None,
        speaker_face: Box | None,
    ) -> float:
        pw, ph = panel[2] - panel[0], panel[3] - panel[1]
        cx, cy = _centre(box)
        nx, ny = (cx - panel[0]) / pw, (cy - panel[1]) / ph
        along = 1 - nx if self.rtl else nx
        cost = FACE_WEIGHT * _covered(box, faces) + TEXT_WEIGHT * _covered(box, placed)
        cost += 0.8 * ny + 0.3 * along
        cost += 0.4 * (1 - 2 * max(abs(nx - 0.5), abs(ny - 0.5)))
        if previous is not None:
            px, py = _centre(previous)
            before = (py - cy) / ph + 0.3 * ((cx - px) if self.rtl else (px - cx)) / pw
            cost += 0.6 * max(0.0, before)
        if speaker_face is not None:
            fx, fy = _centre(speaker_face)
            cost += 0.6 * math.hypot((cx - fx) / pw, (cy - fy) / ph)
        return cost

    # -- drawing ------------------------------------------------------------------------------
    def draw(
        self, draw: ImageDraw.ImageDraw, item: Placement, shape: Literal["ellipse", "rounded"]
    ) -> None:
        lw = self.line_width
        if item.kind == "caption":
            draw.rectangle(item.shape, fill="white", outline="black", width=lw)
            self._text(draw, item, align_left=True)
            return
        x0, y0, x1, y1 = item.shape
        radius = min((y1 - y0) // 2, item.fitted.size * 2)
        tail = _tail_polygon(item.shape, item.tail) if item.tail is not None else None
        if tail is not None:
            draw.polygon(tail, fill="black")
        outer = (x0 - lw, y0 - lw, x1 + lw, y1 + lw)
        if shape == "ellipse":
            draw.ellipse(outer, fill="black")
            draw.ellipse(item.shape, fill="white")
        else:
            draw.rounded_rectangle(outer, radius=radius + lw, fill="black")
            draw.rounded_rectangle(item.shape, radius=radius, fill="white")
        if tail is not None:
            draw.polygon(_shrink(tail, lw), fill="white")
        self._text(draw, item, align_left=False)

    def _text(self, draw: ImageDraw.ImageDraw, item: Placement, *, align_left: bool) -> None:
        font = load_font(item.fitted.size, self.font_path)
        step = line_height(font)
        x0, y0, x1, _ = item.text_box
        for i, line in enumerate(item.fitted.lines):
            y = y0 + i * step + font.size / 2
            if align_left:
                draw.text((x0, y), line, font=font, fill="black", anchor="lm")
            else:
                draw.text(((x0 + x1) / 2, y), line, font=font, fill="black", anchor="mm")


def _steps(lo: int, hi: int, count: int = 5) -> list[int]:
    if hi <= lo:
        return [lo]
    return sorted({round(lo + (hi - lo) * i / (count - 1)) for i in range(count)})


def _ellipse_radius(box: Box, ux: float, uy: float) -> float:
    a, b = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    return 1 / math.sqrt((ux / a) ** 2 + (uy / b) ** 2)


def _tail(outer: Box, panel: Box, face: Box | None) -> tuple[int, int] | None:
    """Where the tail points: toward the speaker's face (stopping short of it), else toward
    the lower middle of the panel."""
    cx, cy = _centre(outer)
    ph = panel[3] - panel[1]
    if face is not None:
        tx, ty = _centre(face)
    else:
        tx, ty = (panel[0] + panel[2]) / 2, panel[3] - ph * 0.2
    dx, dy = tx - cx, ty - cy
    distance = math.hypot(dx, dy)
    if distance < 1:
        dx, dy, distance = 0.0, 1.0, 1.0
    ux, uy = dx / distance, dy / distance
    edge = _ellipse_radius(outer, ux, uy)
    length = max(0.35 * (outer[3] - outer[1]), min(0.18 * ph, distance - edge))
    if face is not None:
        length = min(length, max(0.2 * (outer[3] - outer[1]), _gap_to(face, cx, cy, ux, uy) - edge))
    reach = edge + length
    x = min(max(cx + ux * reach, panel[0] + 2), panel[2] - 2)
    y = min(max(cy + uy * reach, panel[1] + 2), panel[3] - 2)
    return round(x), round(y)


def _gap_to(face: Box, cx: float, cy: float, ux: float, uy: float) -> float:
    """Distance from (cx, cy) along (ux, uy) to the edge of ``face`` grown by 10 %, minus a
    little: the tail points at the face without touching it."""
    x0, y0, x1, y1 = grow(face, 0.1)
    best = math.inf
    for edge, u, c in ((x0, ux, cx), (x1, ux, cx), (y0, uy, cy), (y1, uy, cy)):
        if abs(u) < 1e-9:
            continue
        t = (edge - c) / u
        if t <= 0:
            continue
        px, py = cx + ux * t, cy + uy * t
        if x0 - 1 <= px <= x1 + 1 and y0 - 1 <= py <= y1 + 1:
            best = min(best, t)
    return best - 4 if best < math.inf else math.inf


def _tail_polygon(outer: Box, tip: tuple[int, int]) -> list[tuple[float, float]]:
    cx, cy = _centre(outer)
    dx, dy = tip[0] - cx, tip[1] - cy
    distance = max(1.0, math.hypot(dx, dy))
    px, py = -dy / distance, dx / distance
    half = 0.22 * min(outer[2] - outer[0], outer[3] - outer[1]) / 2
    return [(cx + px * half, cy + py * half), (cx - px * half, cy - py * half), tip]


def _shrink(polygon: list[tuple[float, float]], by: float) -> list[tuple[float, float]]:
    """The tail's white inside: narrower, and stopping short of the tip."""
    (ax, ay), (bx, by_), (tx, ty) = polygon
    mx, my = (ax + bx) / 2, (ay + by_) / 2
    length = max(1.0, math.hypot(tx - mx, ty - my))
    keep = max(0.0, 1 - 2.5 * by / length)
    width = max(0.0, 1 - 2 * by / max(1.0, math.hypot(ax - bx, ay - by_)))
    return [
        (mx + (ax - mx) * width, my + (ay - my) * width),
        (mx + (bx - mx) * width, my + (by_ - my) * width),
        (mx + (tx - mx) * keep, my + (ty - my) * keep),
    ]
