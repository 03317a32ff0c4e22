"""An anonymous session becoming an account: everything it owns moves to the user.

Every table with an ``owner`` column takes part (tasks, their events, images, library
rows, and whatever is added later); it is found from the model metadata, not listed here.
The move runs inside the caller's transaction.

Two details:

- a row whose unique key (``owner`` plus other columns) the user already holds would break
  the key. Where those other columns may be null they are cleared (a task's
  ``Idempotency-Key``); otherwise the row stays with the anonymous owner (a library image
  whose bytes the user's library already has);
- a table without an index on ``owner`` but with a ``task_id`` (task events) is moved
  through the tasks the session can own (created since the session could exist), so the
  move reads indexes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Column, ColumnElement, Index, Table, UniqueConstraint, and_, exists, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from atelier.db.base import Base

OWNER = "owner"


def owner_tables() -> list[Table]:
    import atelier.db.models  # noqa: F401  (registers every model)

    return [t for t in Base.metadata.sorted_tables if OWNER in t.c]


def _first_is_owner(columns: Sequence[Column[object]]) -> bool:
    return bool(columns) and columns[0].name == OWNER


def _owner_indexed(table: Table) -> bool:
    for index in table.indexes:
        if _first_is_owner(list(index.columns)):
            return True
    return any(
        isinstance(c, UniqueConstraint) and _first_is_owner(list(c.columns))
        for c in table.constraints
    )


def _unique_keys(table: Table) -> list[list[Column[object]]]:
    """The other columns of every unique key that includes ``owner``."""
    keys: list[list[Column[object]]] = []
    groups: list[list[Column[object]]] = [
        list(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)
    ]
    groups += [list(i.columns) for i in table.indexes if isinstance(i, Index) and i.unique]
    for columns in groups:
        names = [c.name for c in columns]
        if OWNER in names and len(names) > 1:
            keys.append([c for c in columns if c.name != OWNER])
    return keys


def _held_by(table: Table, new: str, others: list[Column[object]]) -> ColumnElement[bool]:
    """The row's key (with ``owner`` = ``new``) is already taken."""
    existing = table.alias("existing")
    return exists().where(existing.c[OWNER] == new, *[existing.c[c.name] == c for c in others])


def move_owner(session: Session, old: str, new: str, *, since: datetime) -> dict[str, int]:
    """Move every row of ``old`` to ``new``; ``since``: the earliest a row of ``old`` can have
    been created. Returns the rows moved per table (tables with none left out)."""
    if old == new:
        return {}
    tables = owner_tables()
    by_name = {t.name: t for t in tables}
    tasks = by_name.get("tasks")
    moved: dict[str, int] = {}
    library_ids: list[str] = []
    for table in tables:
        where: list[ColumnElement[bool]] = [table.c[OWNER] == old]
        for others in _unique_keys(table):
            clash = _held_by(table, new, others)
            if all(c.nullable for c in others):
                session.execute(
                    sql_update(table)
                    .where(table.c[OWNER] == old, clash)
                    .values({c.name: None for c in others})
                )
            else:
                where.append(~clash)
        if (
            not _owner_indexed(table)
            and tasks is not None
            and table is not tasks
            and "task_id" in table.c
            and not table.c["task_id"].nullable
        ):
            candidates = select(tasks.c.id).where(
                tasks.c[OWNER].in_([old, new]), tasks.c.created_at >= since
            )
            where.append(table.c["task_id"].in_(candidates))
        if table.name == "library_images":
            library_ids = [
                str(i) for i in session.scalars(select(table.c["image_id"]).where(and_(*where)))
            ]
        result = session.execute(sql_update(table).where(*where).values({OWNER: new}))
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            moved[table.name] = count
    if library_ids:
        # the library's search indexes learn of owner changes from its change log
        from atelier.library.store import changed

        changed(session, library_ids)
    return moved
