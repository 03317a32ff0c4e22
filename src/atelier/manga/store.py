"""What a manga task keeps in the database, and every query on it.

- ``manga_jobs``: one row per ``manga`` task (written once its scenes are): the script, the
  options the page is drawn with, the text-to-image model, the layout, the base seed, and
  the current page (its image id, version, the panel versions it shows, the layout report).
- ``manga_panels``: one row per panel *version*. Version 1 of every panel is written with the
  job; regenerating adds the next version. Each version is drawn by its own child task
  (``child_task_id``, derived from the parent, the panel and the version), whose image record is
  the version's image. Exactly one version per panel is ``selected`` for the page.

The rows of a job are written before its children exist, so a parent that runs again (a lost
worker) finds them and only spawns the children still missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from atelier.db.base import Base, utcnow
from atelier.images.models import ImageRecord
from atelier.tasks.models import Task


class MangaJob(Base):
    __tablename__ = "manga_jobs"

    task_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    script: Mapped[dict[str, Any]] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(String(128))
    steps: Mapped[int] = mapped_column(Integer)
    layout: Mapped[str] = mapped_column(String(32))
    base_seed: Mapped[int] = mapped_column(BigInteger)
    # the current page: an image record of the task (none until the first one is stored)
    page_image_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    page_version: Mapped[int] = mapped_column(Integer, default=0)
    page_panels: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    page_report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MangaPanel(Base):
    __tablename__ = "manga_panels"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    task_id: Mapped[str] = mapped_column(String(36), ForeignKey("tasks.id", ondelete="CASCADE"))
    panel_number: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    child_task_id: Mapped[str] = mapped_column(String(36), unique=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    # the scene text this version was drawn from, when it is not the script's
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    prompt: Mapped[dict[str, Any]] = mapped_column(JSON)
    selected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "task_id", "panel_number", "version", name="uq_manga_panels_task_panel_version"
        ),
    )


@dataclass(frozen=True)
class VersionState:
    """A panel version with its child task and the child's image (when it has one)."""

    row: MangaPanel
    task: Task | None
    image: ImageRecord | None

    @property
    def status(self) -> str:
        return self.task.status if self.task is not None else "pending"


def get_job(session: Session, task_id: str) -> MangaJob | None:
    return session.get(MangaJob, task_id)


def panel_rows(session: Session, task_id: str) -> list[MangaPanel]:
    return list(
        session.scalars(
            select(MangaPanel)
            .where(MangaPanel.task_id == task_id)
            .order_by(MangaPanel.panel_number, MangaPanel.version)
        )
    )


def version_states(session: Session, task_id: str) -> list[VersionState]:
    """Every version of every panel of the job, with its child task and image."""
    rows = panel_rows(session, task_id)
    ids = [r.child_task_id for r in rows]
    tasks = {t.id: t for t in session.scalars(select(Task).where(Task.id.in_(ids)))} if ids else {}
    images: dict[str, ImageRecord] = {}
    if ids:
        for record in session.scalars(
            select(ImageRecord)
            .where(ImageRecord.task_id.in_(ids))
            .order_by(ImageRecord.position.desc())
        ):
            assert record.task_id is not None
            images[record.task_id] = record
    return [VersionState(r, tasks.get(r.child_task_id), images.get(r.child_task_id)) for r in rows]


def next_version(session: Session, task_id: str, panel_number: int) -> int:
    latest = session.execute(
        select(func.max(MangaPanel.version)).where(
            MangaPanel.task_id == task_id, MangaPanel.panel_number == panel_number
        )
    ).scalar_one()
    return int(latest or 0) + 1


def select_version(session: Session, task_id: str, panel_number: int, version: int) -> None:
    """Make ``version`` the panel's only selected version."""
    session.execute(
        update(MangaPanel)
        .where(MangaPanel.task_id == task_id, MangaPanel.panel_number == panel_number)
        .values(selected=MangaPanel.version == version)
        .execution_options(synchronize_session=False)
    )


def set_page(
    session: Session,
    task_id: str,
    *,
    image_id: str,
    version: int,
    panels: dict[str, int],
    report: dict[str, Any],
    again: bool = False,
) -> bool:
    """Record page ``version`` as the current page, unless another page took that version
    first (compare-and-set; ``again`` lets a new attempt of the task replace the version
    its lost attempt recorded). Returns whether it was recorded."""
    newer = MangaJob.page_version <= version if again else MangaJob.page_version < version
    result = session.execute(
        update(MangaJob)
        .where(MangaJob.task_id == task_id, newer)
        .values(
            page_image_id=image_id,
            page_version=version,
            page_panels=panels,
            page_report=report,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
