"""Signed webhooks (Standard Webhooks), retried with backoff, logged per delivery, and never
sent to private addresses unless allowed.

The message id (``<task id>.<event seq>``) stays the same across retries so a receiver can
drop duplicates.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import logging
import socket
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from atelier.config import Settings
from atelier.db.base import utcnow
from atelier.errors import ValidationFailed
from atelier.tasks.models import Task
from atelier.webhooks.models import WebhookDelivery

if TYPE_CHECKING:
    from atelier.runtime import Runtime
    from atelier.tasks.lifecycle import Event

log = logging.getLogger(__name__)
TASK_NAME = "atelier.deliver_webhook"


class Blocked(Exception):
    pass


def signing_secret(settings: Settings) -> str:
    configured = settings.webhooks.secret.get_secret_value()
    if configured:
        return configured
    digest = hashlib.sha256(b"atelier-webhooks:" + settings.secret_key.get_secret_value().encode())
    return "whsec_" + base64.b64encode(digest.digest()).decode()


def check_url(url: str) -> str:
    """Syntax check at submission: an absolute http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(
            "webhook_url must be an absolute http or https URL", details={"field": "webhook_url"}
        )
    return url


def check_address(url: str, allow_private: bool) -> None:
    """Every address the host resolves to must be public (unless allowed)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ConnectionError(f"cannot resolve {host}: {exc}") from None
    if allow_private:
        return
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not addr.is_global:
            raise Blocked(f"{host} resolves to a non-public address ({addr})")


def payload(task: Task, event_type: str) -> str:
    from atelier.tasks.service import to_out

    data = to_out(task, None, None).model_dump(mode="json")
    return json.dumps(
        {"type": f"task.{event_type}", "timestamp": utcnow().isoformat(), "data": data},
        separators=(",", ":"),
    )


def schedule(runtime: Runtime, task: Task, event: Event) -> None:
    """After a terminal event committed: queue the webhook, if the task has one."""
    if not task.webhook_url:
        return
    message_id = f"{task.id}.{event.seq}"
    _send(runtime, task.id, event.type, message_id, attempt=1, countdown=None)


def _send(
    runtime: Runtime,
    task_id: str,
    event_type: str,
    message_id: str,
    attempt: int,
    countdown: float | None,
) -> None:
    try:
        runtime.celery.send_task(
            TASK_NAME,
            args=[task_id, event_type, message_id, attempt],
            queue="cpu",
            countdown=countdown,
            ignore_result=True,
        )
    except Exception:
        log.exception("could not queue webhook %s", message_id)


def deliver(runtime: Runtime, task_id: str, event_type: str, message_id: str, attempt: int) -> str:
    """One delivery attempt; returns its outcome and schedules the next attempt if needed."""
    settings = runtime.settings.webhooks
    with runtime.db.read() as s:
        task = s.get(Task, task_id)
    if task is None or not task.webhook_url:
        return "dropped"
    url = task.webhook_url
    body = payload(task, event_type)
    status: int | None = None
    error: str | None = None
    began = time.monotonic()
    try:
        check_address(url, settings.allow_private)
        signer = Webhook(signing_secret(runtime.settings))
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": "Atelier-Webhooks/1",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(message_id, now, body),
        }
        with httpx.Client(timeout=settings.timeout, follow_redirects=False) as client:
            response = client.post(url, content=body.encode(), headers=headers)
        status = response.status_code
        outcome = "delivered" if 200 <= status < 300 else "retrying"
        if outcome != "delivered":
            error = f"HTTP {status}"
    except Blocked as exc:
        outcome, error = "blocked", str(exc)
    except (httpx.HTTPError, ConnectionError, OSError) as exc:
        outcome, error = "retrying", f"{type(exc).__name__}: {exc}"[:500]
    if outcome == "retrying" and attempt >= settings.max_attempts:
        outcome = "failed"
    with runtime.db.session() as s:
        s.add(
            WebhookDelivery(
                task_id=task_id,
                message_id=message_id,
                event_type=event_type,
                url=url,
                attempt=attempt,
                outcome=outcome,
                status_code=status,
                error=error,
                duration_ms=int((time.monotonic() - began) * 1000),
                created_at=utcnow(),
            )
        )
    if outcome == "retrying":
        from atelier.worker.runner import backoff

        delay = backoff(settings.retry_base_delay, settings.retry_max_delay, attempt)
        _send(runtime, task_id, event_type, message_id, attempt + 1, countdown=delay)
    log.info("webhook %s attempt %d: %s %s", message_id, attempt, outcome, error or "")
    return outcome
