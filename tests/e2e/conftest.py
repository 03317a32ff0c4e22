"""End-to-end fixtures: a real API server (and, when a test asks, a real worker process)
serving the built web UI, driven by Debian's headless Chromium through Playwright.

Nothing is faked: the browser talks HTTP, SSE and WebSocket to the server the other live
tests use (tests/support/live.py). Chromium is never downloaded: a missing ``chromium`` or a
missing ``web/dist`` build skips these tests with the reason, and fails them under ``CI=true``.
Screenshots land in ``web/e2e-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from studio_support import CHROMIUM_ARGS, DESKTOP, DIST, PROGRESS_RECORDER, Studio, required

from support.profiles import Profile, make_env


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium (or ``ATELIER_TEST_CHROMIUM``); never a downloaded browser."""
    path = (
        os.environ.get("ATELIER_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    )
    if not Path(path).is_file():
        required(
            "chromium",
            f"chromium is not installed ({path} is missing): run `make chromium` "
            "(Debian's package, via apt-get)",
        )
    return path


@pytest.fixture(scope="session")
def web_build() -> Path:
    if not (DIST / "index.html").is_file():
        required("the web UI build", "web/dist is not built: run `make web`")
    return DIST


@pytest.fixture(scope="module")  # not session: its event loop must stop before other tests run
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture
def studio(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    web_build: Path,
) -> Iterator[Studio]:
    env = {
        **make_env("embedded", tmp_path, request),
        "ATELIER_WEB_DIR": str(web_build),
        # long enough that a worker paused by a test never loses its task's lease
        "ATELIER_QUEUE__LEASE_SECONDS": "120",
    }
    profile = Profile("embedded", env, monkeypatch)
    with ExitStack() as stack:
        yield Studio(profile, tmp_path, stack)


@pytest.fixture
def page(studio: Studio, playwright: Any, chromium: str, tmp_path: Path) -> Iterator[Any]:
    """A page in a browser with a fresh profile (its own cookies: a new anonymous session)."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=chromium,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=DESKTOP,
        locale="en-US",
        accept_downloads=True,
        reduced_motion="reduce",  # no transitions: screenshots show the settled page
        base_url=studio.url,
    )
    context.set_default_timeout(20_000)
    context.add_init_script(PROGRESS_RECORDER)
    try:
        page = context.new_page()
        for blank in context.pages:  # the window the browser opened by itself
            if blank is not page:
                blank.close()
        yield page
    finally:
        context.close()
