"""``atelier admin storage``: a real process on the configured (SQLite) database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from atelier.config import Settings
from atelier.db.engine import Database
from atelier.storage.multi import MultiStorage
from atelier.storage.replication import replicate


def atelier(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atelier", "admin", "storage", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "160", **env},
    )


def test_list_add_drain_and_remove_from_the_command_line(tmp_path: Path) -> None:
    env = {"ATELIER_DATA_DIR": str(tmp_path / "data"), "ATELIER_STORAGE__MULTI": "true"}
    r = atelier("list", env=env)
    assert r.returncode == 0, r.stderr
    assert "default" in r.stdout and "primary" in r.stdout and "ok" in r.stdout

    r = atelier("add", "cold", "--type", "local", "--root", str(tmp_path / "cold"), env=env)
    assert r.returncode == 0, r.stderr
    assert "added cold (local, backup)" in r.stdout
    r = atelier("add", "cold", "--type", "local", "--root", str(tmp_path / "cold"), env=env)
    assert r.returncode == 1 and "endpoint_exists" in r.stderr
    r = atelier("add", "bad", "--type", "local", "--root", "relative", env=env)
    assert r.returncode == 2 and "absolute" in r.stderr
    r = atelier("add", "s3x", "--bucket", "b-1", "--secret-ref", "plain-secret", env=env)
    assert r.returncode == 2 and "env:NAME" in r.stderr

    # objects written by a running installation (here: this process, same database)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "data", storage={"multi": True}
    )
    db = Database(settings)
    storage = MultiStorage(settings, db, monitor=False)
    try:
        storage.put("images/aa/one.png", b"one", "image/png")
        r = atelier("drain", "default", env=env)
        assert r.returncode == 0 and "default is draining" in r.stdout, r.stderr
        r = atelier("remove", "default", env=env)
        assert r.returncode == 1 and "endpoint_holds_only_copy" in r.stderr
        assert "images/aa/one.png" in r.stderr
        replicate(storage)
    finally:
        storage.close()
        db.dispose()
    r = atelier("remove", "default", env=env)
    assert r.returncode == 0 and "removed default" in r.stdout, r.stderr
    r = atelier("remove", "default", env=env)
    assert r.returncode == 1 and "endpoint_not_found" in r.stderr

    r = atelier("list", "--json", env=env)
    assert r.returncode == 0, r.stderr
    listing = json.loads(r.stdout)
    assert [(e["id"], e["objects"], e["state"]) for e in listing["endpoints"]] == [
        ("cold", 1, "active")
    ]
    assert (tmp_path / "cold" / "images" / "aa" / "one.png").read_bytes() == b"one"


def test_without_multi_storage_the_commands_say_so(tmp_path: Path) -> None:
    env = {"ATELIER_DATA_DIR": str(tmp_path / "data")}
    r = atelier("list", env=env)
    assert r.returncode == 0 and "multi storage off" in r.stdout, r.stderr
    r = atelier("drain", "default", env=env)
    assert r.returncode == 1 and "multi_storage_off" in r.stderr
