"""MultiStorage: writes to the primary, reads by priority and weight, health, fail-over,
deletes everywhere; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from atelier.config import Settings
from atelier.db.engine import Database
from atelier.db.migrate import upgrade
from atelier.storage import repository as repo
from atelier.storage.admin import EndpointPatch, EndpointScanPending, StorageAdmin
from atelier.storage.base import ObjectNotFound, StorageError
from atelier.storage.factory import build_storage
from atelier.storage.local import LocalStorage
from atelier.storage.models import StorageEndpoint, StorageReplica
from atelier.storage.multi import MultiStorage
from atelier.storage.replication import replicate
from support.live import wait_until
from support.multistorage import MotoServer, local_endpoint, s3_endpoint
from support.profiles import Profile

OpenMulti = Callable[..., MultiStorage]
MultiSettings = Callable[..., Settings]


def holders(storage: MultiStorage, key: str) -> dict[str, str]:
    with storage.db.read() as s:
        return repo.holders(s, key)


def backend_of(storage: MultiStorage, endpoint_id: str) -> object:
    spec = storage.endpoint(endpoint_id)
    assert spec is not None
    return storage.backend(spec)


def put_direct(storage: MultiStorage, endpoint_id: str, key: str, data: bytes) -> None:
    """Write to one endpoint behind MultiStorage's back."""
    spec = storage.endpoint(endpoint_id)
    assert spec is not None
    storage.backend(spec).put(key, data, "application/octet-stream")


def break_dir(path: Path) -> Path:
    """Make a local endpoint fail: its root becomes a file. Returns where the dir went."""
    aside = path.with_name(path.name + "-aside")
    path.rename(aside)
    path.write_bytes(b"not a directory")
    return aside


def mend_dir(path: Path, aside: Path) -> None:
    path.unlink()
    aside.rename(path)


def test_nothing_extra_configured_keeps_the_single_local_backend(
    profile: Profile, multi_settings: MultiSettings
) -> None:
    upgrade(profile.settings)
    db = Database(profile.settings)
    storage = build_storage(profile.settings, db)
    try:
        assert isinstance(storage, LocalStorage)
        storage.put("images/ab/one.png", b"png", "image/png")
        assert (profile.settings.storage_root / "images/ab/one.png").read_bytes() == b"png"
        with db.read() as s:
            assert s.scalar(select(func.count()).select_from(StorageEndpoint)) == 0
            assert s.scalar(select(func.count()).select_from(StorageReplica)) == 0
    finally:
        storage.close()
        db.dispose()


def test_writes_go_to_the_primary_and_replication_copies_them(
    open_multi: OpenMulti, tmp_path: Path
) -> None:
    storage = open_multi([local_endpoint("b", tmp_path / "b"), local_endpoint("c", tmp_path / "c")])
    assert [s.id for s in storage.endpoints()] == ["default", "b", "c"]
    stored = storage.put("images/ab/x.png", b"the bytes", "image/png")
    assert (storage.settings.storage_root / "images/ab/x.png").read_bytes() == b"the bytes"
    assert not (tmp_path / "b" / "images").exists()
    assert holders(storage, "images/ab/x.png") == {
        "default": "present",
        "b": "pending",
        "c": "pending",
    }
    assert replicate(storage) >= 2
    assert holders(storage, "images/ab/x.png") == {
        "default": "present",
        "b": "present",
        "c": "present",
    }
    for root in (tmp_path / "b", tmp_path / "c"):
        copy = LocalStorage(root)
        assert copy.get("images/ab/x.png") == b"the bytes"
        assert copy.stat("images/ab/x.png") == stored  # same etag and content type
    assert storage.get("images/ab/x.png") == b"the bytes"


def test_reads_follow_priority_then_weight(open_multi: OpenMulti, tmp_path: Path) -> None:
    storage = open_multi(
        [
            local_endpoint("heavy", tmp_path / "h", read_priority=10, read_weight=3),
            local_endpoint("light", tmp_path / "l", read_priority=10, read_weight=1),
            local_endpoint("zero", tmp_path / "z", read_priority=10, read_weight=0),
        ]
    )
    storage.put("k/obj", b"same", "text/plain")
    replicate(storage)
    for endpoint_id in ("default", "heavy", "light", "zero"):  # tell the copies apart
        put_direct(storage, endpoint_id, "k/obj", endpoint_id.encode())
    assert {storage.get("k/obj") for _ in range(30)} == {b"default"}  # priority 0 first

    storage.health.fail("default", "taken out for the test")
    served = Counter(storage.get("k/obj") for _ in range(400))
    assert set(served) == {b"heavy", b"light"}  # weight 0 only when nothing else answers
    assert 0.65 < served[b"heavy"] / 400 < 0.85  # 3 : 1

    storage.health.fail("heavy", "x")
    storage.health.fail("light", "x")
    assert storage.get("k/obj") == b"zero"


