"""One owner can never read, list, stream, cancel or delete another's tasks or images."""

from __future__ import annotations

from support.api import api, login, run_now, submit
from support.profiles import Profile


def test_every_endpoint_hides_other_owners_work(profile: Profile) -> None:
    with api(profile.settings) as client:
        alice = login(client)
        bob = login(client)
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
