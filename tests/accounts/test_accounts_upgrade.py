"""An anonymous session that signs up or signs in keeps everything it made."""

from __future__ import annotations

import io
import uuid

import jwt
from accounts_support import bearer, login, new_email, register
from PIL import Image
from sqlalchemy import select

from atelier.accounts.upgrade import owner_tables
from atelier.config import Settings
from atelier.db.engine import Database
from atelier.images.models import ImageRecord
from atelier.library.models import LibraryChange, LibraryCollection, LibraryImage
from atelier.runtime import build_runtime
from atelier.tasks.models import Task, TaskEvent
from support.api import GEN, api, run_now, submit
from support.api import login as anonymous
from support.profiles import Profile


def png(seed: int) -> bytes:
    img = Image.new("RGB", (64, 48))
    img.putdata(
        [((x * 4 + seed) % 256, (y * 5) % 256, (x + y) % 256) for y in range(48) for x in range(64)]
    )
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def upload(client: object, headers: dict[str, str], seed: int = 1) -> str:
    r = client.post(  # type: ignore[attr-defined]
        "/api/v1/images", files={"file": ("p.png", png(seed), "image/png")}, headers=headers
    )
    assert r.status_code == 201, r.text
    return str(r.json()["image_id"])


def owner_token(headers: dict[str, str]) -> str:
    return headers["Authorization"].split()[1]


def session_owner(headers: dict[str, str]) -> str:
    """The owner id an anonymous session token names."""
    claims = jwt.decode(owner_token(headers), options={"verify_signature": False})
    return str(claims["sub"])


def ingest_as(settings: Settings, owner: str, seed: int) -> str:
    """Store an image for ``owner`` through the real upload path (what a worker that still
    held the old owner would write)."""
    rt = build_runtime(settings)
    try:
        return rt.images.ingest(rt.db.session, owner, png(seed)).id
    finally:
        rt.close()


def test_registering_keeps_the_sessions_tasks_and_images(profile: Profile) -> None:
    with api(profile.settings) as client:
        anon = anonymous(client)
        done = submit(client, anon)
        run_now(profile.settings, done)
        queued = submit(client, anon, prompt="a second one")
        produced = client.get(f"/api/v1/tasks/{done}", headers=anon).json()["result"]["images"]
        uploaded = upload(client, anon)

        r = client.post(
            "/api/v1/auth/register",
            json={"email": new_email(), "password": "correct horse battery"},
            headers=anon,
        )
        assert r.status_code == 201, r.text
        moved = r.json()["upgraded"]
        # (tasks: with the tag tasks the library runs on new images)
        assert moved["tasks"] >= 2 and moved["images"] == len(produced) + 1
        assert moved["task_events"] >= 3
        # the browser stops presenting the session cookie
        assert "atelier_session=" in r.headers["set-cookie"]
        assert "max-age=0" in r.headers["set-cookie"].lower()
        user = bearer(r.json())

        mine = client.get("/api/v1/tasks", headers=user).json()["items"]
        assert {t["task_id"] for t in mine} == {done, queued}
        assert client.get(f"/api/v1/tasks/{done}", headers=user).json()["status"] == "completed"
        for image in [*(i["image_id"] for i in produced), uploaded]:
            assert client.get(f"/api/v1/images/{image}", headers=user).status_code == 200
            assert client.get(f"/api/v1/images/{image}", headers=anon).status_code == 404
        # the task's history moved with it: the stream replays it for the user
        stream = client.get(f"/api/v1/tasks/{done}/stream", headers=user)
        assert stream.status_code == 200 and "completed" in stream.text
        assert client.get("/api/v1/tasks", headers=anon).json()["items"] == []
        # and the user can cancel what is still queued
        assert client.post(f"/api/v1/tasks/{queued}/cancel", headers=user).status_code == 200


