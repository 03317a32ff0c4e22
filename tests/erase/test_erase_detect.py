"""Text detection on real photos with text drawn on them: the OCR must find it, and the
minimum confidence, the keep-list and the region of interest must decide what is erased."""

from __future__ import annotations

import numpy as np
from erase_support import box_overlap, captioned

from atelier.erase import detect
from atelier.erase.detect import Roi, TextLine
from atelier.erase.synth import Caption


def test_finds_chinese_and_english_lines_with_polygons(ocr: detect.OcrEngine) -> None:
    drawn = captioned(
        "coffee",
        [
            Caption("限时特价", (30, 40), 40, "sans", (255, 255, 255), stroke=2),
            Caption("SALE 50% OFF", (40, 300), 34, "serif", (255, 230, 40), shadow=(2, 2)),
        ],
    )
    found = detect.detect(ocr, drawn.image, min_confidence=0.5)
    assert len(found.to_erase) == 2, found.to_json()
    for line in drawn.lines:
        want, _ = detect.normalise(line.text)
        matches = [t for t in found.to_erase if box_overlap(t.polygon, line.box) > 0.6]
        assert len(matches) == 1, (line.text, found.to_json())
        got, _ = detect.normalise(matches[0].text)
        # the recogniser may slip on a character, not on the line
        same = sum(a == b for a, b in zip(got, want, strict=False))
        assert same >= len(want) - 1, (got, want)
        assert 0.5 <= matches[0].confidence <= 1.0
        assert len(matches[0].polygon) == 4


def test_minimum_confidence_leaves_uncertain_text(ocr: detect.OcrEngine) -> None:
    drawn = captioned("chelsea", [Caption("New Arrival", (40, 60), 36, fill=(255, 255, 255))])
    everything = detect.detect(ocr, drawn.image, min_confidence=0.0)
    best = max(line.confidence for line in everything.lines)
    strict = detect.detect(ocr, drawn.image, min_confidence=min(1.0, best + 1e-3))
    assert strict.to_erase == ()
    assert {line.status for line in strict.lines} == {"low_confidence"}
    assert len(everything.to_erase) == len(everything.lines) >= 1


def test_keep_list_keeps_whole_lines_and_parts_of_lines(ocr: detect.OcrEngine) -> None:
    drawn = captioned(
        "rocket",
        [
            Caption("ACME Summer SALE", (20, 40), 34, fill=(255, 255, 255), stroke=2),
            Caption("Atelier", (60, 280), 40, fill=(255, 230, 40), stroke=2),
        ],
    )
    full_width_acme = "\uff41\uff43\uff4d\uff45"
    found = detect.detect(ocr, drawn.image, keep=[full_width_acme, " atelier "])
    by_text = {detect.normalise(line.text)[0]: line for line in found.lines}
    assert by_text["atelier"].status == "keep"
    partial = next(line for line in found.lines if "acme" in detect.normalise(line.text)[0])
    assert partial.status == "erase" and partial.keep_regions
    # the protected part is the left of the line (where "ACME" was drawn), not "SALE"
    xs = [x for region in partial.keep_regions for x, _ in region]
    line_xs = [x for x, _ in partial.polygon]
    assert max(xs) < min(line_xs) + 0.45 * (max(line_xs) - min(line_xs))


def test_region_of_interest_limits_what_is_erased(ocr: detect.OcrEngine) -> None:
    drawn = captioned(
        "astronaut",
        [
            Caption("Free Shipping", (20, 20), 32, fill=(255, 255, 0), stroke=2),
            Caption("Order Now", (30, 320), 32, fill=(255, 255, 255), stroke=2),
        ],
    )
    bottom = Roi(0, 280, 384, 104)
    found = detect.detect(ocr, drawn.image, roi=bottom)
    erase = [detect.normalise(line.text)[0] for line in found.to_erase]
    assert erase == ["ordernow"], found.to_json()
    outside = [line for line in found.lines if line.status == "outside_roi"]
    assert all(max(y for _, y in line.polygon) < 280 for line in outside)


def test_normalise_folds_case_width_and_spaces() -> None:
    folded, index = detect.normalise("\uff21\uff23\uff2d\uff25  Sale ")  # full-width "ACME"
    assert folded == "acmesale"
    assert index == [0, 1, 2, 3, 6, 7, 8, 9]


def test_apply_keep_without_word_boxes_spreads_characters_evenly() -> None:
    line = TextLine(((0, 0), (100, 0), (100, 20), (0, 20)), "ABCDEFGHIJ", 0.99)
    kept = detect.apply_keep(line, ["ij"])
    assert kept.status == "erase"
    xs = np.array([x for region in kept.keep_regions for x, _ in region])
    assert xs.min() == 80 and xs.max() == 100
    assert detect.apply_keep(line, ["zzz"]) == line
    assert detect.apply_keep(line, ["abcdefghij"]).status == "keep"
