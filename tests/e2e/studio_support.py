"""What the end-to-end tests share: where things are, how Chromium is started, the live
studio (server, worker, browser profile) and screenshots."""

from __future__ import annotations

import os
import signal
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from support.live import LiveServer, WorkerProcess
from support.profiles import CI, Profile

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "web" / "dist"
SHOTS = REPO / "web" / "e2e-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}

# Records every value each task's progress bar shows, from the first paint on, so a test can
# check what the user watched (monotonic, reaching 100) rather than only the last frame.
PROGRESS_RECORDER = """
window.__progress = {};
const record = (bar) => {
  const card = bar.closest('article[data-task-id]');
  if (!card) return;
  const id = card.dataset.taskId;
  const value = Number(bar.getAttribute('aria-valuenow'));
  const seen = (window.__progress[id] ||= []);
  if (seen[seen.length - 1] !== value) seen.push(value);
};
new MutationObserver((mutations) => {
  for (const m of mutations) {
    if (m.type === 'attributes') record(m.target);
    for (const node of m.addedNodes) {
      if (node.nodeType !== 1) continue;
      if (node.matches('[role=progressbar]')) record(node);
      node.querySelectorAll('[role=progressbar]').forEach(record);
    }
  }
}).observe(document, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ['aria-valuenow']});
"""


def required(what: str, reason: str) -> None:
    if CI:
        pytest.fail(f"{reason} (CI=true requires {what})", pytrace=False)
    pytest.skip(reason)


class Studio:
    """A live server with the built UI, an optional worker, and a fresh browser profile."""

    def __init__(self, profile: Profile, tmp: Path, stack: ExitStack) -> None:
        self.profile = profile
        self.tmp = tmp
        self.stack = stack
        self.server = stack.enter_context(LiveServer(profile.settings))
        self.url = self.server.url
        self.worker: WorkerProcess | None = None

    def start_worker(self, concurrency: int = 1) -> WorkerProcess:
        assert self.worker is None
        self.worker = self.stack.enter_context(
            WorkerProcess(
                self.profile.process_env(), self.tmp / "worker.log", concurrency=concurrency
            )
        )
        return self.worker

    def pause_worker(self) -> None:
        """SIGSTOP the worker's process group: the task it runs holds still, mid-way."""
        assert self.worker is not None
        os.killpg(self.worker.proc.pid, signal.SIGSTOP)

    def resume_worker(self) -> None:
        assert self.worker is not None
        os.killpg(self.worker.proc.pid, signal.SIGCONT)


def screenshot(page: Any, name: str) -> None:
    """The page at desktop and phone width, full length, into web/e2e-artifacts/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.evaluate("() => window.scrollTo(0, 0)")  # the sticky bar at the top, not mid-page
        page.screenshot(path=str(SHOTS / f"{name}-{size['width']}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
