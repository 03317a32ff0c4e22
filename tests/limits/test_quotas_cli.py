"""`atelier admin quotas`: each class's limits and the busiest owners' real usage, read from
the database by a real `atelier` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from atelier.config import Settings
from atelier.db.migrate import upgrade
from support.api import api, login

GEN = {"prompt": "a lighthouse", "width": 64, "height": 64, "steps": 1}


def test_admin_quotas_shows_limits_and_usage(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env.update(
        ATELIER_DATA_DIR=str(tmp_path / "data"),
        ATELIER_LIMITS__ENABLED="on",
        ATELIER_LIMITS__ANON__CONCURRENT_TASKS="5",
        ATELIER_QUEUE__EMBEDDED_WORKER="false",
        COLUMNS="200",
    )
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        limits={"enabled": "on", "anon": {"concurrent_tasks": 5}},
        queue={"embedded_worker": False},
    )
    upgrade(settings)
    with api(settings) as client:
        busy, quiet = login(client), login(client)
        for _ in range(3):
            r = client.post("/api/v1/tasks", json={"kind": "generate", "params": GEN}, headers=busy)
            assert r.status_code == 201, r.text
        r = client.post("/api/v1/tasks", json={"kind": "generate", "params": GEN}, headers=quiet)
        assert r.status_code == 201, r.text

    run = subprocess.run(
        [sys.executable, "-m", "atelier", "admin", "quotas", "--top", "5"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Limits (on" in out
    anon = next(line for line in out.splitlines() if line.strip("│ ").startswith("anon "))
    assert "5" in anon.split("│")[4]  # the configured concurrent quota
    rows = [line for line in out.splitlines() if "anon:" in line]
    assert len(rows) == 2, out
    assert "3 / 5" in rows[0] and "1 / 5" in rows[1]  # busiest first, with real counts
