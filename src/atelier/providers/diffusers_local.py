"""Local diffusion with diffusers (the ``[diffusers]`` extra): any text-to-image pipeline, and the
image-to-image pipeline that shares its components, from a local directory or the local Hugging
Face cache. Nothing is ever downloaded.

Each entry of ``providers.diffusers.models`` is one model. An absolute path is a pipeline
directory (id: its directory name); any other entry is tried as a directory under
``providers.models_dir``, then, when it looks like ``org/name``, as a repository id in the local
Hugging Face cache (id: the entry as written). The model runs where :func:`select_placement` puts
it (bfloat16 on CUDA, float32 on the CPU); its :class:`LazyModel` loads it on first use (or at
GPU worker start through :meth:`DiffusersProvider.preload`) and may evict it when idle.

A request's ``num_images`` runs as one batch with one generator per image seeded ``seed + i``,
so image ``i`` of a batch matches the single image of seed ``seed + i`` (up to float rounding
between batch sizes). Width and height are rounded down to the pipeline's size multiple (the VAE
scale factor times the patch size: 8 for SD/SDXL, 16 for Z-Image); the result's metadata carries
the size used. Progress is reported after every denoising step; an exception raised by
``on_progress`` stops the pipeline and propagates unchanged.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from atelier.config import Settings
from atelier.providers.base import (
    GeneratedImage,
    ImageResult,
    ImageToImageRequest,
    ModelInfo,
    ProgressCallback,
    TextToImageRequest,
    TextToImageResult,
)
from atelier.providers.errors import InvalidRequest, NotConfigured, TransientProviderError
from atelier.providers.runtime_torch import (
    LazyModel,
    Placement,
    apply_hardware_extras,
    import_torch,
    release_memory,
    select_placement,
)

log = logging.getLogger(__name__)

NAME = "diffusers"
MAX_SIDE = 2048
MAX_IMAGES = 8
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# fmt: off
#: Text-to-image pipelines with an image-to-image sibling that ``from_pipe`` can build.
_IMG2IMG_CAPABLE = frozenset({
    "StableDiffusionPipeline", "StableDiffusionXLPipeline", "StableDiffusion3Pipeline",
    "LatentConsistencyModelPipeline", "Kandinsky3Pipeline", "FluxPipeline",
    "FluxKontextPipeline", "Flux2Pipeline", "Flux2KleinPipeline", "QwenImagePipeline",
    "ZImagePipeline",
})
#: Text-to-image pipelines whose ``__call__`` takes no ``negative_prompt``.
_NO_NEGATIVE_PROMPT = frozenset({
    "LatentConsistencyModelPipeline", "FluxControlPipeline", "Flux2Pipeline",
    "Flux2KleinPipeline",
})
# fmt: on


class ProviderOutOfMemory(TransientProviderError):
    """The accelerator ran out of memory; a retry (smaller batch, other worker) may succeed."""

    code = "provider_out_of_memory"


@dataclass(frozen=True)
class ModelSource:
    """One configured model: its id and the places its weights may be found."""

    id: str
    entry: str
    local_path: Path | None
    repo_id: str | None

    @classmethod
    def parse(cls, entry: str, models_dir: Path | None) -> ModelSource:
        raw = entry.strip().rstrip("/")
        path = Path(raw).expanduser()
        if path.is_absolute():
            return cls(id=path.name, entry=entry, local_path=path, repo_id=None)
        model_id = path.as_posix()
        local = models_dir.expanduser() / path if models_dir is not None else None
        repo_id = model_id if _REPO_ID.match(model_id) else None
        return cls(id=model_id, entry=entry, local_path=local, repo_id=repo_id)

    def locate(self, hf_cache_dir: Path | None = None) -> Path:
        """The local pipeline directory, or :class:`NotConfigured` naming every place looked."""
        looked: list[str] = []
        if self.local_path is not None:
            if (self.local_path / "model_index.json").is_file():
                return self.local_path
            looked.append(f"{self.local_path} (no model_index.json)")
        elif self.repo_id is None:
            looked.append("nowhere: providers.models_dir is not set")
        if self.repo_id is not None:
            found, cache = _hf_cache_snapshot(self.repo_id, hf_cache_dir)
            if found is not None:
                return found
            looked.append(f"the Hugging Face cache {cache} (repo {self.repo_id})")
        raise NotConfigured(
            f"diffusers model {self.id!r} was not found; looked in {'; '.join(looked)}. "
            "Nothing is downloaded: put the pipeline there first "
            "(for example `hf download <repo>` on a machine with network access).",
            provider=NAME,
        )

    def pipeline_class(self, hf_cache_dir: Path | None = None) -> str | None:
        """``_class_name`` from the model's ``model_index.json``, when it is present locally."""
        try:
            index = self.locate(hf_cache_dir) / "model_index.json"
            value = json.loads(index.read_text(encoding="utf-8")).get("_class_name")
        except (NotConfigured, OSError, ValueError):
            return None
        return value if isinstance(value, str) else None


