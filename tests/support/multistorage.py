"""Helpers for multi-endpoint storage tests: endpoint definitions, and moto S3 servers that a
test can stop and start again on the same port.

Each :class:`MotoServer` is a moto server (moto's own WSGI application on werkzeug, as
``moto_server`` runs it) listening on 127.0.0.1. It answers one request per connection
(HTTP/1.0), so that once stopped it refuses every request at once instead of going on serving
kept-alive connections. Moto keeps its data in this process, so a server started again still
has its buckets, as a real server coming back from a network outage would; each test endpoint
has a bucket of its own and reaches it only through its own server.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server


class _OneRequestPerConnection(MotoRequestHandler):  # type: ignore[misc]
    protocol_version = "HTTP/1.0"

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class MotoServer:
    def __init__(self) -> None:
        self.port = 0
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> MotoServer:
        assert self._server is None, "already running"
        app = DomainDispatcherApplication(create_backend_app)
        server = make_server(
            "127.0.0.1",
            self.port,
            app,
            threaded=True,
            request_handler=_OneRequestPerConnection,
        )
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: every later connection is refused."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()


ADMIN_TOKEN = "admin-token-for-tests"
FAST_STORAGE = {
    "ATELIER_STORAGE__HEALTH_INTERVAL": "3600",  # tests probe when they mean to
    "ATELIER_STORAGE__REFRESH_INTERVAL": "0.2",
    "ATELIER_STORAGE__REPLICATION__RETRY_BASE_DELAY": "0.05",
    "ATELIER_STORAGE__REPLICATION__RETRY_MAX_DELAY": "0.2",
    "ATELIER_ADMIN_TOKEN": ADMIN_TOKEN,
}


def s3_endpoint(endpoint_id: str, server: MotoServer, **fields: Any) -> dict[str, Any]:
    """An ``s3`` endpoint definition on a bucket of its own, failing fast when down."""
    return {
        "id": endpoint_id,
        "type": "s3",
        "s3": {
            "endpoint_url": server.url,
            "bucket": f"{endpoint_id}-{uuid.uuid4().hex[:12]}",
            "access_key_id": "testing",
            "secret_access_key": "testing",
            "create_bucket": True,
            "connect_timeout": 1,
            "read_timeout": 5,
            "max_attempts": 1,
        },
        **fields,
    }


def local_endpoint(endpoint_id: str, root: Path, **fields: Any) -> dict[str, Any]:
    return {"id": endpoint_id, "type": "local", "root": str(root), **fields}
