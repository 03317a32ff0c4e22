"""``atelier manga story.txt -o page.png``: a story to a page, with a progress bar for the job
and one per panel.

Locally (the default) the job runs in this process on the embedded database and storage: the
parent writes the scenes and spawns its panel tasks, the panels are drawn in threads (retries
included, when they fall due), then the parent composes the page — each step through the real
runner (:func:`atelier.worker.runner.execute`). With ``--server`` the job is submitted to a
running server and followed with ``GET /api/v1/manga/{id}``; the page is downloaded from its
export endpoint either way.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # the command loads the job machinery when it runs, not with the CLI
    from rich.progress import Progress, TaskID

    from atelier.runtime import Runtime
    from atelier.tasks.models import Task

FORMATS = ("png", "webp", "pdf", "cbz")
#: A task's final statuses (``atelier.tasks.lifecycle.TERMINAL``).
FINISHED = frozenset({"completed", "failed", "cancelled", "partial"})
Tick = Callable[["Task", list["Task"]], None]


def drive(
    runtime: Runtime, task_id: str, *, concurrency: int = 2, on_tick: Tick | None = None
) -> Task:
    """Run a parent task and its children in this process until the parent has finished:
    every task that is due (pending, or retrying whose backoff has passed) and a parent whose
    children have all finished (its resume) is run with the real runner, ``concurrency`` at
    a time. ``on_tick`` sees the parent and its children after every change."""
    from atelier.db.base import utcnow
    from atelier.tasks import children
    from atelier.tasks.models import Task
    from atelier.worker.runner import execute

    running: dict[str, Future[None]] = {}
    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="manga") as pool:
        while True:
            now = utcnow()
            with runtime.db.read() as s:
                parent = s.get(Task, task_id)
                kids = children.children_of(s, task_id)
            if parent is None:
                raise LookupError(f"task {task_id} is gone")
            if on_tick is not None:
                on_tick(parent, kids)
            if parent.status in FINISHED and not running:
                return parent
            settled = all(k.status in FINISHED for k in kids)
            for task in [parent, *kids]:
                due = task.status in ("pending", "retrying") and (
                    task.dispatch_at is None or task.dispatch_at <= now
                )
                resume = task is parent and task.waiting_children and settled
                if task.id not in running and (due or resume):
                    running[task.id] = pool.submit(execute, runtime, task.id)
            if running:
                wait(list(running.values()), timeout=0.1, return_when=FIRST_COMPLETED)
            else:
                threading.Event().wait(0.05)
            for key, future in list(running.items()):
                if future.done():
                    future.result()
                    del running[key]


# -- progress bars ----------------------------------------------------------------------------
class Bars:
    """One bar for the job, one per panel version (added as the panels appear)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.job = progress.add_task("manga", total=100, stage="pending")
        self.panels: dict[str, TaskID] = {}

    @staticmethod
    def _stage(stage: str | None, status: str, current: int, total: int) -> str:
        text = stage or status
        if stage == "done" or status in FINISHED:
            text = status
        elif total:
            text = f"{text} {current}/{total}"
        return text

    def job_state(
        self, status: str, stage: str | None, progress: int, current: int, total: int
    ) -> None:
        self.progress.update(
            self.job, completed=progress, stage=self._stage(stage, status, current, total)
        )

    def panel_state(
        self,
        key: str,
        label: str,
        status: str,
        stage: str | None,
        progress: int,
        current: int,
        total: int,
    ) -> None:
        if key not in self.panels:
            self.panels[key] = self.progress.add_task(f"  {label}", total=100, stage=status)
        done = 100 if status == "completed" else progress
        self.progress.update(
            self.panels[key], completed=done, stage=self._stage(stage, status, current, total)
        )

    def local(self, parent: Task, kids: list[Task]) -> None:
        self.job_state(
            parent.status, parent.stage, parent.progress, parent.stage_current, parent.stage_total
        )
        for kid in sorted(kids, key=lambda k: (k.params["panel_number"], k.params["version"])):
            number, version = kid.params["panel_number"], kid.params["version"]
            label = f"panel {number}" + (f" v{version}" if version > 1 else "")
            self.panel_state(
                kid.id,
                label,
                kid.status,
                kid.stage,
                kid.progress,
                kid.stage_current,
                kid.stage_total,
            )

    def remote(self, view: dict[str, Any]) -> None:
        sp = view.get("stage_progress") or {}
        self.job_state(
            view["status"],
            view.get("stage"),
            view.get("progress", 0),
            sp.get("current", 0),
            sp.get("total", 0),
        )
        for panel in view.get("panels", []):
            for version in panel["versions"]:
                vp = version.get("stage_progress") or {}
                label = f"panel {panel['panel_number']}"
                if version["version"] > 1:
                    label += f" v{version['version']}"
                self.panel_state(
                    version["task_id"],
                    label,
                    version["status"],
                    version.get("stage"),
                    version.get("progress", 0),
                    vp.get("current", 0),
                    vp.get("total", 0),
                )


