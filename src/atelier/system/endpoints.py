"""Models, system information and health."""

from __future__ import annotations

import asyncio
import hmac
import platform
import time
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from starlette.concurrency import run_in_threadpool

from atelier import __version__
from atelier.api.deps import RuntimeDep
from atelier.errors import Unauthorized
from atelier.runtime import Runtime
from atelier.system.metrics import build_registry
from atelier.tasks.kinds import kinds
from atelier.tasks.models import Task

router = APIRouter(prefix="/api/v1", tags=["system"])
STARTED = time.time()
READY_TIMEOUT = 5.0


@router.get("/models")
def list_models(runtime: RuntimeDep) -> dict[str, Any]:
    """Every model this installation can run, with its provider kind and limits."""
    return {"models": [asdict(m) for m in runtime.providers.models()]}


def _mode(runtime: Runtime) -> dict[str, str]:
    s = runtime.settings
    return {
        "database": runtime.db.dialect,
        "broker": "embedded" if s.embedded_broker else s.broker_url.split(":", 1)[0],
        "events": s.event_backend,
        "storage": s.storage.backend,
    }


@router.get("/system/info")
def system_info(runtime: RuntimeDep) -> dict[str, Any]:
    def counts() -> dict[str, int]:
        with runtime.db.read() as session:
            rows = session.execute(select(Task.status, func.count()).group_by(Task.status)).all()
        return {status: int(n) for status, n in rows}

    return {
        "version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "uptime_seconds": round(time.time() - STARTED, 1),
        "mode": _mode(runtime),
        "task_kinds": kinds(),
        "models": [m.id for m in runtime.providers.models()],
        "tasks_by_status": counts(),
    }


metrics_router = APIRouter(tags=["system"])


@metrics_router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, 401: {"description": "bad token"}},
)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """Prometheus metrics (text exposition format): queue depth, tasks finished, success
    rate, run-time quantiles per kind and provider, failure classes, provider calls, live
    workers and their GPUs; this API process's memory and CPU, rate-limit checks let through
    while Redis was down, and submissions served on the fast path."""
    token = runtime.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("metrics need 'Authorization: Bearer <ATELIER_METRICS_TOKEN>'")
    registry = getattr(request.app.state, "metrics_registry", None)
    if registry is None:
        registry = request.app.state.metrics_registry = build_registry(runtime, request.app.state)
    body = await run_in_threadpool(generate_latest, registry)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)


@router.get("/ready")
async def ready(runtime: RuntimeDep, response: Response) -> dict[str, Any]:
    """Readiness: 200 when the database, the broker and the storage all answer, else 503
    with what failed. (`/health` is liveness: it only says the process serves.)"""

    def check_db() -> None:
        with runtime.db.read() as session:
            session.execute(text("SELECT 1"))

    def check_broker() -> None:
        with runtime.celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)

    def check_storage() -> None:
        runtime.storage.exists("ready-probe/none")

    checks: dict[str, str] = {}
    for name, check in (
        ("database", check_db),
        ("broker", check_broker),
        ("storage", check_storage),
    ):
        try:
            await asyncio.wait_for(run_in_threadpool(check), READY_TIMEOUT)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    response.status_code = 200 if ok else 503
    return {"status": "ready" if ok else "not_ready", "checks": checks}


@router.get("/health")
async def health(runtime: RuntimeDep, response: Response) -> dict[str, Any]:
    """Liveness, with the database: 200 when it answers; 503 otherwise. Orchestrators that
    must not restart a process because of a database outage probe `/ready` for traffic and
    this for life."""

    def check_db() -> None:
        with runtime.db.read() as session:
            session.execute(text("SELECT 1"))

    checks: dict[str, str] = {}
    try:
        await run_in_threadpool(check_db)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    response.status_code = 200 if ok else 503
    return {"status": "ok" if ok else "degraded", "version": __version__, "checks": checks}
