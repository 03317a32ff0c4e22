"""``manga``: a story in, a lettered page out, one child task per panel.

The parent runs twice. First it writes the scenes (stage ``scene_generation``), stores the job
and version 1 of every panel, spawns one ``manga_panel`` child per panel and parks in
``panel_processing`` (its ``stage_progress`` counts the finished children, k/N; they cover 10
to 90 % of its progress). When the last child has finished it runs again: ``layout`` composes
the page from the panels (a panel that failed is drawn as a placeholder), ``uploading`` stores
it. Which phase it is in comes from the database, so a parent that runs again after a lost
worker finds its script and its children instead of redoing them. Panels that failed after
their retries are listed in the result's ``failures``, which ends the task ``partial``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from atelier.errors import ValidationFailed
from atelier.images.schemas import image_links
from atelier.manga import jobs
from atelier.manga.layout import TEMPLATES, choose_layout
from atelier.manga.models import MangaOptions
from atelier.manga.prompts import base_seed, panel_prompts
from atelier.manga.schemas import MangaParams, PanelParams
from atelier.manga.service import job_result
from atelier.manga.store import VersionState, set_page
from atelier.manga.writers import build_writer, write_scenes, writer_kinds
from atelier.prompts.builder import PromptBuilder
from atelier.prompts.mapping import PROVIDERS
from atelier.prompts.presets import UnknownPreset
from atelier.providers.base import ModelInfo, TextToImageRequest
from atelier.runtime import Runtime
from atelier.tasks.kinds import AwaitChildren, RunContext, TaskKind, register
from atelier.tasks.models import Task


def prompt_provider(infos: list[ModelInfo]) -> str:
    """Whose prompt conventions (languages, negative prompts, limits) the panels follow: the
    first model's provider where the prompt mapping knows it, else the local diffusion one."""
    provider = infos[0].provider
    return provider if provider in PROVIDERS else "diffusers"


