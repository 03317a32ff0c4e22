"""The local diffusers provider on tiny randomly initialised pipelines of the real architectures
(SD-Turbo, SDXL-Turbo and Z-Image-Turbo shapes), saved to disk and loaded through the real
loader on the CPU in float32. Needs the ``[diffusers]`` extra: without torch these tests fail.
"""

from __future__ import annotations

import gc
import shutil
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from atelier.config import DiffusersSettings, ProviderSettings, Settings
from atelier.providers.base import (
    ImageToImageProvider,
    ImageToImageRequest,
    TextToImageProvider,
    TextToImageRequest,
)
from atelier.providers.diffusers_local import DiffusersProvider, ProviderOutOfMemory
from atelier.providers.errors import InvalidRequest, NotConfigured
from atelier.providers.runtime_torch import LazyModel, select_placement
from atelier.providers.tiny_pipelines import ARCHITECTURES, save_pipeline

pytestmark = [
    # diffusers' Euler schedulers call np.array() on a torch tensor (harmless; numpy >= 2).
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

PIPELINE_CLASS = {
    "sd-turbo": "StableDiffusionPipeline",
    "sdxl-turbo": "StableDiffusionXLPipeline",
    "z-image-turbo": "ZImagePipeline",
}
IMG2IMG_CLASS = {
    "sd-turbo": "StableDiffusionImg2ImgPipeline",
    "sdxl-turbo": "StableDiffusionXLImg2ImgPipeline",
    "z-image-turbo": "ZImageImg2ImgPipeline",
}
MULTIPLE = {"sd-turbo": 8, "sdxl-turbo": 8, "z-image-turbo": 16}


class Cancelled(Exception):
    pass


def settings(models: list[str], models_dir: Path | None = None, device: str = "cpu") -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        providers=ProviderSettings(
            models_dir=models_dir, diffusers=DiffusersSettings(models=models, device=device)
        ),
    )


def pixels(image: Image.Image) -> np.ndarray[Any, np.dtype[np.int16]]:
    return np.asarray(image, dtype=np.int16)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    for arch in ARCHITECTURES:
        save_pipeline(arch, root / arch, seed=1)
    return root


@pytest.fixture(scope="module")
def provider(models_dir: Path) -> Iterator[DiffusersProvider]:
    p = DiffusersProvider(settings(list(ARCHITECTURES), models_dir))
    yield p
    p.evict()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the diffusers provider must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def denoiser_calls(provider: DiffusersProvider, model: str) -> tuple[list[int], Callable[[], None]]:
    """Count forward calls of the model's UNet/transformer; returns the counter and an undo."""
    with provider.runtimes[model].use() as loaded:
        pipe = loaded.text2img
    module = getattr(pipe, "unet", None) or pipe.transformer
    calls: list[int] = []
    handle = module.register_forward_hook(lambda *_: calls.append(1))
    return calls, handle.remove


# -- listing and loading -----------------------------------------------------------------------


def test_models_lists_one_entry_per_configured_pipeline(models_dir: Path) -> None:
    p = DiffusersProvider(
        settings(["sd-turbo", str(models_dir / "z-image-turbo"), "org/absent"], models_dir)
    )
    assert isinstance(p, TextToImageProvider)
    assert isinstance(p, ImageToImageProvider)
    infos = {info.id: info for info in p.models()}
    assert list(infos) == ["sd-turbo", "z-image-turbo", "org/absent"]
    assert {info.kind for info in infos.values()} == {"diffusers"}
    assert {info.provider for info in infos.values()} == {"diffusers"}
    assert infos["sd-turbo"].capabilities == ("text_to_image", "image_to_image")
    assert infos["sd-turbo"].default_steps == 1
    assert infos["z-image-turbo"].default_steps == 8
    assert "ZImagePipeline" in infos["z-image-turbo"].description
    assert not any(rt.loaded for rt in p.runtimes.values()), "listing must not load weights"


