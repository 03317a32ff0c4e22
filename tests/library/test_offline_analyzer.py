"""The offline analyser on real photographs (scikit-image's bundled samples) and on drawn
images: text, faces, people, safety, colours, EXIF, CLIP zero-shot tags."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from library_models import colour_rows, jpeg_with_exif, write_tiny_clip
from PIL import Image

from atelier.config import LibrarySettings, Settings
from atelier.library.analysis import Analyzer
from atelier.library.clip import ClipOnnxEmbedder
from atelier.library.factory import build_analyzer
from atelier.library.labels import Label
from atelier.library.offline import OfflineAnalyzer


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_a_portrait_photograph(
    offline_analyzer: OfflineAnalyzer, photos: dict[str, Image.Image]
) -> None:
    progress: list[tuple[int, int]] = []
    analysis = offline_analyzer.analyze(
        png(photos["astronaut"]), on_progress=lambda d, t: progress.append((d, t))
    )
    assert isinstance(offline_analyzer, Analyzer)
    assert progress == [(i, 5) for i in range(1, 6)]  # colours, text, faces, people, safety
    assert (analysis.width, analysis.height, analysis.orientation) == (512, 512, "square")
    assert len(analysis.faces) == 1
    face = analysis.faces[0]
    assert 150 <= face.x <= 210 and 40 <= face.y <= 100 and 70 <= face.width <= 120
    names = {t.name: t for t in analysis.tags}
    assert names["face"].source == "face" and names["face"].name_zh == "人脸"
    assert "person" in names
    assert analysis.nsfw_score is not None and analysis.nsfw_score < 0.2
    assert "nsfw" not in names
    shares = [c.fraction for c in analysis.colors]
    assert len(shares) == 5 and shares == sorted(shares, reverse=True) and 0.8 < sum(shares) <= 1
    assert "with 1 face" in analysis.description_en and "1张人脸" in analysis.description_zh


def test_text_in_an_image(
    offline_analyzer: OfflineAnalyzer, photos: dict[str, Image.Image]
) -> None:
    analysis = offline_analyzer.analyze(photos["page"])
    lines = analysis.ocr_text.splitlines()
    assert lines[0] == "Region-based segmentation"  # top to bottom
    assert any("markers" in line for line in lines[1:])
    text = next(t for t in analysis.tags if t.name == "text")
    assert text.source == "ocr" and text.name_zh == "文字" and text.confidence > 0.9
    assert analysis.faces == () and analysis.orientation == "landscape"
    assert 'the text "Region-based segmentation' in analysis.description_en


def test_chinese_text(offline_analyzer: OfflineAnalyzer) -> None:
    from PIL import ImageDraw, ImageFont

    font_path = _cjk_font()
    image = Image.new("RGB", (520, 140), "white")
    ImageDraw.Draw(image).text(
        (20, 30), "欢迎光临", fill="black", font=ImageFont.truetype(font_path, 64)
    )
    assert "欢迎光临" in offline_analyzer.analyze(image).ocr_text


def _cjk_font() -> str:
    """Noto Sans SC from the pylopdf-fonts-zh-cn package (a dependency, for manga)."""
    import importlib.util

    spec = importlib.util.find_spec("pylopdf_fonts_zh_cn")
    assert spec is not None and spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations)))
    fonts = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".otf", ".ttf"))
    assert fonts, f"no font under {root}"
    return str(next((f for f in fonts if "Sans" in f.name), fonts[0]))


def test_photographs_without_people(
    offline_analyzer: OfflineAnalyzer, photos: dict[str, Image.Image]
) -> None:
    for name in ("chelsea", "coffee"):
        analysis = offline_analyzer.analyze(photos[name])
        assert analysis.faces == () and analysis.people == (), name
        assert not {"face", "person"} & {t.name for t in analysis.tags}, name
        assert analysis.ocr_text == "", name
    coffee = offline_analyzer.analyze(photos["coffee"])
    assert {"brown", "dark red", "white", "beige"} & {c.name for c in coffee.colors}


def test_exif_and_rotation(offline_analyzer: OfflineAnalyzer) -> None:
    analysis = offline_analyzer.analyze(jpeg_with_exif((400, 300), orientation=8))
    assert (analysis.width, analysis.height, analysis.orientation) == (300, 400, "portrait")
    assert analysis.exif is not None and analysis.exif.camera == "Canon EOS R5"
    red = next(t for t in analysis.tags if t.source == "color")
    assert (red.name, red.name_zh) == ("red", "红色") and red.confidence == 1.0


def test_stages_can_be_turned_off(photos: dict[str, Image.Image]) -> None:
    settings = LibrarySettings(ocr=False, faces=False, people=False, safety=False, colors=2)
    analysis = OfflineAnalyzer(settings).analyze(photos["astronaut"])
    assert analysis.faces == () and analysis.nsfw_score is None and analysis.ocr_text == ""
    assert 1 <= len(analysis.colors) <= 2


def test_zero_shot_tags_with_a_clip_model(tmp_path: Path) -> None:
    write_tiny_clip(
        tmp_path, dim=3, token_rows=colour_rows(), projection=np.eye(3, dtype=np.float32)
    )
    labels = [Label("red", "红色"), Label("green", "绿色"), Label("blue", "蓝色")]
    settings = LibrarySettings(ocr=False, faces=False, people=False, safety=False)
    analyzer = OfflineAnalyzer(settings, clip=ClipOnnxEmbedder(tmp_path), labels=labels)
    analysis = analyzer.analyze(Image.new("RGB", (300, 200), (0, 40, 230)))
    clip_tags = [t for t in analysis.tags if t.source == "clip"]
    assert [(t.name, t.name_zh) for t in clip_tags] == [("blue", "蓝色")]
    assert clip_tags[0].confidence > 0.9
    assert "showing blue" in analysis.description_en and "内容为蓝色" in analysis.description_zh


def test_factory_builds_the_configured_analyser(tmp_path: Path) -> None:
    offline = build_analyzer(Settings(_env_file=None))  # type: ignore[call-arg]
    assert isinstance(offline, OfflineAnalyzer) and offline.clip is None
    vlm = build_analyzer(Settings(_env_file=None, library={"analyzer": "vlm"}))  # type: ignore[call-arg]
    assert vlm.name == "vlm"
    vlm.close()  # type: ignore[attr-defined]


def test_people_detections_are_thresholded_merged_and_scaled_back() -> None:
    """The HOG detector's answers (faked here: no sample photograph has pedestrians) are kept
    from a score of 1.0, overlapping ones merged, and mapped back to the full-size image."""

    class FakeHog:
        def __init__(self) -> None:
            self.seen: tuple[int, ...] = ()

        def detectMultiScale(self, image: np.ndarray, **_: Any) -> Any:
            self.seen = image.shape
            rects = np.array([[10, 10, 64, 128], [12, 14, 64, 128], [300, 100, 64, 128]])
            return rects, np.array([[1.5], [1.2], [0.6]])

    hog = FakeHog()
    settings = LibrarySettings(ocr=False, faces=False, safety=False)
    analyzer = OfflineAnalyzer(settings)
    analyzer._people = type("Ready", (), {"get": lambda self: hog})()  # type: ignore[assignment]
    analysis = analyzer.analyze(Image.new("RGB", (1280, 960), (90, 90, 90)))
    assert hog.seen == (480, 640, 3)  # scaled to 640 wide first
    assert [(b.x, b.y, b.width, b.height, b.score) for b in analysis.people] == [
        (20, 20, 128, 256, 1.5)
    ]
    person = next(t for t in analysis.tags if t.name == "person")
    assert person.source == "people" and person.confidence == 0.75
    assert "with 1 person" in analysis.description_en