class MangaKind(TaskKind):
    name = "manga"
    params_model = MangaParams
    capability = "text_to_image"
    validation_blocks = False  # models, writers, layouts and presets are in memory

    def complete(self, runtime: Runtime, params: BaseModel, owner: str) -> MangaParams:
        assert isinstance(params, MangaParams)
        settings = runtime.settings
        limit = settings.manga.max_story_chars
        if len(params.story) > limit:
            raise ValidationFailed(
                f"the story is longer than {limit} characters",
                details={"field": "story", "max_length": limit},
            )
        writer = params.writer or settings.manga.writer
        if writer not in writer_kinds():
            raise ValidationFailed(
                f"unknown story writer {writer!r}",
                details={"field": "writer", "allowed": writer_kinds()},
            )
        model = params.model or settings.generation.default_model
        self.models_for(runtime, model)
        style = params.style or settings.manga.style
        try:
            jobs.presets(runtime).style(style)
        except UnknownPreset as exc:
            raise ValidationFailed(
                f"unknown style preset {style!r}", details={"field": "style", **exc.details}
            ) from None
        if params.layout is not None:
            count = params.panel_count
            if count is None:
                raise ValidationFailed("a layout needs a panel count", details={"field": "layout"})
            if params.layout not in TEMPLATES[count]:
                raise ValidationFailed(
                    f"no layout {params.layout!r} for {count} panels",
                    details={"field": "layout", "allowed": list(TEMPLATES[count])},
                )
        return params.model_copy(
            update={
                "writer": writer,
                "model": model,
                "style": style,
                "page_format": params.page_format or settings.manga.page_format,
                "reading_direction": params.reading_direction or settings.manga.reading_direction,
            }
        )

    def options(self, runtime: Runtime, params: MangaParams) -> MangaOptions:
        infos = self.models_for(runtime, params.model or "")
        return MangaOptions.from_settings(
            runtime.settings.manga,
            panels=params.panel_count,
            language=params.language,
            style=params.style,
            provider=prompt_provider(infos),
            seed=params.seed,
            layout=params.layout,
            page_format=params.page_format,
            reading_direction=params.reading_direction,
        )

    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, MangaParams)
        runtime = ctx.runtime
        job, states = jobs.load(runtime, ctx.task_id)
        if job is None:
            self._write(ctx, params)
            job, states = jobs.load(runtime, ctx.task_id)
            assert job is not None
        first = [s for s in states if s.row.version == 1]
        jobs.spawn(runtime, ctx.task_id, job, [s.row for s in first if s.task is None])
        _, states = jobs.load(runtime, ctx.task_id)
        waiting = [s for s in states if s.row.version == 1 and s.status not in jobs.FINISHED]
        if waiting:
            raise AwaitChildren("panel_processing", job.script.total_panels)
        return self._page(ctx, job, states)

    def _write(self, ctx: RunContext, params: MangaParams) -> None:
        """Phase 1: the script, the layout, the panel prompts, and the job's rows."""
        runtime = ctx.runtime
        ctx.progress("scene_generation", 0, 1, 0.0)
        options = self.options(runtime, params)
        writer = build_writer(runtime.settings.manga, params.writer)
        script = write_scenes(params.story, options, writer)
        layout = choose_layout(script, options)
        prompts = panel_prompts(
            script, options, layout=layout, builder=PromptBuilder(jobs.presets(runtime))
        )
        model = params.model or runtime.settings.generation.default_model
        steps = self.models_for(runtime, model)[0].default_steps
        jobs.create(
            runtime,
            ctx.task_id,
            script=script,
            options=options,
            layout=layout,
            prompts=prompts,
            model=model,
            steps=steps,
            base_seed=base_seed(script, options.seed),
        )
        ctx.progress("scene_generation", 1, 1, 0.05)

    def _page(self, ctx: RunContext, job: jobs.Job, states: list[VersionState]) -> dict[str, Any]:
        """Phase 2: compose the page from the panels and store it."""
        runtime = ctx.runtime
        ctx.progress("layout", 0, 1, 0.9)
        page = jobs.compose(runtime, job, states)
        ctx.progress("uploading", 0, 1, 0.95)
        record = jobs.store_page(
            runtime,
            ctx.prepared,
            owner=ctx.owner,
            task_id=ctx.task_id,
            job=job,
            page=page,
            version=1,
        )
        with runtime.db.session() as s:
            set_page(
                s,
                ctx.task_id,
                image_id=record.id,
                version=1,
                panels=page.versions,
                report=page.result.report(),
                again=True,
            )
        ctx.progress("uploading", 1, 1, 0.99)
        return job_result(runtime, ctx.task_id, job, states, record, page)


class MangaPanelKind(TaskKind):
    name = jobs.PANEL_KIND
    params_model = PanelParams
    capability = "text_to_image"
    internal = True

    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, PanelParams)
        prompt = params.prompt
        request = TextToImageRequest(
            prompt=prompt.prompt,
            negative_prompt=prompt.negative_prompt,
            width=prompt.width,
            height=prompt.height,
            num_images=1,
            steps=params.steps,
            seed=prompt.seed,
        )

        def on_step(done: int, total: int) -> None:
            ctx.progress("image_generation", done, total, 0.95 * done / max(total, 1))

        ctx.progress("image_generation", 0, 0, 0.0)
        outcome = ctx.runtime.policy.run(params.model, request, on_step, task_id=ctx.task_id)
        generated = outcome.result.images[0]
        ctx.progress("uploading", 0, 1, 0.96)
        with ctx.runtime.db.read() as s:  # the job's folder: manga/<parent task id>/panels
            parent_id = s.scalar(select(Task.parent_id).where(Task.id == ctx.task_id))
        record = ctx.runtime.images.store(
            ctx.prepared,
            owner=ctx.owner,
            task_id=ctx.task_id,
            position=0,
            image=generated.image,
            seed=generated.seed,
            fmt="webp",
            origin={"model": outcome.model, "provider": outcome.provider},
            prefix=f"manga/{parent_id or ctx.task_id}/panels",
        )
        ctx.progress("uploading", 1, 1, 0.99)
        links = image_links(record, ctx.runtime.settings)
        return {
            "panel_number": params.panel_number,
            "version": params.version,
            "seed": generated.seed,
            "image": links,
            "images": [links],
            "provider": outcome.provider,
            "model": outcome.model,
            "cache_hit": outcome.cache_hit,
            "fallbacks": outcome.fallbacks,
        }


register(MangaKind())
register(MangaPanelKind())
