"""Generated images get their owner class's watermark and an optional provenance record."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from atelier.config import Settings
from atelier.images.watermark import read_provenance, verify_provenance
from support.api import GEN, api, login, run_now
from support.profiles import Profile


def generate(settings: Settings) -> tuple[bytes, dict[str, object]]:
    with api(settings) as client:
        h = login(client)
        r = client.post("/api/v1/tasks", json={"kind": "generate", "params": GEN}, headers=h)
        run_now(settings, r.json()["task_id"])
        task = client.get(f"/api/v1/tasks/{r.json()['task_id']}", headers=h).json()
        data = client.get(task["result"]["images"][0]["url"], headers=h).content
        return data, task


def test_watermark_and_provenance(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    plain, _ = generate(profile.settings)
    assert read_provenance(plain) is None
    monkeypatch.setenv(
        "ATELIER_WATERMARK",
        '{"classes": {"anonymous": {"text": "Atelier", "corner": "top-left", "opacity": 0.9}}}',
    )
    monkeypatch.setenv("ATELIER_IMAGES__PROVENANCE", "true")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    marked, task = generate(settings)
    a = np.asarray(Image.open(io.BytesIO(plain)).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(io.BytesIO(marked)).convert("RGB"), dtype=np.int16)
    changed = np.argwhere(np.abs(a - b).sum(axis=2) > 0)
    assert len(changed) > 0
    h, w = a.shape[:2]
    assert changed[:, 0].max() < h / 2 and changed[:, 1].max() < w / 2  # only the top-left
    record = read_provenance(marked)
    assert record is not None and record["model"] == "procedural"
    assert record["task_id"] == task["task_id"]
    assert verify_provenance(marked)