def test_an_unhealthy_endpoint_is_skipped_until_a_probe_succeeds(
    open_multi: OpenMulti, tmp_path: Path
) -> None:
    storage = open_multi([local_endpoint("b", tmp_path / "b")])
    storage.put("k/obj", b"x", "text/plain")
    replicate(storage)
    put_direct(storage, "default", "k/obj", b"from default")
    put_direct(storage, "b", "k/obj", b"from b")
    assert storage.get("k/obj") == b"from default"

    storage.health.fail("default", "marked by the test")
    assert storage.get("k/obj") == b"from b"  # skipped although it would answer
    health = storage.check_health()
    assert health["default"].healthy and health["default"].probe_ms is not None
    assert storage.get("k/obj") == b"from default"

    root = storage.settings.storage_root
    aside = break_dir(root)
    health = storage.check_health()
    assert not health["default"].healthy and health["default"].error
    assert health["b"].healthy
    assert storage.get("k/obj") == b"from b"
    mend_dir(root, aside)
    assert storage.check_health()["default"].healthy


def test_a_failing_read_falls_back_and_marks_the_endpoint(
    open_multi: OpenMulti, moto_pair: tuple[MotoServer, MotoServer], tmp_path: Path
) -> None:
    server, _ = moto_pair
    storage = open_multi(
        [
            s3_endpoint("s3", server, role="primary", read_priority=0),
            local_endpoint("default", tmp_path / "local", role="backup", read_priority=5),
        ]
    )
    storage.put("k/obj", b"bytes", "text/plain")
    assert holders(storage, "k/obj")["s3"] == "present"
    replicate(storage)
    server.stop()
    assert storage.health.healthy("s3")
    assert storage.get("k/obj") == b"bytes"  # the primary refused; the backup answered
    assert not storage.health.healthy("s3")
    assert storage.stat("k/obj").size == 5 and storage.exists("k/obj")


def test_a_lost_copy_is_read_elsewhere_and_copied_again(
    open_multi: OpenMulti, tmp_path: Path
) -> None:
    storage = open_multi([local_endpoint("b", tmp_path / "b")])
    storage.put("k/obj", b"precious", "text/plain")
    replicate(storage)
    (storage.settings.storage_root / "k/obj").unlink()  # lost behind our back
    assert storage.get("k/obj") == b"precious"
    assert holders(storage, "k/obj") == {"default": "pending", "b": "present"}
    replicate(storage)
    assert (storage.settings.storage_root / "k/obj").read_bytes() == b"precious"
    assert holders(storage, "k/obj")["default"] == "present"


def test_writes_fail_over_while_the_primary_is_broken(
    open_multi: OpenMulti, tmp_path: Path
) -> None:
    storage = open_multi([local_endpoint("b", tmp_path / "b")])
    root = storage.settings.storage_root
    root.mkdir(parents=True)
    aside = break_dir(root)
    stored = storage.put("k/new", b"written anyway", "text/plain")
    assert stored.size == len(b"written anyway")
    assert holders(storage, "k/new") == {"b": "present", "default": "pending"}
    assert not storage.health.healthy("default")
    assert storage.get("k/new") == b"written anyway"
    mend_dir(root, aside)
    storage.check_health()
    replicate(storage)
    assert (root / "k/new").read_bytes() == b"written anyway"


def test_no_endpoint_accepting_a_write_is_a_storage_error(
    open_multi: OpenMulti, tmp_path: Path
) -> None:
    storage = open_multi([])
    root = storage.settings.storage_root
    root.mkdir(parents=True)
    break_dir(root)
    with pytest.raises(StorageError, match="no storage endpoint accepted"):
        storage.put("k/x", b"x", "text/plain")
    with pytest.raises(ValueError):
        storage.put("k/" + "x" * 600, b"x", "text/plain")  # longer than the replica key column


