"""Subject segmentation: tiny ONNX models of each family through the real loader (their mask
is the red channel, so the loader's pre- and post-processing show), SAM's encoder and
decoder, the classical fallback, and the policy's order."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx_models
import pytest
from erase_support import settings_with

from atelier.erase import segment
from atelier.erase.segment import ClassicalSegmenter, SegmentPolicy
from atelier.providers.errors import NotConfigured


def red_square(h: int = 120, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A red square on a blue-grey background, and where the square is."""
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:] = (40, 70, 140)
    inside = np.zeros((h, w), bool)
    inside[30:90, 50:120] = True
    rgb[inside] = (230, 40, 30)
    return rgb, inside


def agrees(soft: np.ndarray, inside: np.ndarray) -> float:
    """Share of pixels (away from the square's edge) on the right side of 0.5."""
    core = cv2.erode(inside.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    away = cv2.dilate(inside.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    right = ((soft > 0.5) & core).sum() + ((soft < 0.5) & away).sum()
    return float(right / (core.sum() + away.sum()))


@pytest.mark.parametrize("family", ["u2net", "birefnet", "modnet"])
def test_onnx_families_through_the_real_loader(tmp_path: Path, family: str) -> None:
    onnx_models.salient(tmp_path / f"{family}-tiny.onnx", family)
    policy = SegmentPolicy(
        settings_with(tmp_path, segmenter="onnx", segmenter_model=f"{family}-tiny.onnx")
    )
    rgb, inside = red_square()
    result = policy.run(rgb)
    assert result.segmenter == f"onnx-{family}", result.attempts
    assert result.mask is not None and result.mask.shape == inside.shape
    assert agrees(result.mask, inside) > 0.97


def test_sam_encoder_and_decoder(tmp_path: Path) -> None:
    onnx_models.sam(tmp_path / "sam_encoder.onnx", tmp_path / "sam_decoder.onnx")
    policy = SegmentPolicy(
        settings_with(
            tmp_path,
            segmenter="onnx",
            segmenter_model="sam_encoder.onnx",
            sam_decoder_model="sam_decoder.onnx",
        )
    )
    rgb, inside = red_square()
    result = policy.run(rgb)
    assert result.segmenter == "onnx-sam", result.attempts
    assert result.mask is not None and agrees(result.mask, inside) > 0.9


def test_family_is_guessed_from_the_file_name() -> None:
    assert segment.guess_family("u2netp.onnx") == "u2net"
    assert segment.guess_family("BiRefNet-general-epoch_244.onnx") == "birefnet"
    assert segment.guess_family("modnet_photographic_portrait_matting.onnx") == "modnet"
    assert segment.guess_family("isnet-general-use.onnx") == "isnet"
    assert segment.guess_family("mobile_sam_encoder.onnx") == "sam"
    with pytest.raises(NotConfigured, match="segmenter_family"):
        segment.guess_family("model.onnx")


def test_classical_finds_a_centred_subject_and_refuses_a_flat_picture() -> None:
    rgb = np.zeros((160, 160, 3), np.uint8)
    rgb[:] = (60, 120, 60)
    cv2.circle(rgb, (80, 85), 40, (230, 200, 40), -1)
    inside = np.zeros((160, 160), np.uint8)
    cv2.circle(inside, (80, 85), 40, 1, -1)
    soft = ClassicalSegmenter().segment(rgb)
    assert soft is not None and agrees(soft, inside > 0) > 0.95
    assert ClassicalSegmenter().segment(np.full((120, 120, 3), 90, np.uint8)) is None


def test_a_missing_model_falls_back_and_says_so(tmp_path: Path) -> None:
    policy = SegmentPolicy(settings_with(tmp_path, segmenter="onnx", segmenter_model="u2net.onnx"))
    assert policy.chain() == ["onnx", "people", "classical"]
    rgb = np.zeros((160, 160, 3), np.uint8)
    rgb[:] = (60, 120, 60)
    cv2.circle(rgb, (80, 85), 40, (230, 200, 40), -1)
    result = policy.run(rgb)
    assert result.segmenter == "classical"
    report = result.to_json()
    assert report["attempts"][0]["segmenter"] == "onnx"
    assert "not found" in report["attempts"][0]["error"]
    assert SegmentPolicy(settings_with(tmp_path, segmenter="none")).run(rgb).mask is None


def test_auto_uses_the_model_only_when_one_is_configured(tmp_path: Path) -> None:
    assert SegmentPolicy(settings_with(tmp_path)).chain() == ["people", "classical"]
    configured = settings_with(tmp_path, segmenter_model="u2net.onnx")
    assert SegmentPolicy(configured).chain() == ["onnx", "people", "classical"]


def test_refine_brings_a_small_mask_to_full_size_along_edges() -> None:
    rgb, inside = red_square(240, 320)
    small = cv2.resize(inside.astype(np.float32), (80, 60), interpolation=cv2.INTER_AREA)
    fitted = segment.refine(small, rgb)
    assert fitted.shape == inside.shape
    assert agrees(fitted, inside) > 0.98
