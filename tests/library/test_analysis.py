"""The analysis types, EXIF, orientation, user tags and dominant colours."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from library_models import jpeg_with_exif
from PIL import Image

from atelier.images.processing import ImageRejected
from atelier.library.analysis import (
    Analysis,
    Exif,
    Tag,
    basic_analysis,
    orientation_of,
    read_exif,
    user_tags,
)
from atelier.library.colors import dominant_colors, nearest_name


def test_exif_camera_date_and_place() -> None:
    with Image.open(io.BytesIO(jpeg_with_exif())) as image:
        exif = read_exif(image)
    assert exif is not None
    assert exif.camera == "Canon EOS R5" and exif.make == "Canon"
    assert exif.lens == "RF24-105mm F4 L IS USM" and exif.software == "Firmware 1.8"
    assert exif.taken_at == datetime(2025, 7, 14, 18, 30, 5)
    assert exif.gps is not None
    assert exif.gps.latitude == pytest.approx(31.23, abs=1e-4)
    assert exif.gps.longitude == pytest.approx(121.47, abs=1e-4)
    assert exif.gps.altitude == pytest.approx(12.5)
    assert read_exif(Image.new("RGB", (4, 4))) is None
    assert Exif(make="Sony", model="ILCE-7M4").camera == "Sony ILCE-7M4"


def test_basic_analysis_is_upright_and_keeps_user_tags() -> None:
    rotated = jpeg_with_exif((400, 300), orientation=6)  # stored landscape, shown portrait
    analysis = basic_analysis(rotated, ["Holiday", " holiday ", "海边", ""])
    assert (analysis.width, analysis.height, analysis.orientation) == (300, 400, "portrait")
    assert [t.name for t in analysis.tags] == ["Holiday", "海边"]
    assert all(t.source == "user" and t.confidence == 1.0 for t in analysis.tags)
    assert analysis.exif is not None and analysis.exif.orientation == 6
    assert analysis.analyzer == "user"
    dumped = analysis.model_dump(mode="json")
    assert Analysis.model_validate(dumped) == analysis
    with pytest.raises(ImageRejected):
        basic_analysis(b"not an image")


def test_orientation() -> None:
    assert orientation_of(1000, 1000) == "square"
    assert orientation_of(1000, 990) == "square"
    assert orientation_of(1200, 1000) == "landscape"
    assert orientation_of(1000, 1200) == "portrait"


def test_embedding_text_and_tags() -> None:
    analysis = Analysis(
        analyzer="x",
        width=1,
        height=1,
        orientation="square",
        tags=(Tag(name="cat", name_zh="猫", source="vlm", confidence=0.9), Tag(name="cat")),
        description_en="A cat.",
        description_zh="一只猫。",
        ocr_text="MEOW",
    )
    assert analysis.tag_names() == ["cat", "猫", "cat"]
    assert analysis.embedding_text() == "cat, 猫. A cat.. 一只猫。. MEOW"
    assert user_tags(["a" * 150])[0].name == "a" * 100
    with pytest.raises(ValueError):
        Tag(name="x", confidence=1.5)


def test_dominant_colours_are_named_in_both_languages() -> None:
    image = Image.new("RGB", (100, 100), (20, 60, 230))  # blue
    image.paste((255, 255, 255), (0, 0, 100, 30))  # 30 % white
    image.paste((220, 20, 30), (0, 30, 10, 40))  # 1 % red: below the 2 % floor
    colors = dominant_colors(image, 5)
    assert [(c.name, c.name_zh) for c in colors] == [("blue", "蓝色"), ("white", "白色")]
    assert colors[0].fraction == pytest.approx(0.69, abs=0.03)
    assert colors[1].fraction == pytest.approx(0.30, abs=0.03)
    assert colors[0].hex == "#143ce6"


def test_transparent_pixels_are_ignored_and_results_are_stable() -> None:
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image.paste((255, 140, 0, 255), (0, 0, 32, 64))
    colors = dominant_colors(image)
    assert [c.name for c in colors] == ["orange"] and colors[0].fraction == 1.0
    noisy = Image.effect_noise((80, 80), 60).convert("RGB")
    assert dominant_colors(noisy) == dominant_colors(noisy)  # seeded: deterministic


@pytest.mark.parametrize(
    ("rgb", "name"),
    [((250, 250, 250), "white"), ((10, 10, 10), "black"), ((0, 128, 0), "green"),
     ((255, 192, 203), "pink"), ((139, 69, 19), "brown"), ((255, 215, 0), "yellow")],
)  # fmt: skip
def test_palette_names(rgb: tuple[int, int, int], name: str) -> None:
    assert nearest_name(rgb).name == name
