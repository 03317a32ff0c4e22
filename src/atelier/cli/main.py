"""``atelier``: serve, worker, generate, tasks, db."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from atelier.accounts.cli import create_user as create_user_command
from atelier.accounts.cli import users as users_command
from atelier.config import get_settings
from atelier.erase.cli import erase as erase_command
from atelier.library.cli import library_app
from atelier.library.cli import search as search_command
from atelier.limits.cli import quotas_command
from atelier.logging import configure_logging
from atelier.manga.cli import manga as manga_command
from atelier.storage.cli import storage_admin
from atelier.system.purge_cli import purge as purge_command

app = typer.Typer(help="Atelier: a self-hosted AI image platform.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
admin_app = typer.Typer(
    help="Administration, on the configured database (no server needed).", no_args_is_help=True
)
app.add_typer(admin_app, name="admin")
admin_app.add_typer(storage_admin, name="storage")
admin_app.command("create-user")(create_user_command)
admin_app.command("users")(users_command)
admin_app.command("purge")(purge_command)
admin_app.command("quotas")(quotas_command)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    worker: Annotated[
        bool | None, typer.Option("--worker/--no-worker", help="Start the embedded worker.")
    ] = None,
) -> None:
    """Apply migrations and start the API (and, by default, a worker beside it)."""
    import uvicorn

    from atelier.api.app import create_app
    from atelier.db.migrate import upgrade

    settings = get_settings()
    configure_logging(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings)
    supervisors: list[WorkerSupervisor] = []
    if settings.queue.embedded_worker if worker is None else worker:
        base = [sys.executable, "-m", "atelier", "worker", "--parent-pid", str(os.getpid())]
        concurrency = ["--concurrency", str(settings.queue.embedded_concurrency)]
        if settings.queue.embedded_library_worker:
            # the library's background work in its own process, at a lower CPU priority, so
            # tagging a burst of images never delays what someone is waiting for
            supervisors.append(
                WorkerSupervisor("worker", [*base, "--queues", "cpu,gpu", *concurrency])
            )
            supervisors.append(
                WorkerSupervisor(
                    "library worker",
                    [*base, "--queues", "library", "--concurrency", "1", "--nice", "10"],
                )
            )
        else:
            supervisors.append(WorkerSupervisor("worker", [*base, *concurrency]))
        for supervisor in supervisors:
            supervisor.start()
    try:
        uvicorn.run(
            create_app(settings),
            host=host or settings.host,
            port=port or settings.port,
            log_level=settings.log_level.lower(),
            proxy_headers=True,
            forwarded_allow_ips=settings.limits.trusted_proxies,  # as the rate limits
        )
    finally:
        for supervisor in supervisors:
            supervisor.stop()


@app.command()
def worker(
    queues: Annotated[
        str, typer.Option(help="Comma-separated queues to consume (cpu, gpu, library).")
    ] = "cpu,gpu,library",
    concurrency: Annotated[int, typer.Option(min=1, help="Tasks run at once.")] = 2,
    pool: Annotated[str, typer.Option(help="Celery pool: threads, solo or prefork.")] = "threads",
    nice: Annotated[
        int, typer.Option(min=0, max=19, help="Lower this worker's CPU priority (Unix nice).")
    ] = 0,
    parent_pid: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Consume tasks from the broker (any number of workers, on any machines)."""
    from atelier.worker.main import run_worker

    settings = get_settings()
    configure_logging(settings)
    if parent_pid is not None:
        _exit_with_parent(parent_pid)
    if nice and hasattr(os, "nice"):
        os.nice(nice)
    run_worker(settings, [q.strip() for q in queues.split(",") if q.strip()], concurrency, pool)


class WorkerSupervisor(threading.Thread):
    """Keeps the embedded worker running: a worker that dies (a provider that crashed it, the
    OOM killer) is started again, with a growing pause if it keeps dying. Its tasks are
    recovered by the lease sweep."""

    def __init__(self, name: str, command: list[str]) -> None:
        super().__init__(name=f"{name} supervisor", daemon=True)
        self.label = name
        self.command = command
        self.child: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()

    def run(self) -> None:
        pause = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            self.child = subprocess.Popen(self.command)
            code = self.child.wait()
            if self._stopping.is_set():
                return
            pause = 1.0 if time.monotonic() - started > 60 else min(pause * 2, 60.0)
            logging.getLogger("atelier.serve").error(
                "the embedded %s exited with %s; starting it again in %.0fs",
                self.label,
                code,
                pause,
            )
            self._stopping.wait(pause)

    def stop(self) -> None:
        self._stopping.set()
        child = self.child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


