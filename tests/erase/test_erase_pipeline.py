"""The pipeline's own duties: stages in order with progress that never goes back, photos
scaled to the maximum side (with their region of interest), transparency, pixels outside the
mask left exactly as they were."""

from __future__ import annotations

import numpy as np
import pytest
from erase_support import captioned, settings_with
from PIL import Image

from atelier.erase import detect
from atelier.erase.detect import Roi
from atelier.erase.pipeline import STAGES, EraseOptions, ErasePipeline, fraction
from atelier.erase.synth import Caption


def test_stages_report_progress_in_order(ocr: detect.OcrEngine) -> None:
    drawn = captioned("rocket", [Caption("New Arrival", (30, 50), 38, fill=(255, 255, 0))])
    seen: list[tuple[str, int, int, float]] = []
    result = ErasePipeline(settings_with(), ocr=ocr).run(
        drawn.image, EraseOptions(), lambda *event: seen.append(event)
    )
    stages = list(dict.fromkeys(stage for stage, *_ in seen))
    assert stages == [s for s in STAGES if s not in ("background_redraw", "store")]
    fractions = [f for *_, f in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] <= 0.95
    # only masked pixels changed, and they did
    changed = (result.image != drawn.image).any(axis=2)
    assert changed.any() and not (changed & (result.text_mask == 0)).any()


def test_fraction_maps_each_stage_to_its_share() -> None:
    assert fraction("validate", 0, 1) == 0.0
    assert fraction("store", 1, 1) == 1.0
    assert fraction("erasing", 1, 2) == pytest.approx((0.48 + 0.68) / 2)
    ends = [fraction(s, 1, 1) for s in STAGES]
    assert ends == sorted(ends)


def test_large_photos_are_scaled_down_with_their_region(ocr: detect.OcrEngine) -> None:
    pipeline = ErasePipeline(settings_with(max_side=200), ocr=ocr)
    rgb = np.zeros((300, 400, 3), np.uint8)
    scaled, roi, factor = pipeline.prepare(rgb, Roi(100, 100, 200, 100))
    assert scaled.shape == (150, 200, 3) and factor == 0.5
    assert roi == Roi(50, 50, 100, 50)
    with pytest.raises(ValueError, match="outside the picture"):
        pipeline.prepare(rgb, Roi(500, 10, 10, 10))


def test_transparent_parts_become_white(ocr: detect.OcrEngine) -> None:
    pipeline = ErasePipeline(settings_with(), ocr=ocr)
    rgba = Image.new("RGBA", (20, 10), (10, 200, 30, 0))
    rgb, _, _ = pipeline.prepare(rgba, None)
    assert (rgb == 255).all()
