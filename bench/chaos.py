"""Chaos: tasks keep their exactly-once promise while workers are SIGKILLed, the API restarts
and Redis restarts.

One API process (``atelier serve --no-worker``) and ``--workers`` worker processes (``atelier
worker --concurrency 2``) on a fresh PostgreSQL database and a Redis server of our own
(``redis-server --save '' --appendonly no`` on a free port, broker and event bus: a restart
loses every queued message). ``--tasks`` ``generate`` tasks (the offline ``procedural`` model,
64x64, one image, one step) are submitted at ``--rate`` per second by ``--owners`` anonymous
sessions, each with an ``Idempotency-Key`` and retried on any failure, while ``--clients`` SSE
clients follow random tasks to their terminal event, reconnecting with ``Last-Event-ID``
whenever their stream breaks. Meanwhile:

- every ``--kill-every`` seconds a random worker's process group gets SIGKILL and a new
  worker is started;
- the API is restarted ``--api-restarts`` times (the first with SIGTERM, then SIGKILL);
- Redis is restarted ``--redis-restarts`` times (its data is gone: the broker's queues too),
spread over the run by the share of tasks finished.

Then, from the database: every task submitted exists once and is ``completed``, with exactly
one ``completed`` event, event sequence numbers 1..n without a gap, and exactly its one image
row whose bytes are in storage; every SSE client saw strictly increasing sequence numbers with
no gap, up to the terminal event, the same events as the database holds.

Recovery settings (environment of every process): lease 10 s, sweep every 1 s, redispatch
after 20 s (a message lost with Redis is sent again 20 s after it was due), a task may lose
its worker 10 times before it is failed (the kills here are random, not the task's fault;
the default is 3), limits off (``ATELIER_LIMITS__ENABLED=off``), library auto-tagging off.

    python -m bench.chaos [--tasks 1000] [--workers 3] [--clients 20] [--kill-every 5]
                          [--api-restarts 2] [--redis-restarts 1] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import report
from bench.common import DISTRIBUTED, Stack, command_line, console, show
from bench.procs import entry, free_port, group_pids, install_signal_handlers, spawn, stop

PARAMS = {"prompt": "chaos", "model": "procedural", "width": 64, "height": 64, "steps": 1}
TERMINAL = {"completed", "failed", "cancelled", "partial"}
CHAOS_ENV = {
    "ATELIER_LIMITS__ENABLED": "off",
    "ATELIER_LIBRARY__AUTO_TAG_GENERATED": "false",
    "ATELIER_QUEUE__LEASE_SECONDS": "10",
    "ATELIER_QUEUE__SWEEP_INTERVAL": "1",
    "ATELIER_QUEUE__REDISPATCH_AFTER": "20",
    "ATELIER_QUEUE__MAX_WORKER_LOSSES": "10",
}


# -- processes ---------------------------------------------------------------------------------
class OwnRedis:
    """A Redis server of our own on a free port, without persistence: a restart empties it."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        cmd += ["--save", "", "--appendonly", "no", "--dir", str(self.dir)]
        self.proc = spawn(cmd, dict(os.environ), self.dir, self.dir / "redis.log")
        deadline = time.monotonic() + 20
        import redis

        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError), redis.Redis.from_url(self.url) as r:
                if r.ping():
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def restart(self, down: float = 2.0) -> None:
        self.stop()
        time.sleep(down)
        self.start()


class OwnRedisStack(Stack):
    """A fresh PostgreSQL database (as ``Stack``) with our own Redis as broker and bus."""

    def __init__(self) -> None:
        super().__init__(DISTRIBUTED)
        self.redis = OwnRedis(self.dir)

    @property
    def redis_url(self) -> str:
        return self.redis.url

    def _claim_redis(self) -> None:
        self.redis.start()
        self.redis_db = 0

    def _release_redis(self) -> None:
        self.redis.stop()
        self.redis_db = None


