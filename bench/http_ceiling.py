"""The ceiling of the HTTP stack on this machine: uvicorn + FastAPI with an endpoint that takes
the submit body (pydantic-validated) and answers like ``POST /api/v1/tasks`` while doing
nothing else. ``python -m bench.submit --ceiling`` drives it with the same load generator: no
real submit path can beat it, so it tells how much of the target the framework and the client
leave to Atelier.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Response
from pydantic import BaseModel

app = FastAPI()


class Body(BaseModel):
    kind: str
    params: dict[str, Any] = {}


@app.get("/api/v1/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/v1/tasks")
async def tasks(response: Response) -> dict[str, Any]:
    response.headers["X-Atelier-Session"] = uuid.uuid4().hex
    return {"items": [], "next_cursor": None}


@app.post("/api/v1/tasks", status_code=201)
async def create(body: Body) -> dict[str, Any]:
    return {
        "task_id": str(uuid.uuid4()),
        "status": "pending",
        "created_at": datetime.now(UTC).isoformat(),
        "queue_position": 0,
        "estimated_time": 1.0,
    }
