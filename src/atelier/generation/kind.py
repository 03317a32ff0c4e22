"""``generate``: text to image through the model's provider."""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import BaseModel

from atelier.errors import ValidationFailed
from atelier.generation.schemas import MAX_SEED, GenerateParams
from atelier.images.schemas import image_links
from atelier.providers.base import TextToImageRequest
from atelier.runtime import Runtime
from atelier.tasks.kinds import RunContext, TaskKind, register


class GenerateKind(TaskKind):
    name = "generate"
    params_model = GenerateParams
    capability = "text_to_image"
    validation_blocks = False  # models and presets are in memory

    def complete(self, runtime: Runtime, params: BaseModel, owner: str) -> GenerateParams:
        assert isinstance(params, GenerateParams)
        gen = runtime.settings.generation
        model = params.model or gen.default_model
        infos = self.models_for(runtime, model)
        limits = {
            "width": min([gen.max_width, *(i.max_width for i in infos)]),
            "height": min([gen.max_height, *(i.max_height for i in infos)]),
            "num_images": min([gen.max_images, *(i.max_images for i in infos)]),
            "steps": gen.max_steps,
        }
        for name, limit in limits.items():
            if getattr(params, name) > limit:
                raise ValidationFailed(
                    f"{name} must be at most {limit} for model {model}",
                    details={"field": name, "max": limit},
                )
        seed = params.seed if params.seed is not None else secrets.randbelow(MAX_SEED + 1)
        return params.model_copy(update={"model": model, "seed": seed})

    def provider(self, runtime: Runtime, params: BaseModel) -> str | None:
        assert isinstance(params, GenerateParams)
        return self.provider_of(self.models_for(runtime, params.model or ""))

    def queue(self, runtime: Runtime, params: BaseModel) -> str:
        assert isinstance(params, GenerateParams)
        return self.queue_of(self.models_for(runtime, params.model or ""))

    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, GenerateParams)
        request = TextToImageRequest(
            prompt=params.prompt,
            negative_prompt=params.negative_prompt,
            width=params.width,
            height=params.height,
            num_images=params.num_images,
            steps=params.steps,
            guidance_scale=params.scale,
            seed=params.seed or 0,
        )

        def on_step(done: int, total: int) -> None:
            ctx.progress("generating", done, total, 0.95 * done / max(total, 1))

        ctx.progress("generating", 0, 0, 0.0)  # the provider reports its own step total
        outcome = ctx.runtime.policy.run(params.model or "", request, on_step, task_id=ctx.task_id)
        result = outcome.result
        total = len(result.images)
        records = []
        for position, generated in enumerate(result.images):
            ctx.progress("saving", position, total, 0.95 + 0.05 * position / max(total, 1))
            records.append(
                ctx.runtime.images.store(
                    ctx.prepared,
                    owner=ctx.owner,
                    task_id=ctx.task_id,
                    position=position,
                    image=generated.image,
                    seed=generated.seed,
                    origin={"model": outcome.model, "provider": outcome.provider},
                )
            )
        settings = ctx.runtime.settings
        return {
            "images": [image_links(r, settings) for r in records],
            "provider": outcome.provider,
            "model": outcome.model,
            "cache_hit": outcome.cache_hit,
            "fallbacks": outcome.fallbacks,
        }


register(GenerateKind())
