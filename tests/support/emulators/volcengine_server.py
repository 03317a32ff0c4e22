"""Emulator of Volcengine's image APIs: Ark (Seedream, ``{url}/api/v3``) and the Visual API
(Jimeng, ``{url}/?Action=...&Version=2022-08-31``), on one server.

Ark: ``POST /api/v3/images/generations`` with ``Authorization: Bearer``; validates the body
(model, prompt, ``WxH`` of 1024*1024-4096*4096 pixels at 1:16-16:1 or ``1K``/``2K``/``4K``,
seed, ``response_format``, ``watermark``, ``sequential_image_generation``, ``image`` as a data
URI of an image within 1:3-3:1) and answers ``{"model", "created", "data": [{"url" |
"b64_json", "size"}], "usage"}``; errors ``{"error": {"code", "message", "param", "type"}}``.

Visual: verifies the HMAC-SHA256 signature from the signing guide with its own code (canonical
request, string to sign, derived key; the access key must be known, ``x-date`` within 15
minutes, ``x-content-sha256`` the body's hash, ``host`` and ``x-date`` signed) and answers
gateway errors as ``{"ResponseMetadata": {..., "Error": {"Code", "Message"}}}``.
``CVSync2AsyncSubmitTask`` validates ``req_key``, prompt, seed, width, height and answers
``{"code": 10000, "data": {"task_id"}}``; ``CVSync2AsyncGetResult`` moves a task one state per
poll (``in_queue``, ``generating``, ``done``) and answers ``image_urls`` when ``req_json`` asks
``return_url``, else ``binary_data_base64``. Business errors are ``{"code", "message",
"request_id", "status"}`` with the documented HTTP status.

Stages: ``ark``, ``submit``, ``poll``, ``download``. Faults: ``rate_limit`` (``retry_after``),
``quota``, ``overdue``, ``auth_error``, ``content_input``, ``content_output``, ``item_error``,
``missing_fields``, ``broken_image`` on Ark; ``rate_limit``, ``concurrency``, ``content_input``,
``content_output``, ``flow_limit``, ``no_task_id``, ``task_stuck``, ``task_expired``,
``task_not_found``, ``no_images``, ``broken_image`` on the Visual API; and the common ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from PIL import Image

from support.emulators import BROKEN, Emulator, Fault, Request, Response, draw_png

ARK_MODELS = {"doubao-seedream-4-0-250828"}
ARK_FIELDS = {
    "model",
    "prompt",
    "size",
    "seed",
    "response_format",
    "watermark",
    "image",
    "sequential_image_generation",
    "sequential_image_generation_options",
    "stream",
}
PRESETS = {"1K": (1024, 1024), "2K": (2048, 2048), "4K": (4096, 4096)}
JIMENG_FIELDS = {"req_key", "prompt", "seed", "width", "height", "size", "force_single", "scale"}
VERSION = "2022-08-31"


def ark_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    kind = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 429: "TooManyRequests"}
    body = {
        "error": {
            "code": code,
            "message": f"{message} Request id: {uuid.uuid4().hex}",
            "param": "",
            "type": kind.get(status, "InternalServerError"),
        }
    }
    return Response.json(status, body, headers)


def visual_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    body = {
        "code": code,
        "message": message,
        "request_id": uuid.uuid4().hex,
        "status": code,
        "time_elapsed": "1.2ms",
        "data": None,
    }
    return Response.json(status, body, headers)


def gateway_error(status: int, code: str, message: str, action: str = "") -> Response:
    meta = {
        "RequestId": uuid.uuid4().hex,
        "Action": action,
        "Version": VERSION,
        "Service": "cv",
        "Region": "",
        "Error": {"Code": code, "Message": message},
    }
    return Response.json(status, {"ResponseMetadata": meta})


@dataclass
class JimengTask:
    task_id: str
    image: bytes
    end: str = "done"
    polls: int = 0
    flaw: str = ""


class VolcengineEmulator(Emulator):
    FAULTS = frozenset(
        {
            "rate_limit",
            "quota",
            "overdue",
            "auth_error",
            "content_input",
            "content_output",
            "item_error",
            "missing_fields",
            "broken_image",
            "concurrency",
            "flow_limit",
            "no_task_id",
            "task_stuck",
            "task_expired",
            "task_not_found",
            "no_images",
        }
    )

    def __init__(
        self,
        ark_api_key: str = "ark-emulated-key-0123456789",
        access_key: str = "AKLTemulatedaccesskey",
        secret_key: str = "emulated/secret+key==0123456789",
        region: str = "cn-north-1",
    ) -> None:
        super().__init__()
        self.ark_api_key = ark_api_key
        self.credentials = {access_key: secret_key}
        self.region = region
        self.jimeng_states = ["in_queue", "generating"]
        self.tasks: dict[str, JimengTask] = {}
        self.signature_failures = 0
        self.answer_base64 = False  # answer binary_data_base64 even when return_url is asked

    def stage(self, request: Request) -> str:
        if request.path.startswith("/api/v3/"):
            return "ark"
        return "poll" if request.query.get("Action") == "CVSync2AsyncGetResult" else "submit"

    def server_error(self, status: int, stage: str) -> Response:
        if stage == "ark":
            return ark_error(status, "InternalServiceError", "The service encountered an error.")
        return visual_error(status, 50500, "Internal Error")

    def handle(self, stage: str, request: Request, fault: Fault | None) -> Response:
        if stage == "ark":
            return self._ark(request, fault)
        problem = self.verify_signature(request)
        if problem is not None:
            self.signature_failures += 1
            return gateway_error(
                problem[0], problem[1], problem[2], request.query.get("Action", "")
            )
        return self._visual(stage, request, fault)

    # -- Ark ------------------------------------------------------------------------------------
    def _ark(self, request: Request, fault: Fault | None) -> Response:
        if request.method != "POST" or request.path != "/api/v3/images/generations":
            return ark_error(404, "NotFound", f"{request.method} {request.path} not found.")
        if request.headers.get("authorization") != f"Bearer {self.ark_api_key}":
            return ark_error(
                401, "AuthenticationError", "The API key in the request is missing or invalid."
            )
        kind = fault.kind if fault is not None else None
        simple = {
            "rate_limit": (429, "RateLimitExceeded.EndpointRPMExceeded", "RPM limit exceeded."),
            "quota": (429, "QuotaExceeded", "The request has exceeded the quota."),
            "overdue": (403, "AccountOverdueError", "Your account has an overdue balance."),
            "auth_error": (403, "AccessDenied", "You do not have access to the resource."),
            "content_input": (400, "InputTextSensitiveContentDetected", "Sensitive input text."),
            "content_output": (400, "OutputImageSensitiveContentDetected", "Sensitive output."),
        }
        if kind in simple:
            assert fault is not None
            headers = (
                {"Retry-After": str(fault.params["retry_after"])}
                if "retry_after" in fault.params
                else {}
            )
            return ark_error(*simple[kind], headers=headers)
        try:
            body = request.json()
        except ValueError:
            return ark_error(400, "InvalidParameter", "The request body is not JSON.")
        problem, size = self._check_ark(body)
        if problem:
            return ark_error(400, problem[0], problem[1])
        if kind == "missing_fields":
            return Response.json(
                200, {"model": body["model"], "created": int(time.time()), "data": []}
            )
        png = draw_png(size[0], size[1], int(body.get("seed", -1)), body["prompt"])
        png = BROKEN if kind == "broken_image" else png
        item: dict[str, Any] = {"size": f"{size[0]}x{size[1]}"}
        if kind == "item_error":
            item = {
                "error": {
                    "code": "OutputImageSensitiveContentDetected",
                    "message": "Sensitive output.",
                }
            }
        elif body.get("response_format", "url") == "b64_json":
            item["b64_json"] = base64.b64encode(png).decode()
        else:
            item["url"] = self.put_file(png, ".jpeg")
        usage = {"generated_images": 1, "output_tokens": 4096, "total_tokens": 4096}
        answer = {
            "model": body["model"],
            "created": int(time.time()),
            "data": [item],
            "usage": usage,
        }
        return Response.json(200, answer, {"x-request-id": uuid.uuid4().hex})

    def _check_ark(self, body: Any) -> tuple[tuple[str, str] | None, tuple[int, int]]:
        def bad(field: str, why: str) -> tuple[tuple[str, str], tuple[int, int]]:
            return (f"InvalidParameter.{field}" if field else "InvalidParameter", why), (0, 0)

        if not isinstance(body, dict):
            return bad("", "The body must be an object.")
        if unknown := set(body) - ARK_FIELDS:
            return bad(sorted(unknown)[0], "Unknown parameter.")
        if body.get("model") not in ARK_MODELS:
            return (
                "InvalidEndpointOrModel.NotFound",
                f"The model {body.get('model')} does not exist.",
            ), (0, 0)
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            return ("MissingParameter", "prompt is required."), (0, 0)
        size = body.get("size", "2K")
        if size in PRESETS:
            width, height = PRESETS[size]
        else:
            try:
                width, height = (int(v) for v in str(size).split("x"))
            except ValueError:
                return bad("size", "size must be 1K, 2K, 4K or WxH.")
        if not 1024 * 1024 <= width * height <= 4096 * 4096 or not 1 / 16 <= width / height <= 16:
            return bad("size", "size out of range.")
        seed = body.get("seed", -1)
        if not isinstance(seed, int) or not -1 <= seed <= 2147483647:
            return bad("seed", "seed out of range.")
        if body.get("response_format", "url") not in ("url", "b64_json"):
            return bad("response_format", "response_format is url or b64_json.")
        if not isinstance(body.get("watermark", True), bool):
            return bad("watermark", "watermark is a boolean.")
        if body.get("sequential_image_generation", "disabled") not in ("auto", "disabled"):
            return bad("sequential_image_generation", "auto or disabled.")
        if "image" in body:
            image = _data_uri_image(body["image"])
            if image is None or not 1 / 3 <= image.width / image.height <= 3:
                return bad("image", "image must be a data URI of an image within 1:3-3:1.")
        return None, (width, height)

    # -- Visual: signature --------------------------------------------------------------------
    def verify_signature(self, request: Request) -> tuple[int, str, str] | None:
        """``None`` when the request is signed as the guide says, else (status, code, message).
        Written from the signing guide, independently of the provider's signer."""
        auth = request.headers.get("authorization", "")
        if not auth:
            return 401, "MissingAuthenticationToken", "Request is missing Authentication Token."
        algorithm, _, rest = auth.partition(" ")
        fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
        if algorithm != "HMAC-SHA256" or {"Credential", "SignedHeaders", "Signature"} - set(fields):
            return 401, "MissingSignature", "The request is missing a signature."
        access_key, _, scope = fields["Credential"].partition("/")
        if access_key not in self.credentials:
            return 401, "InvalidAccessKey", f"The accesskey [{access_key}] is invalid."
        x_date = request.headers.get("x-date", "")
        try:
            sent = datetime.strptime(x_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return 400, "InvalidTimestamp", "The x-date header is malformed."
        if abs((datetime.now(UTC) - sent).total_seconds()) > 900:
            return 400, "InvalidTimestamp", "The signature of the request is expired."
        if scope != f"{x_date[:8]}/{self.region}/cv/request":
            return 401, "SignatureDoesNotMatch", f"Bad credential scope {scope}."
        signed = fields["SignedHeaders"].split(";")
        if "host" not in signed or "x-date" not in signed or signed != sorted(signed):
            return 401, "SignatureDoesNotMatch", "host and x-date must be signed, sorted."
        payload_hash = hashlib.sha256(request.body).hexdigest()
        if request.headers.get("x-content-sha256", payload_hash) != payload_hash:
            return 401, "SignatureDoesNotMatch", "x-content-sha256 is not the body's hash."
        pairs = sorted((k, v) for k, v in request.query.items())
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)
        headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed)
        canonical = (
            f"POST\n{request.path or '/'}\n{query}\n{headers}\n{';'.join(signed)}\n{payload_hash}"
        )
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        string_to_sign = f"HMAC-SHA256\n{x_date}\n{scope}\n{digest}"
        key = self.credentials[access_key].encode()
        for part in (x_date[:8], self.region, "cv", "request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if request.method != "POST" or not hmac.compare_digest(expected, fields["Signature"]):
            return (
                401,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match.",
            )
        return None

    # -- Visual: tasks --------------------------------------------------------------------------
    def _visual(self, stage: str, request: Request, fault: Fault | None) -> Response:
        if request.query.get("Version") != VERSION or request.query.get("Action") not in (
            "CVSync2AsyncSubmitTask",
            "CVSync2AsyncGetResult",
        ):
            return gateway_error(404, "InvalidActionOrVersion", "Could not find the operation.")
        kind = fault.kind if fault is not None else None
        simple = {
            "rate_limit": (429, 50429, "Request Has Reached API Limit, Please Try Later"),
            "concurrency": (429, 50430, "Request Has Reached API Concurrent Limit"),
            "content_input": (400, 50412, "Text Risk Not Pass"),
            "content_output": (400, 50511, "Post Img Risk Not Pass"),
        }
        if kind in simple:
            assert fault is not None
            headers = (
                {"Retry-After": str(fault.params["retry_after"])}
                if "retry_after" in fault.params
                else {}
            )
            return visual_error(*simple[kind], headers=headers)
        if kind == "flow_limit":
            return gateway_error(429, "FlowLimitExceeded", "Flow limit exceeded.")
        try:
            body = request.json()
        except ValueError:
            return visual_error(400, 50400, "Invalid request body")
        if stage == "poll":
            return self._poll(body, kind)
        return self._submit(body, kind)

    def _submit(self, body: Any, kind: str | None) -> Response:
        if not isinstance(body, dict) or set(body) - JIMENG_FIELDS:
            return visual_error(400, 50400, "Invalid parameter: unknown field")
        if (
            body.get("req_key") != "jimeng_t2i_v40"
            or not isinstance(body.get("prompt"), str)
            or not body["prompt"]
        ):
            return visual_error(400, 50400, "Invalid parameter: req_key or prompt")
        width, height = body.get("width"), body.get("height")
        if not isinstance(width, int) or not isinstance(height, int):
            return visual_error(400, 50400, "Invalid parameter: width and height")
        if not 1024 * 1024 <= width * height <= 4096 * 4096 or not 1 / 16 <= width / height <= 16:
            return visual_error(400, 50400, "Invalid parameter: size out of range")
        seed = body.get("seed", -1)
        if not isinstance(seed, int) or not -1 <= seed <= 2147483647:
            return visual_error(400, 50400, "Invalid parameter: seed")
        task = JimengTask(
            str(self.next_id() * 7919 + 10**15), draw_png(width, height, seed, body["prompt"])
        )
        end = {"task_stuck": "generating", "task_expired": "expired", "task_not_found": "not_found"}
        task.end = end.get(kind or "", "done")
        task.flaw = kind if kind in ("no_images", "broken_image") else ""
        self.tasks[task.task_id] = task
        data = {} if kind == "no_task_id" else {"task_id": task.task_id}
        return Response.json(
            200,
            {
                "code": 10000,
                "data": data,
                "message": "Success",
                "request_id": uuid.uuid4().hex,
                "status": 10000,
            },
        )

    def _poll(self, body: Any, kind: str | None) -> Response:
        if not isinstance(body, dict) or body.get("req_key") != "jimeng_t2i_v40":
            return visual_error(400, 50400, "Invalid parameter: req_key")
        task = self.tasks.get(str(body.get("task_id")))
        if task is None:
            data: dict[str, Any] = {
                "status": "not_found",
                "image_urls": None,
                "binary_data_base64": None,
            }
            return Response.json(
                200, {"code": 10000, "data": data, "message": "Success", "status": 10000}
            )
        task.polls += 1
        data = {"status": task.end, "image_urls": None, "binary_data_base64": None}
        if task.polls <= len(self.jimeng_states) or task.end == "generating":
            data["status"] = self.jimeng_states[min(task.polls, len(self.jimeng_states)) - 1]
        elif task.end == "done" and task.flaw != "no_images":
            png = BROKEN if task.flaw == "broken_image" else task.image
            options = json.loads(body.get("req_json") or "{}")
            if options.get("return_url") and not self.answer_base64:
                data["image_urls"] = [self.put_file(png, ".jpeg")]
            else:
                data["binary_data_base64"] = [base64.b64encode(png).decode()]
        return Response.json(
            200,
            {
                "code": 10000,
                "data": data,
                "message": "Success",
                "request_id": uuid.uuid4().hex,
                "status": 10000,
            },
        )


def _data_uri_image(value: Any) -> Image.Image | None:
    if not isinstance(value, str) or not value.startswith("data:image/"):
        return None
    head, _, data = value.partition(",")
    try:
        image = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
        image.load()
    except (OSError, ValueError):
        return None
    return image if head.endswith(";base64") else None
