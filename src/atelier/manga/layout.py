"""Page layouts: templates for 1 to 8 panels, several per count, cut into pixel rectangles.

A template is a tree of splits: :func:`rows` stacks its parts top to bottom, :func:`cols` puts
them side by side; a number is a panel of that relative size. Cutting a page gives each panel
an integer rectangle inside the page's margins with exactly ``gutter`` pixels between
neighbours. Panels are numbered in reading order: rows top to bottom, and within a row left to
right, or right to left for ``reading_direction = "rtl"`` (the page is mirrored).

Without a ``layout`` option, :func:`choose_layout` picks the template whose panel areas best
match what each panel carries (an establishing wide shot and a panel with much dialogue want
room), avoiding slivers; ties go to the first template. It is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from atelier.errors import ValidationFailed
from atelier.manga.models import MangaOptions, Script

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1: x1 and y1 exclusive


@dataclass(frozen=True)
class Split:
    vertical: bool  # True: parts stacked top to bottom; False: side by side
    parts: tuple[tuple[float, Split | None], ...]  # (relative size, sub-split or a panel)

    @property
    def panels(self) -> int:
        return sum(1 if child is None else child.panels for _, child in self.parts)


Part = float | tuple[float, Split] | Split
#: Blank space in a template (no panel).
SPACE: Final = Split(True, ())


def _parts(items: tuple[Part, ...]) -> tuple[tuple[float, Split | None], ...]:
    out: list[tuple[float, Split | None]] = []
    for item in items:
        if isinstance(item, Split):
            out.append((1.0, item))
        elif isinstance(item, tuple):
            out.append((float(item[0]), item[1]))
        else:
            out.append((float(item), None))
    return tuple(out)


def rows(*items: Part) -> Split:
    return Split(True, _parts(items))


def cols(*items: Part) -> Split:
    return Split(False, _parts(items))


TEMPLATES: Final[dict[int, dict[str, Split]]] = {
    1: {"full": rows(1), "letterbox": rows((0.22, SPACE), 1, (0.22, SPACE))},
    2: {"rows": rows(1, 1), "columns": cols(1, 1), "big-top": rows(1.6, 1)},
    3: {
        "rows": rows(1, 1, 1),
        "wide-top": rows(1, cols(1, 1)),
        "wide-bottom": rows(cols(1, 1), 1),
        "tall-left": cols(1.1, rows(1, 1)),
    },
    4: {
        "grid": rows(cols(1, 1), cols(1, 1)),
        "rows": rows(1, 1, 1, 1),
        "wide-top": rows(1.2, cols(1, 1, 1)),
        "sandwich": rows(1, cols(1, 1), 1),
        "tall-right": cols(rows(1, 1, 1), 1.2),
    },
    5: {
        "2-1-2": rows(cols(1, 1), 1, cols(1, 1)),
        "1-2-2": rows(1.2, cols(1, 1), cols(1, 1)),
        "2-2-1": rows(cols(1, 1), cols(1, 1), 1.2),
        "3-2": rows(cols(1, 1, 1), (1.3, cols(1, 1))),
    },
    6: {
        "grid-3x2": rows(cols(1, 1), cols(1, 1), cols(1, 1)),
        "2-3-1": rows(cols(1, 1), cols(1, 1, 1), 1.2),
        "1-2-3": rows(1.2, cols(1, 1), cols(1, 1, 1)),
        "3-3": rows(cols(1, 1, 1), cols(1, 1, 1)),
    },
    7: {
        "2-3-2": rows(cols(1, 1), cols(1, 1, 1), cols(1, 1)),
        "1-3-3": rows(1.1, cols(1, 1, 1), cols(1, 1, 1)),
        "3-1-3": rows(cols(1, 1, 1), 1.1, cols(1, 1, 1)),
        "2-2-1-2": rows(cols(1, 1), cols(1, 1), 0.9, cols(1, 1)),
    },
    8: {
        "grid-4x2": rows(cols(1, 1), cols(1, 1), cols(1, 1), cols(1, 1)),
        "2-3-3": rows(cols(1, 1), cols(1, 1, 1), cols(1, 1, 1)),
        "3-2-3": rows(cols(1, 1, 1), cols(1, 1), cols(1, 1, 1)),
        "1-3-2-2": rows(1, cols(1, 1, 1), cols(1, 1), cols(1, 1)),
    },
}


@dataclass(frozen=True)
class Layout:
    name: str
    page_size: tuple[int, int]
    cells: tuple[Rect, ...]  # panel rectangles in reading order
    gutter: int
    margin: int


def _sizes(total: int, weights: list[float]) -> list[int]:
    """``total`` pixels shared in proportion to ``weights`` (largest remainders)."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    sizes = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (sizes[i] - raw[i], i))
    for i in order[: total - sum(sizes)]:
        sizes[i] += 1
    return sizes