def test_login_with_the_session_cookie_merges_and_frees_a_clashing_idempotency_key(
    profile: Profile,
) -> None:
    with api(profile.settings) as client:
        email = new_email()
        user = bearer(register(client, email))
        body = {"kind": "generate", "params": GEN}
        key = {"Idempotency-Key": "same-key"}
        theirs = client.post("/api/v1/tasks", json=body, headers={**user, **key}).json()
        anon = anonymous(client)
        made = client.post("/api/v1/tasks", json=body, headers={**anon, **key}).json()
        assert made["task_id"] != theirs["task_id"]

        client.cookies.set("atelier_session", owner_token(anon))
        signed = login(client, email)
        assert signed["upgraded"]["tasks"] == 1
        user = bearer(signed)
        mine = {t["task_id"] for t in client.get("/api/v1/tasks", headers=user).json()["items"]}
        assert mine == {theirs["task_id"], made["task_id"]}
        # the key still names the user's own first task
        again = client.post("/api/v1/tasks", json=body, headers={**user, **key})
        assert again.status_code == 200 and again.json()["task_id"] == theirs["task_id"]

        # signing in with no session moves nothing
        assert login(client, email)["upgraded"] is None


def test_work_written_under_the_session_after_the_move_follows_at_the_next_refresh(
    profile: Profile,
) -> None:
    """A task running while its session is merged still writes under the session; the
    user's next refresh moves it."""
    with api(profile.settings) as client:
        anon = anonymous(client)
        tokens = register(client, headers=anon)
        user = bearer(tokens)
        late = ingest_as(profile.settings, session_owner(anon), seed=3)
        assert client.get(f"/api/v1/images/{late}", headers=user).status_code == 404

        r = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 200
        assert client.get(f"/api/v1/images/{late}", headers=user).status_code == 200
        assert client.get(f"/api/v1/images/{late}", headers=anon).status_code == 404


def test_every_table_with_an_owner_moves(profile: Profile) -> None:
    names = {t.name for t in owner_tables()}
    assert {"tasks", "task_events", "images", "library_images", "library_collections"} <= names
    with api(profile.settings) as client:
        email = new_email()
        user_owner = register(client, email)["user"]["owner"]
        anon = anonymous(client)
        anon_owner = session_owner(anon)
        task = submit(client, anon)
        db = Database(profile.settings)
        try:
            held = ingest_as(profile.settings, user_owner, seed=10)
            fresh = ingest_as(profile.settings, anon_owner, seed=11)
            duplicate = ingest_as(profile.settings, anon_owner, seed=12)
            collection = str(uuid.uuid4())
            with db.session() as s:
                for image_id, owner, digest in (
                    (held, user_owner, "b" * 64),
                    (fresh, anon_owner, "a" * 64),
                    (duplicate, anon_owner, "b" * 64),  # the user's library has these bytes
                ):
                    s.add(
                        LibraryImage(
                            image_id=image_id, owner=owner, sha256=digest, phash=0, source="upload"
                        )
                    )
                s.add(LibraryCollection(id=collection, owner=anon_owner, name="trip"))
            signed = login(client, email, headers=anon)
            assert signed["upgraded"]["library_images"] == 1
            assert signed["upgraded"]["tasks"] == 1
            assert signed["upgraded"]["library_collections"] == 1
            with db.read() as s:
                owners = {
                    i: s.get(LibraryImage, i).owner  # type: ignore[union-attr]
                    for i in (held, fresh, duplicate)
                }
                assert owners == {held: user_owner, fresh: user_owner, duplicate: anon_owner}
                assert s.get(LibraryCollection, collection).owner == user_owner  # type: ignore[union-attr]
                assert s.get(ImageRecord, fresh).owner == user_owner  # type: ignore[union-attr]
                changed = set(s.scalars(select(LibraryChange.image_id)))
                assert fresh in changed  # the search indexes hear of the new owner
                assert s.get(Task, task).owner == user_owner  # type: ignore[union-attr]
                assert not s.scalars(select(Task).where(Task.owner == anon_owner)).all()
                assert not s.scalars(select(TaskEvent).where(TaskEvent.owner == anon_owner)).all()
        finally:
            db.dispose()
