"""``atelier admin storage list|add|set|drain|remove``: storage endpoints, on the configured
database (no server needed). Running processes see a change within
``storage.refresh_interval`` seconds."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from atelier.errors import AtelierError
from atelier.storage.admin import EndpointIn, EndpointList, EndpointPatch, StorageAdmin

storage_admin = typer.Typer(help="Storage endpoints.", no_args_is_help=True)


@contextmanager
def _admin() -> Iterator[StorageAdmin]:
    from atelier.config import get_settings
    from atelier.db.engine import Database
    from atelier.db.migrate import upgrade
    from atelier.logging import configure_logging
    from atelier.storage.factory import build_storage

    settings = get_settings()
    configure_logging(settings)
    upgrade(settings)
    db = Database(settings)
    try:
        storage = build_storage(settings, db, monitor=False)
        try:
            yield StorageAdmin(settings, db, storage)
        finally:
            storage.close()
    finally:
        db.dispose()


def _run(action: Callable[[StorageAdmin], Any]) -> Any:
    """Run an admin action; a refusal is printed (code and message) with exit status 1."""
    err = Console(stderr=True)
    try:
        with _admin() as admin:
            return action(admin)
    except AtelierError as exc:
        err.print(f"[red]{exc.code}[/red]: {exc.message}")
        if exc.details:
            err.print(json.dumps(exc.details, default=str))
        raise typer.Exit(1) from None
    except ValidationError as exc:
        for problem in exc.errors():
            where = ".".join(str(p) for p in problem["loc"]) or "endpoint"
            err.print(f"[red]invalid[/red] {where}: {problem['msg']}")
        raise typer.Exit(2) from None


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def print_endpoints(listing: EndpointList) -> None:
    table = Table(title="storage endpoints" + ("" if listing.multi else " (multi storage off)"))
    for column in ("id", "type", "role", "state", "priority", "weight", "health", "objects"):
        table.add_column(column)
    table.add_column("pending")
    table.add_column("failed")
    table.add_column("location", overflow="fold")
    for e in listing.endpoints:
        health = {True: "[green]ok[/green]", False: "[red]down[/red]", None: "?"}[e.healthy]
        table.add_row(
            e.id,
            e.type,
            e.role,
            e.state,
            str(e.read_priority),
            f"{e.read_weight:g}",
            health,
            _count(e.objects),
            _count(e.pending),
            _count(e.failed),
            e.location,
        )
    console = Console()
    console.print(table)
    for e in listing.endpoints:
        if e.healthy is False and e.health_error:
            console.print(f"{e.id}: {e.health_error}")


@storage_admin.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every endpoint, probed now, with the objects it holds and the copies still due."""
    listing: EndpointList = _run(lambda admin: admin.list(max_age=0))
    if as_json:
        typer.echo(listing.model_dump_json(indent=2))
    else:
        print_endpoints(listing)


@storage_admin.command("add")
def add_command(
    endpoint_id: Annotated[str, typer.Argument(metavar="ID", help="New endpoint's id.")],
    type_: Annotated[str, typer.Option("--type", help="local or s3.")] = "s3",
    role: Annotated[str, typer.Option(help="primary or backup.")] = "backup",
    priority: Annotated[int, typer.Option(help="Read priority (lower first).")] = 100,
    weight: Annotated[float, typer.Option(help="Read weight among equal priorities.")] = 1.0,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    root: Annotated[str | None, typer.Option(help="local: absolute directory.")] = None,
    bucket: Annotated[str | None, typer.Option(help="s3: bucket.")] = None,
    endpoint_url: Annotated[str, typer.Option(help="s3: endpoint URL (empty: AWS).")] = "",
    region: Annotated[str, typer.Option(help="s3: region.")] = "us-east-1",
    access_key_id: Annotated[str, typer.Option(help="s3: access key id.")] = "",
    secret_ref: Annotated[
        str, typer.Option(help="s3: where the secret key is, env:NAME or file:/path.")
    ] = "",
    prefix: Annotated[str, typer.Option(help="s3: key prefix.")] = "",
    create_bucket: Annotated[bool, typer.Option(help="s3: create the bucket.")] = False,
) -> None:
    """Add an endpoint (it must accept a test write); it then receives a copy of every
    object through the replication job."""
    payload: dict[str, Any] = {
        "id": endpoint_id,
        "name": name,
        "type": type_,
        "role": role,
        "read_priority": priority,
        "read_weight": weight,
    }
    if type_ == "local":
        payload["root"] = root
    else:
        payload["s3"] = {
            "bucket": bucket or "",
            "endpoint_url": endpoint_url,
            "region": region,
            "access_key_id": access_key_id,
            "secret_access_key_ref": secret_ref,
            "prefix": prefix,
            "create_bucket": create_bucket,
        }
    view = _run(lambda admin: admin.add(EndpointIn.model_validate(payload)))
    typer.echo(f"added {view.id} ({view.type}, {view.role}) at {view.location}")


@storage_admin.command("set")
def set_command(
    endpoint_id: Annotated[str, typer.Argument(metavar="ID")],
    state: Annotated[str | None, typer.Option(help="active, draining or down.")] = None,
    role: Annotated[str | None, typer.Option(help="primary or backup.")] = None,
    priority: Annotated[int | None, typer.Option(help="Read priority.")] = None,
    weight: Annotated[float | None, typer.Option(help="Read weight.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Change an endpoint's state, role, read priority, weight or name."""
    payload = {
        "state": state,
        "role": role,
        "read_priority": priority,
        "read_weight": weight,
        "name": name,
    }
    view = _run(lambda admin: admin.update(endpoint_id, EndpointPatch.model_validate(payload)))
    typer.echo(f"{view.id}: {view.state}, {view.role}, priority {view.read_priority}")


@storage_admin.command("drain")
def drain_command(endpoint_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Stop writing to an endpoint; the replication job copies its objects elsewhere."""
    view = _run(lambda admin: admin.drain(endpoint_id))
    typer.echo(f"{view.id} is draining ({view.objects} objects held)")


@storage_admin.command("remove")
def remove_command(endpoint_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Remove a drained endpoint; refused while it holds the only copy of any object."""
    _run(lambda admin: admin.remove(endpoint_id))
    typer.echo(f"removed {endpoint_id}")
