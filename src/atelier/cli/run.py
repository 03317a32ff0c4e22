"""What the CLI commands do, locally (embedded, no server) or against ``--server``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from atelier.config import get_settings
from atelier.images.processing import ImageRejected
from atelier.logging import configure_logging

console = Console(stderr=True)
LOCAL_OWNER = "local:cli"
TOKEN_FILE = Path.home() / ".config" / "atelier" / "session"


def _bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
        console=console,
    )


def _apply(progress: Progress, bar: Any, event: dict[str, Any]) -> None:
    sp = event.get("stage_progress") or {}
    stage = event.get("stage") or event.get("status", "")
    if sp.get("total"):
        stage = f"{stage} {sp.get('current', 0)}/{sp['total']}"
    progress.update(bar, completed=event.get("progress", 0), stage=stage)


def _report(status: str, error: dict[str, Any] | None, paths: list[Path]) -> int:
    if status != "completed":
        msg = (error or {}).get("message") or status
        console.print(f"[red]task {status}[/red]: {msg}")
        return 1
    for path in paths:
        console.print(f"saved {path}")
    return 0


# -- local ------------------------------------------------------------------------------------
def _read_photo(photo: Path, settings: Any) -> bytes:
    with photo.open("rb") as fh:
        return fh.read(settings.images.max_upload_bytes + 1)


def generate_local(params: dict[str, Any], output: Path) -> int:
    return run_local("generate", params, output)


def run_local(kind: str, params: dict[str, Any], output: Path, photo: Path | None = None) -> int:
    """Run a task in this process (embedded mode, no server) with a live progress bar."""
    from atelier.db.migrate import upgrade
    from atelier.errors import AtelierError
    from atelier.runtime import build_runtime
    from atelier.tasks.schemas import TaskCreate
    from atelier.tasks.service import TaskService
    from atelier.worker.runner import execute

    settings = get_settings()
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings)
    runtime = build_runtime(settings, worker=True)
    service = TaskService(runtime)
    try:
        try:
            if photo is not None:
                upload = runtime.images.ingest(
                    runtime.db.session, LOCAL_OWNER, _read_photo(photo, settings)
                )
                params = {**params, "image_id": upload.id}
            task, _ = service.create(
                LOCAL_OWNER, TaskCreate(kind=kind, params=params), dispatch=False
            )
        except ImageRejected as exc:
            console.print(f"[red]{exc.code}[/red]: {exc.message}")
            return 2
        except AtelierError as exc:
            console.print(f"[red]{exc.code}[/red]: {exc.message}")
            if exc.details:
                console.print(json.dumps(exc.details, indent=2, default=str))
            return 2
        runner = threading.Thread(target=execute, args=(runtime, task.id), daemon=True)
        runner.start()
        last = 0
        final: dict[str, Any] = {}
        with _bar() as progress:
            bar = progress.add_task(kind, total=100, stage="pending")
            done = threading.Event()
            while not done.is_set():
                for event in service.events_after(LOCAL_OWNER, task.id, last):
                    last = event.seq
                    wire = event.to_wire()
                    _apply(progress, bar, wire)
                    if event.terminal:
                        final = wire
                        done.set()
                if not done.is_set():
                    done.wait(0.05)
        runner.join()
        paths: list[Path] = []
        if final.get("status") == "completed":
            output.mkdir(parents=True, exist_ok=True)
            for i, image in enumerate(final["result"]["images"]):
                with runtime.db.read() as s:
                    record = runtime.images.get(s, image["image_id"], LOCAL_OWNER)
                assert record is not None
                path = output / f"{task.id[:8]}-{i}.{record.format}"
                path.write_bytes(runtime.storage.get(record.storage_key))
                paths.append(path)
        return _report(final.get("status", "failed"), final.get("error"), paths)
    finally:
        runtime.close()


# -- remote -----------------------------------------------------------------------------------
def _client(server: str, token: str | None) -> httpx.Client:
    token = token or (TOKEN_FILE.read_text().strip() if TOKEN_FILE.exists() else None)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=30.0)


def _remember(response: httpx.Response) -> None:
    new = response.headers.get("X-Atelier-Session")
    if new:
        TOKEN_FILE.parent.mkdir(parents=True, exist_ok=True)
        TOKEN_FILE.write_text(new)
        TOKEN_FILE.chmod(0o600)


def _sse(client: httpx.Client, path: str) -> Iterator[dict[str, Any]]:
    last: str | None = None
    while True:
        headers = {"Last-Event-ID": last} if last else {}
        try:
            with client.stream("GET", path, headers=headers, timeout=None) as response:
                response.raise_for_status()
                data: list[str] = []
                for line in response.iter_lines():
                    if line.startswith("id:"):
                        last = line[3:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line == "" and data:
                        event = json.loads("\n".join(data))
                        data = []
                        yield event
                        if event.get("type") in ("completed", "failed", "cancelled", "partial"):
                            return
        except (httpx.TransportError, httpx.RemoteProtocolError):
            console.print("[yellow]stream interrupted; resuming[/yellow]")
            continue


def _fail(response: httpx.Response) -> int:
    try:
        body = response.json()
        console.print(f"[red]{body.get('error')}[/red]: {body.get('message')}")
        if body.get("details"):
            console.print(json.dumps(body["details"], indent=2))
    except ValueError:
        console.print(f"[red]HTTP {response.status_code}[/red]")
    return 2


def generate_remote(server: str, token: str | None, params: dict[str, Any], output: Path) -> int:
    return run_remote(server, token, "generate", params, output)


def run_remote(
    server: str,
    token: str | None,
    kind: str,
    params: dict[str, Any],
    output: Path,
    photo: Path | None = None,
) -> int:
    with _client(server, token) as client:
        if photo is not None:
            fields = {k: str(v) for k, v in params.items()}
            created = client.post(
                "/api/v1/stylize",
                data=fields,
                files={"photo": (photo.name, photo.read_bytes(), "application/octet-stream")},
            )
        else:
            created = client.post("/api/v1/generate", json=params)
        if created.status_code >= 400:
            return _fail(created)
        _remember(created)
        if created.headers.get("X-Atelier-Session"):
            client.headers["Authorization"] = f"Bearer {created.headers['X-Atelier-Session']}"
        task_id = created.json()["task_id"]
        final: dict[str, Any] = {}
        with _bar() as progress:
            bar = progress.add_task(kind, total=100, stage="pending")
            for event in _sse(client, f"/api/v1/tasks/{task_id}/stream"):
                _apply(progress, bar, event)
                final = event
        paths: list[Path] = []
        if final.get("status") == "completed":
            output.mkdir(parents=True, exist_ok=True)
            for i, image in enumerate(final["result"]["images"]):
                got = client.get(image["url"])
                got.raise_for_status()
                path = output / f"{task_id[:8]}-{i}.{image['format']}"
                path.write_bytes(got.content)
                paths.append(path)
        return _report(final.get("status", "failed"), final.get("error"), paths)


def list_tasks(
    server: str | None,
    token: str | None,
    status: list[str] | None,
    kind: list[str] | None,
    limit: int,
) -> None:
    if server:
        with _client(server, token) as client:
            response = client.get(
                "/api/v1/tasks", params={"status": status or [], "kind": kind or [], "limit": limit}
            )
            if response.status_code >= 400:
                raise SystemExit(_fail(response))
            _remember(response)
            items = response.json()["items"]
    else:
        from atelier.runtime import build_runtime
        from atelier.tasks.service import TaskService

        settings = get_settings()
        runtime = build_runtime(settings, worker=True)
        try:
            out, _ = TaskService(runtime).list_tasks(
                LOCAL_OWNER, status=status, kind=kind, limit=limit
            )
            items = [t.model_dump(mode="json") for t in out]
        finally:
            runtime.close()
    table = Table(title="tasks")
    for col in ("id", "kind", "status", "progress", "created", "error"):
        table.add_column(col)
    for t in items:
        table.add_row(
            t["task_id"][:8],
            t["kind"],
            t["status"],
            f"{t['progress']}%",
            t["created_at"][:19],
            (t.get("error") or {}).get("code", "") if t.get("error") else "",
        )
    Console().print(table)
