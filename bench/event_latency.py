"""Event latency: worker publish → SSE client. Every event carries ``at``, the time the worker
wrote it (the timestamp of the event row, set just before its transaction commits); the client
notes when the event arrives on ``GET /api/v1/tasks/{id}/stream``. Same machine, same clock:
latency = received - at.

Tasks use the ``procedural`` model (256x256, 2 images x 20 steps: one progress event per step,
~45 events per task, a run of a few hundred ms), one at a time. Only events written after the
stream's response headers arrived are counted: earlier ones come from the backlog read, which
measures how late the client connected, not the bus.

    python -m bench.event_latency [--mode embedded|postgres-redis|both] [--quick] [--tasks N]
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from typing import Any

import httpx

from bench import report
from bench.common import (
    MODES,
    Server,
    Stack,
    command_line,
    modes_of,
    parser,
    session_token,
    show,
    sse,
    summarize_ms,
)
from bench.procs import CpuWatch, entry, install_signal_handlers, wait_for_quiet

PARAMS = {
    "prompt": "bench",
    "model": "procedural",
    "width": 256,
    "height": 256,
    "num_images": 2,
    "steps": 20,
}
BODY = {"kind": "generate", "params": PARAMS}
TERMINAL = {"completed", "failed", "cancelled", "partial"}
TASK_TIMEOUT = 60.0
FIRST_TIMEOUT = 120.0


async def one_task(client: httpx.AsyncClient, limit: float) -> tuple[list[float], int, str]:
    """(latencies of live events in seconds, events skipped as backlog, terminal type)"""

    async def go() -> tuple[list[float], int, str]:
        response = await client.post("/api/v1/tasks", json=BODY)
        response.raise_for_status()
        task_id = response.json()["task_id"]
        latencies: list[float] = []
        skipped = 0
        last = "?"
        async with client.stream("GET", f"/api/v1/tasks/{task_id}/stream") as stream:
            stream.raise_for_status()
            connected = time.time()
            async for received, event in sse(stream):
                last = event["type"]
                at = datetime.fromisoformat(event["at"]).timestamp()
                if last == "created" or at < connected:
                    skipped += 1  # written by the API, or before we were listening
                else:
                    latencies.append(received - at)
                if last in TERMINAL:
                    break
        return latencies, skipped, last

    return await asyncio.wait_for(go(), limit)


async def _measure(url: str, tasks: int, watch: CpuWatch) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=TASK_TIMEOUT) as client:
        client.headers["Authorization"] = f"Bearer {await session_token(client)}"
        client.cookies.clear()
        for i in range(2):  # warm-up: worker boot, connections, imports
            await one_task(client, FIRST_TIMEOUT if i == 0 else TASK_TIMEOUT)
        latencies: list[float] = []
        skipped = errors = 0
        with watch:
            for _ in range(tasks):
                lat, skip, last = await one_task(client, TASK_TIMEOUT)
                latencies += lat
                skipped += skip
                errors += last != "completed"
    return {
        "tasks": tasks,
        "errors": errors,
        "skipped": skipped,
        "latency": summarize_ms(latencies),
        **watch.result,
    }


def run(mode: str, tasks: int) -> dict[str, Any]:
    wait_for_quiet()
    with Stack(mode) as stack, Server(stack, worker=True) as server:
        assert server.proc is not None
        result = asyncio.run(_measure(server.url, tasks, stack.cpu_watch(server.proc.pid)))
    result.update(mode=mode, date=report.stamp(), command=command_line())
    return result


def render(data: dict[str, Any]) -> str:
    rows = [(m, "worker `at` → SSE client", data[m]["latency"]) for m in MODES if m in data]
    notes = ", ".join(
        f"{m}: {data[m]['tasks']} tasks, {data[m]['skipped']} events skipped (created by the "
        f"API or written before the stream was open), {data[m]['errors']} not completed"
        for m in MODES
        if m in data
    )
    return "\n".join(
        [
            "## Event latency",
            "",
            "From the moment the worker writes an event (its `at`, set just before the commit) to "
            "the moment an SSE client on `GET /api/v1/tasks/{id}/stream` has parsed it; same "
            "machine clock. Embedded: the worker only commits, the API tails the events table "
            "(`events.poll_interval` 20 ms, no wake-up across processes). PostgreSQL + Redis: "
            "the worker publishes on Redis after the commit. Tasks: `procedural`, 256x256, 2 "
            "images x 20 steps, one at a time (the worker is busy drawing while it reports). "
            "Target: p95 ≤ 100 ms.",
            "",
            report.latency_table(rows),
            "",
            f"{notes}. " + report.runs_line(data),
        ]
    )


def print_result(r: dict[str, Any]) -> None:
    s = r["latency"]
    show(
        f"event latency, {r['mode']}",
        ["mode", "events", "skipped", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [[r["mode"], s["n"], r["skipped"], s["p50"], s["p95"], s["p99"], s["max"]]],
    )


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, help="measured tasks (default 30)")
    args = p.parse_args()
    install_signal_handlers()
    tasks = min(args.tasks or (8 if args.quick else 30), 1000)
    for mode in modes_of(args.mode):
        result = run(mode, tasks)
        print_result(result)
        if not args.no_record:
            report.record("events", {mode: result}, render)


if __name__ == "__main__":
    sys.exit(entry(main))
