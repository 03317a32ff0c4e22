"""``atelier library add DIR``, ``atelier library reembed`` and ``atelier search QUERY``.

Without ``--server`` they run here, on the configured database and storage (embedded mode, as
``atelier erase`` does): files are imported one by one (a bad file is reported and skipped)
and tagged in this process with the real task runner. With ``--server`` they use the HTTP API
(the server's workers tag the images).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from atelier.runtime import Runtime

console = Console(stderr=True)
library_app = typer.Typer(help="The image library: import, re-embed.", no_args_is_help=True)
EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif"}

ServerOpt = Annotated[
    str | None, typer.Option(envvar="ATELIER_SERVER", help="Use a running server.")
]
TokenOpt = Annotated[str | None, typer.Option(envvar="ATELIER_TOKEN", help="Session token.")]


def image_files(directory: Path) -> list[Path]:
    """The images under ``directory`` (recursively, by extension), sorted."""
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS)


def _bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[current]}"),
        TimeElapsedColumn(),
        console=console,
    )


def _tags(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _summary(rows: list[dict[str, Any]]) -> int:
    table = Table(title="library import")
    for col in ("file", "status", "image", "near duplicates"):
        table.add_column(col)
    for row in rows:
        near = ", ".join(f"{n['image_id'][:8]} ({n['distance']})" for n in row.get("near", []))
        colour = {"created": "green", "duplicate": "yellow"}.get(row["status"], "red")
        table.add_row(
            row["file"],
            f"[{colour}]{row['status']}[/{colour}]",
            (row.get("image_id") or "")[:8],
            near or row.get("error", ""),
        )
    Console().print(table)
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("created", "duplicate")}
    failed = len(rows) - counts["created"] - counts["duplicate"]
    console.print(
        f"{counts['created']} imported, {counts['duplicate']} duplicates, {failed} refused"
    )
    return 1 if failed else 0


@library_app.command("add")
def add(
    directory: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="A directory of images.")
    ],
    tags: Annotated[str | None, typer.Option(help="Your tags for every image: a,b,c.")] = None,
    title: Annotated[str | None, typer.Option(help="A title for every image.")] = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Import the images of DIR into the library with a progress bar; duplicates of images
    already there are reported, not stored again."""
    paths = image_files(directory)
    if not paths:
        console.print(f"no images under {directory}")
        raise typer.Exit(1)
    if server:
        rows = add_remote(server, token, paths, _tags(tags), title)
    else:
        rows = add_local(paths, _tags(tags), title)
    for row in rows:  # shown relative to DIR
        row["file"] = str(Path(row["file"]).relative_to(directory))
    raise typer.Exit(_summary(rows))


def _local_runtime() -> Runtime:
    from atelier.config import get_settings
    from atelier.db.migrate import upgrade
    from atelier.logging import configure_logging
    from atelier.runtime import build_runtime

    settings = get_settings()
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings)
    return build_runtime(settings, worker=True)


def add_local(paths: list[Path], tags: list[str], title: str | None) -> list[dict[str, Any]]:
    from atelier.cli.run import LOCAL_OWNER
    from atelier.errors import AtelierError
    from atelier.library.index import LibraryIndex
    from atelier.library.ingest import Source, import_images
    from atelier.worker.runner import execute

    runtime = _local_runtime()
    index = LibraryIndex(runtime)
    rows: list[dict[str, Any]] = []
    limit = runtime.settings.images.max_upload_bytes
    try:
        with _bar() as progress:
            bar = progress.add_task("importing", total=len(paths), current="")
            for path in paths:
                progress.update(bar, current=path.name)
                row: dict[str, Any] = {"file": str(path)}
                try:
                    with path.open("rb") as fh:
                        data = fh.read(limit + 1)
                    source = Source(data, "upload", filename=path.name)
                    imported = import_images(
                        runtime, index, LOCAL_OWNER, [source], tags=tags, title=title,
                        dispatch=False,
                    )  # fmt: skip
                    [item] = imported.items
                    row.update(status=item.status, image_id=item.image_id)
                    row["near"] = item.near_duplicates
                    if item.task_id is not None:
                        progress.update(bar, current=f"{path.name}: tagging")
                        execute(runtime, item.task_id)
                except AtelierError as exc:
                    row.update(status=exc.code, error=exc.message)
                except OSError as exc:
                    row.update(status="unreadable", error=str(exc))
                rows.append(row)
                progress.advance(bar)
    finally:
        runtime.close()
    return rows


def _client(server: str, token: str | None) -> Any:
    from atelier.cli.run import _client as client

    return client(server, token)


