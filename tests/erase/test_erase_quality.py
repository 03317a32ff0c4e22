"""The quality check: BRISQUE with the package's shipped model, text still read after
erasing, and the wider second pass it triggers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from erase_support import captioned, photo, settings_with

from atelier.erase import detect, mask, quality
from atelier.erase.detect import TextLine
from atelier.erase.pipeline import EraseOptions, ErasePipeline
from atelier.erase.synth import Caption


def test_brisque_matches_the_packages_features_and_model() -> None:
    """Our features equal the ``brisque`` package's own code (which fails end to end on
    NumPy 2), and our SVR evaluation equals libsvm's on its shipped ``svm.txt``."""
    import skimage.color
    from libsvm import svmutil

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the package imports deprecated scipy modules
        from brisque.brisque import BRISQUE

    ours = quality.Brisque()
    theirs = BRISQUE(url=False)
    model = svmutil.svm_load_model(str(quality._model_dir() / "svm.txt"))
    for name in ("astronaut", "camera"):
        rgb = photo(name, 160)
        grey = skimage.color.rgb2gray(rgb)
        half = theirs.calculate_brisque_features(
            np.asarray(
                __import__("cv2").resize(grey, None, fx=0.5, fy=0.5, interpolation=2), np.float64
            ),
            7,
            7 / 6,
        )
        full = theirs.calculate_brisque_features(grey, 7, 7 / 6)
        reference = np.array([float(np.asarray(v).reshape(-1)[0]) for v in [*full, *half]])
        assert np.allclose(ours.features(rgb), reference, rtol=1e-5, atol=1e-6)
        scaled = -1 + 2.0 / (ours.high - ours.low) * (reference - ours.low)
        nodes, _ = svmutil.gen_svm_nodearray([float(v) for v in scaled])
        expected = svmutil.libsvm.svm_predict(model, nodes)
        assert ours.score(rgb) == pytest.approx(expected, abs=1e-3)


def test_brisque_scores_a_damaged_photo_worse() -> None:
    rgb = photo("chelsea", 256)
    noisy = np.clip(rgb + np.random.default_rng(0).normal(0, 25, rgb.shape), 0, 255)
    scorer = quality.brisque()
    assert scorer.score(noisy.astype(np.uint8)) > scorer.score(rgb) + 10


def test_residual_text_reads_what_was_not_erased(ocr: detect.OcrEngine) -> None:
    drawn = captioned(
        "coffee",
        [
            Caption("Free Shipping", (30, 40), 36, fill=(255, 255, 255), stroke=2),
            Caption("Order Now", (40, 300), 36, fill=(255, 230, 40), stroke=2),
        ],
    )
    found = detect.detect(ocr, drawn.image)
    assert len(found.to_erase) == 2
    left = quality.residual_text(ocr, drawn.image, found.to_erase, min_confidence=0.5)
    assert {r.erased for r in left} == {0, 1}
    # the clean photo: nothing is read where the lines were
    clean = photo("coffee")
    assert quality.residual_text(ocr, clean, found.to_erase, min_confidence=0.5) == []
    # a kept line is not a residual
    kept = quality.residual_text(
        ocr, drawn.image, found.to_erase, min_confidence=0.5, keep=["free shipping"]
    )
    assert [detect.normalise(r.line.text)[0] for r in kept] == ["ordernow"]


def test_texture_read_beside_a_line_is_not_its_residue() -> None:
    line = TextLine(((0, 0), (100, 0), (100, 30), (0, 30)), "全场五折", 0.99)
    other = TextLine(((10, 0), (60, 0), (60, 30), (10, 30)), "040", 0.8)
    same = TextLine(((10, 0), (60, 0), (60, 30), (10, 30)), "五折", 0.8)
    assert not quality._same_text(other, line, quality._overlap(other.polygon, line.polygon))
    assert quality._same_text(same, line, quality._overlap(same.polygon, line.polygon))


def test_a_second_wider_pass_runs_when_text_remains(
    ocr: detect.OcrEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = captioned(
        "astronaut", [Caption("SALE 50% OFF", (30, 40), 40, fill=(255, 255, 255), stroke=2)]
    )
    real = mask.text_mask
    calls: list[int] = []

    def first_pass_misses_the_right_half(rgb, lines, **kwargs):  # type: ignore[no-untyped-def]
        result = real(rgb, lines, **kwargs)
        calls.append(len(calls))
        if len(calls) == 1:  # the first pass: only the left half of each line is masked
            half = result.mask.copy()
            for line in lines:
                xs = [x for x, _ in line.polygon]
                half[:, int((min(xs) + max(xs)) / 2) :] = 0
            return mask.TextMask(half, result.lines)
        return result

    monkeypatch.setattr(mask, "text_mask", first_pass_misses_the_right_half)
    pipeline = ErasePipeline(settings_with(), ocr=ocr)
    result = pipeline.run(drawn.image, EraseOptions())
    checks = result.report["quality"]
    assert checks["passes"] == 2, checks
    assert checks["residual_after_first_pass"], checks
    assert checks["residual_text"] == [] and checks["lines_still_read"] == 0
    erased = pipeline_lines(ocr, drawn.image)
    assert quality.residual_text(ocr, result.image, erased, min_confidence=0.5) == []
    # without the second pass, the text stays (and the report says so)
    calls.clear()
    single = pipeline.run(drawn.image, EraseOptions(second_pass=False))
    assert single.report["quality"]["passes"] == 1
    assert single.report["quality"]["lines_still_read"] == 1


def pipeline_lines(ocr: detect.OcrEngine, rgb: np.ndarray) -> tuple[TextLine, ...]:
    return detect.detect(ocr, rgb).to_erase
