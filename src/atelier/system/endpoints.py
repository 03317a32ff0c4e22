"""Models, system information and health."""

from __future__ import annotations

import platform
import time
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import func, select, text
from starlette.concurrency import run_in_threadpool

from atelier import __version__
from atelier.api.deps import RuntimeDep
from atelier.runtime import Runtime
from atelier.tasks.kinds import kinds
from atelier.tasks.models import Task

router = APIRouter(prefix="/api/v1", tags=["system"])
STARTED = time.time()


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


@router.get("/health")
async def health(runtime: RuntimeDep, response: Response) -> dict[str, Any]:
    """200 when the database answers; 503 otherwise."""

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