def add_remote(
    server: str, token: str | None, paths: list[Path], tags: list[str], title: str | None
) -> list[dict[str, Any]]:
    from atelier.cli.run import _remember

    rows: list[dict[str, Any]] = []
    form: dict[str, str] = {"tags": json.dumps(tags)} if tags else {}
    if title:
        form["title"] = title
    with _client(server, token) as client, _bar() as progress:
        bar = progress.add_task("uploading", total=len(paths), current="")
        for path in paths:
            progress.update(bar, current=path.name)
            response = client.post(
                "/api/v1/library/images",
                data=form,
                files={"files": (path.name, path.read_bytes(), "application/octet-stream")},
            )
            _remember(response)
            if response.headers.get("X-Atelier-Session"):
                client.headers["Authorization"] = f"Bearer {response.headers['X-Atelier-Session']}"
            row: dict[str, Any] = {"file": str(path)}
            try:
                body = response.json()
            except ValueError:
                body = {}
            if response.status_code >= 400:
                row.update(
                    status=body.get("error", f"HTTP {response.status_code}"),
                    error=body.get("message", ""),
                )
            else:
                [item] = body["items"]
                row.update(
                    status=item["status"],
                    image_id=item["image_id"],
                    near=item["near_duplicates"],
                )
            rows.append(row)
            progress.advance(bar)
    return rows


@library_app.command("reembed")
def reembed_command(
    force: Annotated[bool, typer.Option(help="Run even when nothing seems stale.")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Re-embed the library with the configured models (after the embedder changed)."""
    if server:
        with _client(server, token) as client:
            response = client.post("/api/v1/library/reembed", params={"force": force})
            body = response.json()
            if response.status_code >= 400:
                console.print(f"[red]{body.get('error')}[/red]: {body.get('message')}")
                raise typer.Exit(2)
            console.print(f"re-embedding: task {body['task_id']} ({body['plan']})")
            return
    from atelier.cli.run import LOCAL_OWNER
    from atelier.errors import AtelierError
    from atelier.library.index import LibraryIndex
    from atelier.library.service import LibraryService
    from atelier.worker.runner import execute

    runtime = _local_runtime()
    try:
        try:
            out = LibraryService(runtime, LibraryIndex(runtime)).reembed(
                LOCAL_OWNER, force=force, dispatch=False
            )
        except AtelierError as exc:
            console.print(f"[yellow]{exc.code}[/yellow]: {exc.message}")
            raise typer.Exit(0 if exc.code == "reembed_not_needed" else 2) from None
        console.print(f"re-embedding {out.plan}")
        execute(runtime, out.task_id)
        from atelier.tasks.models import Task

        with runtime.db.read() as s:
            task = s.get(Task, out.task_id)
        assert task is not None
        if task.status != "completed":
            console.print(f"[red]{task.status}[/red]: {task.error_message}")
            raise typer.Exit(1)
        console.print(f"done: {task.result}")
    finally:
        runtime.close()


def search(
    query: Annotated[str, typer.Argument(help="Words or a sentence.")],
    n: Annotated[int, typer.Option("-n", "--limit", min=1, max=100, help="Hits shown.")] = 10,
    tags: Annotated[str | None, typer.Option(help="Only images with all these tags: a,b.")] = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Search the image library (meaning, tags and text) and print the best hits."""
    if server:
        with _client(server, token) as client:
            params: dict[str, Any] = {"q": query, "k": n}
            if tags:
                params["tags"] = _tags(tags)
            response = client.get("/api/v1/library/search", params=params)
            body = response.json()
            if response.status_code >= 400:
                console.print(f"[red]{body.get('error')}[/red]: {body.get('message')}")
                raise typer.Exit(2)
            hits = body["items"]
    else:
        from atelier.cli.run import LOCAL_OWNER
        from atelier.library.index import LibraryIndex
        from atelier.library.service import LibraryService
        from atelier.library.store import Filters

        runtime = _local_runtime()
        try:
            service = LibraryService(runtime, LibraryIndex(runtime))
            found = service.search(LOCAL_OWNER, query, Filters(tags=tuple(_tags(tags))), n)
            hits = [h.model_dump(mode="json") for h in found.items]
        finally:
            runtime.close()
    table = Table(title=f"library: {query}")
    for col in ("score", "image", "title / file", "tags", "matched"):
        table.add_column(col)
    for hit in hits:
        image = hit["image"]
        table.add_row(
            f"{hit['score']:.3f}",
            image["image_id"][:8],
            image.get("title") or image.get("original_filename") or "",
            ", ".join(t["tag"] for t in image["tags"][:8]),
            ", ".join(hit["matched"]),
        )
    Console().print(table)
    if not hits:
        console.print("no match")