class Api:
    """``atelier serve --no-worker`` on a fixed port, restartable (clients keep the URL)."""

    def __init__(self, stack: Stack, env: dict[str, str]) -> None:
        self.stack = stack
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = stack.dir / "api.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> None:
        cmd = [sys.executable, "-m", "atelier", "serve", "--no-worker", "--port", str(self.port)]
        self.proc = spawn(cmd, self.stack.process_env(**self.env), self.stack.dir, self.log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"API exited ({self.proc.returncode}); see {self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"API not healthy after {timeout}s; see {self.log}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if sig == signal.SIGKILL:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        stop(self.proc)
        self.proc = None

    def restart(self, sig: int) -> float:
        """Seconds the API was unreachable."""
        began = time.monotonic()
        self.stop(sig)
        self.start()
        return time.monotonic() - began

    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None


class Workers:
    """``atelier worker`` processes, each in its own process group."""

    def __init__(self, stack: Stack, env: dict[str, str], concurrency: int = 2) -> None:
        self.stack = stack
        self.env = env
        self.concurrency = concurrency
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started = 0
        self.killed = 0

    def start_one(self) -> None:
        self.started += 1
        cmd = [sys.executable, "-m", "atelier", "worker", "--concurrency", str(self.concurrency)]
        log = self.stack.dir / f"worker-{self.started}.log"
        self.procs.append(spawn(cmd, self.stack.process_env(**self.env), self.stack.dir, log))

    def kill_one(self, rng: random.Random) -> None:
        """SIGKILL a random worker's whole process group, no chance to clean up."""
        alive = [p for p in self.procs if p.poll() is None]
        if not alive:
            return
        victim = rng.choice(alive)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(10)
        stop(victim)  # stragglers of the group, and the bookkeeping
        self.procs.remove(victim)
        self.killed += 1

    def pids(self) -> list[int]:
        return [pid for p in self.procs if p.poll() is None for pid in group_pids(p.pid)]

    def stop_all(self) -> None:
        for proc in self.procs:
            stop(proc)
        self.procs.clear()


def database(stack: Stack) -> Any:
    from sqlalchemy import create_engine

    return create_engine(stack.env["ATELIER_DATABASE__URL"], pool_size=2)


def status_counts(engine: Any) -> Counter[str]:
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM tasks GROUP BY status"))
        return Counter({str(s): int(n) for s, n in rows})


# -- clients -----------------------------------------------------------------------------------
@dataclass
class Submitted:
    task_id: str
    token: str


@dataclass
class Follow:
    """One SSE client following one task to its end."""

    task_id: str
    seqs: list[int] = field(default_factory=list)
    connects: int = 0
    breaks: int = 0
    terminal: str | None = None
    problem: str | None = None


@dataclass
class Run:
    tasks: int
    rate: float
    owners: int
    clients: int
    submitted: list[Submitted] = field(default_factory=list)
    submit_attempts: int = 0
    submit_failures: Counter[str] = field(default_factory=Counter)
    replayed: int = 0
    follows: list[Follow] = field(default_factory=list)
    followed: set[str] = field(default_factory=set)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    log: list[str] = field(default_factory=list)


async def submit_all(url: str, run: Run, rng: random.Random) -> None:
    """``run.tasks`` submits at ``run.rate``/s from ``run.owners`` sessions, each retried with
    its Idempotency-Key until it is answered (the API may be down meanwhile)."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        tokens = []
        for _ in range(run.owners):
            response = await retry(lambda: client.get("/api/v1/tasks"))
            tokens.append(response.headers["x-atelier-session"])
            client.cookies.clear()
        sem = asyncio.Semaphore(32)

        async def one(i: int) -> None:
            token = tokens[i % len(tokens)]
            key = str(uuid.uuid4())
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
            body = {"kind": "generate", "params": {**PARAMS, "seed": i}}
            async with sem:
                while True:
                    run.submit_attempts += 1
                    try:
                        r = await client.post("/api/v1/tasks", json=body, headers=headers)
                    except httpx.HTTPError as exc:
                        run.submit_failures[type(exc).__name__] += 1
                        await asyncio.sleep(0.5)
                        continue
                    if r.status_code in (200, 201):
                        run.replayed += r.status_code == 200
                        run.submitted.append(Submitted(r.json()["task_id"], token))
                        return
                    run.submit_failures[str(r.status_code)] += 1
                    await asyncio.sleep(0.5)

        began = time.monotonic()
        pending = []
        for i in range(run.tasks):
            await asyncio.sleep(max(0.0, began + i / run.rate - time.monotonic()))
            pending.append(asyncio.create_task(one(i)))
        await asyncio.gather(*pending)


async def retry(call: Any, attempts: int = 600) -> httpx.Response:
    for _ in range(attempts):
        with contextlib.suppress(httpx.HTTPError):
            response: httpx.Response = await call()
            if response.status_code < 500:
                return response
        await asyncio.sleep(0.5)
    raise RuntimeError("the API did not answer")


async def follow(client: httpx.AsyncClient, item: Submitted, run: Run) -> Follow:
    """Follow one task's stream to its terminal event, resuming with Last-Event-ID."""
    f = Follow(item.task_id)
    run.follows.append(f)
    headers = {"Authorization": f"Bearer {item.token}"}
    while f.terminal is None:
        last = f.seqs[-1] if f.seqs else 0
        try:
            f.connects += 1
            async with client.stream(
                "GET",
                f"/api/v1/tasks/{item.task_id}/stream",
                headers={**headers, "Last-Event-ID": str(last)},
            ) as response:
                if response.status_code != 200:
                    raise httpx.HTTPStatusError("", request=response.request, response=response)
                seq: int | None = None
                async for line in response.aiter_lines():
                    if line.startswith("id:"):
                        seq = int(line[3:].strip())
                    elif line.startswith("data:") and seq is not None:
                        event = json.loads(line[5:])
                        expected = (f.seqs[-1] if f.seqs else 0) + 1
                        if seq != expected and f.problem is None:
                            f.problem = f"expected seq {expected}, got {seq}"
                        f.seqs.append(seq)
                        if event["type"] in TERMINAL:
                            f.terminal = event["type"]
                            break
                        seq = None
        except (httpx.HTTPError, ValueError):
            pass
        if f.terminal is None:
            f.breaks += 1
            await asyncio.sleep(0.2 + random.random() * 0.3)
    return f


async def sse_client(url: str, run: Run, rng: random.Random) -> None:
    """Follow random tasks, one after another, until the run is over; prefers the latest
    submitted (still running) tasks."""
    timeout = httpx.Timeout(10, read=60)
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
        while not run.done.is_set():
            recent = run.submitted[-max(20, len(run.submitted) // 5) :]
            choices = [s for s in recent if s.task_id not in run.followed]
            if not choices:
                await asyncio.sleep(0.5)
                continue
            item = rng.choice(choices)
            run.followed.add(item.task_id)
            await follow(client, item, run)


# -- the run -----------------------------------------------------------------------------------
async def chaos(args: argparse.Namespace, stack: OwnRedisStack) -> dict[str, Any]:
    rng = random.Random(args.seed)
    env = dict(CHAOS_ENV)
    api = Api(stack, env)
    workers = Workers(stack, env)
    engine = database(stack)
    try:
        return await _chaos(args, stack, rng, api, workers, engine)
    finally:
        workers.stop_all()
        api.stop()
        engine.dispose()
        if args.logs:
            keep_logs(stack.dir, Path(args.logs))


def keep_logs(source: Path, target: Path) -> None:
    """Copy the processes' logs out of the stack directory before it is removed."""
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    for log in source.glob("*.log"):
        shutil.copy(log, target / log.name)
    console.print(f"logs copied to {target}")


async def _chaos(
    args: argparse.Namespace,
    stack: OwnRedisStack,
    rng: random.Random,
    api: Api,
    workers: Workers,
    engine: Any,
) -> dict[str, Any]:
    await asyncio.to_thread(api.start)
    for _ in range(args.workers):
        workers.start_one()
    run = Run(args.tasks, args.rate, args.owners, args.clients)
    api_downtime: list[float] = []
    redis_restarts = 0
    began = time.monotonic()
    console.print(
        f"API {api.url}, {args.workers} workers, redis {stack.redis.url}, "
        f"{args.tasks} tasks at {args.rate}/s, {args.clients} SSE clients"
    )
    submitter = asyncio.create_task(submit_all(api.url, run, rng))
    clients = [asyncio.create_task(sse_client(api.url, run, rng)) for _ in range(args.clients)]
    # API and Redis restarts at these shares of tasks finished, in this order
    plan: list[tuple[float, str]] = []
    for i in range(args.api_restarts):
        plan.append(((i + 1) / (args.api_restarts + 1) * 0.9, "api"))
    for i in range(args.redis_restarts):
        plan.append(((i + 1) / (args.redis_restarts + 1) * 0.8 + 0.05, "redis"))
    plan.sort()
    next_kill = time.monotonic() + args.kill_every
    api_signals = [signal.SIGTERM, signal.SIGKILL]
    finished = 0
    deadline = began + args.timeout
    timed_out = False
    last_print = 0.0
    while True:
        counts = await asyncio.to_thread(status_counts, engine)
        finished = sum(counts[s] for s in TERMINAL)
        now = time.monotonic()
        if submitter.done() and finished >= args.tasks:
            break
        if now > deadline:
            timed_out = True
            break
        if now - last_print > 5:
            last_print = now
            console.print(
                f"{now - began:5.0f}s submitted {len(run.submitted)}/{args.tasks}, "
                f"{dict(counts)}, kills {workers.killed}, API restarts {len(api_downtime)}, "
                f"Redis restarts {redis_restarts}, SSE follows {len(run.follows)}"
            )
        if plan and finished >= plan[0][0] * args.tasks:
            _, what = plan.pop(0)
            if what == "api":
                sig = api_signals[min(len(api_downtime), len(api_signals) - 1)]
                console.print(f"restarting the API ({signal.Signals(sig).name})")
                api_downtime.append(await asyncio.to_thread(api.restart, sig))
            else:
                console.print("restarting Redis")
                await asyncio.to_thread(stack.redis.restart)
                redis_restarts += 1
        if now >= next_kill:
            await asyncio.to_thread(workers.kill_one, rng)
            await asyncio.to_thread(workers.start_one)
            next_kill = now + args.kill_every
        await asyncio.sleep(0.5)
    wall = time.monotonic() - began
    if submitter.done():
        submitter.result()
    else:
        submitter.cancel()
    # let the SSE clients finish the streams they follow (their tasks are all done)
    run.done.set()
    _, still = await asyncio.wait(clients, timeout=60)
    for c in still:
        c.cancel()
    unfinished_follows = sum(1 for f in run.follows if f.terminal is None)
    await asyncio.sleep(0)
    result = verify(engine, stack, run)
    result.update(
        {
            "tasks": args.tasks,
            "workers": args.workers,
            "rate": args.rate,
            "owners": args.owners,
            "clients": args.clients,
            "kill_every": args.kill_every,
            "kills": workers.killed,
            "api_restarts": len(api_downtime),
            "api_downtime_s": [round(d, 1) for d in api_downtime],
            "redis_restarts": redis_restarts,
            "submit_attempts": run.submit_attempts,
            "submit_failures": dict(run.submit_failures),
            "idempotent_replays": run.replayed,
            "sse_unfinished": unfinished_follows,
            "timed_out": timed_out,
            "wall_s": wall,
        }
    )
    result["api_log_errors"] = log_errors(api.log)
    return result


def log_errors(path: Path) -> dict[str, int]:
    """Tracebacks and ERROR lines in a process log."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return {}
    return {
        "tracebacks": text.count("Traceback (most recent call last)"),
        "error_lines": sum(1 for line in text.splitlines() if " ERROR " in line),
    }


def verify(engine: Any, stack: Stack, run: Run) -> dict[str, Any]:
    """What the database and the storage say, against what the clients submitted and saw."""
    from sqlalchemy import text

    with engine.connect() as conn:
        tasks = {
            str(r[0]): (str(r[1]), int(r[2]), int(r[3]), int(r[4]))
            for r in conn.execute(
                text("SELECT id, status, attempts, worker_losses, last_seq FROM tasks")
            )
        }
        events: dict[str, list[tuple[int, str]]] = {}
        for task_id, seq, kind in conn.execute(
            text("SELECT task_id, seq, type FROM task_events ORDER BY task_id, seq")
        ):
            events.setdefault(str(task_id), []).append((int(seq), str(kind)))
        images: dict[str, list[str]] = {}
        referenced: set[str] = set()
        for task_id, key, thumb in conn.execute(
            text("SELECT task_id, storage_key, thumbnail_key FROM images")
        ):
            images.setdefault(str(task_id), []).append(str(key))
            referenced |= {str(key), str(thumb)} if thumb else {str(key)}
    submitted = {s.task_id for s in run.submitted}
    storage = Path(stack.env["ATELIER_DATA_DIR"]) / "storage"
    stored = {
        str(p.relative_to(storage))
        for p in storage.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    lost, duplicated, problems = [], [], []
    for task_id in submitted:
        status = tasks.get(task_id, ("missing", 0, 0, 0))[0]
        if status != "completed":
            lost.append(f"{task_id}: {status}")
            continue
        seqs = [s for s, _ in events.get(task_id, [])]
        completed = sum(1 for _, k in events.get(task_id, []) if k == "completed")
        keys = images.get(task_id, [])
        if completed > 1 or len(keys) > 1:
            duplicated.append(f"{task_id}: {completed} completed events, {len(keys)} images")
        elif completed == 0 or len(keys) == 0:
            lost.append(f"{task_id}: {completed} completed events, {len(keys)} images")
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"{task_id}: event seqs {seqs}")
        missing = [k for k in keys if k not in stored]
        if missing:
            lost.append(f"{task_id}: image bytes missing {missing}")
    extra_tasks = sorted(set(tasks) - submitted)  # a retried submit that made a second task
    duplicated += [f"{t}: a task nobody was told about" for t in extra_tasks]
    orphans = len(stored - referenced)
    # SSE clients: increasing, gap-free, ended at the terminal event, same as the database
    follows = run.follows
    sse_bad = []
    for f in follows:
        db = [s for s, _ in events.get(f.task_id, [])]
        if f.terminal is None:
            continue
        if f.problem or f.seqs != db:
            sse_bad.append(f"{f.task_id}: {f.problem or 'differs from the database'}")
    resumed = [f for f in follows if f.breaks > 0 and f.terminal is not None]
    attempts = Counter(a for _, a, _, _ in tasks.values())
    return {
        "completed": sum(1 for t in submitted if tasks.get(t, ("",))[0] == "completed"),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "event_problems": len(problems),
        "examples": (lost + duplicated + problems + sse_bad)[:20],
        "redelivered": sum(n for a, n in attempts.items() if a > 1),
        "worker_losses": sum(w for _, _, w, _ in tasks.values()),
        "orphan_objects": orphans,
        "sse_follows": len(follows),
        "sse_completed": sum(1 for f in follows if f.terminal is not None),
        "sse_interrupted": sum(1 for f in follows if f.breaks > 0),
        "sse_resumed": len(resumed),
        "sse_bad": len(sse_bad),
        "sse_events": sum(len(f.seqs) for f in follows),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    stack = OwnRedisStack()
    with stack:
        result = asyncio.run(chaos(args, stack))
    result.update(mode=DISTRIBUTED, date=report.stamp(), command=command_line())
    return result


def met(r: dict[str, Any]) -> bool:
    return (
        r["lost"] == 0
        and r["duplicated"] == 0
        and r["event_problems"] == 0
        and r["sse_bad"] == 0
        and r["sse_completed"] == r["sse_follows"]
        and not r["timed_out"]
    )


def print_result(r: dict[str, Any]) -> None:
    show(
        "chaos, PostgreSQL + Redis",
        [
            "tasks",
            "completed",
            "lost",
            "duplicated",
            "kills",
            "API restarts",
            "Redis restarts",
            "SSE follows",
            "resumed",
            "SSE bad",
            "wall s",
        ],
        [
            [
                r["tasks"],
                r["completed"],
                r["lost"],
                r["duplicated"],
                r["kills"],
                r["api_restarts"],
                r["redis_restarts"],
                r["sse_follows"],
                r["sse_resumed"],
                r["sse_bad"],
                r["wall_s"],
            ]
        ],
    )
    console.print(
        f"redelivered tasks {r['redelivered']}, worker losses {r['worker_losses']}, orphaned "
        f"objects {r['orphan_objects']}, API down {r['api_downtime_s']} s, submit failures "
        f"{r['submit_failures']} (replays {r['idempotent_replays']}), API log {r['api_log_errors']}"
    )
    for example in r.get("examples", []):
        console.print(f"  {example}")
    console.print("target met" if met(r) else "[bold red]target NOT met[/]")


def render(data: dict[str, Any]) -> str:
    lines = [
        "## Chaos: kills and restarts under load",
        "",
        "`python -m bench.chaos`: one API process and 3 workers (`atelier worker --concurrency "
        "2`) on a fresh PostgreSQL database and a Redis of its own (`--save '' --appendonly "
        "no`: a restart loses every queued message), broker and event bus. `generate` tasks "
        "(`procedural`, 64x64, one image, one step) are submitted at a steady rate by 20 "
        "anonymous sessions, each with an `Idempotency-Key` and retried until answered; SSE "
        "clients follow random recent tasks to their terminal event and reconnect with "
        "`Last-Event-ID` whenever the stream breaks. Meanwhile a random worker's process group "
        "gets SIGKILL every few seconds (and a new worker starts), the API restarts (first "
        "SIGTERM, then SIGKILL) and Redis restarts, spread over the run by the share of tasks "
        "done. Checked from the database: every submitted task exists once, is `completed`, "
        "has one `completed` event, event seqs 1..n and one image row whose bytes are stored; "
        "every SSE client saw strictly increasing, gap-free seqs up to the terminal event, "
        "equal to the database's. Recovery settings: lease 10 s, sweep 1 s, redispatch after "
        "20 s, up to 10 worker losses per task (default 3), limits off "
        "(`ATELIER_LIMITS__ENABLED=off`). Target: zero lost, zero duplicated, every SSE "
        "client resumes.",
        "",
        "| Tasks | Completed | Lost | Duplicated | Worker kills | API restarts | Redis "
        "restarts | Redelivered tasks | SSE follows | Interrupted → resumed | SSE errors | "
        "Wall time | Met |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for key, r in data.items():
        lines.append(
            f"| {r['tasks']:,} | {r['completed']:,} | {r['lost']} | {r['duplicated']} | "
            f"{r['kills']} | {r['api_restarts']} | {r['redis_restarts']} | "
            f"{r['redelivered']} | {r['sse_follows']} | {r['sse_interrupted']} → "
            f"{r['sse_resumed']} | {r['sse_bad']} | {r['wall_s']:.0f} s | "
            f"{'yes' if met(r) else '**NO**'} |"
        )
        notes.append(
            f"{key}: `{r['command']}` at {r['date']}: {r['workers']} workers, "
            f"{r['rate']:g} submits/s, {r['clients']} SSE clients, a kill every "
            f"{r['kill_every']:g} s; API unreachable {r['api_downtime_s']} s per restart; "
            f"{r['submit_attempts'] - r['tasks']} submits retried "
            f"({r['idempotent_replays']} answered by an idempotent replay); "
            f"{r['worker_losses']} worker losses recorded; {r['orphan_objects']} stored "
            f"objects of killed attempts left without a row"
        )
    lines += ["", "Runs: " + "; ".join(notes) + "."]
    return "\n".join(lines)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=1000)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--rate", type=float, default=10.0, help="submits per second")
    p.add_argument("--owners", type=int, default=20, help="anonymous sessions submitting")
    p.add_argument("--clients", type=int, default=20, help="SSE clients")
    p.add_argument("--kill-every", type=float, default=5.0, help="seconds between kills")
    p.add_argument("--api-restarts", type=int, default=2)
    p.add_argument("--redis-restarts", type=int, default=1)
    p.add_argument("--timeout", type=float, default=1800.0, help="give up after (seconds)")
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--logs", help="copy the API, worker and Redis logs into this directory")
    p.add_argument("--no-record", action="store_true", help="do not update docs/benchmarks.md")
    return p.parse_args(argv)


def chaos_run(args: argparse.Namespace, record: bool) -> None:
    result = run(args)
    print_result(result)
    if record:
        result.pop("examples", None)
        report.record("chaos", {DISTRIBUTED: result}, render)


def bench(modes: list[str], quick: bool, record: bool) -> None:
    """For ``bench.run_all --only chaos``: PostgreSQL + Redis only; ``--quick``: 200 tasks."""
    chaos_run(arguments(["--tasks", "200"] if quick else []), record)


def main() -> None:
    args = arguments()
    install_signal_handlers()
    chaos_run(args, not args.no_record)


if __name__ == "__main__":
    sys.exit(entry(main))
