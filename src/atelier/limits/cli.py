"""``atelier admin quotas``: the limits of each owner class and who uses the most right now."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from atelier.limits.policy import Rate, class_of, limits_active, policy_for
from atelier.limits.quotas import WINDOW, Roles, usage


def _rate(rate: Rate) -> str:
    return f"{rate.per_minute}/min, burst {rate.burst}" if rate.enabled else "unlimited"


def _count(value: int) -> str:
    return str(value) if value > 0 else "unlimited"


def quotas_command(
    top: Annotated[int, typer.Option(min=0, help="Show this many of the busiest owners.")] = 10,
) -> None:
    """Show each owner class's rate limits and task quotas, and the busiest owners of the
    last 24 hours with their usage against their class's quotas."""
    from atelier.config import get_settings
    from atelier.db.base import utcnow
    from atelier.db.engine import Database
    from atelier.db.migrate import upgrade
    from atelier.tasks.kinds import kinds
    from atelier.tasks.models import Task

    settings = get_settings()
    upgrade(settings)
    console = Console()
    state = "on" if limits_active(settings) else "off"
    policies = {name: policy_for(settings.limits, name) for name in ("anon", "user", "admin")}
    table = Table(title=f"Limits ({state}: ATELIER_LIMITS__ENABLED={settings.limits.enabled})")
    for column in ("class", "requests", "submissions", "concurrent tasks", "tasks per 24 h"):
        table.add_column(column)
    for name, policy in policies.items():
        table.add_row(
            name,
            _rate(policy.requests),
            _rate(policy.submits),
            _count(policy.concurrent_tasks),
            _count(policy.daily_tasks),
        )
    console.print(table)
    if top == 0:
        return
    db = Database(settings)
    try:
        with db.read() as s:
            busiest = s.execute(
                select(Task.owner, func.count())
                .where(
                    Task.parent_id.is_(None),
                    Task.kind.in_(kinds()),
                    Task.created_at >= utcnow() - WINDOW,
                )
                .group_by(Task.owner)
                .order_by(func.count().desc(), Task.owner)
                .limit(top)
            ).all()
            roles = Roles(db)
            owners = Table(title=f"Busiest owners, last 24 h (top {top})")
            for column in ("owner", "class", "active", "last 24 h"):
                owners.add_column(column)
            for owner, _ in busiest:
                used = usage(s, owner)
                policy = policies[class_of(owner, roles.role_of(owner))]
                owners.add_row(
                    owner,
                    policy.name,
                    f"{used.concurrent} / {_count(policy.concurrent_tasks)}",
                    f"{used.daily} / {_count(policy.daily_tasks)}",
                )
        console.print(owners if busiest else "no tasks in the last 24 hours")
    finally:
        db.dispose()