def test_listing_and_importing_need_no_torch() -> None:
    code = (
        "import sys\n"
        "from atelier.config import Settings\n"
        "from atelier.providers.diffusers_local import DiffusersProvider\n"
        "s = Settings(_env_file=None, providers={'diffusers': {'models': ['a/b']}})\n"
        "assert [m.id for m in DiffusersProvider(s).models()] == ['a/b']\n"
        "assert 'torch' not in sys.modules and 'diffusers' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_text_to_image_loads_through_the_real_loader_in_fp32_on_cpu(
    provider: DiffusersProvider, arch: str
) -> None:
    result = provider.text_to_image(
        TextToImageRequest(
            prompt="a red fox", width=64, height=32, num_images=2, steps=2, model=arch
        )
    )
    assert result.provider == "diffusers" and result.model == arch
    assert [g.seed for g in result.images] == [0, 1]
    assert all(g.image.size == (64, 32) and g.image.mode == "RGB" for g in result.images)
    assert result.metadata["pipeline"] == PIPELINE_CLASS[arch]
    assert (result.metadata["device"], result.metadata["dtype"]) == ("cpu", "float32")
    with provider.runtimes[arch].use() as loaded:
        params = list(loaded.text2img.components["vae"].parameters())
    assert {p.dtype for p in params} == {torch.float32}
    assert {p.device.type for p in params} == {"cpu"}


def test_auto_placement_is_bf16_on_cuda_else_fp32_on_cpu() -> None:
    placement = select_placement("auto")
    if torch.cuda.is_available():
        assert (placement.device, placement.dtype) == ("cuda", "bfloat16")
    else:
        assert (placement.device, placement.dtype) == ("cpu", "float32")
        with pytest.raises(NotConfigured, match="CUDA is not available"):
            select_placement("cuda")
    assert select_placement("cpu").torch_dtype is torch.float32
    with pytest.raises(NotConfigured, match="unknown device"):
        select_placement("tpu")


# -- generation --------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_same_seed_gives_identical_pixels(provider: DiffusersProvider, arch: str) -> None:
    request = TextToImageRequest(
        prompt="a lighthouse", width=32, height=32, steps=2, seed=7, model=arch
    )
    first, second = provider.text_to_image(request), provider.text_to_image(request)
    other = provider.text_to_image(
        TextToImageRequest(prompt="a lighthouse", width=32, height=32, steps=2, seed=8, model=arch)
    )
    assert np.array_equal(pixels(first.images[0].image), pixels(second.images[0].image))
    assert not np.array_equal(pixels(first.images[0].image), pixels(other.images[0].image))


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_batch_image_i_is_the_single_image_of_seed_plus_i(
    provider: DiffusersProvider, arch: str
) -> None:
    def request(seed: int, n: int) -> TextToImageRequest:
        return TextToImageRequest(
            prompt="a fox", width=32, height=32, steps=2, seed=seed, num_images=n, model=arch
        )

    calls, undo = denoiser_calls(provider, arch)
    try:
        batch = provider.text_to_image(request(20, 3))
    finally:
        undo()
    assert len(calls) == 2, "three images are one batch: one denoiser call per step"
    assert [g.seed for g in batch.images] == [20, 21, 22]
    for i, generated in enumerate(batch.images):
        single = provider.text_to_image(request(20 + i, 1)).images[0]
        diff = np.abs(pixels(generated.image) - pixels(single.image))
        # Equal up to float rounding between batch sizes: a level or so, in a few pixels.
        assert diff.max() <= 2 and diff.mean() < 0.02, (i, diff.max(), diff.mean())
    assert not np.array_equal(pixels(batch.images[0].image), pixels(batch.images[1].image))


