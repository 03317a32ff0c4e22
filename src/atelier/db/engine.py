"""Engines and sessions. One transaction per request or task step."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from atelier.config import Settings


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def build_engine(settings: Settings, *, writer: bool = True) -> Engine:
    url = make_url(settings.database_url)
    kwargs: dict[str, Any] = {"echo": settings.database.echo, "future": True}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        kwargs["pool_size"] = 20
        kwargs["max_overflow"] = 40
    else:
        kwargs["pool_size"] = settings.database.pool_size
        kwargs["max_overflow"] = settings.database.pool_size * 2
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _disable_pysqlite_begin)
        # A deferred SQLite transaction that reads and then writes fails at once (no wait) when
        # another writer committed in between; writers take the lock up front instead and wait
        # on busy_timeout. Readers stay deferred so WAL lets them run beside the writer.
        event.listen(engine, "begin", _begin_immediate if writer else _begin_deferred)
    return engine


def _disable_pysqlite_begin(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None


def _begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


class Database:
    """Owns the engine and session factory of one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = build_engine(settings)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.read_engine = build_engine(settings, writer=False) if self.is_sqlite else self.engine
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessionmaker = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error.

        On SQLite, writers of one process queue on a lock instead of in SQLite's busy
        handler, which sleeps in growing steps and turns contention into long stalls."""
        if self._write_lock is None:
            with self.sessionmaker() as session, session.begin():
                yield session
            return
        with self._write_lock, self.sessionmaker() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (on SQLite it does not take the write lock)."""
        with self.read_sessionmaker() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