def _exit_with_parent(parent_pid: int) -> None:
    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            threading.Event().wait(1.0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@app.command()
def generate(
    prompt: Annotated[str, typer.Argument(help="What to draw.")],
    num_images: Annotated[int, typer.Option("-n", "--num-images", min=1, help="Images.")] = 1,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output directory.")] = Path("out"),
    width: Annotated[int, typer.Option(help="Width.")] = 512,
    height: Annotated[int, typer.Option(help="Height.")] = 512,
    steps: Annotated[int, typer.Option(help="Steps.")] = 8,
    seed: Annotated[int | None, typer.Option(help="Seed.")] = None,
    model: Annotated[str | None, typer.Option(help="Model id.")] = None,
    negative_prompt: Annotated[str, typer.Option("--negative", help="What to avoid.")] = "",
    server: Annotated[
        str | None,
        typer.Option(envvar="ATELIER_SERVER", help="Use a running server instead of local."),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="ATELIER_TOKEN", help="Session token.")
    ] = None,
) -> None:
    """Generate images with a live progress bar and save them to OUTPUT."""
    from atelier.cli.run import generate_local, generate_remote

    params = {
        "prompt": prompt,
        "negative_prompt": negative_prompt,
        "width": width,
        "height": height,
        "num_images": num_images,
        "steps": steps,
        "seed": seed,
        "model": model,
    }
    params = {k: v for k, v in params.items() if v is not None}
    if server:
        code = generate_remote(server, token, params, output)
    else:
        code = generate_local(params, output)
    raise typer.Exit(code)


@app.command()
def stylize(
    photo: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The photo.")],
    style: Annotated[str | None, typer.Option(help="Style preset id (`atelier presets`).")] = None,
    location: Annotated[str | None, typer.Option(help="Location preset id.")] = None,
    text: Annotated[str, typer.Option(help="Free text added to the prompt.")] = "",
    language: Annotated[str, typer.Option(help="en or zh.")] = "en",
    num_images: Annotated[int, typer.Option("-n", "--num-images", min=1, max=4)] = 1,
    strength: Annotated[float | None, typer.Option(min=0.0, max=1.0)] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option(help="Image-to-image model or route.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("out"),
    server: Annotated[str | None, typer.Option(envvar="ATELIER_SERVER")] = None,
    token: Annotated[str | None, typer.Option(envvar="ATELIER_TOKEN")] = None,
) -> None:
    """Restyle a photo (and place its subject somewhere else) with a live progress bar."""
    from atelier.cli.run import run_local, run_remote

    params = {
        "style": style,
        "location": location,
        "text": text or None,
        "language": language,
        "num_images": num_images,
        "strength": strength,
        "seed": seed,
        "model": model,
    }
    params = {k: v for k, v in params.items() if v is not None}
    if server:
        code = run_remote(server, token, "stylize", params, output, photo)
    else:
        code = run_local("stylize", params, output, photo)
    raise typer.Exit(code)


app.command("erase")(erase_command)
app.command("manga")(manga_command)
app.add_typer(library_app, name="library")
app.command("search")(search_command)


@app.command()
def presets(language: Annotated[str, typer.Option(help="en or zh.")] = "en") -> None:
    """List the style and location presets."""
    from rich.console import Console
    from rich.table import Table

    from atelier.prompts.presets import PresetLibrary, parse_language

    lang = parse_language(language)
    library = PresetLibrary(get_settings().prompts.user_dir)
    for title, items in (("styles", library.styles()), ("locations", library.locations())):
        table = Table(title=title)
        table.add_column("id")
        table.add_column("name")
        for item in items:
            table.add_row(item.id, item.name.get(lang))
        Console().print(table)


@app.command()
def tasks(
    status: Annotated[list[str] | None, typer.Option(help="Filter by status.")] = None,
    kind: Annotated[list[str] | None, typer.Option(help="Filter by kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    server: Annotated[str | None, typer.Option(envvar="ATELIER_SERVER")] = None,
    token: Annotated[str | None, typer.Option(envvar="ATELIER_TOKEN")] = None,
) -> None:
    """List your tasks, newest first."""
    from atelier.cli.run import list_tasks

    list_tasks(server, token, status, kind, limit)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION."""
    from atelier.db.migrate import upgrade

    settings = get_settings()
    configure_logging(settings)
    upgrade(settings, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Revert migrations down to REVISION."""
    from atelier.db.migrate import downgrade

    settings = get_settings()
    configure_logging(settings)
    downgrade(settings, revision)
    typer.echo(f"database at {revision}")
