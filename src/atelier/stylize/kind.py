"""``stylize``: a photo + a style + a location (+ free text) → image-to-image provider."""

from __future__ import annotations

import hashlib
import io
from typing import Any, Literal

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from atelier.errors import ValidationFailed
from atelier.images.models import ImageRecord
from atelier.images.schemas import image_links
from atelier.prompts.builder import PromptBuilder
from atelier.prompts.mapping import PROVIDERS
from atelier.prompts.presets import PresetLibrary
from atelier.providers.base import ImageToImageRequest
from atelier.runtime import Runtime
from atelier.tasks.kinds import RunContext, TaskKind, register

MAX_SEED = 2**32 - 1


class StylizeParams(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    image_id: str = Field(description="An uploaded image of yours (`POST /api/v1/images`).")
    style: str | None = Field(default=None, max_length=64, description="Style preset id.")
    location: str | None = Field(default=None, max_length=64, description="Location preset id.")
    text: str = Field(default="", max_length=1000, description="Free text added to the prompt.")
    language: Literal["en", "zh"] = Field(default="en", description="Language of the prompt.")
    model: str | None = Field(default=None, description="Image-to-image model or route.")
    num_images: int = Field(default=1, ge=1, le=4)
    strength: float | None = Field(
        default=None, ge=0.0, le=1.0, description="How far from the photo; preset's default."
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SEED,
        description="Default: derived from the photo and the options, so the same request "
        "gives the same result (and hits the result cache).",
    )


_library: PresetLibrary | None = None


def library(runtime: Runtime) -> PresetLibrary:
    global _library
    if _library is None:
        _library = PresetLibrary(runtime.settings.prompts.user_dir)
    return _library


class StylizeKind(TaskKind):
    name = "stylize"
    params_model = StylizeParams
    capability = "image_to_image"

    def complete(self, runtime: Runtime, params: BaseModel, owner: str) -> StylizeParams:
        assert isinstance(params, StylizeParams)
        model = params.model or runtime.settings.stylize.default_model
        self.models_for(runtime, model)
        with runtime.db.read() as s:
            record = runtime.images.get(s, params.image_id, owner)
        if record is None:
            raise ValidationFailed(
                "no such image of yours", details={"field": "image_id", "image_id": params.image_id}
            )
        lib = library(runtime)
        if params.style:
            lib.style(params.style)  # unknown ids: 404 with the valid ones
        if params.location:
            lib.location(params.location)
        if not (params.style or params.location or params.text):
            raise ValidationFailed(
                "give a style, a location or some text", details={"field": "style"}
            )
        seed = params.seed
        if seed is None:
            key = f"{record.etag}|{params.style}|{params.location}|{params.text}|{model}"
            seed = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
        return params.model_copy(update={"model": model, "seed": seed})

    def queue(self, runtime: Runtime, params: BaseModel) -> str:
        assert isinstance(params, StylizeParams)
        return self.queue_of(self.models_for(runtime, params.model or ""))

    def provider(self, runtime: Runtime, params: BaseModel) -> str | None:
        assert isinstance(params, StylizeParams)
        return self.provider_of(self.models_for(runtime, params.model or ""))

    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, StylizeParams)
        runtime = ctx.runtime
        with runtime.db.read() as s:
            record = s.get(ImageRecord, params.image_id)
        if record is None or record.owner != ctx.owner:
            raise ValidationFailed("the input image is gone", details={"field": "image_id"})
        photo = Image.open(io.BytesIO(runtime.storage.get(record.storage_key))).convert("RGB")
        side = runtime.settings.stylize.max_side
        photo.thumbnail((side, side), Image.Resampling.LANCZOS)  # never upscales
        first = self.models_for(runtime, params.model or "")[0]
        spec = first.provider if first.provider in PROVIDERS else "procedural"
        built = PromptBuilder(library(runtime)).build(
            params.style, params.location, params.text, params.language, spec
        )
        suggested = built.params
        strength = params.strength
        if strength is None:
            strength = float(suggested.get("strength", 0.6))
        request = ImageToImageRequest(
            image=photo,
            prompt=built.prompt,
            negative_prompt=built.negative_prompt,
            strength=strength,
            num_images=params.num_images,
            steps=int(suggested.get("steps", 8)),
            guidance_scale=float(suggested.get("guidance_scale", 0.0)),
            seed=params.seed or 0,
        )

        def on_step(done: int, total: int) -> None:
            ctx.progress("stylizing", done, total, 0.95 * done / max(total, 1))

        ctx.progress("stylizing", 0, 1, 0.0)
        outcome = runtime.policy.run(params.model or "", request, on_step, task_id=ctx.task_id)
        records = []
        for position, generated in enumerate(outcome.result.images):
            ctx.progress("saving", position, len(outcome.result.images), 0.95)
            records.append(
                runtime.images.store(
                    ctx.prepared,
                    owner=ctx.owner,
                    task_id=ctx.task_id,
                    position=position,
                    image=generated.image,
                    seed=generated.seed,
                    origin={"model": outcome.model, "provider": outcome.provider},
                )
            )
        return {
            "images": [image_links(r, runtime.settings) for r in records],
            "provider": outcome.provider,
            "model": outcome.model,
            "cache_hit": outcome.cache_hit,
            "fallbacks": outcome.fallbacks,
            "prompt": built.prompt,
            "negative_prompt": built.negative_prompt,
            "source_image_id": params.image_id,
        }


register(StylizeKind())
