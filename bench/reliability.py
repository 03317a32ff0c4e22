"""Reliability under a failing provider: the primary's API (a local emulator of the OpenAI
images protocol) fails 30 % of calls with mixed transient faults — 5xx, 429 with
Retry-After, dropped connections, malformed bodies, answers slower than the timeout — and
1,000 ``generate`` tasks run through the real runner and provider policy (retries, then the
route's fallback). Target: ≥ 99.5 % succeed, p95 within the timeout budget.

    python -m bench.reliability [--tasks 1000] [--failure-rate 0.3] [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the emulator lives with the tests

from atelier.config import Settings  # noqa: E402
from atelier.db.migrate import upgrade  # noqa: E402
from atelier.runtime import build_runtime  # noqa: E402
from atelier.tasks.models import Task  # noqa: E402
from atelier.tasks.schemas import TaskCreate  # noqa: E402
from atelier.tasks.service import TaskService  # noqa: E402
from atelier.worker.runner import execute  # noqa: E402
from bench import report  # noqa: E402
from bench.common import summarize_ms  # noqa: E402
from support.emulators import Fault  # noqa: E402
from support.emulators.openai_server import OpenAIEmulator  # noqa: E402

KEY = "sk-bench-key"
TIMEOUT = 2.0
FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("server_error", {"status": 500}),
    ("server_error", {"status": 502}),
    ("server_error", {"status": 503}),
    ("rate_limit", {"retry_after": 1}),
    ("disconnect", {}),
    ("invalid_json", {}),
    ("timeout", {"delay": TIMEOUT + 1}),
]


class FlakyEmulator(OpenAIEmulator):
    """Fails a fixed share of API calls at random (seeded), with a random transient fault."""

    def __init__(self, rate: float, seed: int = 7) -> None:
        super().__init__(api_key=KEY)
        self.rate = rate
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()

    def _take(self, stage: str) -> Fault | None:
        if stage == "download" or self.rng.random() >= self.rate:
            return None
        kind, params = self.rng.choice(FAULTS)
        self.injected[kind] += 1
        return Fault(kind, None, dict(params))


def run(tasks: int, rate: float, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, FlakyEmulator(rate) as emulator:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=Path(tmp),
            providers={
                "openai": {"api_key": KEY, "base_url": f"{emulator.url}/v1", "model": "dall-e-2"}
            },
            policy={
                "timeout": TIMEOUT,
                "retries": 2,
                "retry_base_delay": 0.05,
                "retry_max_delay": 1.0,
                "cache_ttl": 0,
                "routes": {"auto": {"candidates": {"openai": 1}, "fallback": ["procedural"]}},
            },
        )
        upgrade(settings)
        runtime = build_runtime(settings, worker=True)
        service = TaskService(runtime)
        ids = []
        for i in range(tasks):
            params = {"prompt": f"lighthouse {i}", "model": "auto", "width": 256, "height": 256}
            task, _ = service.create(
                f"owner-{i % 16}", TaskCreate(kind="generate", params=params), dispatch=False
            )
            ids.append(task.id)
        began = time.monotonic()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda t: execute(runtime, t), ids))
        for _ in range(runtime.settings.queue.max_attempts):  # task-level retries, if any
            with runtime.db.read() as s:
                again = [t for t in ids if s.get(Task, t).status == "retrying"]  # type: ignore[union-attr]
            with ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(lambda t: execute(runtime, t), again))
        elapsed = time.monotonic() - began
        with runtime.db.read() as s:
            rows = [s.get(Task, t) for t in ids]
        runtime.close()
    done = [r for r in rows if r is not None and r.status == "completed"]
    by_provider = Counter(r.provider for r in done)
    latency = summarize_ms([r.run_seconds for r in done if r.run_seconds is not None])
    return {
        "tasks": tasks,
        "failure_rate": rate,
        "succeeded": len(done),
        "success_pct": 100 * len(done) / tasks,
        "served_by": dict(by_provider),
        "faults_injected": dict(emulator.injected),
        "latency": latency,
        "timeout_budget_ms": TIMEOUT * 1000 * 3,
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--failure-rate", type=float, default=0.3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="200 tasks")
    args = parser.parse_args()
    result = run(200 if args.quick else args.tasks, args.failure_rate, args.concurrency)
    lat = result["latency"]
    print(
        f"{result['succeeded']}/{result['tasks']} succeeded ({result['success_pct']:.2f} %), "
        f"served by {result['served_by']}; run time p50 {lat['p50']:.0f} ms, "
        f"p95 {lat['p95']:.0f} ms (budget {result['timeout_budget_ms']:.0f} ms); "
        f"faults {result['faults_injected']}"
    )
    result["command"] = " ".join(["python -m bench.reliability", *sys.argv[1:]])
    result["date"] = report.stamp()
    report.record("reliability", {"openai-emulator": result}, render)


def render(data: dict[str, Any]) -> str:
    rows = []
    for r in data.values():
        lat = r["latency"]
        met = (
            "yes" if r["success_pct"] >= 99.5 and lat["p95"] <= r["timeout_budget_ms"] else "**NO**"
        )
        rows.append(
            f"| {r['tasks']:,} | {r['failure_rate']:.0%} | {r['success_pct']:.2f} % | "
            f"{', '.join(f'{k} {v}' for k, v in sorted(r['served_by'].items()))} | "
            f"{lat['p50']:.0f} | {lat['p95']:.0f} | {r['timeout_budget_ms']:.0f} | {met} |"
        )
        faults = ", ".join(f"{k} {v}" for k, v in sorted(r["faults_injected"].items()))
    return (
        "## Reliability under a failing provider\n\n"
        "`generate` tasks on the route `openai → procedural` through the real runner and "
        "provider policy (per-call timeout 2 s, 2 retries with backoff, then fallback). The "
        "primary is a local emulator of the OpenAI images API that fails the given share of "
        "calls at random with transient faults. Run time is the task's, from start to "
        "completion; the budget is three timeouts. Target: ≥ 99.5 % succeed, p95 within it.\n\n"
        "| Tasks | Failing calls | Succeeded | Served by | p50 ms | p95 ms | Budget ms | Met |\n"
        "|---|---|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nFaults injected: {faults}.\n\n"
        + f"Runs: `{next(iter(data.values()))['command']}` at {next(iter(data.values()))['date']}."
    )


if __name__ == "__main__":
    main()
