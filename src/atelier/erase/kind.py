"""``erase``: find the text in a photo, keep the subject, erase the text, optionally redraw
the background, check the result, store the picture, its masks and a report."""

from __future__ import annotations

import hashlib
import io
import time
from typing import Any

import cv2
import numpy as np
from PIL import Image
from pydantic import BaseModel

from atelier.erase import redraw as redraw_mod
from atelier.erase.detect import Roi
from atelier.erase.pipeline import EraseOptions, RedrawOptions, fraction, pipeline_for
from atelier.erase.schemas import EraseParams
from atelier.errors import ValidationFailed
from atelier.images.models import ImageRecord
from atelier.images.schemas import image_links
from atelier.providers.base import ModelInfo, TextToImageRequest
from atelier.runtime import Runtime
from atelier.stylize.segment import cover
from atelier.tasks.kinds import RunContext, TaskKind, register

RENDER_SIDE = 1024  # a prompt background is drawn at most this large, then fitted


class EraseKind(TaskKind):
    name = "erase"
    params_model = EraseParams

    # -- submission ---------------------------------------------------------------------------
    def complete(self, runtime: Runtime, params: BaseModel, owner: str) -> EraseParams:
        assert isinstance(params, EraseParams)
        with runtime.db.read() as s:
            record = runtime.images.get(s, params.image_id, owner)
        if record is None:
            raise ValidationFailed(
                "no such image of yours", details={"field": "image_id", "image_id": params.image_id}
            )
        if params.roi is not None:
            roi = params.roi
            if roi.x + roi.width > record.width or roi.y + roi.height > record.height:
                raise ValidationFailed(
                    "the region of interest must lie inside the image",
                    details={
                        "field": "roi",
                        "image_size": [record.width, record.height],
                        "roi": roi.model_dump(),
                    },
                )
        seed = params.seed
        spec = params.redraw
        if spec is not None:
            if spec.mode == "preset" and spec.preset not in redraw_mod.presets():
                raise ValidationFailed(
                    f"unknown redraw preset {spec.preset!r}",
                    details={"field": "redraw.preset", "allowed": redraw_mod.presets()},
                )
            if spec.mode == "prompt":
                model = spec.model or runtime.settings.generation.default_model
                self._text_to_image(runtime, model)
                spec = spec.model_copy(update={"model": model})
            if seed is None:
                key = f"{record.etag}|{spec.model_dump_json()}"
                seed = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
        return params.model_copy(update={"redraw": spec, "seed": seed})

    def _text_to_image(self, runtime: Runtime, model: str) -> list[ModelInfo]:
        infos = self.models_for(runtime, model)
        for info in infos:
            if "text_to_image" not in info.capabilities:
                raise ValidationFailed(
                    f"model {info.id} cannot draw a background from a prompt (text-to-image)",
                    details={"field": "redraw.model"},
                )
        return infos

    def queue(self, runtime: Runtime, params: BaseModel) -> str:
        """GPU workers when the diffusers inpainter is asked for, or a diffusion model draws
        the background; CPU workers otherwise."""
        assert isinstance(params, EraseParams)
        if (params.inpainter or runtime.settings.erase.inpainter) == "diffusers":
            return "gpu"
        spec = params.redraw
        if spec is not None and spec.mode == "prompt" and spec.model:
            return self.queue_of(self._text_to_image(runtime, spec.model))
        return "cpu"

    def provider(self, runtime: Runtime, params: BaseModel) -> str | None:
        assert isinstance(params, EraseParams)
        spec = params.redraw
        if spec is not None and spec.mode == "prompt" and spec.model:
            return self.provider_of(self._text_to_image(runtime, spec.model))
        return None

    # -- the work -----------------------------------------------------------------------------
    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, EraseParams)
        runtime = ctx.runtime
        ctx.progress("validate", 0, 1, 0.0)
        with runtime.db.read() as s:
            record = s.get(ImageRecord, params.image_id)
        if record is None or record.owner != ctx.owner:
            raise ValidationFailed("the input image is gone", details={"field": "image_id"})
        photo = Image.open(io.BytesIO(runtime.storage.get(record.storage_key)))
        photo.load()
        erase = runtime.settings.erase
        spec = params.redraw
        options = EraseOptions(
            min_confidence=(
                erase.min_confidence if params.min_confidence is None else params.min_confidence
            ),
            keep=tuple(params.keep),
            roi=Roi(**params.roi.model_dump()) if params.roi is not None else None,
            inpainter=params.inpainter,
            segmenter=params.segmenter,
            mask_margin=params.mask_margin,
            second_pass=params.second_pass,
            redraw=(
                RedrawOptions(
                    mode=spec.mode,
                    colour=spec.color,
                    preset=spec.preset,
                    prompt=spec.prompt,
                    blur_radius=spec.blur_radius,
                    edge=spec.edge,
                )
                if spec is not None
                else None
            ),
            seed=params.seed or 0,
        )
        used: dict[str, str] = {}

        def render(prompt: str, width: int, height: int) -> np.ndarray[Any, Any]:
            assert spec is not None and spec.model
            info = self._text_to_image(runtime, spec.model)[0]
            scale = min(1.0, RENDER_SIDE / max(width, height))
            w = max(64, min(info.max_width, round(width * scale) // 64 * 64))
            h = max(64, min(info.max_height, round(height * scale) // 64 * 64))
            request = TextToImageRequest(
                prompt=prompt, width=w, height=h, steps=info.default_steps, seed=params.seed or 0
            )

            def on_step(done: int, total: int) -> None:
                ctx.progress(
                    "background_redraw",
                    done,
                    total,
                    fraction("background_redraw", done, max(total, 1)),
                )

            outcome = runtime.policy.run(spec.model, request, on_step, task_id=ctx.task_id)
            used.update({"provider": outcome.provider, "model": outcome.model})
            return cover(outcome.result.images[0].image, (width, height))

        pipeline = pipeline_for(runtime.settings)
        try:
            result = pipeline.run(photo, options, ctx.progress, render=render)
        except ValueError as exc:  # a region of interest outside a scaled-down photo, ...
            raise ValidationFailed(str(exc)) from exc

        report = result.report
        inpainter = str(report["inpainting"]["inpainter"])
        ctx.progress("store", 0, 3, fraction("store", 0, 3))
        began = time.perf_counter()
        final = runtime.images.store(
            ctx.prepared,
            owner=ctx.owner,
            task_id=ctx.task_id,
            position=0,
            image=Image.fromarray(result.image),
            origin={"model": inpainter, "provider": used.get("provider", "erase")},
        )
        ctx.progress("store", 1, 3, fraction("store", 1, 3))
        text_mask = runtime.images.store(
            ctx.prepared,
            owner=ctx.owner,
            task_id=ctx.task_id,
            position=1,
            image=Image.fromarray(result.text_mask).convert("RGB"),
            fmt="png",
        )
        subject_links = None
        if result.subject_mask is not None:
            ctx.progress("store", 2, 3, fraction("store", 2, 3))
            grey = np.clip(result.subject_mask * 255.0 + 0.5, 0, 255).astype(np.uint8)
            subject = runtime.images.store(
                ctx.prepared,
                owner=ctx.owner,
                task_id=ctx.task_id,
                position=2,
                image=Image.fromarray(cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)),
                fmt="png",
            )
            subject_links = image_links(subject, runtime.settings)
        final_links = image_links(final, runtime.settings)
        report["timings"]["store"] = round(time.perf_counter() - began, 4)
        report["total_seconds"] = round(sum(report["timings"].values()), 4)
        return {
            "images": [final_links],
            "image": final_links,
            "text_mask": image_links(text_mask, runtime.settings),
            "subject_mask": subject_links,
            "report": report,
            "timings": report["timings"],
            "inpainter": inpainter,
            "segmenter": report["subject"].get("segmenter"),
            "provider": used.get("provider"),
            "model": used.get("model"),
            "source_image_id": params.image_id,
        }


register(EraseKind())
