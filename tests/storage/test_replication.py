"""The replication job: copies with retries and backoff, new endpoints catch up, draining
moves objects away, remove waits for them; on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from atelier.config import StorageReplicationSettings
from atelier.db.base import utcnow
from atelier.storage import repository as repo
from atelier.storage.admin import (
    EndpointHoldsOnlyCopy,
    EndpointIn,
    EndpointNotDrained,
    StorageAdmin,
)
from atelier.storage.local import LocalStorage
from atelier.storage.models import StorageReplica
from atelier.storage.multi import MultiStorage
from atelier.storage.replication import backoff, replicate
from support.live import WorkerProcess, wait_until
from support.multistorage import MotoServer, local_endpoint, s3_endpoint
from support.profiles import Profile

OpenMulti = Callable[..., MultiStorage]


def replica(storage: MultiStorage, key: str, endpoint_id: str) -> StorageReplica:
    with storage.db.read() as s:
        row = s.get(StorageReplica, (key, endpoint_id))
    assert row is not None
    return row


def test_backoff_doubles_up_to_its_cap() -> None:
    cfg = StorageReplicationSettings(retry_base_delay=2.0, retry_max_delay=60.0)
    rng = random.Random(7)
    for attempt, nominal in [(1, 2.0), (2, 4.0), (3, 8.0), (5, 32.0), (6, 60.0), (30, 60.0)]:
        delay = backoff(attempt, cfg, rng)
        assert 0.8 * nominal <= delay <= 1.2 * nominal, (attempt, delay)


def test_a_copy_is_retried_with_backoff_until_the_backup_is_back(
    open_multi: OpenMulti, moto_pair: tuple[MotoServer, MotoServer]
) -> None:
    server, _ = moto_pair
    storage = open_multi(
        [s3_endpoint("b", server)],
        ATELIER_STORAGE__REPLICATION__RETRY_BASE_DELAY="0.5",
        ATELIER_STORAGE__REPLICATION__RETRY_MAX_DELAY="1",
    )
    replicate(storage)  # the backup is up: scanned (empty), nothing to copy
    server.stop()
    storage.put("k/obj", b"copy me", "text/plain")
    replicate(storage)
    row = replica(storage, "k/obj", "b")
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error
    assert row.next_attempt_at > row.updated_at  # backed off
    assert not storage.health.healthy("b")
    replicate(storage)  # the backup is known to be down: no attempt is spent on it
    assert replica(storage, "k/obj", "b").attempts == 1

    server.start()
    assert storage.check_health()["b"].healthy  # the periodic probe finds it back

    def copied() -> bool:
        replicate(storage)
        return replica(storage, "k/obj", "b").status == "present"

    wait_until(copied, timeout=30, what="the copy to succeed after the backoff")
    row = replica(storage, "k/obj", "b")
    assert row.attempts == 2 and row.last_error is None
    spec = storage.endpoint("b")
    assert spec is not None
    assert storage.backend(spec).get("k/obj") == b"copy me"


def test_a_new_endpoint_receives_every_existing_object(
    open_multi: OpenMulti, tmp_path: Path
) -> None:
    storage = open_multi([])
    for i in range(5):
        storage.put(f"k/{i}", f"object {i}".encode(), "text/plain")
    admin = StorageAdmin(storage.settings, storage.db, storage)
    view = admin.add(EndpointIn(id="late", type="local", root=str(tmp_path / "late")))
    assert (view.objects, view.pending) == (0, 0)
    replicate(storage)
    late = LocalStorage(tmp_path / "late")
    assert [late.get(f"k/{i}") for i in range(5)] == [f"object {i}".encode() for i in range(5)]
    assert admin.get("late").objects == 5
    assert replicate(storage) == 0  # nothing left to do


def test_drain_moves_objects_away_and_remove_waits_for_them(
    open_multi: OpenMulti, tmp_path: Path
) -> None:
    storage = open_multi([])
    admin = StorageAdmin(storage.settings, storage.db, storage)
    keys = [f"images/{i}.png" for i in range(3)]
    for key in keys:
        storage.put(key, key.encode(), "image/png")
    admin.add(EndpointIn(id="next", type="local", role="primary", root=str(tmp_path / "next")))
    with pytest.raises(EndpointNotDrained):
        admin.remove("default")
    assert admin.drain("default").state == "draining"
    storage.put("images/late.png", b"late", "image/png")  # written to the new primary
    with pytest.raises(EndpointHoldsOnlyCopy) as refused:
        admin.remove("default")
    assert refused.value.status_code == 409
    assert refused.value.details["objects"] == 3
    assert refused.value.details["sample"] == keys

    replicate(storage)
    admin.remove("default")
    assert [s.id for s in storage.endpoints()] == ["next"]
    old_root = storage.settings.storage_root
    old_root.rename(old_root.with_name("gone"))  # nothing reads it any more
    for key in [*keys, "images/late.png"]:
        assert storage.get(key) == (b"late" if key.endswith("late.png") else key.encode())
    with storage.db.read() as s:
        assert repo.counts(s) == {"next": {"present": 4}}


def test_a_claimed_copy_is_left_to_its_claimer(open_multi: OpenMulti, tmp_path: Path) -> None:
    """Rows are claimed (compare-and-set) before they are copied: another worker's pass
    neither claims nor copies them while the claim lasts."""
    first = open_multi([local_endpoint("b", tmp_path / "b")])
    second = open_multi([local_endpoint("b", tmp_path / "b")])
    first.put("k/one", b"1", "text/plain")
    replicate(second)  # scans and plans; copies k/one
    first.put("k/two", b"2", "text/plain")
    with first.db.read() as s:
        due = repo.due(s, ("pending", "failed"), ["b"], utcnow(), 10)
    assert [d.key for d in due] == ["k/two"]
    until = utcnow() + timedelta(seconds=60)
    with first.db.session() as s:
        assert repo.claim(s, due[0], ("pending", "failed"), until)
    with second.db.session() as s:
        assert not repo.claim(s, due[0], ("pending", "failed"), until)  # already taken
    assert replicate(second) == 0
    assert replica(second, "k/two", "b").status == "pending"
    assert not (tmp_path / "b" / "k" / "two").exists()


def test_a_worker_replicates_in_the_background(
    open_multi: OpenMulti, profile: Profile, tmp_path: Path
) -> None:
    storage = open_multi(
        [local_endpoint("b", tmp_path / "b")], ATELIER_STORAGE__REPLICATION__INTERVAL="0.2"
    )
    storage.put("k/by-the-worker", b"copied in the background", "text/plain")
    copy = tmp_path / "b" / "k" / "by-the-worker"
    with WorkerProcess(profile.process_env(), tmp_path / "worker.log"):
        wait_until(
            lambda: replica(storage, "k/by-the-worker", "b").status == "present",
            timeout=60,
            what="the worker to copy the object",
        )
    assert copy.read_bytes() == b"copied in the background"
