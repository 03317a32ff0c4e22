"""Where a submit's time goes: ``TaskService.create`` + ``created_view`` called in-process, one
at a time, with each step timed (wall clock and CPU), then the same submits through the whole
ASGI app (FastAPI, dependencies, session check, serialization) without a network.

A diagnostic, not a target: it wraps internals by name (``TaskKind.validate``,
``lifecycle.append_event``, ``Database.session``/``read``, ``enqueue``, ``queue_position``,
``Estimator.average``, the dialect's ``do_ping``) and skips what it cannot find.

    python -m bench.submit_breakdown [--mode embedded|postgres-redis|both] [--count N]
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench import report
from bench.common import MODES, Stack, command_line, modes_of, parser, show
from bench.procs import entry, install_signal_handlers, wait_for_quiet

Timings = dict[str, list[tuple[float, float]]]
TOTAL = "TOTAL service (create + created_view)"
VALIDATE = "validate params (pydantic, model lookup)"
WRITE = "write transaction (task + event rows), whole"
INSERT_EVENT = "  in it: INSERT event"
COMMIT = "  in it: commit + return the connection"
PRE_PING = "pool pre-ping (SELECT 1) at checkout"
BUS = "event bus publish (`created`)"
ENQUEUE = "Celery send_task on the request thread"
HAND_OFF = "hand-off to the dispatcher thread"
VIEW = "created_view (queue position, estimate)"
POSITION = "  in it: queue_position"
WAITING = "waiting count (cached COUNT)"
ESTIMATE = "Estimator.average (cached)"
DISPATCHED = "Celery send_task in the dispatcher thread (off the request, same process)"
ASGI = "whole request into the ASGI app (process CPU, all threads)"
ORDER = [TOTAL, VALIDATE, WRITE, INSERT_EVENT, COMMIT, PRE_PING, BUS, ENQUEUE, HAND_OFF, VIEW]
ORDER += [POSITION, WAITING, ESTIMATE, DISPATCHED, ASGI]
BODY = {
    "kind": "generate",
    "params": {"prompt": "bench", "model": "noop", "width": 64, "height": 64},
}


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.thread_time()


def _add(timings: Timings, name: str, start: tuple[float, float]) -> None:
    wall, cpu = _clock()
    timings[name].append((wall - start[0], cpu - start[1]))


def _wrap(obj: Any, attr: str, name: str, timings: Timings, patches: list[Any]) -> None:
    original = getattr(obj, attr, None)
    if original is None:
        return

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = _clock()
        try:
            return original(*args, **kwargs)
        finally:
            _add(timings, name, start)

    patches.append((obj, attr, original))
    setattr(obj, attr, timed)


def _wrap_cm(obj: Any, attr: str, name: str, timings: Timings, patches: list[Any]) -> None:
    """A context manager: time the whole block and, apart, its exit (the commit)."""
    original = getattr(obj, attr)

    @contextlib.contextmanager
    def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
        start = _clock()
        with contextlib.ExitStack() as stack:
            value = stack.enter_context(original(*args, **kwargs))
            yield value
            closing = _clock()
            stack.close()
            _add(timings, COMMIT, closing)
        _add(timings, name, start)

    patches.append((obj, attr, original))
    setattr(obj, attr, timed)


def instrument(runtime: Any, timings: Timings) -> Callable[[], None]:
    import importlib

    from atelier.db.engine import Database

    def mod(name: str) -> Any:
        try:
            return importlib.import_module(name)
        except ImportError:
            return None

    service, lifecycle, dispatch = (
        mod(f"atelier.{m}") for m in ("tasks.service", "tasks.lifecycle", "worker.dispatch")
    )
    kinds = mod("atelier.tasks.kinds")
    patches: list[Any] = []
    specs = [
        (getattr(kinds, "TaskKind", None), "validate", VALIDATE),
        (lifecycle, "append_event", INSERT_EVENT),
        (runtime.db.engine.dialect, "do_ping", PRE_PING),
        (runtime.bus, "publish", BUS),
        (service, "enqueue", ENQUEUE),
        (getattr(runtime, "dispatcher", None), "submit", HAND_OFF),
        (dispatch, "enqueue", DISPATCHED),
        (getattr(service, "TaskService", None), "created_view", VIEW),
        (getattr(service, "TaskService", None), "queue_position", POSITION),
        (getattr(service, "WaitingCounter", None), "count", WAITING),
        (getattr(service, "Estimator", None), "average", ESTIMATE),
    ]
    for obj, attr, label in specs:
        if obj is not None:
            _wrap(obj, attr, label, timings, patches)
    _wrap_cm(Database, "session", WRITE, timings, patches)

    def undo() -> None:
        for obj, attr, original in reversed(patches):
            setattr(obj, attr, original)

    return undo


def measure_service(runtime: Any, count: int) -> Timings:
    from atelier.tasks.schemas import TaskCreate
    from atelier.tasks.service import TaskService

    tasks = TaskService(runtime)
    body = TaskCreate.model_validate(BODY)
    view = getattr(tasks, "created_view", lambda task: None)
    for _ in range(20):  # warm-up: connections, caches, imports
        view(tasks.create("anon:warmup", body)[0])
    timings: Timings = collections.defaultdict(list)
    undo = instrument(runtime, timings)
    try:
        for _ in range(count):
            start = _clock()
            task, _created = tasks.create("anon:bench", body)
            view(task)
            _add(timings, TOTAL, start)
        time.sleep(0.5)  # let a background dispatcher finish what it was handed
    finally:
        undo()
    return timings


async def _call(app: Any, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """One POST straight into the ASGI app: no HTTP client, no socket, no parser."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/tasks",
        "raw_path": b"/api/v1/tasks",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the body was sent: nothing more comes
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure_asgi(settings: Any, count: int) -> tuple[float, float]:
    """Mean wall and process CPU (ms) of one submit through the ASGI app, sequential."""
    import json

    from atelier.api.app import create_app

    app = create_app(settings)
    body = json.dumps(BODY).encode()
    token, _owner = app.state.signer.mint()
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"authorization", f"Bearer {token}".encode()),
    ]
    async with app.router.lifespan_context(app):
        for _ in range(20):
            await _call(app, body, headers)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(count):
            if await _call(app, body, headers) != 201:
                raise RuntimeError("submit failed")
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return 1000 * wall / count, 1000 * cpu / count