def cut(split: Split, box: Rect, gutter: int) -> list[Rect]:
    """The panel rectangles of ``split`` inside ``box``, in reading order (left to right)."""
    x0, y0, x1, y1 = box
    length = (y1 - y0) if split.vertical else (x1 - x0)
    usable = length - gutter * (len(split.parts) - 1)
    if usable < len(split.parts):
        raise ValidationFailed("the page is too small for this layout", details={"field": "layout"})
    out: list[Rect] = []
    at = y0 if split.vertical else x0
    for size, (_, child) in zip(
        _sizes(usable, [w for w, _ in split.parts]), split.parts, strict=True
    ):
        part = (x0, at, x1, at + size) if split.vertical else (at, y0, at + size, y1)
        if child is None:
            out.append(part)
        elif child is not SPACE:
            out.extend(cut(child, part, gutter))
        at += size + gutter
    return out


def names(count: int) -> list[str]:
    return list(TEMPLATES.get(count, {}))


def make_layout(count: int, name: str, options: MangaOptions) -> Layout:
    """Template ``name`` for ``count`` panels on the options' page."""
    templates = TEMPLATES.get(count)
    if templates is None:
        raise ValidationFailed(
            f"a page holds 1 to 8 panels, not {count}", details={"field": "panels"}
        )
    if name not in templates:
        raise ValidationFailed(
            f"no layout {name!r} for {count} panels",
            details={"field": "layout", "allowed": list(templates)},
        )
    width, height = options.page_size
    margin, gutter = options.page_margin, options.page_gutter
    box = (margin, margin, width - margin, height - margin)
    cells = cut(templates[name], box, gutter)
    if options.reading_direction == "rtl":
        cells = _mirror_rows(cells, width)
    return Layout(name, (width, height), tuple(cells), gutter, margin)


def _mirror_rows(cells: list[Rect], width: int) -> list[Rect]:
    """Mirror the page and number the panels right to left, rows top to bottom."""
    mirrored = [(width - x1, y0, width - x0, y1) for x0, y0, x1, y1 in cells]
    return sorted(mirrored, key=lambda r: (r[1], -r[2]))


def _weights(script: Script) -> list[float]:
    weights = []
    for panel in script.panels:
        weight = 1.0 + 0.3 * len(panel.dialogue) + (0.15 if panel.caption else 0.0)
        if panel.shot == "wide":
            weight += 0.6
        weights.append(weight)
    return weights


def score(layout: Layout, weights: list[float]) -> float:
    """How badly the cells' areas match the panels' weights (lower is better)."""
    areas = [(x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in layout.cells]
    total_area, total_weight = sum(areas), sum(weights)
    cost = sum(abs(a / total_area - w / total_weight) for a, w in zip(areas, weights, strict=True))
    for x0, y0, x1, y1 in layout.cells:
        aspect = (x1 - x0) / max(1, y1 - y0)
        if aspect > 3.2 or aspect < 0.4:
            cost += 0.25  # slivers are hard to draw in
    return cost


def choose_layout(script: Script, options: MangaOptions) -> Layout:
    """The ``layout`` option's template, else the best-scoring one (see the docstring)."""
    count = script.total_panels
    if options.layout:
        return make_layout(count, options.layout, options)
    weights = _weights(script)
    best: tuple[float, Layout] | None = None
    for name in names(count):
        layout = make_layout(count, name, options)
        cost = score(layout, weights)
        if best is None or cost < best[0] - 1e-9:
            best = (cost, layout)
    assert best is not None
    return best[1]
