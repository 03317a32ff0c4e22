"""The manga task's steps on the database: write the job's rows, spawn its panel children,
compose its page from the selected panel versions, store the page.

Shared by the ``manga`` kind (its first page) and :class:`atelier.manga.service.MangaService`
(regenerated panels, re-composed pages, exports).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw
from sqlalchemy.exc import IntegrityError

from atelier.images.models import ImageRecord
from atelier.images.service import PreparedImages
from atelier.manga.compose import PageResult, compose_page
from atelier.manga.layout import Layout, make_layout
from atelier.manga.models import MangaOptions, PanelPrompt, Script
from atelier.manga.store import MangaJob, MangaPanel, VersionState, get_job, version_states
from atelier.manga.text import load_font
from atelier.prompts.presets import PresetLibrary
from atelier.tasks import children
from atelier.tasks.kinds import get_kind
from atelier.tasks.lifecycle import TERMINAL, TaskStatus
from atelier.tasks.models import Task

if TYPE_CHECKING:
    from atelier.runtime import Runtime

log = logging.getLogger(__name__)
PANEL_KIND = "manga_panel"
FINISHED = frozenset(s.value for s in TERMINAL)
#: Options that come from the settings every time, never from the stored job.
LIVE_OPTIONS = ("font_path",)


@dataclass(frozen=True)
class Job:
    """A job's row, parsed."""

    row: MangaJob
    script: Script
    options: MangaOptions

    @property
    def layout(self) -> Layout:
        return make_layout(self.script.total_panels, self.row.layout, self.options)


_libraries: dict[str, PresetLibrary] = {}


def presets(runtime: Runtime) -> PresetLibrary:
    """The style presets (built-in and the user's), loaded once per directory."""
    user_dir = runtime.settings.prompts.user_dir
    key = str(user_dir)
    if key not in _libraries:
        _libraries[key] = PresetLibrary(user_dir)
    return _libraries[key]


def load(runtime: Runtime, task_id: str) -> tuple[Job | None, list[VersionState]]:
    with runtime.db.read() as s:
        row = get_job(s, task_id)
        states = version_states(s, task_id) if row is not None else []
    return (parse(runtime, row) if row is not None else None), states


def parse(runtime: Runtime, row: MangaJob) -> Job:
    stored = {k: v for k, v in row.options.items() if k not in LIVE_OPTIONS}
    options = MangaOptions.model_validate({**stored, "font_path": runtime.settings.manga.font_path})
    return Job(row, Script.model_validate(row.script), options)


def create(
    runtime: Runtime,
    task_id: str,
    *,
    script: Script,
    options: MangaOptions,
    layout: Layout,
    prompts: list[PanelPrompt],
    model: str,
    steps: int,
    base_seed: int,
) -> None:
    """Write the job and version 1 of every panel (selected) in one transaction. A job
    already written (by an earlier attempt) is left as it is."""
    job = MangaJob(
        task_id=task_id,
        script=script.model_dump(mode="json"),
        options=options.model_dump(mode="json", exclude=set(LIVE_OPTIONS)),
        model=model,
        steps=steps,
        layout=layout.name,
        base_seed=base_seed,
        page_version=0,
    )
    panels = [
        MangaPanel(
            task_id=task_id,
            panel_number=prompt.panel_number,
            version=1,
            child_task_id=children.child_id(task_id, prompt.panel_number, 1),
            seed=prompt.seed,
            text=None,
            prompt=prompt.model_dump(mode="json"),
            selected=True,
        )
        for prompt in prompts
    ]
    try:
        with runtime.db.session() as s:
            s.add(job)
            s.flush()
            s.add_all(panels)
    except IntegrityError:
        log.info("manga job %s was written by an earlier attempt", task_id)


def child_spec(runtime: Runtime, job: Job, row: MangaPanel) -> children.ChildSpec:
    infos = get_kind("manga").models_for(runtime, job.row.model)
    kind = get_kind(PANEL_KIND)
    return children.ChildSpec(
        id=row.child_task_id,
        kind=PANEL_KIND,
        params={
            "panel_number": row.panel_number,
            "version": row.version,
            "model": job.row.model,
            "steps": job.row.steps,
            "prompt": row.prompt,
        },
        queue=kind.queue_of(infos),
        provider=kind.provider_of(infos),
    )


def spawn(runtime: Runtime, task_id: str, job: Job, rows: list[MangaPanel]) -> list[str]:
    """Create the child tasks of ``rows`` that do not exist yet; returns those created."""
    with runtime.db.read() as s:
        parent = s.get(Task, task_id)
    if parent is None:
        return []
    return children.spawn(runtime, parent, [child_spec(runtime, job, row) for row in rows])


