"""Inpainters: OpenCV, a tiny LaMa-shaped ONNX model from the models directory (loaded
through the real loader), a tiny diffusers inpainting pipeline on the CPU, and the fallback
policy between them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx_models
import pytest
from erase_support import photo, settings_with

from atelier.erase.inpaint import InpaintPolicy, OpenCVInpainter, composite, regions
from atelier.providers.errors import NotConfigured


def holes(shape: tuple[int, int]) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    m[40:52, 30:90] = 255  # a stroke
    m[100:130, 150:156] = 255
    return m


def test_opencv_fills_the_holes_and_touches_nothing_else() -> None:
    rgb = np.zeros((160, 200, 3), np.uint8)
    rgb[:, :] = (200, 120, 40)
    m = holes(rgb.shape[:2])
    damaged = rgb.copy()
    damaged[m > 0] = (255, 255, 255)  # "text"
    steps: list[tuple[int, int]] = []
    out = OpenCVInpainter("telea", 3).inpaint(damaged, m, lambda d, t: steps.append((d, t)))
    assert np.array_equal(out[m == 0], damaged[m == 0])
    assert np.abs(out[m > 0].astype(int) - (200, 120, 40)).max() <= 4
    assert steps[-1][0] == steps[-1][1] == len(regions(m, 10, merge_gap=8))


def test_composite_keeps_every_pixel_outside_the_mask() -> None:
    a = np.zeros((4, 4, 3), np.uint8)
    b = np.full((4, 4, 3), 9, np.uint8)
    m = np.zeros((4, 4), np.uint8)
    m[1, 2] = 255
    out = composite(a, b, m)
    assert out[1, 2].tolist() == [9, 9, 9] and out.sum() == 27


@pytest.mark.parametrize("fixed", [True, False])
def test_lama_onnx_from_the_models_directory(tmp_path: Path, fixed: bool) -> None:
    onnx_models.lama(tmp_path / "lama_fp32.onnx", side=64 if fixed else None, scale255=fixed)
    policy = InpaintPolicy(settings_with(tmp_path, inpainter="lama"))
    assert policy.resolve(None) == "lama"
    rgb = photo("astronaut", 200)
    m = holes(rgb.shape[:2])
    done = policy.run(rgb, m)
    assert done.inpainter == "lama" and not [a for a in done.attempts if a.error]
    assert np.array_equal(done.image[m == 0], rgb[m == 0])
    # the tiny model fills holes with grey (0.5): what comes back inside is that grey
    inside = done.image[m > 0].astype(int)
    assert abs(np.median(inside) - 128) <= 3, np.median(inside)


def test_auto_prefers_lama_when_its_file_is_there(tmp_path: Path) -> None:
    assert InpaintPolicy(settings_with(tmp_path)).resolve(None) == "opencv"
    onnx_models.lama(tmp_path / "lama_fp32.onnx")
    assert InpaintPolicy(settings_with(tmp_path)).resolve(None) == "lama"
    assert InpaintPolicy(settings_with(tmp_path)).resolve("opencv") == "opencv"


def test_missing_or_broken_models_fall_back_to_opencv(tmp_path: Path) -> None:
    rgb = photo("coffee", 160)
    m = holes(rgb.shape[:2])
    missing = InpaintPolicy(settings_with(tmp_path, inpainter="lama")).run(rgb, m)
    assert missing.inpainter == "opencv-telea"
    assert "NotConfigured" in (missing.attempts[0].error or "")
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    broken = InpaintPolicy(settings_with(tmp_path, inpainter="lama", lama_model="broken.onnx"))
    done = broken.run(rgb, m)
    assert (
        done.inpainter == "opencv-telea" and done.to_json()["fallbacks"][0]["inpainter"] == "lama"
    )
    no_diffusers = InpaintPolicy(settings_with(tmp_path, inpainter="diffusers")).run(rgb, m)
    assert no_diffusers.inpainter == "opencv-telea"
    assert [a.name for a in no_diffusers.attempts] == ["diffusers", "lama", "opencv-telea"]


def test_a_cancellation_is_not_a_fallback(tmp_path: Path) -> None:
    class Cancelled(Exception):
        pass

    def cancel(done: int, total: int) -> None:
        raise Cancelled()

    onnx_models.lama(tmp_path / "lama_fp32.onnx")
    rgb = photo("coffee", 160)
    with pytest.raises(Cancelled):
        InpaintPolicy(settings_with(tmp_path, inpainter="lama")).run(
            rgb, holes(rgb.shape[:2]), on_step=cancel
        )


def test_lama_refuses_a_model_that_is_not_lama(tmp_path: Path) -> None:
    onnx_models.salient(tmp_path / "u2net.onnx", "u2net")
    policy = InpaintPolicy(settings_with(tmp_path, inpainter="lama", lama_model="u2net.onnx"))
    with pytest.raises(NotConfigured, match="does not look like LaMa"):
        policy.build("lama").inpaint(photo("coffee", 64), holes((64, 64)))


@pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
def test_diffusers_inpainting_pipeline_on_the_cpu(tmp_path: Path) -> None:
    """A tiny Stable-Diffusion-inpainting pipeline (UNet with 9 input channels), saved and
    loaded through ``AutoPipelineForInpainting`` like a real one."""
    import diffusers
    import torch

    from atelier.providers import tiny_pipelines as tp

    torch.manual_seed(0)
    tokenizer = tp.clip_tokenizer()
    pipe = diffusers.StableDiffusionInpaintPipeline(
        vae=diffusers.AutoencoderKL(**tp._VAE_TINY, scaling_factor=0.18215),
        text_encoder=tp._clip_text(tp._CLIP_TINY, tokenizer, projection=False, full=False),
        tokenizer=tokenizer,
        unet=diffusers.UNet2DConditionModel(**{**tp._SD2_UNET_TINY, "in_channels": 9}),
        scheduler=diffusers.EulerDiscreteScheduler(
            beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, steps_offset=1
        ),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(tmp_path / "tiny-inpaint", safe_serialization=True)
    settings = settings_with(
        tmp_path,
        inpainter="diffusers",
        diffusers_model="tiny-inpaint",
        diffusers_size=64,
        diffusers_steps=2,
    )
    settings.providers.diffusers.device = "cpu"
    rgb = photo("chelsea", 96)
    m = holes((96, 96))[:96, :96]
    steps: list[int] = []
    done = InpaintPolicy(settings).run(rgb, m, on_step=lambda d, t: steps.append(d))
    assert done.inpainter == "diffusers", done.attempts
    assert steps and np.array_equal(done.image[m == 0], rgb[m == 0])
    assert not np.array_equal(done.image[m > 0], rgb[m > 0])
