"""The Celery application: one task, ``atelier.run_task(task_id)``; all state is in the DB."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.utils import uuid

from atelier.config import Settings
from atelier.worker import embedded_broker

log = logging.getLogger(__name__)
TASK_NAME = "atelier.run_task"
#: ``library``: the library's background work (tagging, re-embedding), apart from ``cpu`` so
#: that it never queues ahead of, or holds back (fair dispatch), what a person is waiting for
LIBRARY_QUEUE = "library"
QUEUES = ("cpu", "gpu", LIBRARY_QUEUE)
RETRY_POLICY = {"max_retries": 2, "interval_start": 0.1, "interval_step": 0.5}


def create_celery(settings: Settings) -> Celery:
    embedded_broker.register()
    transport_options: dict[str, Any] = {}
    url = settings.broker_url
    if settings.embedded_broker:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        transport_options["polling_interval"] = settings.queue.poll_interval
    elif url.startswith(("redis://", "rediss://")):
        # Redis redelivers an unacknowledged message after this long; Atelier's own recovery
        # sweep (task leases) acts much sooner, so this is only a backstop.
        transport_options["visibility_timeout"] = 3600
    app = Celery("atelier", broker=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue="cpu",
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options,
        broker_pool_limit=64,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=not settings.embedded_broker,
        task_create_missing_queues=True,
    )

    @app.task(name=TASK_NAME, ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
    def run_task(task_id: str) -> None:
        from atelier.worker.runner import execute, get_runtime

        execute(get_runtime(), task_id)

    @app.task(name="atelier.deliver_webhook", ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
    def deliver_webhook(task_id: str, event_type: str, message_id: str, attempt: int) -> None:
        from atelier.webhooks.service import deliver
        from atelier.worker.runner import get_runtime

        deliver(get_runtime(), task_id, event_type, message_id, attempt)

    return app


def enqueue(
    app: Celery,
    task_id: str,
    queue: str,
    countdown: float | None = None,
    producer: Any = None,
) -> bool:
    """Send a task to the broker. A failure is logged, not raised: the task row is committed
    and the recovery sweep sends it again."""
    try:
        app.send_task(
            TASK_NAME,
            args=[task_id],
            queue=queue,
            countdown=countdown if countdown and countdown > 0 else None,
            ignore_result=True,
            retry=True,
            retry_policy=RETRY_POLICY,
            producer=producer,
        )
    except Exception:
        log.exception("could not enqueue task %s; the recovery sweep will resend it", task_id)
        return False
    return True


def enqueue_many(app: Celery, items: list[tuple[str, str]]) -> None:
    """Send many tasks (id, queue) in one go: on the embedded broker one multi-row INSERT, on
    Redis one pipeline (kombu's ``Producer.batch``); RabbitMQ publishes them one by one. A
    failure is logged: the recovery sweep sends those tasks again."""
    try:
        with app.producer_or_acquire() as producer, producer.batch(max_size=len(items)):
            for task_id, queue in items:
                # what ``send_task`` does, minus its per-call routing and option merging:
                # Celery's own message (protocol 2) to the queue's own exchange, declared once
                headers, properties, body, _ = app.amqp.as_task_v2(
                    uuid(), TASK_NAME, args=[task_id], kwargs={}, ignore_result=True
                )
                target = app.amqp.queues[queue]
                producer.publish(
                    body,
                    exchange=target.exchange,
                    routing_key=target.routing_key,
                    declare=[target],
                    serializer="json",
                    headers=headers,
                    retry=True,
                    retry_policy=RETRY_POLICY,
                    **properties,
                )
    except Exception:
        log.exception("could not enqueue %d tasks; the recovery sweep will resend them", len(items))
