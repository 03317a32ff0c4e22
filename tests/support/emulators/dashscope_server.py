"""Emulator of DashScope's asynchronous Tongyi Wanxiang API (base URL ``{url}/api/v1``).

``POST /api/v1/services/aigc/text2image/image-synthesis`` (wan2.x text-to-image) and
``POST /api/v1/services/aigc/image2image/image-synthesis`` (``wanx2.1-imageedit``) need
``X-DashScope-Async: enable`` and ``Authorization: Bearer``; bodies are validated (model,
prompt, ``W*H`` sizes of 512-1440 a side, ``n`` 1-4, ``seed`` 0-2147483647; edits: function,
PNG/JPEG data URIs of 512-4096 px, a mask of the image's size); answers ``{"output": {"task_id",
"task_status": "PENDING"}, "request_id"}``. ``GET /api/v1/tasks/{id}`` moves a task one state
per poll (PENDING, RUNNING, SUCCEEDED by default: see ``states``) and answers
``output.results[].url`` (PNG files it serves) or ``output.code``/``message`` on failure.
Errors are ``{"code", "message", "request_id"}``.

Stages: ``submit``, ``poll``, ``download``. Faults: ``rate_limit`` (429
``Throttling.RateQuota``, ``retry_after``), ``content_policy`` (400 ``DataInspectionFailed``),
``arrearage`` (400 ``Arrearage``), ``no_task_id``; at submit, how the task will end:
``task_failed`` (``code``, ``message``), ``task_canceled``, ``task_stuck`` (never finishes),
``partial`` (the last sub-task fails), ``no_results``, ``broken_image``; at poll:
``unknown_task``; and the common ones.
"""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from support.emulators import BROKEN, Emulator, Fault, Request, Response, draw_png

T2I = "/api/v1/services/aigc/text2image/image-synthesis"
I2I = "/api/v1/services/aigc/image2image/image-synthesis"
T2I_MODELS = {"wanx2.1-t2i-turbo", "wanx2.1-t2i-plus", "wan2.2-t2i-flash", "wan2.2-t2i-plus"}
EDIT_FUNCTIONS = {"description_edit", "description_edit_with_mask", "stylization_all"}
TASK_FAULTS = {"task_failed", "task_canceled", "task_stuck", "partial", "no_results"}


@dataclass
class Task:
    task_id: str
    states: list[str]
    images: list[bytes]
    end: str = "SUCCEEDED"
    code: str = ""
    message: str = ""
    flaw: str = ""  # partial, no_results, broken_image
    polls: int = 0
    body: dict[str, Any] = field(default_factory=dict)


