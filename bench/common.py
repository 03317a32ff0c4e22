"""Shared benchmark plumbing: a fresh stack and a real server process per mode, HTTP helpers,
percentiles, tables and the command line (processes: ``bench.procs``; machine:
``bench.machine``; the results document: ``bench.report``).

Modes: ``embedded`` (SQLite database, SQLite broker, events tailed from the database) and
``postgres-redis`` (a fresh PostgreSQL database, a flushed Redis database as broker and bus).
Every process started here is in its own process group and is stopped on exit, Ctrl-C or
SIGTERM; databases and data directories are removed afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bench.procs import CpuWatch, cpu_seconds, free_port, group_pids, spawn, stop

ROOT = Path(__file__).resolve().parent.parent
EMBEDDED = "embedded"
DISTRIBUTED = "postgres-redis"
MODES = (EMBEDDED, DISTRIBUTED)
ALIASES = {"sqlite": EMBEDDED, "postgres": DISTRIBUTED, "redis": DISTRIBUTED}
PG_ADMIN = os.environ.get(
    "ATELIER_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("ATELIER_BENCH_REDIS", "redis://127.0.0.1:6379")
REDIS_DBS = range(8, 13)  # the test suite uses 13
CLAIM_KEY = "atelier-bench:claim"
console = Console()


# -- stack and server ------------------------------------------------------------------------
class Stack:
    """A fresh data directory and, in ``postgres-redis`` mode, a new PostgreSQL database and a
    flushed Redis database; all removed on exit."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.dir = Path(tempfile.mkdtemp(prefix=f"atelier-bench-{mode}-"))
        self.env: dict[str, str] = {
            "ATELIER_DATA_DIR": str(self.dir / "data"),
            "ATELIER_GENERATION__ENABLE_NOOP": "true",
            "ATELIER_LOG_LEVEL": "WARNING",
        }
        self.pg_name: str | None = None
        self.redis_db: int | None = None

    @property
    def redis_url(self) -> str:
        return f"{REDIS}/{self.redis_db}"

    def __enter__(self) -> Stack:
        try:
            if self.mode == DISTRIBUTED:
                self._create_database()
                self._claim_redis()
                self.env["ATELIER_DATABASE__URL"] = PG_ADMIN.rsplit("/", 1)[0] + f"/{self.pg_name}"
                self.env["ATELIER_QUEUE__BROKER_URL"] = self.redis_url
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._drop_database()
        finally:
            try:
                self._release_redis()
            finally:
                shutil.rmtree(self.dir, ignore_errors=True)

    def _drop_database(self) -> None:
        if self.pg_name is None:
            return
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=:n"),
                    {"n": self.pg_name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_name}"'))
        finally:
            admin.dispose()
        self.pg_name = None

    def _release_redis(self) -> None:
        if self.redis_db is None:
            return
        import redis

        with redis.Redis.from_url(self.redis_url) as client:
            client.flushdb()
        self.redis_db = None

    def _create_database(self) -> None:
        from sqlalchemy import create_engine, text

        name = f"atelier_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.pg_name = name

    def pg_backends(self) -> list[int]:
        """PostgreSQL server processes serving this stack's database (their CPU is ours)."""
        if self.pg_name is None:
            return []
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN)
        try:
            with admin.connect() as conn:
                rows = conn.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :n"), {"n": self.pg_name}
                )
                return [int(r[0]) for r in rows]
        finally:
            admin.dispose()

    def cpu_watch(self, *groups: int) -> CpuWatch:
        """Machine CPU during a phase; ours: this process, the given process groups and the
        PostgreSQL backends of this stack's database (Redis is counted as other)."""
        return CpuWatch(lambda: list(groups), self.pg_backends)

    def _claim_redis(self) -> None:
        import redis

        for n in REDIS_DBS:
            with redis.Redis.from_url(f"{REDIS}/{n}") as client:
                if client.dbsize() == 0 and client.set(CLAIM_KEY, "1", nx=True, ex=3600):
                    self.redis_db = n
                    return
        raise RuntimeError(f"no empty Redis database among {list(REDIS_DBS)} to use")

    def process_env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
        path = os.pathsep.join(filter(None, [str(ROOT), base.get("PYTHONPATH", "")]))
        return {**base, **self.env, **extra, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}


class Server:
    """``python -m atelier serve`` on a free port (with or without its embedded worker), or
    another ASGI app under uvicorn (``app="module:attr"``)."""

    def __init__(
        self,
        stack: Stack,
        *,
        worker: bool,
        env: dict[str, str] | None = None,
        app: str | None = None,
    ) -> None:
        self.stack = stack
        self.worker = worker
        self.app = app
        self.extra_env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = stack.dir / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        cmd = [sys.executable, "-m", "atelier", "serve", "--port", str(self.port)]
        if not self.worker:
            cmd.append("--no-worker")
        if self.app is not None:
            cmd = [sys.executable, "-m", "uvicorn", self.app, "--port", str(self.port)]
            cmd += ["--host", "127.0.0.1", "--log-level", "warning"]
        self.proc = spawn(cmd, self.stack.process_env(**self.extra_env), self.stack.dir, self.log)
        try:
            self._wait_healthy(90)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            stop(self.proc)

    def _wait_healthy(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server not healthy after {timeout}s:\n{self.log_tail()}")

    def api_cpu(self) -> float:
        """CPU seconds of the API process (uvicorn) alone."""
        assert self.proc is not None
        return cpu_seconds(self.proc.pid)

    def worker_cpu(self) -> float:
        """CPU seconds of the other processes of the server's group (the worker)."""
        assert self.proc is not None
        return sum(cpu_seconds(p) for p in group_pids(self.proc.pid) if p != self.proc.pid)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


# -- HTTP helpers ------------------------------------------------------------------------------
async def session_token(client: httpx.AsyncClient) -> str:
    """A new anonymous session: any authenticated endpoint mints one for a caller without."""
    response = await client.get("/api/v1/tasks")
    response.raise_for_status()
    return response.headers["x-atelier-session"]


async def sse(response: httpx.Response) -> AsyncIterator[tuple[float, dict[str, Any]]]:
    """(wall-clock receive time, payload) for each SSE event of a streaming response."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            received = time.time()
            yield received, json.loads("\n".join(data))
            data = []


# -- statistics, machine, output ---------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarize_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "mean": sum(ms) / len(ms) if ms else float("nan"),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms) if ms else float("nan"),
    }


def show(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title)
    for h in headers:
        table.add_column(h, justify="left" if h == headers[0] else "right")
    for row in rows:
        table.add_row(*(fmt(v) for v in row))
    console.print(table)


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if value != value else f"{value:,.1f}"  # NaN
    return str(value)


# -- command line ------------------------------------------------------------------------------
def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--mode", default="both", help="embedded, postgres-redis or both (default)")
    p.add_argument("--quick", action="store_true", help="smaller counts, for a smoke run")
    p.add_argument("--no-record", action="store_true", help="do not update docs/benchmarks.md")
    return p


def modes_of(arg: str) -> list[str]:
    if arg == "both":
        return list(MODES)
    mode = ALIASES.get(arg, arg)
    if mode not in MODES:
        raise SystemExit(f"unknown mode {arg!r}: use embedded, postgres-redis or both")
    return [mode]


def command_line() -> str:
    args = " ".join(sys.argv[1:])
    module = Path(sys.argv[0]).stem if sys.argv[0] else "run_all"
    return f"python -m bench.{module}" + (f" {args}" if args else "")
