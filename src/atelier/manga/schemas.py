"""Request and response bodies of the manga API (``/api/v1/manga``), documented for the UI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from atelier.images.schemas import ImageOut
from atelier.manga.models import MAX_PANELS, MAX_SEED, PanelPrompt, Script
from atelier.tasks.schemas import StageProgress, TaskError


class MangaParams(BaseModel):
    """A ``manga`` task: the story and how to draw it. Omitted fields take the settings'
    defaults (``ATELIER_MANGA__*``, ``ATELIER_GENERATION__DEFAULT_MODEL``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    story: str = Field(
        min_length=1,
        description="The story, Chinese or English; at most `MANGA__MAX_STORY_CHARS` characters.",
    )
    panels: Annotated[int, Field(ge=1, le=MAX_PANELS)] | Literal["auto"] = Field(
        default="auto",
        description="Panels on the page, 1 to 8, or `auto` (from the story's length).",
    )
    language: Literal["zh", "en"] | None = Field(
        default=None, description="The story's language; detected when omitted."
    )
    writer: str | None = Field(
        default=None, max_length=32, description="Story writer: `offline` or `chat`."
    )
    model: str | None = Field(
        default=None, max_length=128, description="Text-to-image model or route for the panels."
    )
    style: str | None = Field(
        default=None, max_length=64, description="Style preset of the panel prompts."
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SEED,
        description="Base seed; default: derived from the script (a retried job draws the "
        "same panels).",
    )
    layout: str | None = Field(
        default=None,
        max_length=32,
        description="Page layout template (needs `panels`); default: chosen for the script.",
    )
    page_format: Literal["png", "webp"] | None = Field(
        default=None, description="Encoding of the stored page image."
    )
    reading_direction: Literal["ltr", "rtl"] | None = Field(
        default=None, description="`ltr` (manhua, comics) or `rtl` (Japanese manga)."
    )

    @property
    def panel_count(self) -> int | None:
        return None if self.panels == "auto" else self.panels


class PanelParams(BaseModel):
    """A ``manga_panel`` child: one version of one panel, drawn from its prompt."""

    model_config = ConfigDict(extra="forbid")

    panel_number: int = Field(ge=1, le=MAX_PANELS)
    version: int = Field(ge=1)
    model: str
    steps: int = Field(ge=1, le=150)
    prompt: PanelPrompt


class MangaCreate(MangaParams):
    """`POST /api/v1/manga`: the `manga` task's params, plus an optional webhook."""

    webhook_url: str | None = Field(
        default=None, max_length=2048, description="Called when the task ends (signed)."
    )


class RegenerateIn(BaseModel):
    """`POST /api/v1/manga/{task_id}/panels/{n}/versions`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str | None = Field(
        default=None,
        min_length=1,
        max_length=1200,
        description="A new scene description for this panel's prompt; default: the latest "
        "version's (the script's unless a version changed it). The lettering stays the "
        "script's.",
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SEED,
        description="Default: the next seed of the panel's sequence (base seed, panel, version).",
    )


class SelectIn(BaseModel):
    """`PUT /api/v1/manga/{task_id}/panels/{n}`."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="A completed version of the panel.")


class PanelVersionOut(BaseModel):
    """One version of a panel: the child task that draws it and its image once drawn."""

    version: int
    task_id: str = Field(description="The child task (`GET /api/v1/tasks/{id}` and its stream).")
    status: str = Field(description="`pending`, `processing`, `retrying`, `completed`, `failed`…")
    progress: int
    stage: str | None = Field(description="`image_generation` (steps), then `uploading`.")
    stage_progress: StageProgress
    attempts: int
    seed: int
    text: str | None = Field(description="The scene text given when regenerating, if any.")
    selected: bool = Field(description="Whether the page uses this version.")
    image: ImageOut | None = Field(description="The panel image (WebP), once completed.")
    error: TaskError | None
    created_at: datetime


class PanelOut(BaseModel):
    panel_number: int
    selected_version: int | None
    versions: list[PanelVersionOut]


class FailureOut(BaseModel):
    """A panel whose selected version finished without an image."""

    panel_number: int
    version: int
    task_id: str
    code: str
    message: str


class PageOut(BaseModel):
    version: int = Field(description="1 for the task's page, +1 per re-composition.")
    image: ImageOut
    panels: dict[str, int] = Field(description="Panel number -> the version the page shows.")
    stale: bool = Field(description="The selected versions differ from those on the page.")
    layout: dict[str, Any] = Field(
        description="The layout report: template, size, per panel its cell and faces, per "
        "caption or balloon its box, text box, font size, lines and tail."
    )


class MangaJobOut(BaseModel):
    """Everything about a manga job: the task's state, the script, each panel's versions, the
    current page and its exports. ``script`` and ``panels`` are empty until the scenes are
    written; ``page`` is null until the first page is stored."""

    task_id: str
    status: str = Field(description="The parent task's status (`partial`: some panels failed).")
    stage: str | None = Field(
        description="`scene_generation`, `panel_processing`, `layout`, `uploading`, `done`."
    )
    stage_progress: StageProgress = Field(description="In `panel_processing`: panels finished.")
    progress: int
    attempts: int
    error: TaskError | None
    title: str | None
    language: str | None
    writer: str | None
    model: str | None
    base_seed: int | None
    layout: str | None = Field(description="The layout template.")
    reading_direction: str | None
    page_format: str | None
    script: Script | None
    panels: list[PanelOut]
    page: PageOut | None
    exports: dict[str, str] = Field(
        description="Format (`png`, `webp`, `pdf`, `cbz`) -> download URL of the current page."
    )
    failures: list[FailureOut] = Field(
        description="Panels whose selected version failed: drawn as placeholders."
    )
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