def test_delete_removes_every_copy_and_retries_an_unreachable_one(
    open_multi: OpenMulti, moto_pair: tuple[MotoServer, MotoServer]
) -> None:
    server, _ = moto_pair
    storage = open_multi([s3_endpoint("b", server)])
    storage.put("k/gone", b"x", "text/plain")
    storage.put("k/kept", b"y", "text/plain")
    replicate(storage)
    b = backend_of(storage, "b")
    assert b.exists("k/gone")  # type: ignore[attr-defined]

    server.stop()
    storage.delete("k/gone")
    assert not (storage.settings.storage_root / "k/gone").exists()
    assert holders(storage, "k/gone") == {"b": "deleting"}
    with pytest.raises(ObjectNotFound):  # not read from where it is being deleted
        storage.get("k/gone")
    replicate(storage)  # b is unhealthy: nothing tried, nothing lost
    assert holders(storage, "k/gone") == {"b": "deleting"}

    server.start()
    assert storage.check_health()["b"].healthy
    replicate(storage)
    assert holders(storage, "k/gone") == {}
    assert not b.exists("k/gone")  # type: ignore[attr-defined]
    assert b.get("k/kept") == b"y"  # type: ignore[attr-defined]
    storage.delete("never/stored")  # idempotent


def test_settings_seed_the_table_and_the_table_owns_the_state(
    open_multi: OpenMulti, tmp_path: Path
) -> None:
    first = open_multi([local_endpoint("b", tmp_path / "b", read_priority=50)])
    admin = StorageAdmin(first.settings, first.db, first)
    admin.update("b", EndpointPatch(read_priority=7, state="draining"))
    again = open_multi([local_endpoint("b", tmp_path / "b2", read_priority=50)])
    spec = again.endpoint("b")
    assert spec is not None
    assert (spec.read_priority, spec.state) == (7, "draining")  # the admin's change stays
    assert spec.config["root"] == str((tmp_path / "b2").resolve())  # connection: the settings
    assert spec.needs_scan  # a new place may hold objects: scanned before it can be removed
    with pytest.raises(EndpointScanPending):
        admin.remove("b")
    replicate(again)
    admin.remove("b")
    third = open_multi([local_endpoint("b", tmp_path / "b", read_priority=50)])
    assert [s.id for s in third.endpoints()] == ["default"]  # removed stays removed


def test_objects_stored_before_multi_storage_are_adopted(
    profile: Profile, open_multi: OpenMulti, tmp_path: Path
) -> None:
    single = LocalStorage(profile.settings.storage_root)
    single.put("images/old/one.png", b"old one", "image/png")
    single.put("manga/t/two.webp", b"old two", "image/webp")
    storage = open_multi([local_endpoint("b", tmp_path / "b")])
    storage.check_health()  # writes the probe key, which must not be adopted
    replicate(storage)
    copy = LocalStorage(tmp_path / "b")
    assert copy.get("images/old/one.png") == b"old one"
    assert copy.stat("manga/t/two.webp").content_type == "image/webp"
    assert holders(storage, "images/old/one.png") == {"default": "present", "b": "present"}
    assert holders(storage, "atelier-health/probe") == {}
    assert all(not s.needs_scan for s in storage.refresh(force=True))


def test_draining_the_only_active_endpoint_is_refused(
    open_multi: OpenMulti, tmp_path: Path
) -> None:
    from atelier.storage.admin import LastActiveEndpoint

    storage = open_multi([local_endpoint("b", tmp_path / "b", state="down")])
    admin = StorageAdmin(storage.settings, storage.db, storage)
    with pytest.raises(LastActiveEndpoint):
        admin.drain("default")
    admin.update("b", EndpointPatch(state="active"))
    assert admin.drain("default").state == "draining"
    storage.put("k/after-drain", b"x", "text/plain")
    assert holders(storage, "k/after-drain") == {"b": "present"}  # no copies to draining


def test_the_health_monitor_probes_in_the_background(
    multi_settings: MultiSettings, tmp_path: Path
) -> None:
    settings = multi_settings(
        [local_endpoint("b", tmp_path / "b")], ATELIER_STORAGE__HEALTH_INTERVAL="0.1"
    )
    db = Database(settings)
    storage = MultiStorage(settings, db)  # with its monitor thread
    try:
        storage.health.fail("b", "marked by the test")
        wait_until(lambda: storage.health.healthy("b"), timeout=30, what="a background probe")
        assert storage.health.get("b").probe_ms is not None
    finally:
        storage.close()
        db.dispose()
