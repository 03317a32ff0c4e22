"""``atelier admin create-user`` and ``atelier admin users``, on the configured database (no
server needed)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from atelier.accounts.schemas import RegisterIn
from atelier.accounts.service import AccountService
from atelier.errors import AtelierError


@contextmanager
def _accounts() -> Iterator[AccountService]:
    from atelier.config import get_settings
    from atelier.db.engine import Database
    from atelier.db.migrate import upgrade
    from atelier.logging import configure_logging

    settings = get_settings()
    configure_logging(settings)
    upgrade(settings)
    db = Database(settings)
    try:
        yield AccountService(db, settings)
    finally:
        db.dispose()


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def create_user(
    email: Annotated[str, typer.Argument(help="The user's email (their sign-in name).")],
    admin: Annotated[bool, typer.Option("--admin", help="Give the admin role.")] = False,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Create a user (even with registration closed). The password is asked for, or read
    from standard input with --password-stdin (first line)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        body = RegisterIn(email=email, password=password, display_name=name)
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise _fail(problems) from None
    with _accounts() as accounts:
        try:
            user = accounts.create_user(
                body.email, body.password, display_name=body.display_name, admin=admin or None
            )
        except AtelierError as exc:
            raise _fail(exc.message) from None
    Console().print(f"created {user.role} {user.email} ({user.id})")


def users(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Rows shown.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Rows skipped.")] = 0,
) -> None:
    """List the users."""
    with _accounts() as accounts:
        rows, total = accounts.list_users(limit, offset)
    table = Table(title=f"users ({total})")
    for column in ("id", "email", "name", "role", "disabled", "created", "last login"):
        table.add_column(column)
    for u in rows:
        table.add_row(
            u.id,
            u.email,
            u.display_name,
            u.role,
            "yes" if u.disabled else "",
            u.created_at.strftime("%Y-%m-%d %H:%M"),
            u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "",
        )
    Console().print(table)
