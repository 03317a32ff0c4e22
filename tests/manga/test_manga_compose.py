"""Composing pages: text read back by OCR, balloons off the faces, boxes inside panels."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest
from PIL import Image

from atelier.errors import ValidationFailed
from atelier.manga import (
    MangaOptions,
    PageResult,
    Script,
    compose_page,
    panel_prompts,
    procedural_draw,
    write_scenes,
)
from atelier.manga.compose import cover
from atelier.manga.faces import detect_faces
from atelier.manga.layout import choose_layout
from atelier.manga.lettering import overlap
from atelier.manga.models import Character, Dialogue, Panel
from atelier.manga.text import normalise
from conftest import face_box, read_text


def ocr_lines(engine: Any, image: Image.Image) -> list[tuple[tuple[float, float], str]]:
    """Each line OCR reads on the page with the centre of its box."""
    result = engine(np.asarray(image.convert("RGB")))
    boxes = [] if result.boxes is None else result.boxes.tolist()
    return [
        ((sum(p[0] for p in box) / 4, sum(p[1] for p in box) / 4), text)
        for box, text in zip(boxes, result.txts or (), strict=True)
    ]


def read_back(page: PageResult, lines: list[tuple[tuple[float, float], str]]) -> dict[int, str]:
    """Per placed text, the OCR lines whose centres fall inside its box, top to bottom."""
    out = {}
    for index, text in enumerate(page.texts):
        x0, y0, x1, y1 = text.box
        inside = sorted(((y, x), line) for (x, y), line in lines if x0 <= x <= x1 and y0 <= y <= y1)
        out[index] = "".join(line for _, line in inside)
    return out


@pytest.mark.parametrize("story_fixture", ["zh_story", "en_story"])
def test_rendered_text_is_read_back_by_ocr(
    request: pytest.FixtureRequest, story_fixture: str, ocr: Any, astronaut: Image.Image
) -> None:
    script = write_scenes(request.getfixturevalue(story_fixture), MangaOptions(panels=4))
    options = MangaOptions(page_width=900, panel_long_side=256)
    images = [
        astronaut if p.panel_number == 1 else procedural_draw(p)
        for p in panel_prompts(script, options)
    ]
    page = compose_page(script, images, options)

    rendered = [(t.kind, t.text) for t in page.texts]
    expected = [(("caption", p.caption)) for p in script.panels if p.caption]
    expected += [("balloon", d.text) for p in script.panels for d in p.dialogue]
    assert sorted(rendered) == sorted(expected)  # every caption and line is on the page
    assert not any(t.truncated for t in page.texts)
    read = read_back(page, ocr_lines(ocr, page.image))
    for index, text in enumerate(page.texts):
        assert normalise(read[index]) == normalise(text.text), (text.text, read[index])


def test_ocr_sees_nothing_where_no_text_was_drawn(ocr: Any) -> None:
    blank = Image.new("RGB", (400, 300), "white")
    assert read_text(ocr, blank) == []


def face_panel(astronaut: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A panel of ``size`` with the astronaut's face in its top-left corner, where captions
    and first balloons like to go."""
    face = face_box(astronaut)
    canvas = Image.new("RGB", size, (215, 215, 215))
    scale = size[1] * 0.45 / (face[3] - face[1]) / 2.2
    photo = astronaut.resize((round(512 * scale), round(512 * scale)))
    fx, fy = face[0] * scale, face[1] * scale
    canvas.paste(photo, (round(size[0] * 0.15 - fx), round(size[1] * 0.15 - fy)))
    return canvas


def one_panel_script(speaker_known: bool = True) -> Script:
    lines = (
        Dialogue(speaker="Ana" if speaker_known else None, text="We have to reach the city."),
        Dialogue(speaker=None, text="The train is late again!"),
    )
    panel = Panel(
        panel_number=1,
        scene_description="Ana in the train",
        characters=("Ana",),
        caption="Midnight, somewhere on the line.",
        dialogue=lines,
    )
    return Script(language="en", characters=(Character(name="Ana"),), panels=(panel,))


@pytest.fixture
def face_page(astronaut: Image.Image) -> tuple[Script, MangaOptions, Image.Image]:
    script = one_panel_script()
    options = MangaOptions(page_width=900, page_ratio=0.8, layout="full")
    cell = choose_layout(script, options).cells[0]
    image = face_panel(astronaut, (cell[2] - cell[0], cell[3] - cell[1]))
    return script, options, image


def test_balloons_and_captions_keep_off_a_detected_face(
    face_page: tuple[Script, MangaOptions, Image.Image],
) -> None:
    script, options, image = face_page
    page = compose_page(script, [image], options)

    (panel,) = page.panels
    assert len(panel.faces) == 1  # the face was found...
    face = panel.faces[0]
    assert len(page.texts) == 3
    for text in page.texts:
        assert text.face_overlap == 0 and overlap(text.box, face) == 0  # ...and left clear
    for a, b in itertools.combinations(page.texts, 2):
        assert overlap(a.box, b.box) == 0
    # the lettered page still shows the face where it was
    (seen,) = detect_faces(page.image)
    assert overlap(seen, face) > 0.5 * (face[2] - face[0]) * (face[3] - face[1])


