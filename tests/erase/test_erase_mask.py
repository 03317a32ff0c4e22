"""The glyph mask, measured against the exact coverage of the text that was drawn: it must
cover the letters (fill, outline, shadow) and little else, far less than the boxes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from erase_support import captioned

from atelier.erase import detect, mask
from atelier.erase.detect import Roi, TextLine
from atelier.erase.synth import Caption

CASES = {
    "plain": ("coffee", Caption("Best Price", (40, 60), 40, "sans", (30, 20, 20))),
    "outline": ("camera", Caption("限时特价", (40, 200), 44, "sans", (255, 230, 40), stroke=3)),
    "shadow": ("moon", Caption("Call 555-0199", (30, 120), 36, "sans", (255, 230, 40),
                               shadow=(3, 3), shadow_blur=1.5, shadow_alpha=0.8)),
    "serif": ("chelsea", Caption("Summer Collection", (20, 300), 30, "serif", (20, 40, 140))),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_mask_covers_the_letters_and_little_else(ocr: detect.OcrEngine, case: str) -> None:
    name, caption = CASES[case]
    drawn = captioned(name, [caption])
    found = detect.detect(ocr, drawn.image)
    assert len(found.to_erase) == 1, found.to_json()
    result = mask.text_mask(drawn.image, found.to_erase, margin=1)
    m = result.mask > 0
    assert result.lines[0].method == "glyph"
    visible = drawn.alpha > 0.3  # what a reader sees of the text
    recall = (m & visible).sum() / visible.sum()
    assert recall >= 0.95, recall
    # little else: nearly every masked pixel is text or right beside it
    near_text = cv2.dilate((drawn.alpha > 0.02).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    precision = (m & near_text).sum() / m.sum()
    assert precision >= 0.85, precision
    # not much more than the text's own footprint, and less than the boxes
    footprint = (drawn.alpha > 0.02).sum()
    assert m.sum() <= 1.6 * footprint, (m.sum(), footprint)
    boxes = mask.box_mask(drawn.image.shape[:2], found.to_erase) > 0
    assert m.sum() < boxes.sum(), (m.sum(), boxes.sum())


def test_separation_that_fails_falls_back_to_the_box() -> None:
    flat = np.full((120, 240, 3), 128, np.uint8)
    line = TextLine(((20, 40), (220, 40), (220, 80), (20, 80)), "nothing here", 0.9)
    result = mask.text_mask(flat, [line], margin=0)
    assert result.lines[0].method == "box"
    assert (result.mask[40:80, 20:220] > 0).all()  # the whole polygon
    assert not result.mask[:30].any() and not result.mask[90:].any()


def test_forced_box_and_extra_widening() -> None:
    flat = np.full((120, 240, 3), 128, np.uint8)
    line = TextLine(((20, 40), (220, 40), (220, 80), (20, 80)), "x", 0.9)
    tight = mask.text_mask(flat, [line], margin=0, force_box=frozenset({0})).mask
    wide = mask.text_mask(flat, [line], margin=0, extra=5, force_box=frozenset({0})).mask
    assert (tight > 0).sum() < (wide > 0).sum()
    assert wide[36, 120] and not tight[36, 120]


def test_kept_characters_and_the_region_of_interest_stay_out(ocr: detect.OcrEngine) -> None:
    drawn = captioned(
        "rocket", [Caption("ACME Summer SALE", (20, 40), 34, fill=(255, 255, 255), stroke=2)]
    )
    found = detect.detect(ocr, drawn.image, keep=["acme"])
    line = found.to_erase[0]
    kept = mask.box_mask(drawn.image.shape[:2], [TextLine(r, "", 1.0) for r in line.keep_regions])
    result = mask.text_mask(drawn.image, found.to_erase, margin=1)
    assert kept.any() and not (result.mask[kept > 0]).any()
    assert result.mask.any()  # the rest of the line is masked
    roi = Roi(0, 0, 192, 384)
    clipped = mask.text_mask(drawn.image, found.to_erase, margin=1, roi=roi)
    assert not clipped.mask[:, 192:].any() and clipped.mask[:, :192].any()


def test_stats_count_pixels_and_pieces() -> None:
    m = np.zeros((20, 20), np.uint8)
    m[2:4, 2:4] = 255
    m[10:15, 10:12] = 255
    assert mask.stats(m) == {
        "pixels": 14,
        "coverage": 0.035,
        "components": 2,
        "glyph_lines": 0,
        "box_lines": 0,
    }
