"""Raw Celery round trip on the same brokers: the floor under Atelier's end-to-end overhead.

The Celery app is Atelier's own (``create_celery``: same broker, transport options and worker
settings, e.g. the embedded broker's 50 ms polling) plus one trivial task that sends a UDP
datagram back to the client. One message at a time: latency = ``send_task`` called → datagram
received, after a random pause of 0-50 ms (so messages arrive at random points of the embedded
broker's polling cycle, as real submissions do). The worker is a separate process:
``celery -A bench.celery_roundtrip worker -P threads -c 2 -Q cpu``.

    python -m bench.celery_roundtrip [--mode embedded|postgres-redis|both] [--quick] [--count N]
"""

from __future__ import annotations

import random
import socket
import sys
import time
from typing import Any

from bench import report
from bench.common import (
    MODES,
    Stack,
    command_line,
    modes_of,
    parser,
    show,
    summarize_ms,
)
from bench.procs import entry, install_signal_handlers, spawn, stop, wait_for_quiet

PING = "bench.ping"
QUEUE = "cpu"
FIRST_TIMEOUT = 90.0
TIMEOUT = 30.0
PAUSE = 0.05  # seconds, at most, between one reply and the next message


def build_app(settings: Any) -> Any:
    from atelier.worker.celery_app import create_celery

    app = create_celery(settings)

    @app.task(name=PING, ignore_result=True)  # type: ignore[untyped-decorator]
    def ping(seq: int, port: int) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(str(seq).encode(), ("127.0.0.1", port))

    return app


def __getattr__(name: str) -> Any:
    """``celery -A bench.celery_roundtrip`` asks for ``app``: built from ``ATELIER_*`` only in
    the worker process, so importing this module elsewhere touches no broker."""
    if name == "app":
        from atelier.config import Settings

        app = build_app(Settings())
        globals()["app"] = app
        return app
    raise AttributeError(name)


def _settings(stack: Stack) -> Any:
    from atelier.config import Settings

    queue = {"broker_url": stack.env.get("ATELIER_QUEUE__BROKER_URL", "")}
    return Settings(_env_file=None, data_dir=stack.env["ATELIER_DATA_DIR"], queue=queue)  # type: ignore[call-arg]


def run(mode: str, count: int) -> dict[str, Any]:
    wait_for_quiet()
    with Stack(mode) as stack:
        app = build_app(_settings(stack))
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        cmd = [sys.executable, "-m", "celery", "-A", "bench.celery_roundtrip", "worker"]
        cmd += ["-P", "threads", "-c", "2", "-Q", QUEUE, "-l", "WARNING"]
        cmd += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
        worker = spawn(cmd, stack.process_env(), stack.dir, stack.dir / "celery.log")
        try:
            for seq in range(10):  # warm-up: worker boot, connections
                _ping(app, sock, seq, FIRST_TIMEOUT if seq == 0 else TIMEOUT, worker)
            with stack.cpu_watch(worker.pid) as watch:
                timings = [_ping(app, sock, seq, TIMEOUT, worker) for seq in range(10, 10 + count)]
        finally:
            stop(worker)
            sock.close()
            app.close()
    return {
        "count": count,
        "latency": summarize_ms([total for _publish, total in timings]),
        "publish": summarize_ms([publish for publish, _total in timings]),
        **watch.result,
        "mode": mode,
        "date": report.stamp(),
        "command": command_line(),
    }


def _ping(
    app: Any, sock: socket.socket, seq: int, limit: float, worker: Any
) -> tuple[float, float]:
    """(publish, round trip) in seconds, after a random pause."""
    time.sleep(random.uniform(0, PAUSE))  # arrive at a random point of the broker's poll
    port = sock.getsockname()[1]
    t0 = time.perf_counter()
    app.send_task(PING, args=[seq, port], queue=QUEUE, ignore_result=True)
    t1 = time.perf_counter()
    _wait(sock, seq, limit, worker)
    return t1 - t0, time.perf_counter() - t0


def _wait(sock: socket.socket, seq: int, limit: float, worker: Any) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"celery worker exited with {worker.returncode}")
        sock.settimeout(min(1.0, max(0.01, deadline - time.monotonic())))
        try:
            data = sock.recv(64)
        except TimeoutError:
            continue
        if int(data) == seq:
            return
    raise TimeoutError(f"no reply to message {seq} after {limit}s")


def render(data: dict[str, Any]) -> str:
    rows = []
    for m in MODES:
        if m in data:
            rows.append((m, "**send_task → task ran (round trip)**", data[m]["latency"]))
            rows.append((m, "of which send_task (publish)", data[m]["publish"]))
    return "\n".join(
        [
            "## Raw Celery round trip",
            "",
            "The reference: Atelier's Celery app and broker settings with a trivial task that "
            "answers over UDP, one message at a time after a random 0-50 ms pause, worker "
            "`-P threads -c 2` in its own process. Embedded: the SQLite broker polled every 50 ms "
            "(`queue.poll_interval`); PostgreSQL + Redis: the Redis broker.",
            "",
            report.latency_table(rows),
            "",
            report.runs_line(data),
        ]
    )


def print_result(r: dict[str, Any]) -> None:
    rows = [[k, r[k]["n"], r[k]["p50"], r[k]["p95"], r[k]["max"]] for k in ("latency", "publish")]
    title = f"celery round trip, {r['mode']}"
    show(title, ["measure", "n", "p50 ms", "p95 ms", "max ms"], rows)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--count", type=int, help="measured messages (default 200)")
    args = p.parse_args()
    install_signal_handlers()
    count = min(args.count or (50 if args.quick else 200), 10_000)
    for mode in modes_of(args.mode):
        result = run(mode, count)
        print_result(result)
        if not args.no_record:
            report.record("celery", {mode: result}, render)


if __name__ == "__main__":
    sys.exit(entry(main))
