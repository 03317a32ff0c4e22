"""The CLI as a user runs it: a real process, embedded mode, no server; and --server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from support.live import LiveServer, WorkerProcess
from support.profiles import Profile


def atelier(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atelier", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
    )


def test_generate_locally_without_a_server(tmp_path: Path) -> None:
    env = {"ATELIER_DATA_DIR": str(tmp_path / "data")}
    out = tmp_path / "out"
    r = atelier(
        "generate",
        "a red sunset over the sea",
        "-n",
        "2",
        "-o",
        str(out),
        "--width",
        "128",
        "--height",
        "96",
        "--seed",
        "5",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    files = sorted(out.iterdir())
    assert len(files) == 2 and all(f.suffix == ".png" for f in files)
    with Image.open(files[0]) as img:
        assert img.size == (128, 96)
    assert "saved" in r.stderr and "100%" in r.stderr  # the progress bar reached the end
    listing = atelier("tasks", env=env)
    assert (
        listing.returncode == 0 and "completed" in listing.stdout and "generate" in listing.stdout
    )


def test_generate_reports_bad_input(tmp_path: Path) -> None:
    env = {"ATELIER_DATA_DIR": str(tmp_path / "data")}
    r = atelier("generate", "cat", "--width", "9", "-o", str(tmp_path / "o"), env=env)
    assert r.returncode == 2 and "validation_error" in r.stderr
    assert not (tmp_path / "o").exists()


def test_db_upgrade_and_downgrade(tmp_path: Path) -> None:
    env = {"ATELIER_DATA_DIR": str(tmp_path / "data")}
    up = atelier("db", "upgrade", env=env)
    assert up.returncode == 0 and (tmp_path / "data" / "atelier.db").exists()
    assert atelier("db", "downgrade", "base", env=env).returncode == 0


def test_generate_against_a_server(profile: Profile, tmp_path: Path) -> None:
    out = tmp_path / "out"
    home = {"HOME": str(tmp_path)}  # the CLI remembers its session under ~/.config
    with (
        LiveServer(profile.settings) as server,
        WorkerProcess(profile.process_env(), tmp_path / "worker.log"),
    ):
        r = atelier(
            "generate",
            "night city skyline with stars",
            "-n",
            "1",
            "-o",
            str(out),
            "--width",
            "96",
            "--height",
            "96",
            "--server",
            server.url,
            env=home,
        )
        assert r.returncode == 0, r.stderr
        assert len(list(out.glob("*.png"))) == 1
        listing = atelier("tasks", "--server", server.url, env=home)
        assert listing.returncode == 0 and "completed" in listing.stdout
        bad = atelier("generate", "x", "--steps", "0", "--server", server.url, env=home)
        assert bad.returncode == 2 and "validation_error" in bad.stderr
