"""What the benchmarks ran on."""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path

from bench.common import PG_ADMIN, REDIS


def machine() -> dict[str, str]:
    facts = {
        "cpu": _cpuinfo_model(),
        "cores": f"{os.cpu_count()} logical ({len(os.sched_getaffinity(0))} usable)",
        "ram": _ram(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
    }
    with contextlib.suppress(Exception):
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_ADMIN)
        with engine.connect() as conn:
            facts["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar())
        engine.dispose()
    with contextlib.suppress(Exception):
        import redis

        with redis.Redis.from_url(REDIS, socket_timeout=2) as client:
            facts["redis"] = str(client.info("server")["redis_version"])
    return facts


def _cpuinfo_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram() -> str:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    return "unknown"
