"""Composing a page: panel images fitted into the layout's cells, borders, then the lettering.

Each panel image fills its cell by cover-cropping (scaled to cover the cell, the overflow cut
away), centred on the faces it shows when there are any so that cropping keeps them. Faces are
found once per panel (:mod:`atelier.manga.faces`) and carried into page coordinates. The
caption is placed first, then the balloons in dialogue order; speakers are matched to faces in
reading order (the first speaker to the first face from the reading side).

:class:`PageResult` keeps the page image and everything placed on it (cells, faces, text boxes,
font sizes, lines), which the task layer stores as the page's report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw
from pydantic import BaseModel, ConfigDict

from atelier.errors import ValidationFailed
from atelier.manga.faces import Box, detect_faces
from atelier.manga.layout import Layout, choose_layout
from atelier.manga.lettering import Lettering, Placement, overlap
from atelier.manga.models import MangaOptions, Panel, Script


class PlacedText(BaseModel):
    """A caption or balloon as drawn. ``box`` is its outline's bounding box, ``text_box``
    where the lines are; ``face_overlap`` is the pixels of ``box`` over a detected face."""

    model_config = ConfigDict(frozen=True)

    kind: str
    panel_number: int
    text: str
    speaker: str | None = None
    box: tuple[int, int, int, int]
    text_box: tuple[int, int, int, int]
    font_size: int
    lines: tuple[str, ...]
    tail: tuple[int, int] | None = None
    truncated: bool = False
    face_overlap: int = 0


class PlacedPanel(BaseModel):
    model_config = ConfigDict(frozen=True)

    panel_number: int
    box: tuple[int, int, int, int]
    source_size: tuple[int, int]
    faces: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True)
class PageResult:
    image: Image.Image
    layout: str
    panels: tuple[PlacedPanel, ...]
    texts: tuple[PlacedText, ...]

    def report(self) -> dict[str, Any]:
        """Everything but the pixels, JSON-ready."""
        return {
            "layout": self.layout,
            "size": list(self.image.size),
            "panels": [p.model_dump(mode="json") for p in self.panels],
            "texts": [t.model_dump(mode="json") for t in self.texts],
        }


def cover(
    image: Image.Image, size: tuple[int, int], focus: tuple[float, float] = (0.5, 0.5)
) -> tuple[Image.Image, float, float, float]:
    """``image`` scaled to cover ``size`` and cropped around ``focus`` (fractions of the
    image). Returns the result, the scale and the crop's offset in scaled pixels."""
    width, height = size
    scale = max(width / image.width, height / image.height)
    scaled_w, scaled_h = image.width * scale, image.height * scale
    # clamped both ways: ``scaled_w - width`` may come out a hair below zero in floating point
    ox = max(0.0, min(focus[0] * scaled_w - width / 2, scaled_w - width))
    oy = max(0.0, min(focus[1] * scaled_h - height / 2, scaled_h - height))
    box = (
        ox / scale,
        oy / scale,
        min(float(image.width), (ox + width) / scale),
        min(float(image.height), (oy + height) / scale),
    )
    fitted = image.convert("RGB").resize(size, Image.Resampling.LANCZOS, box=box)
    return fitted, scale, ox, oy


def _focus(image: Image.Image, faces: list[Box]) -> tuple[float, float]:
    if not faces:
        return 0.5, 0.5
    x0 = min(f[0] for f in faces)
    y0 = min(f[1] for f in faces)
    x1 = max(f[2] for f in faces)
    y1 = max(f[3] for f in faces)
    return (x0 + x1) / 2 / image.width, (y0 + y1) / 2 / image.height


def _images(
    script: Script, panel_images: Sequence[Image.Image] | Mapping[int, Image.Image]
) -> list[Image.Image]:
    if isinstance(panel_images, Mapping):
        missing = [p.panel_number for p in script.panels if p.panel_number not in panel_images]
        if missing:
            raise ValidationFailed(f"no image for panel(s) {missing}", details={"missing": missing})
        return [panel_images[p.panel_number] for p in script.panels]
    if len(panel_images) != script.total_panels:
        raise ValidationFailed(
            f"{len(panel_images)} images for {script.total_panels} panels",
            details={"images": len(panel_images), "panels": script.total_panels},
        )
    return list(panel_images)


