"""Soak: a steady request rate for minutes, with zero errors and flat memory.

``atelier serve`` (the API and its embedded worker, concurrency 2) in embedded mode (default)
or on PostgreSQL + Redis (``--mode postgres-redis``); a load generator in the benchmark's own
process sends
``--rate`` requests per second (open loop: each at its scheduled time, whatever the answers
do) for ``--seconds``, from 10 anonymous sessions, in a fixed mix:

- ``submit``: ``POST /api/v1/tasks``, ``generate`` with ``procedural``, 64x64, one step;
- ``get_task``: ``GET /api/v1/tasks/{id}`` of a task submitted earlier;
- ``list_tasks``: ``GET /api/v1/tasks?limit=20``;
- ``get_image``: ``GET /api/v1/images/{id}`` of an image made earlier;
- ``health``: ``GET /api/v1/health``.

Every answer other than 2xx, and every transport error, is an error. The resident memory
(RSS) of the API process and of the worker is sampled every ``--sample-every`` seconds
(psutil, else ``/proc``); growth compares the mean of the first minute after ``--warmup``
with the mean of the last minute. Targets: zero errors, memory growth under 10 %. Limits are
off (``ATELIER_LIMITS__ENABLED=off``) and library auto-tagging is off: the core is measured.

    python -m bench.soak [--mode embedded|postgres-redis] [--seconds 600] [--rate 50]
                         [--warmup 60] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import report
from bench.common import (
    ALIASES,
    EMBEDDED,
    MODES,
    Server,
    Stack,
    command_line,
    console,
    show,
    summarize_ms,
)
from bench.procs import entry, group_pids, install_signal_handlers

PARAMS = {"prompt": "soak", "model": "procedural", "width": 64, "height": 64, "steps": 1}
MIX = (("submit", 4), ("get_task", 30), ("list_tasks", 20), ("get_image", 30), ("health", 16))
KINDS = tuple(k for k, _ in MIX)
SERVER_ENV = {
    "ATELIER_LIMITS__ENABLED": "off",
    "ATELIER_LIBRARY__AUTO_TAG_GENERATED": "false",
}
OWNERS = 10
WINDOW = 60.0  # seconds averaged for the start and end memory


def rss(pid: int) -> int:
    """Resident set size in bytes (0 when the process is gone)."""
    try:
        import psutil  # type: ignore[import-untyped,unused-ignore]

        return int(psutil.Process(pid).memory_info().rss)
    except ImportError:
        pass
    except Exception:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Load:
    tokens: list[str]
    tasks: list[tuple[str, str]] = field(default_factory=list)  # (task id, token)
    images: list[tuple[str, str]] = field(default_factory=list)  # (image id, token)
    seen_images: set[str] = field(default_factory=set)
    latency: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)
    sent: Counter[str] = field(default_factory=Counter)
    late: int = 0


async def request(
    client: httpx.AsyncClient, load: Load, kind: str, rng: random.Random, scheduled: float
) -> None:
    token = rng.choice(load.tokens)
    if kind == "get_task" and not load.tasks:
        kind = "list_tasks"
    if kind == "get_image" and not load.images:
        kind = "health"
    load.sent[kind] += 1
    try:
        if kind == "submit":
            body = {"kind": "generate", "params": {**PARAMS, "seed": rng.randrange(2**31)}}
            r = await client.post("/api/v1/tasks", json=body, headers=auth(token))
            if r.status_code == 201:
                load.tasks.append((r.json()["task_id"], token))
        elif kind == "get_task":
            task_id, token = rng.choice(load.tasks[-500:])
            r = await client.get(f"/api/v1/tasks/{task_id}", headers=auth(token))
            if r.status_code == 200:
                for image in (r.json().get("result") or {}).get("images", []):
                    if image["image_id"] not in load.seen_images:
                        load.seen_images.add(image["image_id"])
                        load.images.append((image["image_id"], token))
        elif kind == "list_tasks":
            r = await client.get("/api/v1/tasks", params={"limit": 20}, headers=auth(token))
        elif kind == "get_image":
            image_id, token = rng.choice(load.images[-500:])
            r = await client.get(f"/api/v1/images/{image_id}", headers=auth(token))
        else:
            r = await client.get("/api/v1/health")
        ok = 200 <= r.status_code < 300
        what = f"{r.status_code} {r.text[:200]}"
    except httpx.HTTPError as exc:
        ok, what = False, f"{type(exc).__name__}: {exc}"
    load.latency.setdefault(kind, []).append(time.perf_counter() - scheduled)
    if not ok:
        load.errors[kind] += 1
        if len(load.error_examples) < 20:
            load.error_examples.append(f"{kind}: {what}")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Sampler:
    """RSS of the API process and of the rest of its process group (the worker)."""

    def __init__(self, api_pid: int) -> None:
        self.api_pid = api_pid
        self.samples: list[tuple[float, int, int]] = []  # (t, api, worker)
        self.worker_pids: set[int] = set()

    def sample(self, t: float) -> None:
        workers = [p for p in group_pids(self.api_pid) if p != self.api_pid]
        self.worker_pids |= set(workers)
        self.samples.append((t, rss(self.api_pid), sum(rss(p) for p in workers)))


async def drive(url: str, args: argparse.Namespace, sampler: Sampler) -> tuple[Load, float]:
    rng = random.Random(args.seed)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        tokens = []
        for _ in range(OWNERS):
            r = await client.get("/api/v1/tasks")
            tokens.append(r.headers["x-atelier-session"])
            client.cookies.clear()
        load = Load(tokens)
        cycle = [k for k, weight in MIX for _ in range(weight)]
        rng.shuffle(cycle)
        total = int(args.rate * args.seconds)
        pending: set[asyncio.Task[None]] = set()
        began = time.perf_counter()
        next_sample = 0.0
        for i in range(total):
            at = began + i / args.rate
            wait = at - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -0.1:
                load.late += 1
            if time.perf_counter() - began >= next_sample:
                sampler.sample(time.perf_counter() - began)
                next_sample += args.sample_every
            task = asyncio.create_task(request(client, load, cycle[i % len(cycle)], rng, at))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - began
        sampler.sample(elapsed)
    return load, elapsed


def memory(samples: list[tuple[float, int, int]], warmup: float, end: float) -> dict[str, Any]:
    first = [s for s in samples if warmup <= s[0] < warmup + WINDOW]
    last = [s for s in samples if s[0] >= end - WINDOW]
    out: dict[str, Any] = {}
    for index, name in ((1, "api"), (2, "worker")):
        start = sum(s[index] for s in first) / max(1, len(first))
        stop = sum(s[index] for s in last) / max(1, len(last))
        out[name] = {
            "start_mb": start / 2**20,
            "end_mb": stop / 2**20,
            "max_mb": max((s[index] for s in samples), default=0) / 2**20,
            "growth_pct": 100 * (stop - start) / start if start else float("nan"),
        }
    return out


def run(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    with Stack(mode) as stack, Server(stack, worker=True, env=SERVER_ENV) as server:
        assert server.proc is not None
        sampler = Sampler(server.proc.pid)
        load, elapsed = asyncio.run(drive(server.url, args, sampler))
        with httpx.Client(base_url=server.url) as client:
            statuses: Counter[str] = Counter()
            for task_id, token in load.tasks[-200:]:
                r = client.get(f"/api/v1/tasks/{task_id}", headers=auth(token))
                statuses[r.json()["status"]] += 1
        log = server.log_tail(2000)
    requests = sum(load.sent.values())
    warmup = min(args.warmup, max(0.0, elapsed - 2 * WINDOW))
    return {
        "mode": mode,
        "seconds": args.seconds,
        "rate": args.rate,
        "achieved_rate": requests / elapsed,
        "requests": requests,
        "errors": sum(load.errors.values()),
        "late_sends": load.late,
        "by_kind": {
            k: {
                "sent": load.sent[k],
                "errors": load.errors[k],
                "latency": summarize_ms(load.latency.get(k, [])),
            }
            for k in KINDS
            if load.sent[k]
        },
        "tasks_submitted": len(load.tasks),
        "images_seen": len(load.images),
        "last_tasks": dict(statuses),
        "memory": memory(sampler.samples, warmup, elapsed),
        "warmup": warmup,
        "worker_processes": len(sampler.worker_pids),
        "samples": len(sampler.samples),
        "log_tracebacks": log.count("Traceback (most recent call last)"),
        "error_examples": load.error_examples,
        "date": report.stamp(),
        "command": command_line(),
    }


def met(r: dict[str, Any]) -> bool:
    return r["errors"] == 0 and all(m["growth_pct"] < 10 for m in r["memory"].values())


def print_result(r: dict[str, Any]) -> None:
    show(
        f"soak, {r['mode']}: {r['requests']:,} requests in {r['seconds']} s "
        f"({r['achieved_rate']:.1f}/s)",
        ["request", "sent", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [
            [
                k,
                v["sent"],
                v["errors"],
                v["latency"]["p50"],
                v["latency"]["p95"],
                v["latency"]["p99"],
                v["latency"]["max"],
            ]
            for k, v in r["by_kind"].items()
        ],
    )
    show(
        "memory (RSS)",
        ["process", "start MB", "end MB", "max MB", "growth %"],
        [
            [k, m["start_mb"], m["end_mb"], m["max_mb"], m["growth_pct"]]
            for k, m in r["memory"].items()
        ],
    )
    console.print(
        f"tasks submitted {r['tasks_submitted']}, last 200: {r['last_tasks']}; images seen "
        f"{r['images_seen']}; late sends {r['late_sends']}; worker processes "
        f"{r['worker_processes']}; tracebacks in the server log {r['log_tracebacks']}"
    )
    for example in r["error_examples"]:
        console.print(f"  {example}")
    console.print("targets met" if met(r) else "[bold red]targets NOT met[/]")


def render(data: dict[str, Any]) -> str:
    lines = [
        "## Soak: steady load, errors and memory",
        "",
        "`python -m bench.soak`: `atelier serve` (API + embedded worker, concurrency 2) under "
        "an open-loop load generator (the benchmark's process, same machine): a steady rate "
        "from 10 anonymous sessions, mix 4 % `POST /api/v1/tasks` (`generate`, `procedural`, "
        "64x64, 1 step), 30 % `GET /api/v1/tasks/{id}`, 20 % `GET /api/v1/tasks?limit=20`, "
        "30 % `GET /api/v1/images/{id}`, 16 % `GET /api/v1/health`. Latency counts from each "
        "request's scheduled time. RSS of the API process and of the worker sampled every "
        "5 s; growth = mean of the last minute vs. mean of the first minute after the "
        "warm-up. Limits off (`ATELIER_LIMITS__ENABLED=off`), library auto-tagging off. "
        "Targets: zero errors, memory growth < 10 %.",
        "",
        "| Mode | Duration | Rate (achieved) | Requests | Errors | API RSS start → end MB "
        "(growth) | Worker RSS start → end MB (growth) | Met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = []
    for mode in [m for m in MODES if m in data]:
        r = data[mode]
        mem = r["memory"]
        lines.append(
            f"| {mode} | {r['seconds']} s | {r['rate']:g}/s ({r['achieved_rate']:.1f}/s) | "
            f"{r['requests']:,} | {r['errors']} | {mem['api']['start_mb']:.0f} → "
            f"{mem['api']['end_mb']:.0f} ({mem['api']['growth_pct']:+.1f} %) | "
            f"{mem['worker']['start_mb']:.0f} → {mem['worker']['end_mb']:.0f} "
            f"({mem['worker']['growth_pct']:+.1f} %) | {'yes' if met(r) else '**NO**'} |"
        )
        for kind in [k for k in KINDS if k in r["by_kind"]]:
            v = r["by_kind"][kind]
            rows.append((mode, f"{kind} ({v['errors']} errors)", v["latency"]))
    notes = [
        f"{m}: `{data[m]['command']}` at {data[m]['date']} (warm-up {data[m]['warmup']:.0f} s, "
        f"{data[m]['tasks_submitted']:,} tasks submitted, {data[m]['late_sends']} requests "
        f"sent over 100 ms late by the generator)"
        for m in MODES
        if m in data
    ]
    lines += ["", report.latency_table(rows), "", "Runs: " + "; ".join(notes) + "."]
    return "\n".join(lines)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", default=EMBEDDED, help="embedded (default) or postgres-redis")
    p.add_argument("--seconds", type=int, default=600)
    p.add_argument("--rate", type=float, default=50.0, help="requests per second")
    p.add_argument("--warmup", type=float, default=60.0, help="seconds before memory counts")
    p.add_argument("--sample-every", type=float, default=5.0, help="seconds between RSS samples")
    p.add_argument("--seed", type=int, default=50)
    p.add_argument("--no-record", action="store_true", help="do not update docs/benchmarks.md")
    return p.parse_args(argv)


def soak(mode: str, args: argparse.Namespace, record: bool) -> None:
    result = run(mode, args)
    print_result(result)
    if record:
        result.pop("error_examples", None)
        report.record("soak", {mode: result}, render)


def bench(modes: list[str], quick: bool, record: bool) -> None:
    """For ``bench.run_all --only soak``: 10 minutes per mode (``--quick``: 2)."""
    args = arguments(["--seconds", "120", "--warmup", "30"] if quick else [])
    for mode in modes:
        soak(mode, args, record)


def main() -> None:
    args = arguments()
    install_signal_handlers()
    mode = ALIASES.get(args.mode, args.mode)
    if mode not in MODES:
        raise SystemExit(f"unknown mode {args.mode!r}: use embedded or postgres-redis")
    soak(mode, args, not args.no_record)


if __name__ == "__main__":
    sys.exit(entry(main))
