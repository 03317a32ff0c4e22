"""Page layouts for 1 to 8 panels: inside the page, no overlaps, gutters kept."""

from __future__ import annotations

import itertools

import pytest

from atelier.errors import ValidationFailed
from atelier.manga import MangaOptions, Script, choose_layout, make_layout
from atelier.manga.layout import TEMPLATES, Rect
from atelier.manga.models import Dialogue, Panel

CASES = [(count, name) for count, templates in TEMPLATES.items() for name in templates]


def gap(a: Rect, b: Rect) -> int:
    """Pixels between two rectangles along the axis that separates them (negative: overlap)."""
    horizontal = max(b[0] - a[2], a[0] - b[2])
    vertical = max(b[1] - a[3], a[1] - b[3])
    return max(horizontal, vertical)


def test_every_panel_count_has_several_templates() -> None:
    assert sorted(TEMPLATES) == list(range(1, 9))
    assert all(len(templates) >= 2 for templates in TEMPLATES.values())


@pytest.mark.parametrize(("count", "name"), CASES)
@pytest.mark.parametrize(
    "options",
    [
        MangaOptions(),
        MangaOptions(page_width=800, page_ratio=1.5, gutter=12, margin=30),
        MangaOptions(page_width=2000, reading_direction="rtl"),
    ],
    ids=["a4", "small", "rtl"],
)
def test_layout_geometry(count: int, name: str, options: MangaOptions) -> None:
    layout = make_layout(count, name, options)
    width, height = options.page_size
    margin, gutter = options.page_margin, options.page_gutter

    assert layout.page_size == (width, height) and len(layout.cells) == count
    for x0, y0, x1, y1 in layout.cells:
        assert margin <= x0 < x1 <= width - margin
        assert margin <= y0 < y1 <= height - margin
        assert (x1 - x0) >= width * 0.1 and (y1 - y0) >= height * 0.05
    for a, b in itertools.combinations(layout.cells, 2):
        assert gap(a, b) >= gutter, (a, b)  # no overlap, the gutter between
    # the cells fill the page but for gutters and blank template space
    used = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in layout.cells)
    inner = (width - 2 * margin) * (height - 2 * margin)
    assert 0.5 * inner < used <= inner


@pytest.mark.parametrize(("count", "name"), CASES)
def test_panels_are_numbered_in_reading_order(count: int, name: str) -> None:
    for direction in ("ltr", "rtl"):
        cells = make_layout(count, name, MangaOptions(reading_direction=direction)).cells
        for a, b in itertools.pairwise(cells):
            if a[1] == b[1]:  # same row top: left to right (or right to left)
                assert (b[0] > a[0]) if direction == "ltr" else (b[0] < a[0])
            else:
                assert b[1] > a[1] or (b[1] < a[1] and b[0] != a[0])  # next row, or a side column


def test_rtl_mirrors_the_page() -> None:
    options = MangaOptions()
    ltr = make_layout(3, "tall-left", options)
    rtl = make_layout(3, "tall-left", MangaOptions(reading_direction="rtl"))
    width = options.page_size[0]
    assert rtl.cells[0] == (
        width - ltr.cells[0][2],
        ltr.cells[0][1],
        width - ltr.cells[0][0],
        ltr.cells[0][3],
    )
    assert rtl.cells[0][0] > rtl.cells[1][0]  # the first panel is on the right


def script_of(count: int, *, wide_first: bool = False, talkative: int | None = None) -> Script:
    panels = []
    for n in range(1, count + 1):
        lines = (
            tuple(Dialogue(speaker="A", text=f"line {k}") for k in range(4))
            if n == talkative
            else ()
        )
        shot = "wide" if wide_first and n == 1 else "medium"
        panels.append(
            Panel(panel_number=n, scene_description=f"scene {n}", dialogue=lines, shot=shot)
        )
    return Script(language="en", panels=tuple(panels))


@pytest.mark.parametrize("count", range(1, 9))
def test_choose_layout_is_deterministic_and_valid(count: int) -> None:
    script = script_of(count, wide_first=True)
    first = choose_layout(script, MangaOptions())
    assert first == choose_layout(script, MangaOptions())
    assert first.name in TEMPLATES[count] and len(first.cells) == count


def test_choose_layout_gives_room_to_what_needs_it() -> None:
    def area(rect: Rect) -> int:
        return (rect[2] - rect[0]) * (rect[3] - rect[1])

    wide = choose_layout(script_of(3, wide_first=True), MangaOptions())
    assert area(wide.cells[0]) > max(area(c) for c in wide.cells[1:])
    talk = choose_layout(script_of(5, talkative=5), MangaOptions())
    assert area(talk.cells[4]) >= max(area(c) for c in talk.cells[:4])


def test_a_named_layout_and_errors() -> None:
    script = script_of(4)
    assert choose_layout(script, MangaOptions(layout="rows")).name == "rows"
    with pytest.raises(ValidationFailed) as caught:
        choose_layout(script, MangaOptions(layout="3-3"))
    assert "grid" in caught.value.details["allowed"]
    with pytest.raises(ValidationFailed):
        make_layout(9, "grid", MangaOptions())


def test_options_from_settings() -> None:
    from atelier.config import MangaSettings

    settings = MangaSettings(page_width=800, page_ratio=1.5, reading_direction="rtl")
    options = MangaOptions.from_settings(settings, panels=3, layout=None)
    assert options.page_size == (800, 1200) and options.reading_direction == "rtl"
    assert options.panels == 3 and options.layout is None and options.style == "manga-lineart"
    layout = choose_layout(script_of(3), options)
    assert layout.page_size == (800, 1200) and layout.gutter == options.page_gutter
