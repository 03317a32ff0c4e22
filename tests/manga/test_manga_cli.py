"""``atelier manga story.txt -o page.png`` as a user runs it: locally (no server) and against
``--server``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image, PdfParser

from conftest import EN_STORY, SMALL, ZH_STORY
from support.live import LiveServer, WorkerProcess
from support.profiles import Profile, make_env


def atelier(
    *args: str, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atelier", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "120", **SMALL, **env},
    )


def test_a_page_locally_with_a_bar_per_panel(tmp_path: Path) -> None:
    env = {"ATELIER_DATA_DIR": str(tmp_path / "data")}
    story = tmp_path / "story.txt"
    story.write_text(ZH_STORY, encoding="utf-8")
    page = tmp_path / "out" / "page.png"
    r = atelier("manga", str(story), "-o", str(page), "--panels", "3", env=env)
    assert r.returncode == 0, r.stderr
    with Image.open(page) as image:
        assert image.format == "PNG" and image.size == (400, 566)
    lines = r.stderr.splitlines()
    for name in ("manga", "panel 1", "panel 2", "panel 3"):  # one bar each, run to the end
        assert any(line.strip().startswith(name) and "100%" in line for line in lines), name
    assert f"saved {page}" in r.stderr.replace("\n", "")

    pdf = tmp_path / "page.pdf"
    r = atelier("manga", str(story), "-o", str(pdf), "--panels", "2", "--rtl", env=env)
    assert r.returncode == 0, r.stderr
    assert len(PdfParser.PdfParser(buf=pdf.read_bytes()).pages) == 1
    listing = atelier("tasks", env=env)  # the panels are children: only the jobs are listed
    assert listing.stdout.count("manga") == 2 and "manga_panel" not in listing.stdout


def test_bad_input_exits_2(tmp_path: Path) -> None:
    env = {"ATELIER_DATA_DIR": str(tmp_path / "data")}
    story = tmp_path / "story.txt"
    story.write_text(EN_STORY, encoding="utf-8")
    r = atelier("manga", str(story), "-o", str(tmp_path / "p.gif"), "--format", "gif", env=env)
    assert r.returncode == 2 and "--format" in r.stderr
    r = atelier("manga", str(story), "--model", "nope", "-o", str(tmp_path / "p.png"), env=env)
    assert r.returncode == 2 and "validation_error" in r.stderr and "unknown model" in r.stderr
    assert not (tmp_path / "p.png").exists()


@pytest.fixture
def embedded(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Profile:
    env = {**make_env("embedded", tmp_path, request), **SMALL}
    return Profile("embedded", env, monkeypatch)


def test_a_page_from_a_server(embedded: Profile, tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_text(EN_STORY, encoding="utf-8")
    out = tmp_path / "page.cbz"
    with (
        LiveServer(embedded.settings) as server,
        WorkerProcess(embedded.process_env(), tmp_path / "worker.log") as worker,
    ):
        r = atelier(
            "manga",
            str(story),
            "-o",
            str(out),
            "--panels",
            "2",
            "--server",
            server.url,
            env={"HOME": str(tmp_path)},  # the session token is remembered there
        )
        assert r.returncode == 0, (r.stderr, worker.output()[-2000:])
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["page-001.png", "ComicInfo.xml"]
        with Image.open(io.BytesIO(archive.read("page-001.png"))) as image:
            assert image.size == (400, 566)
    assert any(
        line.strip().startswith("panel 2") and "100%" in line for line in r.stderr.splitlines()
    )


def test_the_cli_knows_the_final_statuses() -> None:
    from atelier.manga.cli import FINISHED
    from atelier.tasks.lifecycle import TERMINAL

    assert {s.value for s in TERMINAL} == FINISHED
