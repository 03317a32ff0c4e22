"""Background redraw: the subject stays, the background becomes blur, a colour, a preset or a
rendered prompt, blended at the subject's edge; and through the pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from erase_support import photo, settings_with

from atelier.erase import detect, redraw
from atelier.erase.pipeline import EraseOptions, ErasePipeline, RedrawOptions


def subject_disc(h: int = 160, w: int = 200) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w]
    return (((xs - w / 2) ** 2 + (ys - h / 2) ** 2) < (0.3 * h) ** 2).astype(np.float32)


def regions(subject: np.ndarray, margin: int = 12) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    k = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    core = cv2.erode(subject.astype(np.uint8), k) > 0
    far = cv2.dilate(subject.astype(np.uint8), k) == 0
    return core, far


@pytest.mark.parametrize(
    ("mode", "extra"),
    [("color", {"colour": "#1e90ff"}), ("preset", {"preset": "studio-grey"}),
     ("preset", {"preset": "beach"}), ("blur", {"blur_radius": 12.0})],
)  # fmt: skip
def test_subject_stays_and_background_changes(mode: str, extra: dict[str, object]) -> None:
    rgb = photo("coffee", 200)[:160]
    subject = subject_disc()
    new = redraw.background(mode, rgb, subject, **extra)  # type: ignore[arg-type]
    out = redraw.redraw(rgb, subject, new, edge=3.0)
    core, far = regions(subject)
    assert np.abs(out[core].astype(int) - rgb[core]).max() <= 1
    assert np.abs(out[far].astype(int) - new[far]).max() <= 1
    assert not np.array_equal(out[far], rgb[far])
    if mode == "color":
        assert (new == (0x1E, 0x90, 0xFF)).all()


def test_blur_does_not_smear_the_subject_into_its_surroundings() -> None:
    rgb = np.zeros((160, 200, 3), np.uint8)
    rgb[:] = (30, 160, 30)
    subject = subject_disc()
    rgb[subject > 0] = (250, 20, 20)
    behind = redraw.blurred(rgb, subject, 20.0)
    _, far = regions(subject, 4)
    # the red subject was filled in before blurring: its colour does not reach the background
    assert behind[far][:, 0].max() < 90


def test_prompt_uses_the_renderer_and_bad_values_are_refused() -> None:
    rgb = photo("chelsea", 96)
    subject = subject_disc(96, 96)
    asked: list[tuple[str, int, int]] = []

    def render(prompt: str, w: int, h: int) -> np.ndarray:
        asked.append((prompt, w, h))
        return np.full((h, w, 3), 77, np.uint8)

    new = redraw.background("prompt", rgb, subject, prompt="a beach", render=render)
    assert asked == [("a beach", 96, 96)] and (new == 77).all()
    with pytest.raises(ValueError, match="prompt"):
        redraw.background("prompt", rgb, subject, prompt="x")
    with pytest.raises(ValueError, match="colour"):
        redraw.background("color", rgb, subject, colour="red")
    with pytest.raises(ValueError, match="unknown preset"):
        redraw.background("preset", rgb, subject, preset="mars")
    assert {"studio-white", "beach", "city"} <= set(redraw.presets())


def test_pipeline_redraws_around_the_segmented_subject(ocr: detect.OcrEngine) -> None:
    import cv2

    rgb = np.zeros((200, 200, 3), np.uint8)
    rgb[:] = (40, 110, 50)
    cv2.circle(rgb, (100, 105), 55, (230, 200, 40), -1)
    pipeline = ErasePipeline(settings_with(), ocr=ocr)
    result = pipeline.run(
        rgb,
        EraseOptions(segmenter="classical", redraw=RedrawOptions("color", colour="#ffffff")),
    )
    assert result.subject_mask is not None
    assert result.report["redraw"]["mode"] == "color"
    assert result.image[5, 5].tolist() == [255, 255, 255]
    assert result.image[105, 100].tolist() == [230, 200, 40]
    assert [*result.report["timings"]] == [
        "validate", "text_detection", "subject_segmentation", "mask", "erasing",
        "background_redraw", "quality_check",
    ]  # fmt: skip


def test_without_a_subject_the_background_is_left_alone(ocr: detect.OcrEngine) -> None:
    flat = np.full((120, 120, 3), 90, np.uint8)
    pipeline = ErasePipeline(settings_with(), ocr=ocr)
    result = pipeline.run(
        flat, EraseOptions(segmenter="classical", redraw=RedrawOptions("color", colour="#ff0000"))
    )
    assert "skipped" in result.report["redraw"]
    assert np.array_equal(result.image, flat)