def selected(states: list[VersionState], panel_number: int) -> VersionState | None:
    """The panel's selected version (its first when none is marked)."""
    versions = [v for v in states if v.row.panel_number == panel_number]
    chosen = [v for v in versions if v.row.selected]
    pool = chosen or versions
    return pool[0] if pool else None


def failure(state: VersionState) -> dict[str, Any] | None:
    """Why a finished version has no image (``None`` when it has one or is still running)."""
    task = state.task
    if task is None or task.status not in FINISHED:
        return None
    if task.status == TaskStatus.COMPLETED.value and state.image is not None:
        return None
    code = task.error_code or ("image_missing" if task.status == "completed" else task.status)
    return {
        "panel_number": state.row.panel_number,
        "version": state.row.version,
        "task_id": task.id,
        "code": code,
        "message": task.error_message or f"the panel task ended {task.status}",
    }


def failures(job: Job, states: list[VersionState]) -> list[dict[str, Any]]:
    """The panels whose selected version finished without an image."""
    out = []
    for panel in job.script.panels:
        state = selected(states, panel.panel_number)
        problem = failure(state) if state is not None else None
        if problem is not None:
            out.append(problem)
    return out


def placeholder(
    size: tuple[int, int], panel_number: int, code: str, options: MangaOptions, language: str
) -> Image.Image:
    """What a panel that could not be drawn shows: grey hatching, a cross and a note."""
    width, height = size
    image = Image.new("RGB", size, (226, 226, 226))
    draw = ImageDraw.Draw(image)
    step = max(12, min(width, height) // 12)
    for x in range(-height, width, step):
        draw.line((x, 0, x + height, height), fill=(204, 204, 204), width=max(1, step // 6))
    line = max(2, min(width, height) // 60)
    draw.line((0, 0, width, height), fill=(150, 150, 150), width=line)
    draw.line((0, height, width, 0), fill=(150, 150, 150), width=line)
    title = f"第 {panel_number} 格未能生成" if language == "zh" else f"Panel {panel_number}"
    note = code if language == "zh" else f"not drawn: {code}"
    font = load_font(max(10, min(width // 12, height // 6)), options.font_path)
    small = load_font(max(8, int(font.size) * 6 // 10), options.font_path)
    box_w = max(draw.textlength(title, font=font), draw.textlength(note, font=small)) + 2 * line
    box_h = font.size + small.size + 4 * line
    cx, cy = width / 2, height / 2
    draw.rectangle(
        (cx - box_w / 2, cy - box_h / 2, cx + box_w / 2, cy + box_h / 2),
        fill="white",
        outline=(90, 90, 90),
        width=max(1, line // 2),
    )
    draw.text((cx, cy - small.size / 2), title, font=font, fill=(60, 60, 60), anchor="mm")
    draw.text((cx, cy + font.size / 2 + line), note, font=small, fill=(90, 90, 90), anchor="mm")
    return image


def panel_image(runtime: Runtime, record: ImageRecord) -> Image.Image:
    data = runtime.storage.get(record.storage_key)
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


@dataclass(frozen=True)
class Page:
    result: PageResult
    versions: dict[str, int]  # panel number -> the version on the page
    failures: list[dict[str, Any]]


def compose(runtime: Runtime, job: Job, states: list[VersionState]) -> Page:
    """The page from each panel's selected version; a version without an image is drawn as
    a placeholder (and listed in ``failures`` once finished)."""
    images: dict[int, Image.Image] = {}
    versions: dict[str, int] = {}
    problems: list[dict[str, Any]] = []
    layout = job.layout
    for panel, cell in zip(job.script.panels, layout.cells, strict=True):
        number = panel.panel_number
        state = selected(states, number)
        if state is not None:
            versions[str(number)] = state.row.version
        if state is not None and state.image is not None and state.status == "completed":
            images[number] = panel_image(runtime, state.image)
            continue
        problem = failure(state) if state is not None else None
        code = problem["code"] if problem is not None else "missing"
        if problem is not None:
            problems.append(problem)
        size = (cell[2] - cell[0], cell[3] - cell[1])
        images[number] = placeholder(size, number, code, job.options, job.script.language)
    result = compose_page(job.script, images, job.options, layout=layout)
    return Page(result, versions, problems)


def store_page(
    runtime: Runtime,
    prepared: PreparedImages,
    *,
    owner: str,
    task_id: str,
    job: Job,
    page: Page,
    version: int,
    provider: str | None = None,
) -> ImageRecord:
    """Store a page image (position ``version - 1`` among the task's images)."""
    return runtime.images.store(
        prepared,
        owner=owner,
        task_id=task_id,
        position=version - 1,
        image=page.result.image,
        fmt=job.options.page_format,
        origin={"model": job.row.model, "provider": provider or job.row.model},
        prefix=f"manga/{task_id}",
    )