def _speaker_faces(panel: Panel, faces: list[Box], rtl: bool) -> dict[str, Box]:
    order = sorted(faces, key=lambda f: -f[2] if rtl else f[0])
    speakers = list(dict.fromkeys(d.speaker for d in panel.dialogue if d.speaker))
    return {name: order[i] for i, name in enumerate(speakers) if i < len(order)}


def compose_page(
    script: Script,
    panel_images: Sequence[Image.Image] | Mapping[int, Image.Image],
    options: MangaOptions | None = None,
    *,
    layout: Layout | None = None,
) -> PageResult:
    """Lay out ``script`` with its panel images (in panel order, or by panel number) and
    letter it. The layout is ``options.layout`` or the one chosen for the script."""
    options = options or MangaOptions()
    images = _images(script, panel_images)
    layout = layout or choose_layout(script, options)
    if len(layout.cells) != script.total_panels:
        raise ValidationFailed(
            f"layout {layout.name!r} has {len(layout.cells)} panels, not {script.total_panels}",
            details={"field": "layout"},
        )
    page = Image.new("RGB", layout.page_size, "white")
    draw = ImageDraw.Draw(page)
    rtl = options.reading_direction == "rtl"
    letters = Lettering.for_page(layout.page_size[0], options.font_path, rtl, script.language)
    placed_panels: list[PlacedPanel] = []
    texts: list[PlacedText] = []
    for panel, image, cell in zip(script.panels, images, layout.cells, strict=True):
        x0, y0, x1, y1 = cell
        source_faces = detect_faces(image) if options.detect_faces else []
        fitted, scale, ox, oy = cover(image, (x1 - x0, y1 - y0), _focus(image, source_faces))
        page.paste(fitted, (x0, y0))
        faces = []
        for fx0, fy0, fx1, fy1 in source_faces:
            box = (
                max(x0, round(fx0 * scale - ox) + x0),
                max(y0, round(fy0 * scale - oy) + y0),
                min(x1, round(fx1 * scale - ox) + x0),
                min(y1, round(fy1 * scale - oy) + y0),
            )
            if box[2] - box[0] > 4 and box[3] - box[1] > 4:
                faces.append(box)
        border = options.panel_border
        if border:
            draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline="black", width=border)
        placed_panels.append(
            PlacedPanel(
                panel_number=panel.panel_number,
                box=cell,
                source_size=image.size,
                faces=tuple(faces),
            )
        )
        texts.extend(_letter(panel, cell, faces, letters, draw, options, rtl))
    return PageResult(page, layout.name, tuple(placed_panels), tuple(texts))


def _letter(
    panel: Panel,
    cell: Box,
    faces: list[Box],
    letters: Lettering,
    draw: ImageDraw.ImageDraw,
    options: MangaOptions,
    rtl: bool,
) -> list[PlacedText]:
    inner = (
        cell[0] + options.panel_border,
        cell[1] + options.panel_border,
        cell[2] - options.panel_border,
        cell[3] - options.panel_border,
    )
    placed: list[Box] = []
    out: list[PlacedText] = []

    def record(item: Placement, speaker: str | None) -> None:
        placed.append(item.shape)
        letters.draw(draw, item, options.balloon_shape)
        out.append(
            PlacedText(
                kind=item.kind,
                panel_number=panel.panel_number,
                text=item.text,
                speaker=speaker,
                box=item.shape,
                text_box=item.text_box,
                font_size=item.fitted.size,
                lines=item.fitted.lines,
                tail=item.tail,
                truncated=item.truncated,
                face_overlap=sum(overlap(item.shape, f) for f in faces),
            )
        )

    if panel.caption:
        record(letters.caption(panel.caption, inner, faces, placed), None)
    speaker_faces = _speaker_faces(panel, faces, rtl)
    previous: Box | None = None
    for line in panel.dialogue:
        item = letters.balloon(
            line.text,
            inner,
            faces,
            placed,
            previous=previous,
            speaker_face=speaker_faces.get(line.speaker) if line.speaker else None,
            speaker_known=line.speaker is not None,
            shape=options.balloon_shape,
        )
        record(item, line.speaker)
        previous = item.shape
    return out