def _hf_cache_snapshot(repo_id: str, cache_dir: Path | None) -> tuple[Path | None, str]:
    try:
        from huggingface_hub import constants, snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        return None, "(huggingface_hub is not installed)"
    cache = str(cache_dir if cache_dir is not None else constants.HF_HUB_CACHE)
    try:
        found = snapshot_download(repo_id, cache_dir=cache, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None, cache
    path = Path(found) if isinstance(found, str) else None
    if path is None or not (path / "model_index.json").is_file():
        return None, cache
    return path, cache


class LoadedPipeline:
    """A loaded pipeline and the image-to-image pipeline built from its components on demand."""

    def __init__(self, pipe: Any, placement: Placement) -> None:
        self.text2img = pipe
        self.placement = placement
        self._img2img: Any | None = None

    def img2img(self) -> Any:
        if self._img2img is None:
            from diffusers import AutoPipelineForImage2Image

            try:
                pipe = AutoPipelineForImage2Image.from_pipe(self.text2img)
            except ValueError as exc:
                raise InvalidRequest(
                    f"{type(self.text2img).__name__} has no image-to-image pipeline", provider=NAME
                ) from exc
            pipe.set_progress_bar_config(disable=True)
            self._img2img = pipe
        return self._img2img


class DiffusersProvider:
    """Text-to-image and image-to-image on local diffusers pipelines (GPU workers only)."""

    name = NAME

    def __init__(
        self,
        settings: Settings,
        *,
        idle_timeout: float | None = None,
        hf_cache_dir: Path | None = None,
    ) -> None:
        self.settings = settings.providers.diffusers
        self.hf_cache_dir = hf_cache_dir
        self.sources: dict[str, ModelSource] = {}
        for entry in self.settings.models:
            source = ModelSource.parse(entry, settings.providers.models_dir)
            if source.id in self.sources:
                log.warning("diffusers model %r is configured twice; using the first", source.id)
                continue
            self.sources[source.id] = source
        self._placement: Placement | None = None
        self._placement_lock = threading.Lock()
        self.runtimes: dict[str, LazyModel[LoadedPipeline]] = {
            model_id: LazyModel(
                model_id,
                self._loader(source),
                idle_timeout=idle_timeout,
                on_evict=self._release,
            )
            for model_id, source in self.sources.items()
        }

    @property
    def placement(self) -> Placement:
        with self._placement_lock:
            if self._placement is None:
                self._placement = select_placement(self.settings.device)
            return self._placement

    def models(self) -> list[ModelInfo]:
        """One entry per configured model; reads only ``model_index.json`` (no torch import)."""
        return [self._info(source) for source in self.sources.values()]

    def preload(self) -> None:
        """Load every configured model now (GPU worker start); a missing one raises."""
        for runtime in self.runtimes.values():
            runtime.preload()

    def evict(self) -> None:
        for runtime in self.runtimes.values():
            runtime.evict()

    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult:
        _check_common(request.num_images, request.steps, request.guidance_scale)
        source = self._source(request.model)
        with self.runtimes[source.id].use() as loaded:
            pipe = loaded.text2img
            width, height = _fit_size(pipe, request.width, request.height)
            kwargs: dict[str, Any] = {
                "prompt": request.prompt,
                "width": width,
                "height": height,
                "num_inference_steps": request.steps,
            }
            images = self._generate(pipe, loaded.placement, request, kwargs, on_progress)
        return _result(source.id, images, request.seed, pipe, loaded.placement, width, height)

    def image_to_image(
        self, request: ImageToImageRequest, on_progress: ProgressCallback | None = None
    ) -> ImageResult:
        _check_common(request.num_images, request.steps, request.guidance_scale)
        if request.mask is not None:
            raise InvalidRequest("the diffusers provider does not take masks", provider=NAME)
        if not 0.0 < request.strength <= 1.0:
            raise InvalidRequest("strength must be in (0, 1]", provider=NAME)
        source = self._source(request.model)
        with self.runtimes[source.id].use() as loaded:
            pipe = loaded.img2img()
            width, height = _fit_size(
                pipe, request.width or request.image.width, request.height or request.image.height
            )
            image = request.image.convert("RGB")
            if image.size != (width, height):
                image = image.resize((width, height), Image.Resampling.LANCZOS)
            # Pipelines run int(steps * strength) steps: ask for enough that at least one runs.
            steps = max(request.steps, math.ceil(1 / request.strength))
            while int(steps * request.strength) < 1:
                steps += 1
            kwargs: dict[str, Any] = {
                "prompt": request.prompt,
                "image": image,
                "strength": request.strength,
                "width": width,
                "height": height,
                "num_inference_steps": steps,
            }
            images = self._generate(pipe, loaded.placement, request, kwargs, on_progress)
        return _result(source.id, images, request.seed, pipe, loaded.placement, width, height)

    # -- internals ---------------------------------------------------------------------------

    def _source(self, model: str | None) -> ModelSource:
        if not self.sources:
            raise NotConfigured(
                "no diffusers models configured (providers.diffusers.models)", provider=NAME
            )
        if model is None:
            return next(iter(self.sources.values()))
        try:
            return self.sources[model]
        except KeyError:
            raise NotConfigured(
                f"diffusers model {model!r} is not configured; configured: "
                f"{', '.join(self.sources)}",
                provider=NAME,
            ) from None

    def _loader(self, source: ModelSource) -> Callable[[], LoadedPipeline]:
        def load() -> LoadedPipeline:
            path = source.locate(self.hf_cache_dir)
            placement = self.placement
            import diffusers

            try:
                pipe = diffusers.DiffusionPipeline.from_pretrained(  # type: ignore[no-untyped-call]
                    path, dtype=placement.torch_dtype, local_files_only=True
                )
            except OSError as exc:
                raise NotConfigured(
                    f"diffusers model {source.id!r} at {path} could not be loaded: {exc}",
                    provider=NAME,
                ) from exc
            if "image" in inspect.signature(pipe.__call__).parameters:
                pipe = diffusers.AutoPipelineForText2Image.from_pipe(pipe)
            pipe.to(placement.device)
            pipe.set_progress_bar_config(disable=True)
            denoiser = getattr(pipe, "transformer", None) or getattr(pipe, "unet", None)
            if denoiser is not None:
                apply_hardware_extras(denoiser, placement, compile=self.settings.compile)
            return LoadedPipeline(pipe, placement)

        return load

    def _release(self) -> None:
        if self._placement is not None:
            release_memory(self._placement)

    def _info(self, source: ModelSource) -> ModelInfo:
        cls = source.pipeline_class(self.hf_cache_dir)
        capabilities: tuple[str, ...] = ("text_to_image",)
        if cls is None or cls in _IMG2IMG_CAPABLE:
            capabilities += ("image_to_image",)
        if cls == "ZImagePipeline":
            steps = 8
        elif "turbo" in source.id.lower():
            steps = 1
        else:
            steps = 30
        return ModelInfo(
            id=source.id,
            provider=NAME,
            kind="diffusers",
            capabilities=capabilities,
            description=f"{cls or 'diffusers pipeline'} ({source.entry})",
            max_width=MAX_SIDE,
            max_height=MAX_SIDE,
            max_images=MAX_IMAGES,
            supports_negative_prompt=cls not in _NO_NEGATIVE_PROMPT,
            default_steps=steps,
        )

    def _generate(
        self,
        pipe: Any,
        placement: Placement,
        request: TextToImageRequest | ImageToImageRequest,
        kwargs: dict[str, Any],
        on_progress: ProgressCallback | None,
    ) -> list[Image.Image]:
        params = inspect.signature(pipe.__call__).parameters
        n = request.num_images
        kwargs |= {
            "guidance_scale": request.guidance_scale,
            "num_images_per_prompt": n,
            "generator": [placement.generator(request.seed + i) for i in range(n)],
            "output_type": "pil",
        }
        if request.negative_prompt and "negative_prompt" in params:
            kwargs["negative_prompt"] = request.negative_prompt
        kwargs = {k: v for k, v in kwargs.items() if k in params or k in {"prompt", "image"}}
        steps = int(kwargs["num_inference_steps"])
        raised: list[BaseException] = []

        def step_end(p: Any, step: int, _t: Any, _tensors: dict[str, Any]) -> dict[str, Any]:
            if on_progress is not None:
                try:
                    on_progress(step + 1, int(getattr(p, "num_timesteps", 0) or steps))
                except BaseException as exc:
                    raised.append(exc)
                    raise
            return {}

        if "callback_on_step_end" in params:
            kwargs["callback_on_step_end"] = step_end
        torch = import_torch()
        try:
            output = pipe(**kwargs)
        except BaseException as exc:
            if raised and exc is raised[0]:
                raise
            if isinstance(exc, torch.OutOfMemoryError):
                del exc
                release_memory(placement)
                raise ProviderOutOfMemory(
                    f"out of memory on {placement.device} generating {n} image(s)", provider=NAME
                ) from None
            if isinstance(exc, ValueError):
                raise InvalidRequest(str(exc), provider=NAME) from exc
            raise
        if "callback_on_step_end" not in params and on_progress is not None:
            on_progress(steps, steps)
        return list(output.images)


def _check_common(num_images: int, steps: int, guidance_scale: float) -> None:
    if not 1 <= num_images <= MAX_IMAGES:
        raise InvalidRequest(f"num_images must be between 1 and {MAX_IMAGES}", provider=NAME)
    if steps < 1:
        raise InvalidRequest("steps must be at least 1", provider=NAME)
    if guidance_scale < 0:
        raise InvalidRequest("guidance_scale must be >= 0", provider=NAME)


def size_multiple(pipe: Any) -> int:
    """The multiple a pipeline's width and height must be: its image processor's factor."""
    processor = getattr(pipe, "image_processor", None)
    factor = getattr(getattr(processor, "config", None), "vae_scale_factor", None)
    if not isinstance(factor, int):
        factor = getattr(pipe, "vae_scale_factor", None)
    return max(factor, 1) if isinstance(factor, int) else 8


def _fit_size(pipe: Any, width: int, height: int) -> tuple[int, int]:
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise InvalidRequest(
            f"width and height must be between 1 and {MAX_SIDE} (got {width}x{height})",
            provider=NAME,
        )
    m = size_multiple(pipe)
    return max(m, width // m * m), max(m, height // m * m)


def _result(
    model_id: str,
    images: list[Image.Image],
    seed: int,
    pipe: Any,
    placement: Placement,
    width: int,
    height: int,
) -> TextToImageResult:
    return TextToImageResult(
        images=tuple(GeneratedImage(img, seed + i) for i, img in enumerate(images)),
        provider=NAME,
        model=model_id,
        metadata={
            "pipeline": type(pipe).__name__,
            "device": placement.device,
            "dtype": placement.dtype,
            "width": str(width),
            "height": str(height),
        },
    )