def failure(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    body = {"code": code, "message": message, "request_id": str(uuid.uuid4())}
    return Response.json(status, body, headers)


def decode_data_uri(value: Any) -> Image.Image | None:
    if not isinstance(value, str) or not value.startswith("data:image/"):
        return None
    head, _, data = value.partition(",")
    if not head.endswith(";base64"):
        return None
    try:
        image = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
        image.load()
    except (OSError, ValueError):
        return None
    return image


class DashScopeEmulator(Emulator):
    FAULTS = frozenset(
        {"rate_limit", "content_policy", "arrearage", "no_task_id", "unknown_task", "broken_image"}
        | TASK_FAULTS
    )

    def __init__(self, api_key: str = "sk-emulated-dashscope-0123456789") -> None:
        super().__init__()
        self.api_key = api_key
        self.states = ["PENDING", "RUNNING"]  # what polls see before the task ends
        self.tasks: dict[str, Task] = {}

    def stage(self, request: Request) -> str:
        return "poll" if request.path.startswith("/api/v1/tasks/") else "submit"

    def server_error(self, status: int, stage: str) -> Response:
        return failure(status, "InternalError", "An internal error has occured, please retry.")

    def handle(self, stage: str, request: Request, fault: Fault | None) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return failure(401, "InvalidApiKey", "Invalid API-key provided.")
        kind = fault.kind if fault is not None else None
        if kind == "rate_limit":
            assert fault is not None
            headers = {}
            if "retry_after" in fault.params:
                headers["Retry-After"] = str(fault.params["retry_after"])
            return failure(429, "Throttling.RateQuota", "Requests rate limit exceeded.", headers)
        if kind == "content_policy":
            return failure(
                400, "DataInspectionFailed", "Input data may contain inappropriate content."
            )
        if kind == "arrearage":
            return failure(
                400,
                "Arrearage",
                "Access denied, please make sure your account is in good standing.",
            )
        if stage == "poll":
            return self._poll(request, fault)
        return self._submit(request, fault)

    # -- submit ---------------------------------------------------------------------------------
    def _submit(self, request: Request, fault: Fault | None) -> Response:
        if request.method != "POST" or request.path not in (T2I, I2I):
            return failure(404, "NotFound", f"{request.method} {request.path} not found")
        if request.headers.get("x-dashscope-async") != "enable":
            return failure(
                403, "AccessDenied", "current user api does not support synchronous calls"
            )
        try:
            body = request.json()
        except ValueError:
            return failure(400, "InvalidParameter", "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return failure(400, "InvalidParameter", "The request body must be an object.")
        check = self._check_t2i if request.path == T2I else self._check_edit
        problem, sizes = check(body)
        if problem:
            return failure(400, "InvalidParameter", problem)
        params = body.get("parameters") or {}
        seed = int(params.get("seed", 0))
        prompt = body["input"]["prompt"]
        images = [draw_png(w, h, seed + i, prompt) for i, (w, h) in enumerate(sizes)]
        task = Task(str(uuid.uuid4()), list(self.states), images, body=body)
        kind = fault.kind if fault is not None else None
        if kind == "task_failed":
            assert fault is not None
            task.end = "FAILED"
            task.code = str(fault.params.get("code", "InternalError.Algo"))
            task.message = str(fault.params.get("message", "Algorithm process error."))
        elif kind == "task_canceled":
            task.end = "CANCELED"
        elif kind == "task_stuck":
            task.end = "RUNNING"
        elif kind in ("partial", "no_results", "broken_image"):
            task.flaw = kind
        self.tasks[task.task_id] = task
        output: dict[str, Any] = {"task_id": task.task_id, "task_status": "PENDING"}
        if kind == "no_task_id":
            del output["task_id"]
        return Response.json(200, {"output": output, "request_id": str(uuid.uuid4())})

    def _check_t2i(self, body: dict[str, Any]) -> tuple[str, list[tuple[int, int]]]:
        if body.get("model") not in T2I_MODELS:
            return f"Model not exist: {body.get('model')!r}", []
        inputs, params = body.get("input"), body.get("parameters", {})
        if not isinstance(inputs, dict) or not isinstance(inputs.get("prompt"), str):
            return "input.prompt is required", []
        if not inputs["prompt"] or set(inputs) - {"prompt", "negative_prompt"}:
            return "input must hold a prompt and an optional negative_prompt", []
        allowed = {"size", "n", "seed", "prompt_extend", "watermark"}
        if not isinstance(params, dict) or set(params) - allowed:
            return "unknown field in parameters", []
        try:
            width, height = (int(v) for v in str(params.get("size", "1024*1024")).split("*"))
        except ValueError:
            return "size must be 'W*H'", []
        if not (512 <= width <= 1440 and 512 <= height <= 1440):
            return "size must be 512-1440 a side", []
        problem = self._check_n_seed(params)
        return problem, [(width, height)] * int(params.get("n", 4))

    def _check_edit(self, body: dict[str, Any]) -> tuple[str, list[tuple[int, int]]]:
        if body.get("model") != "wanx2.1-imageedit":
            return f"Model not exist: {body.get('model')!r}", []
        inputs, params = body.get("input"), body.get("parameters", {})
        if not isinstance(inputs, dict) or inputs.get("function") not in EDIT_FUNCTIONS:
            return "input.function is required", []
        if not isinstance(inputs.get("prompt"), str) or not inputs["prompt"]:
            return "input.prompt is required", []
        image = decode_data_uri(inputs.get("base_image_url"))
        if image is None or not all(512 <= side <= 4096 for side in image.size):
            return "base_image_url must be an image of 512-4096 px a side", []
        with_mask = inputs["function"] == "description_edit_with_mask"
        if with_mask != ("mask_image_url" in inputs):
            return "mask_image_url goes with description_edit_with_mask only", []
        if with_mask:
            mask = decode_data_uri(inputs["mask_image_url"])
            if mask is None or mask.size != image.size:
                return "mask_image_url must be an image of the base image's size", []
        if not isinstance(params, dict) or set(params) - {"n", "seed", "strength", "watermark"}:
            return "unknown field in parameters", []
        strength = params.get("strength", 0.5)
        if not isinstance(strength, int | float) or not 0 <= strength <= 1:
            return "strength must be within [0, 1]", []
        problem = self._check_n_seed(params)
        return problem, [image.size] * int(params.get("n", 1))

    @staticmethod
    def _check_n_seed(params: dict[str, Any]) -> str:
        n, seed = params.get("n", 1), params.get("seed", 0)
        if not isinstance(n, int) or not 1 <= n <= 4:
            return "n must be 1-4"
        if not isinstance(seed, int) or not 0 <= seed <= 2147483647:
            return "seed must be within [0, 2147483647]"
        return ""

    # -- poll -----------------------------------------------------------------------------------
    def _poll(self, request: Request, fault: Fault | None) -> Response:
        task = self.tasks.get(request.path.removeprefix("/api/v1/tasks/"))
        if request.method != "GET":
            return failure(405, "MethodNotAllowed", "use GET")
        rid = str(uuid.uuid4())
        if task is None or (fault is not None and fault.kind == "unknown_task"):
            tid = request.path.rsplit("/", 1)[-1]
            return Response.json(
                200, {"output": {"task_id": tid, "task_status": "UNKNOWN"}, "request_id": rid}
            )
        task.polls += 1
        output: dict[str, Any] = {"task_id": task.task_id, "submit_time": "2025-01-01 00:00:00.000"}
        if task.polls <= len(task.states) or task.end == "RUNNING":
            output["task_status"] = (
                task.states[min(task.polls, len(task.states)) - 1] if task.states else "RUNNING"
            )
            return Response.json(200, {"output": output, "request_id": rid})
        output["task_status"] = task.end
        if task.end in ("FAILED", "CANCELED"):
            output |= {"code": task.code, "message": task.message}
            return Response.json(200, {"output": output, "request_id": rid})
        results: list[dict[str, Any]] = []
        for png in task.images:
            data = BROKEN if task.flaw == "broken_image" else png
            results.append(
                {"url": self.put_file(data), "orig_prompt": task.body["input"]["prompt"]}
            )
        if task.flaw == "partial":
            results[-1] = {
                "code": "DataInspectionFailed",
                "message": "Output data may contain inappropriate content.",
            }
        if task.flaw == "no_results":
            results = []
        output |= {
            "results": results,
            "task_metrics": {"TOTAL": len(task.images), "SUCCEEDED": len(results), "FAILED": 0},
        }
        return Response.json(
            200, {"output": output, "usage": {"image_count": len(results)}, "request_id": rid}
        )
