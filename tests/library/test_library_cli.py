"""``atelier library add`` and ``atelier search`` as a user runs them: real processes, in
embedded mode (no server) and against a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from library_helpers import QUICK, encode
from PIL import Image

from support.live import LiveServer
from support.profiles import Profile


def atelier(
    *args: str, env: dict[str, str], timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atelier", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "160", **QUICK, **env},
    )


def photo_dir(root: Path, photos: dict[str, Image.Image]) -> Path:
    folder = root / "photos"
    (folder / "more").mkdir(parents=True)
    (folder / "cat.png").write_bytes(encode(photos["chelsea"]))
    (folder / "more" / "cup.jpg").write_bytes(encode(photos["coffee"], "JPEG"))
    (folder / "more" / "cat-copy.png").write_bytes(encode(photos["chelsea"]))
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    (folder / "notes.txt").write_text("not an image, not even looked at")
    return folder


def test_add_a_directory_and_search_it_without_a_server(
    tmp_path: Path, photos: dict[str, Image.Image]
) -> None:
    env = {"ATELIER_DATA_DIR": str(tmp_path / "data")}
    folder = photo_dir(tmp_path, photos)
    r = atelier("library", "add", str(folder), "--tags", "home,morning", env=env)
    assert r.returncode == 1, r.stderr  # one file was refused
    assert "2 imported, 1 duplicates, 1 refused" in r.stderr
    assert "4/4" in r.stderr  # the progress bar went over the four images
    assert "duplicate" in r.stdout and "unsupported_media_type" in r.stdout
    assert "more/cat-copy.png" in r.stdout
    assert "notes.txt" not in r.stdout

    found = atelier("search", "morning", "-n", "5", env=env)
    assert found.returncode == 0, found.stderr
    assert "cat.png" in found.stdout and "cup.jpg" in found.stdout
    assert "tags" in found.stdout and "home" in found.stdout
    narrowed = atelier("search", "a cat", "--tags", "nothing-like-this", env=env)
    assert narrowed.returncode == 0 and "no match" in narrowed.stderr

    again = atelier("library", "reembed", env=env)
    assert again.returncode == 0 and "reembed_not_needed" in again.stderr


def test_add_and_search_through_a_server(
    profile: Profile, tmp_path: Path, photos: dict[str, Image.Image]
) -> None:
    folder = photo_dir(tmp_path, photos)
    token_home = tmp_path / "home"
    token_home.mkdir()
    with LiveServer(profile.settings) as server:
        token = httpx.get(f"{server.url}/api/v1/tasks").headers["X-Atelier-Session"]
        env = {**profile.env, "ATELIER_SERVER": server.url, "ATELIER_TOKEN": token}
        env["HOME"] = str(token_home)
        r = atelier("library", "add", str(folder), "--title", "breakfast table", env=env)
        assert r.returncode == 1, r.stderr
        assert "2 imported, 1 duplicates, 1 refused" in r.stderr
        found = atelier("search", "breakfast", env=env)
        assert found.returncode == 0, found.stderr
        assert found.stdout.count("breakfast table") == 2
        listed = httpx.get(
            f"{server.url}/api/v1/library/images", headers={"Authorization": f"Bearer {token}"}
        ).json()["items"]
        assert len(listed) == 2 and {i["title"] for i in listed} == {"breakfast table"}
