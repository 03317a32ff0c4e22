"""``generate``: text to image through the model's provider."""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import BaseModel

from atelier.errors import ValidationFailed
from atelier.generation.schemas import MAX_SEED, GenerateParams
from atelier.images.schemas import image_links
from atelier.providers.base import TextToImageRequest
from atelier.providers.registry import UnknownModel
from atelier.runtime import Runtime
from atelier.tasks.kinds import RunContext, TaskKind, register


class GenerateKind(TaskKind):
    name = "generate"
    params_model = GenerateParams

    def complete(self, runtime: Runtime, params: BaseModel) -> GenerateParams:
        assert isinstance(params, GenerateParams)
        gen = runtime.settings.generation
        model = params.model or gen.default_model
        try:
            info = runtime.providers.resolve(model).info
        except UnknownModel as exc:
            raise ValidationFailed(
                str(exc), details={"field": "model", "allowed": exc.available}
            ) from None
        limits = {
            "width": min(gen.max_width, info.max_width),
            "height": min(gen.max_height, info.max_height),
            "num_images": min(gen.max_images, info.max_images),
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
        return runtime.providers.resolve(params.model or "").info.provider

    def queue(self, runtime: Runtime, params: BaseModel) -> str:
        assert isinstance(params, GenerateParams)
        kind = runtime.providers.resolve(params.model or "").info.kind
        return "gpu" if kind == "diffusers" else "cpu"

    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, GenerateParams)
        entry = ctx.runtime.providers.resolve(params.model or "")
        request = TextToImageRequest(
            prompt=params.prompt,
            negative_prompt=params.negative_prompt,
            width=params.width,
            height=params.height,
            num_images=params.num_images,
            steps=params.steps,
            guidance_scale=params.scale,
            seed=params.seed or 0,
            model=entry.info.id,
        )

        def on_step(done: int, total: int) -> None:
            ctx.progress("generating", done, total, 0.95 * done / max(total, 1))

        ctx.progress("generating", 0, params.steps * params.num_images, 0.0)
        result = entry.provider.text_to_image(request, on_step)
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
                )
            )
        settings = ctx.runtime.settings
        return {
            "images": [image_links(r, settings) for r in records],
            "provider": result.provider,
            "model": result.model,
        }


register(GenerateKind())
