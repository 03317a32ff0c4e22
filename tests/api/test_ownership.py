"""One owner can never read, list, stream, cancel or delete another's tasks or images."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from atelier.accounts.service import AccountService
from atelier.config import Settings
from atelier.db.engine import Database
from support.api import api, login, run_now, submit
from support.profiles import Profile

PASSWORD = "correct horse 1"


def account(client: TestClient) -> dict[str, str]:
    """A new user account, signed in, as bearer headers."""
    r = client.post(
        "/api/v1/auth/register",
        json={"email": f"{uuid.uuid4().hex[:12]}@example.com", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def admin_account(client: TestClient, settings: Settings) -> dict[str, str]:
    """A new admin (made as `atelier admin create-user --admin` does), signed in."""
    email = f"admin-{uuid.uuid4().hex[:12]}@example.com"
    db = Database(settings)
    try:
        AccountService(db, settings).create_user(email, PASSWORD, admin=True)
    finally:
        db.dispose()
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).json()["role"] == "admin"
    return headers


def api_key(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    r = client.post(
        "/api/v1/auth/api-keys", json={"name": "k", "scopes": ["read", "write"]}, headers=headers
    )
    assert r.status_code == 201, r.text
    return {"X-API-Key": r.json()["key"]}


def test_every_endpoint_hides_other_owners_work(profile: Profile) -> None:
    with api(profile.settings) as client:
        alice = login(client)
        bob = login(client)
        assert_hidden(client, profile, alice, [bob])


def test_every_endpoint_hides_other_users_work(profile: Profile) -> None:
    """The same for accounts: another user, their API key, an admin, an anonymous session
    see nothing of a user's work."""
    with api(profile.settings) as client:
        admin = admin_account(client, profile.settings)
        alice = account(client)
        bob = account(client)
        assert_hidden(client, profile, alice, [bob, api_key(client, bob), admin, login(client)])
        # and the user's own key sees it all
        mine = client.get("/api/v1/tasks", headers=api_key(client, alice)).json()["items"]
        assert len(mine) == 2


def assert_hidden(
    client: TestClient,
    profile: Profile,
    alice: dict[str, str],
    intruders: list[dict[str, str]],
) -> None:
    done = submit(client, alice)
    run_now(profile.settings, done)
    queued = submit(client, alice)
    image = client.get(f"/api/v1/tasks/{done}", headers=alice).json()["result"]["images"][0]
    image_id = image["image_id"]

    forbidden = [
        ("GET", f"/api/v1/tasks/{done}"),
        ("GET", f"/api/v1/tasks/{done}/stream"),
        ("POST", f"/api/v1/tasks/{queued}/cancel"),
        ("DELETE", f"/api/v1/tasks/{queued}"),
        ("GET", f"/api/v1/task/{done}"),
        ("DELETE", f"/api/v1/task/{done}"),
        ("DELETE", f"/api/v1/history/{done}"),
        ("GET", f"/api/v1/images/{image_id}"),
        ("GET", f"/api/v1/images/{image_id}/thumbnail"),
    ]
    ghost = "00000000-0000-4000-8000-000000000000"
    for bob in intruders:
        for method, path in forbidden:
            r = client.request(method, path, headers=bob)
            assert r.status_code == 404, (method, path, r.status_code)
            assert r.json()["error"] == "not_found"
            # indistinguishable from an id that does not exist: nothing of alice's leaks
            real_id = next(i for i in (done, queued, image_id) if i in path)
            missing = client.request(method, path.replace(real_id, ghost), headers=bob)
            assert r.text.replace(real_id, ghost) == missing.text

        assert client.get("/api/v1/tasks", headers=bob).json()["items"] == []
        assert client.get("/api/v1/history", headers=bob).json()["items"] == []
        # the Last-Event-ID / after parameters do not open another's stream either
        r = client.get(f"/api/v1/tasks/{done}/stream?after=0", headers=bob)
        assert r.status_code == 404

    # and nothing of alice's changed
    assert client.get(f"/api/v1/tasks/{queued}", headers=alice).json()["status"] == "pending"
    assert client.get(f"/api/v1/images/{image_id}", headers=alice).status_code == 200
    mine = client.get("/api/v1/tasks", headers=alice).json()["items"]
    assert {t["task_id"] for t in mine} == {done, queued}


def test_websocket_refuses_other_owners_tasks(profile: Profile) -> None:
    with api(profile.settings) as client:
        alice = login(client)
        bob = login(client)
        task_id = submit(client, alice)
        bob_token = bob["Authorization"].split()[1]
        with client.websocket_connect(f"/api/v1/ws?token={bob_token}") as ws:
            ws.send_json({"action": "subscribe", "task_ids": [task_id]})
            first = ws.receive_json()
            assert first == {"type": "error", "error": "not_found", "task_id": task_id}
            assert ws.receive_json() == {"type": "subscribed", "task_ids": [task_id]}
        alice_token = alice["Authorization"].split()[1]
        with client.websocket_connect(f"/api/v1/ws?token={alice_token}") as ws:
            ws.send_json({"action": "subscribe", "task_ids": [task_id]})
            created = ws.receive_json()
            assert created["type"] == "created" and created["task_id"] == task_id
            assert created["seq"] == 1


def test_websocket_serves_users_their_own_tasks_only(profile: Profile) -> None:
    with api(profile.settings) as client:
        alice = account(client)
        bob = account(client)
        task_id = submit(client, alice)
        bob_token = bob["Authorization"].split()[1]
        with client.websocket_connect(f"/api/v1/ws?token={bob_token}") as ws:
            ws.send_json({"action": "subscribe", "task_ids": [task_id]})
            first = ws.receive_json()
            assert first == {"type": "error", "error": "not_found", "task_id": task_id}
        alice_token = alice["Authorization"].split()[1]
        with client.websocket_connect(f"/api/v1/ws?token={alice_token}") as ws:
            ws.send_json({"action": "subscribe", "task_ids": [task_id]})
            created = ws.receive_json()
            assert created["type"] == "created" and created["task_id"] == task_id
