"""Alembic, driven programmatically so it works from an installed package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from atelier.config import Settings
from atelier.db.engine import build_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["settings"] = settings
    return cfg


#: PostgreSQL advisory lock held while migrating, so API replicas and workers that start
#: together migrate one after the other instead of racing on the same DDL.
MIGRATION_LOCK = 0x61746C72  # "atlr"


def upgrade(settings: Settings, revision: str = "head") -> None:
    engine = build_engine(settings)
    try:
        if engine.dialect.name == "sqlite":
            with _file_lock(settings.data_dir / ".migrate.lock"):
                command.upgrade(alembic_config(settings), revision)
            return
        if engine.dialect.name != "postgresql":
            command.upgrade(alembic_config(settings), revision)
            return
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                command.upgrade(alembic_config(settings), revision)
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                lock.commit()
    finally:
        engine.dispose()


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)


def current_tables(settings: Settings) -> set[str]:
    engine = build_engine(settings)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` between processes (SQLite: the API and its worker
    starting together), where the platform has ``fcntl``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            import fcntl
        except ImportError:  # no fcntl (Windows): SQLite's own locking only
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
