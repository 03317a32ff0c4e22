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


def test_stylize_locally_and_against_a_server(profile: Profile, tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    Image.linear_gradient("L").resize((120, 80)).convert("RGB").save(photo, quality=90)
    env = {"ATELIER_DATA_DIR": str(tmp_path / "local")}
    local = atelier(
        "stylize", str(photo), "--style", "pencil-sketch", "-o", str(tmp_path / "a"), env=env
    )
    assert local.returncode == 0, local.stderr
    [out] = list((tmp_path / "a").glob("*.png"))
    with Image.open(out) as img:
        assert img.size == (120, 80)
    bad = atelier("stylize", str(photo), "--style", "nope", "-o", str(tmp_path / "b"), env=env)
    assert bad.returncode == 2 and "not_found" in bad.stderr
    with (
        LiveServer(profile.settings) as server,
        WorkerProcess(profile.process_env(), tmp_path / "worker.log"),
    ):
        remote = atelier(
            "stylize",
            str(photo),
            "--style",
            "watercolor",
            "--location",
            "west-lake",
            "-o",
            str(tmp_path / "c"),
            "--server",
            server.url,
            env={"HOME": str(tmp_path)},
        )
        assert remote.returncode == 0, remote.stderr
        assert len(list((tmp_path / "c").glob("*.png"))) == 1


def test_presets_listing() -> None:
    r = atelier("presets", "--language", "zh")
    assert r.returncode == 0 and "watercolor" in r.stdout and "西湖" in r.stdout


def test_serve_restarts_its_worker_when_it_dies(tmp_path: Path) -> None:
    import signal

    import httpx

    from support.live import free_port, wait_until

    port = free_port()
    env = {**os.environ, "ATELIER_DATA_DIR": str(tmp_path / "data"), "ATELIER_PORT": str(port)}
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "atelier", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"

    def children(queue: str = "cpu,gpu") -> list[int]:
        """The serve process's worker children that consume ``queue``."""
        out = subprocess.run(["pgrep", "-P", str(serve.pid)], capture_output=True, text=True)
        found = []
        for pid in (int(p) for p in out.stdout.split()):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if queue.encode() in argv:
                found.append(pid)
        return found

    def up() -> bool:
        try:
            return httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, 60, "the server")
        [first] = wait_until(children, 30, "the embedded worker")
        # the library's queue has a worker process of its own, at a lower CPU priority
        [library] = wait_until(lambda: children("library"), 30, "the library worker")
        assert wait_until(lambda: os.getpriority(os.PRIO_PROCESS, library) == 10, 30, "nice")
        os.kill(first, signal.SIGKILL)
        [second] = wait_until(lambda: [p for p in children() if p != first], 30, "a new worker")
        assert second != first
        created = httpx.post(
            f"{url}/api/v1/tasks",
            json={"kind": "generate", "params": {"prompt": "sea", "width": 64, "height": 64}},
        )
        auth = {"Authorization": f"Bearer {created.headers['X-Atelier-Session']}"}
        task_url = f"{url}/api/v1/tasks/{created.json()['task_id']}"
        wait_until(
            lambda: httpx.get(task_url, headers=auth).json()["status"] == "completed",
            60,
            "the task on the new worker",
        )
    finally:
        serve.terminate()
        serve.wait(30)
        log.close()
    assert "starting it again" in (tmp_path / "serve.log").read_text()
