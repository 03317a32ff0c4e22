"""Child processes: each in its own process group, stopped on exit, Ctrl-C or SIGTERM; their
CPU time, and the machine's, read from ``/proc`` (the machine may be shared)."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

_LIVE: set[subprocess.Popen[bytes]] = set()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(cmd: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(cmd),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C is ours to handle; we stop the whole group
        )
    _LIVE.add(proc)
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM the process group, SIGKILL what is left after ``timeout``."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    for pid in group_pids(proc.pid):  # stragglers of the group (e.g. a worker child)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _LIVE.discard(proc)


@atexit.register
def _stop_all() -> None:
    for proc in list(_LIVE):
        stop(proc, 5)


def _sigterm(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def install_signal_handlers() -> None:
    """SIGTERM unwinds like Ctrl-C, so every ``finally`` runs and nothing is left behind (and
    SIGINT does too, even when started with it ignored, as background jobs are)."""
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def entry(main: Callable[[], None]) -> int:
    """Run a benchmark's ``main``; an interruption ends it quietly once cleaned up."""
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted; processes stopped, databases and data removed", file=sys.stderr)
        return 130
    return 0


def _proc_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()  # fields from 3 (state) on


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _proc_stat(int(entry))
            if fields is not None and int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(entry))
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (its threads included)."""
    fields = _proc_stat(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores, from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def machine_busy_cores(seconds: float = 1.0) -> float:
    start = _machine_busy_seconds()
    time.sleep(seconds)
    return (_machine_busy_seconds() - start) / seconds


def wait_for_quiet(limit: float = 120.0, threshold: float = 0.3) -> float:
    """Wait (up to ``limit`` seconds) until the machine is nearly idle, so other work does not
    skew the numbers; returns the last busy level seen, in cores."""
    deadline = time.monotonic() + limit
    busy = machine_busy_cores()
    warned = False
    while busy > threshold and time.monotonic() < deadline:
        if not warned:
            print(f"waiting for the machine to quieten ({busy:.2f} cores busy)")
            warned = True
        busy = machine_busy_cores(2.0)
    return busy


class CpuWatch:
    """Machine-wide CPU over a measured phase, and how much of it was not this benchmark's
    (its own process plus the process groups it names): other work on a shared machine."""

    def __init__(
        self, groups: Callable[[], list[int]] = list, pids: Callable[[], list[int]] = list
    ) -> None:
        self.groups = groups
        self.pids = pids

    def _ours(self) -> float:
        pids = {p for g in self.groups() for p in group_pids(g)} | set(self.pids())
        return own_cpu_seconds() + sum(cpu_seconds(p) for p in pids)

    def __enter__(self) -> CpuWatch:
        self.t0, self.busy0, self.ours0 = time.monotonic(), _machine_busy_seconds(), self._ours()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = max(1e-9, time.monotonic() - self.t0)
        busy = (_machine_busy_seconds() - self.busy0) / wall
        ours = (self._ours() - self.ours0) / wall
        self.result = {
            "machine_busy_cores": round(busy, 2),
            "other_busy_cores": round(max(0.0, busy - ours), 2),
        }
