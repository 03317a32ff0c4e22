"""Submit throughput and latency: 64 concurrent clients ``POST /api/v1/tasks`` to one API
process started with ``--no-worker`` (the pure API cost: validate, insert + event, publish to
the broker, answer with the queue position).

Two phases, both with 64 clients, each with its own session token and keep-alive connection:
- saturation (closed loop): every client posts again as soon as it has its answer; gives the
  most submits/s one API process sustains. Its latencies are mostly queueing: with 64 requests
  always in flight, mean latency = 64 / throughput (Little's law);
- paced (open loop): the clients together offer a fixed rate (default 1,000/s, evenly spread)
  and latency counts from each request's scheduled time (so a slow server cannot hide its
  delay by slowing the client down); gives the latency at the target rate.

The load generator runs in this process, on the same 2 cores as the server: its CPU use is
reported beside the server's. ``--ceiling`` runs the same client against an empty FastAPI
endpoint (``bench/http_ceiling.py``): the most the framework and the client allow here.

    python -m bench.submit [--mode embedded|postgres-redis|both] [--quick] [--total N]
                           [--rate R] [--ceiling] [--profile DIR]
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

from bench import report
from bench.common import (
    EMBEDDED,
    MODES,
    Server,
    Stack,
    command_line,
    modes_of,
    parser,
    session_token,
    show,
    summarize_ms,
)
from bench.httpload import HttpError, LeanClient
from bench.procs import CpuWatch, entry, install_signal_handlers, own_cpu_seconds, wait_for_quiet

CLIENTS = 64
RATE = 1000.0
CEILING = "ceiling"
BODY = {
    "kind": "generate",
    "params": {"prompt": "bench", "model": "noop", "width": 64, "height": 64},
}
PHASE_TIMEOUT = 300.0
Statuses = collections.Counter[int]


class Poster:
    """One client: its keep-alive connection and its prepared ``POST /api/v1/tasks``."""

    def __init__(self, url: str, token: str) -> None:
        self.client = LeanClient(url, {"Authorization": f"Bearer {token}"})
        self.request = self.client.prepare(
            "POST", "/api/v1/tasks", json.dumps(BODY).encode(), "application/json"
        )


async def _post(poster: Poster, statuses: Statuses) -> None:
    try:
        status, _ = await poster.client.send(poster.request)
        statuses[status] += 1
    except (HttpError, TimeoutError):
        statuses[0] += 1


async def _closed(clients: list[Poster], count: int) -> tuple[list[float], Statuses]:
    """Every client posts again as soon as it has its answer, until ``count`` are sent."""
    left, latencies, statuses = count, [], Statuses()

    async def loop(client: Poster) -> None:
        nonlocal left
        while left > 0:
            left -= 1
            t0 = time.perf_counter()
            await _post(client, statuses)
            latencies.append(time.perf_counter() - t0)

    await asyncio.wait_for(asyncio.gather(*(loop(c) for c in clients)), PHASE_TIMEOUT)
    return latencies, statuses


async def _paced(
    clients: list[Poster], count: int, rate: float
) -> tuple[list[float], Statuses, float]:
    """Request k is due at start + k / rate (client k mod 64); latency from the due time."""
    latencies: list[float] = []
    statuses = Statuses()
    start = time.perf_counter() + 0.05

    async def loop(index: int, client: Poster) -> None:
        for k in range(index, count, len(clients)):
            due = start + k / rate
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            await _post(client, statuses)
            latencies.append(time.perf_counter() - due)

    await asyncio.wait_for(
        asyncio.gather(*(loop(i, c) for i, c in enumerate(clients))), PHASE_TIMEOUT
    )
    return latencies, statuses, time.perf_counter() - start


async def _measure(
    url: str,
    total: int,
    rate: float,
    api_cpu: Callable[[], float],
    on_start: Callable[[], Any],
    watch: CpuWatch,
) -> dict[str, Any]:
    tokens = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as setup:
        for _ in range(CLIENTS):
            setup.cookies.clear()  # each client its own session
            tokens.append(await session_token(setup))
    clients = [Poster(url, token) for token in tokens]
    try:
        await _closed(clients, min(1000, max(CLIENTS * 4, total // 10)))  # warm-up
        on_start()
        with watch:
            cpu0, api0, t0 = own_cpu_seconds(), api_cpu(), time.perf_counter()
            latencies, statuses = await _closed(clients, total)
            wall = time.perf_counter() - t0
            cpu1, api1 = own_cpu_seconds(), api_cpu()
        await asyncio.sleep(1.0)  # let the server settle between the phases
        paced_count = min(total, int(rate * 30))
        api2 = api_cpu()
        paced, paced_statuses, paced_wall = await _paced(clients, paced_count, rate)
        api3 = api_cpu()
    finally:
        await asyncio.gather(*(c.client.aclose() for c in clients))
    ok, paced_ok = statuses.get(201, 0), paced_statuses.get(201, 0)
    return {
        "total": total,
        "clients": CLIENTS,
        "seconds": wall,
        "rate": ok / wall,
        "latency": summarize_ms(latencies),
        "errors": total - ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "api_cpu_pct": 100 * (api1 - api0) / wall,
        "api_cpu_ms_per_submit": 1000 * (api1 - api0) / max(ok, 1),
        "client_cpu_pct": 100 * (cpu1 - cpu0) / wall,
        **watch.result,
        "paced": {
            "offered": rate,
            "total": paced_count,
            "achieved": paced_ok / paced_wall,
            "latency": summarize_ms(paced),
            "errors": paced_count - paced_ok,
            "api_cpu_pct": 100 * (api3 - api2) / paced_wall,
        },
    }


def _run(main: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """The load generator on uvloop when installed (it is, with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def run(
    mode: str, total: int, profile_dir: Path | None = None, rate: float = RATE
) -> dict[str, Any]:
    """``mode`` ``ceiling``: the same client against ``bench.http_ceiling`` (no Atelier)."""
    wait_for_quiet()
    app = "bench.http_ceiling:app" if mode == CEILING else None
    stack_mode = EMBEDDED if mode == CEILING else mode
    with Stack(stack_mode) as stack, Server(stack, worker=False, app=app) as server:
        assert server.proc is not None
        spy: list[subprocess.Popen[bytes]] = []

        def start_profiler() -> None:
            exe = os.environ.get("PY_SPY") or shutil.which("py-spy")
            if profile_dir is None or exe is None:
                return
            profile_dir.mkdir(parents=True, exist_ok=True)
            out = profile_dir / f"submit-{mode}.txt"
            cmd = [exe, "record", "-p", str(server.proc.pid), "-f", "raw", "-o", str(out)]
            rate = os.environ.get("PY_SPY_RATE", "100")  # samples per second
            cmd += ["-r", rate, "--nonblocking", "--gil", "-d", "600"]  # GIL holders ~ CPU
            spy.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(1.0)

        try:
            watch = stack.cpu_watch(server.proc.pid)
            result = _run(_measure(server.url, total, rate, server.api_cpu, start_profiler, watch))
        finally:
            for proc in spy:
                proc.send_signal(2)
                proc.wait(30)
    result.update(mode=mode, date=report.stamp(), command=command_line())
    return result


def render(data: dict[str, Any]) -> str:
    lines = [
        "## Submit throughput and latency",
        "",
        f"`POST /api/v1/tasks` (`generate`, model `noop`, 64x64) from {CLIENTS} concurrent "
        "clients, each with its own session token and keep-alive connection (a lean HTTP/1.1 "
        "client on uvloop, `bench/httpload.py`, in one process; until 2026-11-24 19:00 it was "
        "httpx, which took most of a core itself), against one API process "
        "(`atelier serve --no-worker`, "
        "uvicorn, log level WARNING). **Saturation**: closed loop, each client posts again "
        "on its answer; its latency is mostly queueing (64 in flight: mean = 64 / rate). "
        "**Paced**: the clients offer a fixed rate, latency from each request's scheduled "
        "send time. Targets: ≥ 1,000 submits/s at saturation; p95 ≤ 25 ms at 1,000/s offered.",
        "",
        "| Mode | Max submits/s | p50 / p95 ms at max | Paced: offered → answered /s | "
        "Paced p50 ms | Paced p95 ms | Paced p99 ms | Errors | API CPU at max | "
        "API CPU per submit | Load-generator CPU at max |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for mode in (*MODES, CEILING):
        if mode not in data:
            continue
        r, s = data[mode], data[mode]["latency"]
        p = r.get("paced") or {"offered": 0, "achieved": 0, "errors": 0, "latency": {}}
        q = {k: p["latency"].get(k, float("nan")) for k in ("p50", "p95", "p99")}
        name = "ceiling: empty FastAPI endpoint" if mode == CEILING else mode
        lines.append(
            f"| {name} | **{r['rate']:,.0f}** | {s['p50']:.0f} / {s['p95']:.0f} | "
            f"{p['offered']:,.0f} → {p['achieved']:,.0f} | {q['p50']:.1f} | **{q['p95']:.1f}** "
            f"| {q['p99']:.1f} | {r['errors'] + p['errors']} | {r['api_cpu_pct']:.0f}% | "
            f"{r.get('api_cpu_ms_per_submit', float('nan')):.2f} ms | {r['client_cpu_pct']:.0f}% |"
        )
    lines += [
        "",
        "CPU is a percentage of one core (the machine has 2). The load generator shares the "
        "cores with the server; latencies include its own event-loop queueing. One Python "
        "process is held near one core by the GIL, so 1,000 submits/s needs at most about "
        "1 ms of API CPU per submit. The ceiling row (`python -m bench.submit --ceiling`) is "
        "the same uvicorn + FastAPI and client with an async endpoint that validates the "
        "body and does nothing else: the most this client and framework allow here. (The "
        "plain submission does not go through FastAPI's routing, ADR 0006.)",
        "",
        report.runs_line(data),
    ]
    return "\n".join(lines)


def print_result(r: dict[str, Any]) -> None:
    s, p = r["latency"], r["paced"]
    q = p["latency"]
    saturation = [r["rate"], s["p50"], s["p95"], s["p99"], r["errors"], r["api_cpu_pct"]]
    paced = [p["achieved"], q["p50"], q["p95"], q["p99"], p["errors"], p["api_cpu_pct"]]
    show(
        f"submit, {r['mode']}",
        ["phase", "submits/s", "p50 ms", "p95 ms", "p99 ms", "errors", "API CPU%", "client%"],
        [
            ["saturation", *saturation, r["client_cpu_pct"]],
            [f"paced {p['offered']:,.0f}/s", *paced, "-"],
        ],
    )


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--total", type=int, help="submits per measured phase (default 5000)")
    p.add_argument("--rate", type=float, default=RATE, help="paced phase: offered submits/s")
    p.add_argument("--ceiling", action="store_true", help="only the empty-endpoint ceiling")
    p.add_argument("--profile", type=Path, help="py-spy ($PY_SPY) the API into DIR; no record")
    args = p.parse_args()
    install_signal_handlers()
    total = min(args.total or (1000 if args.quick else 5000), 50_000)
    for mode in [CEILING] if args.ceiling else modes_of(args.mode):
        result = run(mode, total, args.profile, max(1.0, min(args.rate, 20_000.0)))
        print_result(result)
        if not args.no_record and args.profile is None:
            report.record("submit", {mode: result}, render)


if __name__ == "__main__":
    sys.exit(entry(main))
