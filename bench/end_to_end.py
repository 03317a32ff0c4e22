"""End-to-end overhead: one task at a time with the ``noop`` model (instant solid image),
from the client's submit to the ``completed`` event on the task's SSE stream. The server runs
with its embedded worker (``atelier serve``, worker concurrency 2).

Also from the server's own timestamps (``GET /api/v1/tasks/{id}``): created → completed, and
its two parts, created → started (queue pick-up) and started → completed (the run itself).

    python -m bench.end_to_end [--mode embedded|postgres-redis|both] [--quick] [--count N]
"""

from __future__ import annotations

import asyncio
import random
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

BODY = {
    "kind": "generate",
    "params": {"prompt": "bench", "model": "noop", "width": 64, "height": 64},
}
TERMINAL = {"completed", "failed", "cancelled", "partial"}
TASK_TIMEOUT = 30.0
FIRST_TIMEOUT = 90.0  # the first task also waits for the worker to boot
PAUSE = 0.05  # seconds, at most, between one task's end and the next submit
#: the job core alone: no per-image work layered on top of the task (the library's auto-tag
#: task, the open_nsfw score of outputs); the analysis in docs/benchmarks.md gives the cost of
#: the defaults beside it
CORE_ONLY = {
    "ATELIER_LIBRARY__AUTO_TAG_GENERATED": "false",
    "ATELIER_SAFETY__OUTPUT_ACTION": "off",
}


async def one_task(client: httpx.AsyncClient, limit: float) -> dict[str, Any]:
    """Submit, follow the stream to the terminal event; client-side timings in seconds, and
    the gaps between consecutive events by their ``at`` (where the server spent the time)."""

    async def go() -> dict[str, Any]:
        sent, t0 = time.time(), time.perf_counter()
        response = await client.post("/api/v1/tasks", json=BODY)
        response.raise_for_status()
        t_submitted = time.perf_counter()
        task_id = response.json()["task_id"]
        last, prev_at, prev_label = "?", sent, "client sends POST"
        gaps: list[tuple[str, float]] = []
        async with client.stream("GET", f"/api/v1/tasks/{task_id}/stream") as stream:
            stream.raise_for_status()
            async for received, event in sse(stream):
                last = event["type"]
                at = datetime.fromisoformat(event["at"]).timestamp()
                label = f"{last} ({event['stage']})" if event.get("stage") else last
                gaps.append((f"{prev_label} → {label}", at - prev_at))
                prev_at, prev_label = at, label
                if last in TERMINAL:
                    gaps.append((f"{label} → client has it", received - at))
                    break
        t1 = time.perf_counter()
        return {
            "id": task_id,
            "status": last,
            "total": t1 - t0,
            "submit": t_submitted - t0,
            "gaps": gaps,
        }

    return await asyncio.wait_for(go(), limit)


def _ts(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


async def _measure(url: str, count: int, warmup: int, watch: CpuWatch) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=TASK_TIMEOUT) as client:
        client.headers["Authorization"] = f"Bearer {await session_token(client)}"
        client.cookies.clear()
        for i in range(warmup):
            await one_task(client, FIRST_TIMEOUT if i == 0 else TASK_TIMEOUT)
        runs = []
        with watch:
            for _ in range(count):
                # arrive at a random point of the worker's broker polling cycle, as traffic does
                await asyncio.sleep(random.uniform(0, PAUSE))
                runs.append(await one_task(client, TASK_TIMEOUT))
        server: dict[str, list[float]] = {"server": [], "pickup": [], "run": []}
        for r in runs:
            task = (await client.get(f"/api/v1/tasks/{r['id']}")).json()
            created, started = _ts(task["created_at"]), _ts(task["started_at"])
            completed = _ts(task["completed_at"])
            if created is None or started is None or completed is None:
                continue
            server["server"].append(completed - created)
            server["pickup"].append(started - created)
            server["run"].append(completed - started)
    ok = [r for r in runs if r["status"] == "completed"]
    steps: dict[str, list[float]] = {}
    for r in ok:
        for label, gap in r["gaps"]:
            steps.setdefault(label, []).append(gap)
    return {
        "steps": [[k, summarize_ms(v)] for k, v in steps.items()],  # in the order they happen
        "count": count,
        "errors": count - len(ok),
        "sse": summarize_ms([r["total"] for r in ok]),
        "submit": summarize_ms([r["submit"] for r in ok]),
        **{k: summarize_ms(v) for k, v in server.items()},
    }


def run(mode: str, count: int) -> dict[str, Any]:
    wait_for_quiet()
    with Stack(mode) as stack, Server(stack, worker=True, env=CORE_ONLY) as server:
        assert server.proc is not None
        watch = stack.cpu_watch(server.proc.pid)
        result = asyncio.run(_measure(server.url, count, min(10, count), watch))
        result.update(watch.result)
    result.update(mode=mode, date=report.stamp(), command=command_line())
    return result


ROWS = (
    ("sse", "**submit → `completed` on SSE (client)**"),
    ("submit", "of which the POST itself"),
    ("server", "created_at → completed_at (server)"),
    ("pickup", "created_at → started_at (queue pick-up)"),
    ("run", "started_at → completed_at (run + finish)"),
)


def render(data: dict[str, Any]) -> str:
    rows = [(m, label, data[m].get(key)) for m in MODES if m in data for key, label in ROWS]
    errors = ", ".join(f"{m}: {data[m]['errors']}" for m in MODES if m in data)
    steps = []
    for m in (m for m in MODES if m in data):
        recorded = data[m].get("steps", [])
        pairs = recorded.items() if isinstance(recorded, dict) else recorded  # older runs: a dict
        steps += [(m, k, v) for k, v in pairs]
    return "\n".join(
        [
            "## End-to-end overhead",
            "",
            "One task at a time (sequential), `generate` with the `noop` model (64x64, one "
            "image: the provider returns at once, the image is still encoded and stored), "
            "against `atelier serve` with its embedded worker (threads, concurrency 2), "
            "measuring the job core: the library's auto-tagging of outputs and their "
            "open_nsfw score are off (`bench/end_to_end.py` `CORE_ONLY`; their cost with the "
            "default settings is in the analysis below). The "
            "client posts the task, opens `GET /api/v1/tasks/{id}/stream` and stops at the "
            "terminal event; a random 0-50 ms pause precedes each submit. Targets: p95 "
            "≤ 50 ms on PostgreSQL + Redis, ≤ 250 ms embedded.",
            "",
            report.latency_table(rows),
            "",
            "Where the server spends it: the gaps between consecutive events of a task, by "
            "their `at` (the first from the client's send time, the last to the client's "
            "receipt of `completed`):",
            "",
            report.latency_table(steps),
            "",
            f"Tasks not completed: {errors}. " + report.runs_line(data),
        ]
    )


def print_result(r: dict[str, Any]) -> None:
    show(
        f"end-to-end, {r['mode']}",
        ["measure", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [[k, r[k]["n"], r[k]["p50"], r[k]["p95"], r[k]["p99"], r[k]["max"]] for k, _ in ROWS]
        + [[k, v["n"], v["p50"], v["p95"], v["p99"], v["max"]] for k, v in r["steps"]],
    )


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--count", type=int, help="measured tasks (default 200)")
    args = p.parse_args()
    install_signal_handlers()
    count = min(args.count or (50 if args.quick else 200), 5000)
    for mode in modes_of(args.mode):
        result = run(mode, count)
        print_result(result)
        if not args.no_record:
            report.record("end_to_end", {mode: result}, render)


if __name__ == "__main__":
    sys.exit(entry(main))