def run(mode: str, count: int) -> dict[str, Any]:
    from atelier.config import Settings
    from atelier.db.migrate import upgrade
    from atelier.runtime import build_runtime

    wait_for_quiet()
    with Stack(mode) as stack:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=stack.env["ATELIER_DATA_DIR"],
            database={"url": stack.env.get("ATELIER_DATABASE__URL", "")},
            queue={"broker_url": stack.env.get("ATELIER_QUEUE__BROKER_URL", "")},
            generation={"enable_noop": True},
            log_level="WARNING",
        )
        upgrade(settings)
        runtime = build_runtime(settings)
        try:
            timings = measure_service(runtime, count)
        finally:
            runtime.close()
        asgi_wall, asgi_cpu = asyncio.run(measure_asgi(settings, count))
    steps = [[name, *_means(values, count)] for name, values in timings.items()]
    steps.append([ASGI, 1.0, asgi_wall, asgi_cpu])
    steps.sort(key=lambda row: ORDER.index(row[0]) if row[0] in ORDER else len(ORDER))
    return {
        "mode": mode,
        "count": count,
        "steps": steps,
        "date": report.stamp(),
        "command": command_line(),
    }


def _means(values: list[tuple[float, float]], count: int) -> list[float]:
    """calls per submit, wall ms per submit, CPU ms per submit"""
    wall = 1000 * sum(w for w, _ in values) / count
    cpu = 1000 * sum(c for _, c in values) / count
    return [len(values) / count, wall, cpu]


def print_result(r: dict[str, Any]) -> None:
    show(
        f"submit breakdown, {r['mode']}, {r['count']} sequential submits (ms per submit)",
        ["step", "calls", "wall ms", "CPU ms"],
        r["steps"],
    )


def render(data: dict[str, Any]) -> str:
    lines = [
        "## Submit breakdown (diagnostic)",
        "",
        "`python -m bench.submit_breakdown`: submits one at a time, in-process, no HTTP: first "
        "`TaskService.create` (+ `created_view` where it exists) with each step wrapped and "
        "timed (wall and CPU of the thread that ran it, per submit), then the whole request "
        "driven straight into the ASGI app (FastAPI, dependencies, session check, "
        "serialization; no socket, no HTTP parser, no client). Indented steps are part of "
        "the step above them; CPU is the thread's own (`thread_time`), except for the last row.",
        "",
        "| Mode | Step | Calls per submit | Wall ms | CPU ms |",
        "|---|---|---|---|---|",
    ]
    for m in MODES:
        for name, calls, wall, cpu in data.get(m, {}).get("steps", []):
            label = name.replace("  ", "&nbsp;&nbsp;")
            lines.append(f"| {m} | {label} | {calls:.2f} | {wall:.2f} | {cpu:.2f} |")
    return "\n".join([*lines, "", report.runs_line(data)])


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=1000, help="sequential submits (default 1000)")
    args = p.parse_args()
    install_signal_handlers()
    for mode in modes_of(args.mode):
        result = run(mode, min(args.count, 20_000))
        print_result(result)
        if not args.no_record:
            report.record("breakdown", {mode: result}, render)


if __name__ == "__main__":
    sys.exit(entry(main))
