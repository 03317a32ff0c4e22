"""The proof: two S3 servers and a local directory behind the API. Images are written through
the images service (uploads and a generation task), replicated, the primary's server is
stopped and every image is still served; it comes back and catches up; it is drained and
removed; no image is lost at any point. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from atelier.config import Settings
from atelier.images.models import ImageRecord
from atelier.storage.base import ObjectNotFound, StorageError
from atelier.storage.multi import MultiStorage
from atelier.storage.replication import replicate
from support.api import api, login, run_now, submit
from support.multistorage import ADMIN_TOKEN, MotoServer, local_endpoint, s3_endpoint

MultiSettings = Callable[..., Settings]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BASE = "/api/v1/admin/storage/endpoints"


def photo(seed: int) -> bytes:
    img = Image.new("RGB", (48, 32), (seed * 40 % 256, 90, 200 - seed * 30 % 200))
    img.putpixel((seed, seed), (255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def upload(client: TestClient, headers: dict[str, str], seed: int) -> dict[str, Any]:
    r = client.post(
        "/api/v1/images", files={"file": (f"{seed}.png", photo(seed), "image/png")}, headers=headers
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def fetch_all(
    client: TestClient, headers: dict[str, str], images: list[dict[str, Any]]
) -> dict[str, bytes]:
    """Every image and thumbnail through the API; all must be served."""
    out = {}
    for image in images:
        for url in (image["url"], image["thumbnail_url"]):
            r = client.get(url, headers=headers)
            assert r.status_code == 200, (url, r.text)
            out[url] = r.content
    return out


def endpoints(client: TestClient) -> dict[str, dict[str, Any]]:
    r = client.get(BASE, params={"max_age": 0}, headers=ADMIN)
    assert r.status_code == 200, r.text
    return {e["id"]: e for e in r.json()["endpoints"]}


def test_no_image_is_lost_when_the_primary_goes_down_or_is_removed(
    multi_settings: MultiSettings,
    moto_pair: tuple[MotoServer, MotoServer],
    tmp_path: Path,
) -> None:
    primary_server, backup_server = moto_pair
    settings = multi_settings(
        [
            s3_endpoint("s3-primary", primary_server, role="primary", read_priority=0),
            s3_endpoint("s3-backup", backup_server, role="backup", read_priority=10),
            local_endpoint("default", tmp_path / "local", role="backup", read_priority=20),
        ]
    )
    with api(settings) as client:
        storage = client.app.state.runtime.storage  # type: ignore[attr-defined]
        assert isinstance(storage, MultiStorage)
        user = login(client)

        # -- write through the images service: uploads and a generation task ---------------
        images = [upload(client, user, seed) for seed in range(4)]
        task_id = submit(client, user, num_images=2)
        run_now(settings, task_id)  # a worker's runtime, its own MultiStorage
        task = client.get(f"/api/v1/tasks/{task_id}", headers=user).json()
        assert task["status"] == "completed", task
        images += task["result"]["images"]
        objects = 2 * len(images)  # each image has a thumbnail
        original = fetch_all(client, user, images)
        listed = endpoints(client)
        assert listed["s3-primary"]["objects"] == objects
        assert listed["s3-backup"]["pending"] == listed["default"]["pending"] == objects

        # -- replicate: every endpoint holds every object -----------------------------------
        replicate(storage)
        listed = endpoints(client)
        assert {e: (v["objects"], v["pending"]) for e, v in listed.items()} == {
            "s3-primary": (objects, 0),
            "s3-backup": (objects, 0),
            "default": (objects, 0),
        }

        # -- the primary's server stops: every image is still served ------------------------
        primary_server.stop()
        primary = storage.endpoint("s3-primary")
        assert primary is not None
        with client.app.state.runtime.db.read() as s:  # type: ignore[attr-defined]
            some_key = s.scalars(select(ImageRecord.storage_key)).first()
        assert some_key is not None
        with pytest.raises(StorageError) as refused:  # down for real: connection refused
            storage.backend(primary).stat(some_key)
        assert not isinstance(refused.value, ObjectNotFound)
        assert fetch_all(client, user, images) == original
        assert not storage.health.healthy("s3-primary")
        listed = endpoints(client)
        assert listed["s3-primary"]["healthy"] is False and listed["s3-primary"]["health_error"]
        # the platform stays writable: a new upload lands on the backup
        during = upload(client, user, 9)
        images.append(during)
        assert fetch_all(client, user, [during])

        # -- it comes back and catches up ---------------------------------------------------
        primary_server.start()
        assert endpoints(client)["s3-primary"]["healthy"] is True  # probed again (max_age=0)
        replicate(storage)
        objects += 2
        listed = endpoints(client)
        assert {e: (v["objects"], v["pending"]) for e, v in listed.items()} == {
            "s3-primary": (objects, 0),
            "s3-backup": (objects, 0),
            "default": (objects, 0),
        }
        original = fetch_all(client, user, images)

        # -- drain and remove it: refused while it holds an only copy, then done ------------
        late = upload(client, user, 11)  # only on the primary until replication runs
        images.append(late)
        objects += 2
        r = client.post(f"{BASE}/s3-primary/drain", headers=ADMIN)
        assert r.status_code == 200 and r.json()["state"] == "draining"
        r = client.delete(f"{BASE}/s3-primary", headers=ADMIN)
        assert r.status_code == 409, r.text
        refusal = r.json()
        assert refusal["error"] == "endpoint_holds_only_copy"
        assert refusal["details"]["objects"] == 2 and len(refusal["details"]["sample"]) == 2
        replicate(storage)  # copies what only the draining endpoint holds
        r = client.delete(f"{BASE}/s3-primary", headers=ADMIN)
        assert r.status_code == 204, r.text
        assert set(endpoints(client)) == {"s3-backup", "default"}

        primary_server.stop()  # gone for good: nothing may need it
        assert fetch_all(client, user, images) == {**original, **fetch_all(client, user, [late])}
        listed = endpoints(client)
        assert {e: (v["objects"], v["pending"]) for e, v in listed.items()} == {
            "s3-backup": (objects, 0),
            "default": (objects, 0),
        }
        # new writes go to the next endpoint in line, and deleting removes every copy
        after = upload(client, user, 12)
        assert fetch_all(client, user, [after])
        assert client.delete(f"/api/v1/tasks/{task_id}", headers=user).status_code == 204
        for image in task["result"]["images"]:
            assert client.get(image["url"], headers=user).status_code == 404
        listed = endpoints(client)
        assert listed["default"]["objects"] == objects - 4  # the task's 2 images + thumbnails
        assert listed["default"]["pending"] == 2  # `after`, to be copied to the local backup
