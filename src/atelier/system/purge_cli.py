"""``atelier admin purge``: the retention clean-up, run by hand."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer

from atelier.config import get_settings
from atelier.logging import configure_logging


def _age(value: str | None, default: timedelta | None, option: str) -> timedelta | None:
    from atelier.system.retention import parse_duration

    if value is None:
        return default
    try:
        age = parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None
    return age if age > timedelta(0) else None


def purge(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            help="Delete anonymous sessions' tasks and uploads older than this (12h, 7d, 2w); "
            "default RETENTION__ANONYMOUS_HOURS; 0 keeps them.",
        ),
    ] = None,
    users_older_than: Annotated[
        str | None,
        typer.Option(
            "--users-older-than",
            help="The same for registered users; default RETENTION__USER_DAYS (0: keep).",
        ),
    ] = None,
    events_older_than: Annotated[
        str | None,
        typer.Option(
            "--events-older-than",
            help="Progress events of tasks finished this long ago; default "
            "RETENTION__EVENT_DAYS (0: keep).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be deleted.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Delete expired tasks, images (rows, then their stored objects) and old task events."""
    from dataclasses import replace

    from atelier.db.migrate import upgrade
    from atelier.runtime import build_runtime
    from atelier.system.retention import Policy
    from atelier.system.retention import purge as run_purge

    settings = get_settings()
    configure_logging(settings)
    base = Policy.from_settings(settings.retention)
    policy = replace(
        base,
        anonymous=_age(older_than, base.anonymous, "--older-than"),
        users=_age(users_older_than, base.users, "--users-older-than"),
        events=_age(events_older_than, base.events, "--events-older-than"),
    )
    upgrade(settings)
    runtime = build_runtime(settings, worker=True)
    try:
        report = run_purge(runtime, policy, dry_run=dry_run)
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
    else:
        verb = "would delete" if dry_run else "deleted"
        typer.echo(
            f"{verb}: {report.tasks} tasks, {report.uploads} uploads, {report.images} images, "
            f"{report.objects} stored objects, {report.events} events"
        )
        if report.objects_failed:
            typer.echo(f"{report.objects_failed} stored objects could not be deleted", err=True)
    raise typer.Exit(1 if report.objects_failed else 0)
