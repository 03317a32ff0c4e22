"""The embedded broker: kombu's SQLAlchemy transport on a local SQLite file.

No server to run, shared by every process on the machine. Two changes over the stock
transport: a fast polling interval (the stock one passes every transport option to
``create_engine`` and polls once a second) and SQLite pragmas for concurrent use.

A delivered message is deleted as it is taken, and one a dead worker had taken is not
restored by this transport; Atelier does not rely on
the broker for that: the recovery sweep re-delivers any task whose lease lapsed
(see ``atelier.worker.recovery``).
"""

from __future__ import annotations

from queue import Empty
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads
from sqlalchemy import create_engine, event, text

SCHEME = "embedded"
POLLING_INTERVAL = 0.05


def _pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Channel(kombu_sqla.Channel):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue_ids: dict[str, int] = {}

    def _engine_from_config(self) -> Any:
        conninfo = self.connection.client
        engine = create_engine(conninfo.hostname, connect_args={"timeout": 30})
        event.listen(engine, "connect", _pragmas)
        return engine

    def create_publish_batch(self, max_size: int) -> InsertBatch:
        """kombu's ``Producer.batch()``: messages published in the block are inserted
        together, one multi-row INSERT per flush."""
        return InsertBatch(self, max_size)

    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # One Core INSERT on a cached queue id instead of the stock ORM round trips.
        queue_id = self._queue_ids.get(queue)
        if queue_id is None:
            queue_id = self._queue_ids[queue] = self._get_or_create(queue).id
        row = {"queue_id": queue_id, "payload": dumps(message), "visible": True, "version": 1}
        batch = kwargs.get("_publish_batch")
        if isinstance(batch, InsertBatch):
            batch.add(row)
            return
        self.insert([row])

    def insert(self, rows: list[dict[str, Any]]) -> None:
        table = self.message_cls.__table__
        engine = self.session.get_bind()
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)

    def _get(self, queue: str, timeout: Any = None) -> Any:
        # The stock transport marks a delivered message invisible and keeps it for ever; here
        # it is deleted as it is taken, so the file stays small. Redelivery after a crash is
        # the task ledger's job, not the broker's.
        obj = self._get_or_create(queue)
        self.session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            msg = (
                self.session.query(self.message_cls)
                .filter(self.message_cls.queue_id == obj.id)
                .filter(self.message_cls.visible != False)  # noqa: E712
                .order_by(self.message_cls.sent_at)
                .order_by(self.message_cls.id)
                .limit(1)
                .first()
            )
            if msg is None:
                raise Empty()
            payload = msg.payload
            self.session.delete(msg)
            return loads(bytes_to_str(payload))
        finally:
            self.session.commit()


class InsertBatch:
    """A producer-scoped batch of messages for :class:`Channel` (kombu's batch protocol:
    ``publish``, ``flush``, ``discard``, ``close``, ``channel``)."""

    def __init__(self, channel: Channel, max_size: int) -> None:
        self.channel = channel
        self.max_size = max_size
        self._rows: list[dict[str, Any]] = []

    def publish(self, message: Any, **kwargs: Any) -> Any:
        return self.channel.basic_publish(message, _publish_batch=self, **kwargs)

    def add(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        if len(self._rows) >= self.max_size:
            self.flush()

    def flush(self) -> None:
        rows, self._rows = self._rows, []
        if rows:
            self.channel.insert(rows)

    def discard(self) -> None:
        self._rows = []

    def close(self) -> None:
        self._rows = []


class Transport(kombu_sqla.Transport):  # type: ignore[misc]
    Channel = Channel
    polling_interval = POLLING_INTERVAL

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        interval = client.transport_options.get("polling_interval")
        self.polling_interval = POLLING_INTERVAL if interval is None else float(interval)


def register() -> None:
    TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"
