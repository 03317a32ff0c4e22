"""Manga use cases after the task: the job view, regenerating a panel (a new version, every
version kept), selecting the version the page shows, re-composing the page, exporting it.

Every call is owner-scoped: another owner's task, a missing one and a task of another kind
are the same 404. Panel numbers and versions that do not exist are 404s with their own codes;
acting on a job that is still running (or never wrote its scenes) is a 409.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from atelier.errors import Conflict, NotFound
from atelier.images.models import ImageRecord
from atelier.images.schemas import ImageOut, image_links
from atelier.images.service import PreparedImages
from atelier.manga import jobs
from atelier.manga.export import Export, Format, export
from atelier.manga.models import PanelPrompt, Script
from atelier.manga.prompts import regenerate
from atelier.manga.schemas import (
    FailureOut,
    MangaJobOut,
    PageOut,
    PanelOut,
    PanelVersionOut,
)
from atelier.manga.store import MangaPanel, VersionState, next_version, select_version, set_page
from atelier.prompts.builder import PromptBuilder
from atelier.runtime import Runtime
from atelier.safety.prompts import check_params
from atelier.tasks.children import child_id
from atelier.tasks.kinds import get_kind
from atelier.tasks.models import Task
from atelier.tasks.schemas import StageProgress, TaskError
from atelier.tasks.service import TaskService

log = logging.getLogger(__name__)
EXPORT_FORMATS: tuple[Format, ...] = ("png", "webp", "pdf", "cbz")


class PanelNotFound(NotFound):
    code = "panel_not_found"


class VersionNotFound(NotFound):
    code = "version_not_found"


class MangaNotReady(Conflict):
    code = "manga_not_ready"


class VersionNotReady(Conflict):
    code = "version_not_ready"


class PageNotReady(Conflict):
    code = "page_not_ready"


# -- views ------------------------------------------------------------------------------------
def export_links(runtime: Runtime, task_id: str) -> dict[str, str]:
    base = f"{runtime.settings.public_url.rstrip('/')}/api/v1/manga/{task_id}/export"
    return {fmt: f"{base}?format={fmt}" for fmt in EXPORT_FORMATS}


def version_out(runtime: Runtime, state: VersionState) -> PanelVersionOut:
    task = state.task
    error = None
    if task is not None and task.error_code:
        error = TaskError(code=task.error_code, message=task.error_message)
    image = None
    if state.image is not None and state.status == "completed":
        image = image_links(state.image, runtime.settings)
    return PanelVersionOut.model_validate(
        {
            "version": state.row.version,
            "task_id": state.row.child_task_id,
            "status": state.status,
            "progress": task.progress if task is not None else 0,
            "stage": task.stage if task is not None else None,
            "stage_progress": StageProgress(
                current=task.stage_current if task is not None else 0,
                total=task.stage_total if task is not None else 0,
            ),
            "attempts": task.attempts if task is not None else 0,
            "seed": state.row.seed,
            "text": state.row.text,
            "selected": state.row.selected,
            "image": image,
            "error": error,
            "created_at": state.row.created_at,
        }
    )


def panels_out(runtime: Runtime, job: jobs.Job, states: list[VersionState]) -> list[PanelOut]:
    out = []
    for panel in job.script.panels:
        number = panel.panel_number
        chosen = jobs.selected(states, number)
        out.append(
            PanelOut(
                panel_number=number,
                selected_version=chosen.row.version if chosen is not None else None,
                versions=[version_out(runtime, s) for s in states if s.row.panel_number == number],
            )
        )
    return out


def selection(job: jobs.Job, states: list[VersionState]) -> dict[str, int]:
    out = {}
    for panel in job.script.panels:
        chosen = jobs.selected(states, panel.panel_number)
        if chosen is not None:
            out[str(panel.panel_number)] = chosen.row.version
    return out


def job_result(
    runtime: Runtime,
    task_id: str,
    job: jobs.Job,
    states: list[VersionState],
    page_record: ImageRecord,
    page: jobs.Page,
) -> dict[str, Any]:
    """The ``manga`` task's result: the page, the script, every panel with its versions, the
    layout report, the export links and the failed panels (non-empty: ``partial``)."""
    links = image_links(page_record, runtime.settings)
    return {
        "page": links,
        "images": [links],
        "page_version": 1,
        "title": job.script.title,
        "language": job.script.language,
        "writer": job.script.writer,
        "model": job.row.model,
        "base_seed": job.row.base_seed,
        "script": job.script.model_dump(mode="json"),
        "layout": page.result.report(),
        "panels": [p.model_dump(mode="json") for p in panels_out(runtime, job, states)],
        "selected": page.versions,
        "exports": export_links(runtime, task_id),
        "failures": page.failures,
    }


def job_view(
    runtime: Runtime, task: Task, job: jobs.Job | None, states: list[VersionState]
) -> MangaJobOut:
    error = TaskError(code=task.error_code, message=task.error_message) if task.error_code else None
    page = None
    failures: list[dict[str, Any]] = []
    panels: list[PanelOut] = []
    if job is not None:
        panels = panels_out(runtime, job, states)
        failures = jobs.failures(job, states)
        record = None
        if job.row.page_image_id is not None:
            with runtime.db.read() as s:
                record = s.get(ImageRecord, job.row.page_image_id)
        if record is not None:
            shown = dict(job.row.page_panels or {})
            page = PageOut(
                version=job.row.page_version,
                image=ImageOut.model_validate(image_links(record, runtime.settings)),
                panels=shown,
                stale=shown != selection(job, states),
                layout=job.row.page_report or {},
            )
    script = job.script if job is not None else None
    return MangaJobOut(
        task_id=task.id,
        status=task.status,
        stage=task.stage,
        stage_progress=StageProgress(current=task.stage_current, total=task.stage_total),
        progress=task.progress,
        attempts=task.attempts,
        error=error,
        title=script.title if script is not None else None,
        language=script.language if script is not None else None,
        writer=script.writer if script is not None else task.params.get("writer"),
        model=job.row.model if job is not None else task.params.get("model"),
        base_seed=job.row.base_seed if job is not None else None,
        layout=job.row.layout if job is not None else None,
        reading_direction=task.params.get("reading_direction"),
        page_format=task.params.get("page_format"),
        script=script,
        panels=panels,
        page=page,
        exports=export_links(runtime, task.id) if page is not None else {},
        failures=[FailureOut.model_validate(f) for f in failures],
        created_at=task.created_at,
        started_at=task.started_at,
        completed_at=task.completed_at,
        updated_at=task.updated_at,
    )


# -- use cases --------------------------------------------------------------------------------
class MangaService:
    def __init__(self, runtime: Runtime, tasks: TaskService | None = None) -> None:
        self.runtime = runtime
        self.tasks = tasks or TaskService(runtime)

    def _task(self, owner: str, task_id: str) -> Task:
        task = self.tasks.get(owner, task_id)  # another owner's task: the same 404
        if task.kind != "manga":
            raise NotFound("task not found", details={"task_id": task_id})
        return task

    def _finished(self, owner: str, task_id: str) -> tuple[Task, jobs.Job, list[VersionState]]:
        """The task, its job and versions, once its own run has finished."""
        task = self._task(owner, task_id)
        job, states = jobs.load(self.runtime, task_id)
        if job is None:
            raise MangaNotReady(
                "the job has no script yet"
                if task.status not in jobs.FINISHED
                else "the job ended before its scenes were written",
                details={"task_id": task_id, "status": task.status},
            )
        if task.status not in jobs.FINISHED:
            raise MangaNotReady(
                "the job is still running", details={"task_id": task_id, "status": task.status}
            )
        return task, job, states

    @staticmethod
    def _panel(job: jobs.Job, task_id: str, panel_number: int) -> None:
        if not 1 <= panel_number <= job.script.total_panels:
            raise PanelNotFound(
                f"the page has panels 1 to {job.script.total_panels}",
                details={"task_id": task_id, "panel": panel_number},
            )

    def view(self, owner: str, task_id: str) -> MangaJobOut:
        task = self._task(owner, task_id)
        job, states = jobs.load(self.runtime, task_id)
        return job_view(self.runtime, task, job, states)

    def panel(self, owner: str, task_id: str, panel_number: int) -> PanelOut:
        task = self._task(owner, task_id)
        job, states = jobs.load(self.runtime, task_id)
        if job is None:
            raise PanelNotFound(
                "the job has no panels yet", details={"task_id": task.id, "panel": panel_number}
            )
        self._panel(job, task_id, panel_number)
        return panels_out(self.runtime, job, states)[panel_number - 1]

    def regenerate(
        self,
        owner: str,
        task_id: str,
        panel_number: int,
        *,
        text: str | None = None,
        seed: int | None = None,
    ) -> PanelVersionOut:
        """Draw the panel's next version (a new child task); nothing else changes."""
        if text is not None:  # new words go through the same prompt filter as a submission
            check_params(self.runtime.settings.safety, {"text": text})
        _, job, _ = self._finished(owner, task_id)
        self._panel(job, task_id, panel_number)
        get_kind("manga").models_for(self.runtime, job.row.model)  # still offered?
        builder = PromptBuilder(jobs.presets(self.runtime))
        for _ in range(5):
            row = self._next_row(job, task_id, panel_number, text, seed, builder)
            try:
                with self.runtime.db.session() as s:
                    s.add(row)
            except IntegrityError:  # another request took this version number: take the next
                continue
            jobs.spawn(self.runtime, task_id, job, [row])
            _, states = jobs.load(self.runtime, task_id)
            state = next(s for s in states if s.row.child_task_id == row.child_task_id)
            return version_out(self.runtime, state)
        raise Conflict("the panel is being regenerated concurrently; try again")

    def _next_row(
        self,
        job: jobs.Job,
        task_id: str,
        panel_number: int,
        text: str | None,
        seed: int | None,
        builder: PromptBuilder,
    ) -> MangaPanel:
        with self.runtime.db.read() as s:
            version = next_version(s, task_id, panel_number)
            row = s.scalars(
                select(MangaPanel).where(
                    MangaPanel.task_id == task_id,
                    MangaPanel.panel_number == panel_number,
                    MangaPanel.version == version - 1,
                )
            ).first()
        if row is None:  # versions run 1..n; a job without its first one is broken
            raise VersionNotFound(
                f"panel {panel_number} has no version to start from",
                details={"panel": panel_number},
            )
        previous = PanelPrompt.model_validate(row.prompt)
        scene_text = text if text is not None else row.text
        script = job.script
        if scene_text:
            script = _with_scene(script, panel_number, scene_text)
        prompt = regenerate(script, previous, job.options, seed=seed, builder=builder)
        prompt = prompt.model_copy(update={"version": version})
        return MangaPanel(
            task_id=task_id,
            panel_number=panel_number,
            version=version,
            child_task_id=child_id(task_id, panel_number, version),
            seed=prompt.seed,
            text=scene_text,
            prompt=prompt.model_dump(mode="json"),
            selected=False,
        )

    def select(self, owner: str, task_id: str, panel_number: int, version: int) -> MangaJobOut:
        task, job, states = self._finished(owner, task_id)
        self._panel(job, task_id, panel_number)
        state = next(
            (s for s in states if s.row.panel_number == panel_number and s.row.version == version),
            None,
        )
        if state is None:
            raise VersionNotFound(
                f"panel {panel_number} has no version {version}",
                details={"panel": panel_number, "version": version},
            )
        if state.status != "completed" or state.image is None:
            raise VersionNotReady(
                f"version {version} of panel {panel_number} is {state.status}, not completed",
                details={"panel": panel_number, "version": version, "status": state.status},
            )
        with self.runtime.db.session() as s:
            select_version(s, task_id, panel_number, version)
        fresh, states = jobs.load(self.runtime, task_id)
        return job_view(self.runtime, task, fresh, states)

    def recompose(self, owner: str, task_id: str) -> MangaJobOut:
        """Compose the page again from the selected versions and store it as the next page
        version (the earlier pages stay, the task's result keeps pointing at the first)."""
        task, job, states = self._finished(owner, task_id)
        page = jobs.compose(self.runtime, job, states)
        version = job.row.page_version + 1
        prepared = PreparedImages()
        try:
            record = jobs.store_page(
                self.runtime,
                prepared,
                owner=owner,
                task_id=task_id,
                job=job,
                page=page,
                version=version,
            )
            with self.runtime.db.session() as s:
                s.add_all(prepared.records)
                s.flush()
                recorded = set_page(
                    s,
                    task_id,
                    image_id=record.id,
                    version=version,
                    panels=page.versions,
                    report=page.result.report(),
                )
                if not recorded:
                    raise Conflict("another page was composed at the same time; try again")
        except BaseException:
            self.runtime.images.discard(prepared.keys)
            raise
        fresh, states = jobs.load(self.runtime, task_id)
        return job_view(self.runtime, task, fresh, states)

    def export(self, owner: str, task_id: str, fmt: Format) -> tuple[Export, str]:
        """The current page in ``fmt``, and a file name for it."""
        self._task(owner, task_id)
        job, _ = jobs.load(self.runtime, task_id)
        record = None
        if job is not None and job.row.page_image_id is not None:
            with self.runtime.db.read() as s:
                record = self.runtime.images.get(s, job.row.page_image_id, owner)
        if job is None or record is None:
            raise PageNotReady("the page is not drawn yet", details={"task_id": task_id})
        with Image.open(io.BytesIO(self.runtime.storage.get(record.storage_key))) as image:
            page = image.convert("RGB")
        out = export(
            [page],
            fmt,
            title=job.script.title,
            language=job.script.language,
            reading_direction=job.options.reading_direction,
        )
        return out, f"manga-{task_id[:8]}.{out.extension}"


def _with_scene(script: Script, panel_number: int, text: str) -> Script:
    """``script`` with panel ``panel_number`` showing ``text`` (its English tags dropped:
    they described the old scene)."""
    panels = tuple(
        p.model_copy(update={"scene_description": text, "visual_tags": ()})
        if p.panel_number == panel_number
        else p
        for p in script.panels
    )
    return script.model_copy(update={"panels": panels})