@pytest.mark.parametrize(
    ("arch", "asked", "got"),
    [
        ("sd-turbo", (37, 70), (32, 64)),
        ("z-image-turbo", (37, 70), (32, 64)),
        ("z-image-turbo", (8, 8), (16, 16)),
    ],
)
def test_sizes_round_down_to_the_pipeline_multiple(
    provider: DiffusersProvider, arch: str, asked: tuple[int, int], got: tuple[int, int]
) -> None:
    result = provider.text_to_image(
        TextToImageRequest(prompt="x", width=asked[0], height=asked[1], steps=1, model=arch)
    )
    assert result.images[0].image.size == got
    assert all(v % MULTIPLE[arch] == 0 for v in got)
    assert (result.metadata["width"], result.metadata["height"]) == (str(got[0]), str(got[1]))


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_progress_is_reported_after_every_step(provider: DiffusersProvider, arch: str) -> None:
    seen: list[tuple[int, int]] = []
    provider.text_to_image(
        TextToImageRequest(prompt="x", width=32, height=32, steps=3, model=arch),
        on_progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_raising_from_on_progress_stops_generation(provider: DiffusersProvider, arch: str) -> None:
    def cancel_at_two(done: int, total: int) -> None:
        if done == 2:
            raise Cancelled("task cancelled")

    calls, undo = denoiser_calls(provider, arch)
    try:
        with pytest.raises(Cancelled, match="task cancelled"):
            provider.text_to_image(
                TextToImageRequest(prompt="x", width=32, height=32, steps=6, model=arch),
                on_progress=cancel_at_two,
            )
    finally:
        undo()
    assert len(calls) == 2, "the denoiser ran no step after the cancellation"
    # The model stays usable: the lock was released and the next request runs.
    again = TextToImageRequest(prompt="x", width=32, height=32, steps=1, model=arch)
    assert len(provider.text_to_image(again).images) == 1


def test_negative_prompt_is_passed_when_the_pipeline_takes_one(provider: DiffusersProvider) -> None:
    def run(negative: str) -> Image.Image:
        return (
            provider.text_to_image(
                TextToImageRequest(
                    prompt="a fox",
                    negative_prompt=negative,
                    guidance_scale=4.0,
                    width=32,
                    height=32,
                    steps=2,
                    model="sd-turbo",
                )
            )
            .images[0]
            .image
        )

    assert not np.array_equal(pixels(run("")), pixels(run("blurry, dark")))


def test_out_of_memory_becomes_a_transient_provider_error(provider: DiffusersProvider) -> None:
    def oom(*_: object) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    with provider.runtimes["sd-turbo"].use() as loaded:
        handle = loaded.text2img.unet.register_forward_pre_hook(oom)
    try:
        with pytest.raises(ProviderOutOfMemory) as info:
            provider.text_to_image(
                TextToImageRequest(prompt="x", width=32, height=32, model="sd-turbo")
            )
    finally:
        handle.remove()
    assert info.value.transient and info.value.code == "provider_out_of_memory"


@pytest.mark.parametrize(
    "request_",
    [
        TextToImageRequest(prompt="x", width=0, height=32),
        TextToImageRequest(prompt="x", width=32, height=4096),
        TextToImageRequest(prompt="x", num_images=9),
        TextToImageRequest(prompt="x", steps=0),
    ],
    ids=["zero-width", "too-tall", "too-many", "no-steps"],
)
def test_bad_requests_are_invalid(
    provider: DiffusersProvider, request_: TextToImageRequest
) -> None:
    with pytest.raises(InvalidRequest):
        provider.text_to_image(request_)


# -- image to image ----------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_image_to_image_shares_the_pipeline_and_uses_strength(
    provider: DiffusersProvider, arch: str
) -> None:
    photo = Image.new("RGB", (48, 40), (200, 40, 40))

    def run(strength: float, seed: int = 3) -> tuple[Image.Image, list[tuple[int, int]], str]:
        seen: list[tuple[int, int]] = []
        result = provider.image_to_image(
            ImageToImageRequest(
                image=photo, prompt="a fox", strength=strength, steps=4, seed=seed, model=arch
            ),
            on_progress=lambda d, t: seen.append((d, t)),
        )
        return result.images[0].image, seen, result.metadata["pipeline"]

    half, half_progress, pipeline = run(0.5)
    full, full_progress, _ = run(1.0)
    assert pipeline == IMG2IMG_CLASS[arch]
    m = MULTIPLE[arch]
    assert half.size == (48 // m * m, 40 // m * m) and half.mode == "RGB"
    assert half_progress == [(1, 2), (2, 2)], "strength 0.5 of 4 steps runs 2"
    assert [d for d, _ in full_progress] == [1, 2, 3, 4]
    assert not np.array_equal(pixels(half), pixels(full))
    assert np.array_equal(pixels(half), pixels(run(0.5)[0])), "deterministic for a seed"
    with provider.runtimes[arch].use() as loaded:
        img2img, text2img = loaded.img2img(), loaded.text2img
    denoiser = "unet" if arch != "z-image-turbo" else "transformer"
    assert getattr(img2img, denoiser) is getattr(text2img, denoiser), "components are shared"


def test_low_strength_turbo_runs_at_least_one_step(provider: DiffusersProvider) -> None:
    seen: list[tuple[int, int]] = []
    provider.image_to_image(
        ImageToImageRequest(
            image=Image.new("RGB", (32, 32)), prompt="x", strength=0.3, steps=1, model="sd-turbo"
        ),
        on_progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(1, 1)]


@pytest.mark.parametrize(
    "change", [{"strength": 0.0}, {"strength": 1.5}, {"mask": Image.new("L", (32, 32))}]
)
def test_bad_image_to_image_requests_are_invalid(
    provider: DiffusersProvider, change: dict[str, Any]
) -> None:
    request = ImageToImageRequest(image=Image.new("RGB", (32, 32)), prompt="x", model="sd-turbo")
    with pytest.raises(InvalidRequest):
        provider.image_to_image(ImageToImageRequest(**{**request.__dict__, **change}))


# -- where models come from --------------------------------------------------------------------


def test_missing_models_are_not_configured_and_nothing_is_fetched(
    models_dir: Path, tmp_path: Path, no_network: None
) -> None:
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    p = DiffusersProvider(
        settings(["not-here", "org/not-cached", "/nonexistent/pipe"], models_dir),
        hf_cache_dir=cache,
    )
    with pytest.raises(NotConfigured) as local:
        p.text_to_image(TextToImageRequest(prompt="x", model="not-here"))
    assert str(models_dir / "not-here") in str(local.value)
    with pytest.raises(NotConfigured) as hub:
        p.text_to_image(TextToImageRequest(prompt="x", model="org/not-cached"))
    assert str(models_dir / "org/not-cached") in str(hub.value)
    assert f"Hugging Face cache {cache}" in str(hub.value)
    with pytest.raises(NotConfigured, match="/nonexistent/pipe"):
        DiffusersProvider(settings(["/nonexistent/pipe"], models_dir)).preload()
    with pytest.raises(NotConfigured, match="not configured"):
        p.text_to_image(TextToImageRequest(prompt="x", model="other"))


def test_repo_ids_load_from_the_local_hugging_face_cache(
    models_dir: Path, tmp_path: Path, no_network: None
) -> None:
    repo = tmp_path / "hub" / "models--tiny-org--sd-turbo"
    revision = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(models_dir / "sd-turbo", repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    p = DiffusersProvider(settings(["tiny-org/sd-turbo"]), hf_cache_dir=tmp_path / "hub")
    assert [m.id for m in p.models()] == ["tiny-org/sd-turbo"]
    assert p.models()[0].description.startswith("StableDiffusionPipeline")
    result = p.text_to_image(TextToImageRequest(prompt="x", width=32, height=32, steps=1))
    assert result.model == "tiny-org/sd-turbo" and len(result.images) == 1


# -- the runtime session -----------------------------------------------------------------------


def test_preload_loads_every_model_once(models_dir: Path) -> None:
    p = DiffusersProvider(settings(["sd-turbo", "z-image-turbo"], models_dir))
    p.preload()
    assert all(rt.loaded and rt.loads == 1 for rt in p.runtimes.values())
    p.text_to_image(TextToImageRequest(prompt="x", width=32, height=32, steps=1, model="sd-turbo"))
    assert p.runtimes["sd-turbo"].loads == 1
    p.evict()
    assert not any(rt.loaded for rt in p.runtimes.values())


def test_idle_models_are_evicted_and_reloaded_on_demand(models_dir: Path) -> None:
    p = DiffusersProvider(settings(["sd-turbo"], models_dir), idle_timeout=0.3)
    runtime = p.runtimes["sd-turbo"]
    request = TextToImageRequest(prompt="x", width=32, height=32, steps=1)
    first = p.text_to_image(request)
    with runtime.use() as loaded:
        unet = weakref.ref(loaded.text2img.unet)
    del loaded
    deadline = time.monotonic() + 10
    while runtime.loaded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not runtime.loaded
    gc.collect()
    assert unet() is None, "evicting frees the weights"
    again = p.text_to_image(request)
    assert runtime.loads == 2
    assert np.array_equal(pixels(first.images[0].image), pixels(again.images[0].image))
    p.evict()


def test_lazy_model_evicts_only_after_the_idle_timeout() -> None:
    now = [0.0]
    evicted: list[str] = []
    model = LazyModel(
        "m",
        lambda: object(),
        idle_timeout=1e6,
        on_evict=lambda: evicted.append("m"),
        clock=lambda: now[0],
    )
    assert not model.evict_if_idle() and not model.loaded
    with model.use() as first:
        pass
    now[0] = 999_999.0
    assert not model.evict_if_idle() and model.loaded
    with model.use() as second:
        assert second is first
    now[0] += 1e6
    # the background reaper reads the same clock and may evict first; either way it happens
    # exactly once
    model.evict_if_idle()
    assert not model.loaded and evicted == ["m"]
    assert not model.evict_if_idle() and evicted == ["m"]
    with model.use() as third:
        assert third is not first
    assert model.loads == 2