# -- the command ------------------------------------------------------------------------------
def manga(
    story: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The story (UTF-8).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the page.")] = Path(
        "page.png"
    ),
    panels: Annotated[
        int | None, typer.Option(min=1, max=8, help="Panels (default: auto).")
    ] = None,
    writer: Annotated[str | None, typer.Option(help="Story writer: offline or chat.")] = None,
    model: Annotated[str | None, typer.Option(help="Text-to-image model or route.")] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="png, webp, pdf or cbz (default: from OUTPUT's suffix)."),
    ] = None,
    language: Annotated[str | None, typer.Option(help="zh or en (default: detected).")] = None,
    style: Annotated[str | None, typer.Option(help="Style preset of the panels.")] = None,
    layout: Annotated[str | None, typer.Option(help="Layout template (needs --panels).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Base seed.")] = None,
    rtl: Annotated[bool, typer.Option("--rtl", help="Read right to left.")] = False,
    server: Annotated[
        str | None,
        typer.Option(envvar="ATELIER_SERVER", help="Use a running server instead of local."),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="ATELIER_TOKEN", help="Session token.")
    ] = None,
) -> None:
    """Draw a manga page from a story, panel by panel, and save it as PNG, WebP, PDF or CBZ."""
    from atelier.cli.run import console

    suffix = output.suffix.lower().lstrip(".")
    chosen = (fmt or (suffix if suffix in FORMATS else "png")).lower()
    if chosen not in FORMATS:
        console.print(f"[red]validation_error[/red]: --format must be one of {', '.join(FORMATS)}")
        raise typer.Exit(2)
    try:
        text = story.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        console.print(f"[red]validation_error[/red]: cannot read {story}: {exc}")
        raise typer.Exit(2) from None
    params: dict[str, Any] = {
        "story": text,
        "panels": panels,
        "writer": writer,
        "model": model,
        "language": language,
        "style": style,
        "layout": layout,
        "seed": seed,
        "reading_direction": "rtl" if rtl else None,
    }
    params = {k: v for k, v in params.items() if v is not None}
    if server:
        code = run_remote(server, token, params, output, chosen)
    else:
        code = run_local(params, output, chosen)
    raise typer.Exit(code)


def _finish(
    status: str, error: dict[str, Any] | None, failures: list[dict[str, Any]], written: Path | None
) -> int:
    from atelier.cli.run import console

    if written is not None:
        console.print(f"saved {written}")
    for failure in failures:
        console.print(
            f"[yellow]panel {failure['panel_number']} failed[/yellow]: "
            f"{failure['code']}: {failure['message']}"
        )
    if status == "completed":
        return 0
    message = (error or {}).get("message") or status
    console.print(f"[red]task {status}[/red]: {message}")
    return 1


def run_local(params: dict[str, Any], output: Path, fmt: str) -> int:
    from atelier.cli.run import LOCAL_OWNER, _bar, console
    from atelier.config import get_settings
    from atelier.db.migrate import upgrade
    from atelier.errors import AtelierError
    from atelier.logging import configure_logging
    from atelier.manga.service import MangaService
    from atelier.runtime import build_runtime
    from atelier.tasks.schemas import TaskCreate
    from atelier.tasks.service import TaskService

    settings = get_settings()
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings)
    runtime = build_runtime(settings, worker=True)
    try:
        tasks = TaskService(runtime)
        try:
            task, _ = tasks.create(
                LOCAL_OWNER, TaskCreate(kind="manga", params=params), dispatch=False
            )
        except AtelierError as exc:
            console.print(f"[red]{exc.code}[/red]: {exc.message}")
            if exc.details:
                console.print(json.dumps(exc.details, indent=2, default=str))
            return 2
        with _bar() as progress:
            bars = Bars(progress)
            final = drive(
                runtime,
                task.id,
                concurrency=settings.queue.embedded_concurrency,
                on_tick=bars.local,
            )
        service = MangaService(runtime, tasks)
        view = service.view(LOCAL_OWNER, task.id)
        written = None
        if view.page is not None:
            out, _ = service.export(LOCAL_OWNER, task.id, fmt)  # type: ignore[arg-type]
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(out.data)
            written = output
        error = {"message": final.error_message} if final.error_message else None
        failures = [f.model_dump() for f in view.failures]
        return _finish(final.status, error, failures, written)
    finally:
        runtime.close()


def run_remote(
    server: str, token: str | None, params: dict[str, Any], output: Path, fmt: str
) -> int:
    from atelier.cli.run import _bar, _client, _fail, _remember

    with _client(server, token) as client:
        created = client.post("/api/v1/manga", json=params)
        if created.status_code >= 400:
            return _fail(created)
        _remember(created)
        session = created.headers.get("X-Atelier-Session")
        if session:
            client.headers["Authorization"] = f"Bearer {session}"
        task_id = created.json()["task_id"]
        pause = threading.Event()
        with _bar() as progress:
            bars = Bars(progress)
            while True:
                got = client.get(f"/api/v1/manga/{task_id}")
                if got.status_code >= 400:
                    return _fail(got)
                view = got.json()
                bars.remote(view)
                if view["status"] in FINISHED:
                    break
                pause.wait(0.5)
        written = None
        if view.get("page") is not None:
            page = client.get(f"/api/v1/manga/{task_id}/export", params={"format": fmt})
            if page.status_code >= 400:
                return _fail(page)
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(page.content)
            written = output
        return _finish(view["status"], view.get("error"), view.get("failures", []), written)