def test_without_face_detection_the_same_page_covers_the_face(
    face_page: tuple[Script, MangaOptions, Image.Image],
) -> None:
    """The control: the face sits where text goes first, so avoiding it is the detector's
    doing."""
    script, options, image = face_page
    with_faces = compose_page(script, [image], options)
    blind = compose_page(script, [image], options.model_copy(update={"detect_faces": False}))
    face = with_faces.panels[0].faces[0]
    assert any(overlap(text.box, face) > 0 for text in blind.texts)


def test_the_tail_points_toward_the_speaker(
    face_page: tuple[Script, MangaOptions, Image.Image],
) -> None:
    script, options, image = face_page
    page = compose_page(script, [image], options)
    face = page.panels[0].faces[0]
    fx, fy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    spoken = next(t for t in page.texts if t.speaker == "Ana")
    assert spoken.tail is not None
    cx, cy = (spoken.box[0] + spoken.box[2]) / 2, (spoken.box[1] + spoken.box[3]) / 2
    tx, ty = spoken.tail
    assert math.hypot(tx - fx, ty - fy) < math.hypot(cx - fx, cy - fy)
    assert not (face[0] <= tx <= face[2] and face[1] <= ty <= face[3])  # short of the face
    anonymous = next(t for t in page.texts if t.kind == "balloon" and t.speaker is None)
    assert anonymous.tail is None
    unknown = compose_page(one_panel_script(speaker_known=False), [image], options)
    assert all(t.tail is None for t in unknown.texts)


def test_text_stays_inside_its_panel(zh_story: str) -> None:
    script = write_scenes(zh_story, MangaOptions(panels=6))
    options = MangaOptions(page_width=800)
    images = [Image.new("RGB", (300 + 40 * i, 200), (180, 190, 200)) for i in range(6)]
    page = compose_page(script, images, options)

    cells = {p.panel_number: p.box for p in page.panels}
    assert len(page.texts) == sum(len(p.dialogue) + bool(p.caption) for p in script.panels)
    for text in page.texts:
        x0, y0, x1, y1 = cells[text.panel_number]
        assert x0 <= text.box[0] < text.box[2] <= x1 and y0 <= text.box[1] < text.box[3] <= y1
        tx0, ty0, tx1, ty1 = text.text_box
        assert text.box[0] <= tx0 < tx1 <= text.box[2] and text.box[1] <= ty0 < ty1 <= text.box[3]
    for a, b in itertools.combinations(page.texts, 2):
        if a.panel_number == b.panel_number:
            assert overlap(a.box, b.box) == 0
    json.dumps(page.report())  # the report is plain data
    assert page.image.size == options.page_size


def test_right_to_left_pages_start_captions_on_the_right(en_story: str) -> None:
    script = write_scenes(en_story, MangaOptions(panels=2))
    images = [Image.new("RGB", (200, 200), "grey")] * 2
    page = compose_page(script, images, MangaOptions(reading_direction="rtl", layout="columns"))
    first = page.panels[0].box
    assert first[0] > page.panels[1].box[0]
    caption = next(t for t in page.texts if t.kind == "caption" and t.panel_number == 1)
    assert caption.box[2] >= first[2] - 10  # in the panel's top-right corner


def test_cover_crops_around_the_focus(astronaut: Image.Image) -> None:
    out, scale, ox, oy = cover(astronaut, (400, 100), focus=(0.5, 0.2))
    assert out.size == (400, 100) and scale == pytest.approx(400 / 512)
    assert ox == 0 and 0 < oy < 512 * scale - 100
    face = face_box(astronaut)
    top = face[1] * scale - oy
    assert -0.2 * 100 < top < 100  # the face row is kept


def test_images_by_number_and_mismatches(en_story: str) -> None:
    script = write_scenes(en_story, MangaOptions(panels=2))
    grey = Image.new("RGB", (100, 100), "grey")
    assert compose_page(script, {1: grey, 2: grey}).image.size == MangaOptions().page_size
    with pytest.raises(ValidationFailed):
        compose_page(script, {1: grey})
    with pytest.raises(ValidationFailed):
        compose_page(script, [grey])


def test_a_text_too_long_for_its_panel_is_shortened() -> None:
    line = Dialogue(speaker=None, text="word " * 70)
    panels = tuple(
        Panel(panel_number=n, scene_description="x", dialogue=(line,) if n == 1 else ())
        for n in range(1, 9)
    )
    script = Script(language="en", panels=panels)
    page = compose_page(script, [Image.new("RGB", (50, 50))] * 8, MangaOptions(page_width=600))
    (text,) = page.texts
    assert text.truncated and text.text.endswith("…") and len(text.text) < len(line.text)


def test_cover_fills_a_cell_the_scaled_image_misses_by_a_rounding_error() -> None:
    """A 1024x704 panel in a 1140x817 cell (the default page's 2-panel rows): scaled, its
    height comes out a hair under 817 in floating point; the crop still starts inside it."""
    image = Image.new("RGB", (1024, 704), "red")
    fitted, _, ox, oy = cover(image, (1140, 817))
    assert fitted.size == (1140, 817) and ox >= 0 and oy == 0
    assert fitted.getpixel((1139, 816)) == (255, 0, 0)
