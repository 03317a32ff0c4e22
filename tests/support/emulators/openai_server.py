"""Emulator of the OpenAI Images API (``/v1/images/generations`` and ``/v1/images/edits``).

Checks ``Authorization: Bearer``; validates bodies per model family (sizes, ``n`` ranges,
``response_format`` refused by gpt-image models, unknown parameters refused; edits: PNG
image, a mask of the image's size with an alpha channel, dall-e-2 square and needing a mask
or transparency); answers ``{"created", "data": [{"b64_json"} | {"url"}]}`` and errors as
``{"error": {"message", "type", "param", "code"}}``. A wrong key's message quotes the key it
was given, the worst an upstream can do, so tests prove providers scrub it.

Stages: ``generations``, ``edits``, ``download``. Faults: ``rate_limit`` (``retry_after``,
``retry_after_ms`` headers), ``content_policy``, ``moderation_blocked``, ``quota``
(``insufficient_quota`` on 429), ``billing_limit``, ``missing_fields``, ``broken_image``,
``bad_base64``, ``wrong_count`` and the common ones.
"""

from __future__ import annotations

import base64
import io
import time
from typing import Any

from PIL import Image

from support.emulators import BROKEN, Emulator, Fault, Request, Response, draw_png

SIZES = {
    "gpt-image-1": {"1024x1024", "1536x1024", "1024x1536", "auto"},
    "dall-e-3": {"1024x1024", "1792x1024", "1024x1792"},
    "dall-e-2": {"256x256", "512x512", "1024x1024"},
}
MAX_N = {"gpt-image-1": 10, "dall-e-3": 1, "dall-e-2": 10}
PARAMS = {"model", "prompt", "n", "size", "quality", "user", "response_format", "style"}
GPT_PARAMS = {"background", "moderation", "output_format", "output_compression"}


def error(
    status: int,
    code: str | None,
    message: str,
    kind: str = "invalid_request_error",
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return Response.json(status, body, headers)


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """``multipart/form-data`` fields: name -> (filename or None, bytes)."""
    boundary = content_type.split("boundary=", 1)[1].strip().strip('"').encode()
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        disposition = next(
            line
            for line in head.decode().split("\r\n")
            if line.lower().startswith("content-") and "disposition" in line.lower()
        )
        params = dict(p.strip().split("=", 1) for p in disposition.split(";")[1:] if "=" in p)
        name = params["name"].strip('"')
        filename = params["filename"].strip('"') if "filename" in params else None
        fields[name] = (filename, data.removesuffix(b"\r\n"))
    return fields


class OpenAIEmulator(Emulator):
    FAULTS = frozenset(
        {
            "rate_limit",
            "content_policy",
            "moderation_blocked",
            "quota",
            "billing_limit",
            "missing_fields",
            "broken_image",
            "bad_base64",
            "wrong_count",
        }
    )

    def __init__(self, api_key: str = "sk-emulated-openai-key-0123456789") -> None:
        super().__init__()
        self.api_key = api_key
        self.answer_with_urls = False  # as OpenAI-compatible servers that ignore b64_json
        self.edits: list[dict[str, Any]] = []  # decoded inputs of accepted edit requests

    def stage(self, request: Request) -> str:
        return request.path.rsplit("/", 1)[-1]

    def server_error(self, status: int, stage: str) -> Response:
        return error(
            status, None, "The server had an error processing your request.", "server_error"
        )

    def handle(self, stage: str, request: Request, fault: Fault | None) -> Response:
        if request.method != "POST" or stage not in ("generations", "edits"):
            return error(404, None, f"Invalid URL ({request.method} {request.path})")
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        if presented != self.api_key:
            return error(401, "invalid_api_key", f"Incorrect API key provided: {presented}.")
        if fault is not None and (answer := self._fault(fault)) is not None:
            return answer
        if stage == "generations":
            try:
                body = request.json()
            except ValueError:
                return error(400, None, "We could not parse the JSON body.")
            if not isinstance(body, dict):
                return error(400, None, "The body must be an object.")
            params, image_size = body, None
        else:
            fields = parse_multipart(request.headers.get("content-type", ""), request.body)
            params = {k: v[1].decode() for k, v in fields.items() if v[0] is None}
            if "n" in params:
                params["n"] = int(params["n"]) if params["n"].isdigit() else params["n"]
            answer, image_size = self._check_edit(params, fields)
            if answer is not None:
                return answer
        answer = self._check(params, stage)
        if answer is not None:
            return answer
        return self._images(params, image_size, fault)

    def _fault(self, fault: Fault) -> Response | None:
        kind = fault.kind
        if kind == "rate_limit":
            headers = {}
            if "retry_after" in fault.params:
                headers["retry-after"] = str(fault.params["retry_after"])
            if "retry_after_ms" in fault.params:
                headers["retry-after-ms"] = str(fault.params["retry_after_ms"])
            return error(
                429, "rate_limit_exceeded", "Rate limit reached.", "requests", headers=headers
            )
        if kind == "content_policy":
            return error(400, "content_policy_violation", "Rejected by our safety system.")
        if kind == "moderation_blocked":
            return error(400, "moderation_blocked", "Rejected.", "image_generation_user_error")
        if kind == "quota":
            return error(
                429, "insufficient_quota", "You exceeded your quota.", "insufficient_quota"
            )
        if kind == "billing_limit":
            return error(400, "billing_hard_limit_reached", "Billing hard limit has been reached.")
        if kind == "missing_fields":
            return Response.json(200, {"created": int(time.time())})
        return None  # answered while drawing: broken_image, bad_base64, wrong_count

    def _check(self, params: dict[str, Any], stage: str) -> Response | None:
        model = params.get("model", "dall-e-2")
        if model not in SIZES:
            return error(
                404, "model_not_found", f"The model '{model}' does not exist.", param="model"
            )
        allowed = PARAMS | (GPT_PARAMS if model.startswith("gpt-image") else set())
        if model.startswith("gpt-image"):
            allowed = allowed - {"response_format", "style"}
        unknown = sorted(set(params) - allowed - {"image", "mask"})
        if unknown:
            return error(
                400, "unknown_parameter", f"Unknown parameter: '{unknown[0]}'.", param=unknown[0]
            )
        prompt = params.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return error(400, None, "prompt is required.", param="prompt")
        n = params.get("n", 1)
        if not isinstance(n, int) or not 1 <= n <= MAX_N[model]:
            return error(400, "invalid_value", f"Invalid 'n': {n!r}.", param="n")
        if params.get("size", "1024x1024") not in SIZES[model]:
            return error(400, "invalid_value", f"Invalid size for {model}.", param="size")
        if params.get("response_format", "url") not in ("url", "b64_json"):
            return error(400, "invalid_value", "Invalid response_format.", param="response_format")
        if stage == "edits" and model == "dall-e-3":
            return error(400, "invalid_value", "dall-e-3 does not support edits.", param="model")
        return None

    def _check_edit(
        self, params: dict[str, Any], fields: dict[str, tuple[str | None, bytes]]
    ) -> tuple[Response | None, tuple[int, int] | None]:
        def bad(message: str, param: str) -> tuple[Response, None]:
            return error(400, "invalid_image", message, param=param), None

        file = fields.get("image") or fields.get("image[]")
        if file is None or file[0] is None:
            return bad("image is required as a file.", "image")
        try:
            image = Image.open(io.BytesIO(file[1]))
            image.load()
        except OSError:
            return bad("Invalid image file.", "image")
        if image.format != "PNG":
            return bad("Uploaded image must be a PNG.", "image")
        model = params.get("model", "dall-e-2")
        if model == "dall-e-2" and (image.width != image.height or len(file[1]) > 4 << 20):
            return bad("Uploaded image must be a square PNG under 4 MB.", "image")
        mask = None
        if "mask" in fields:
            try:
                mask = Image.open(io.BytesIO(fields["mask"][1]))
                mask.load()
            except OSError:
                return bad("Invalid mask file.", "mask")
            if mask.size != image.size or mask.format != "PNG" or "A" not in mask.getbands():
                return bad("The mask must be a PNG with alpha, of the image's size.", "mask")
        elif model == "dall-e-2" and "A" not in image.getbands():
            return bad("Without a mask the image must have transparency.", "image")
        self.edits.append({"image": image, "mask": mask, "params": params})
        return None, image.size

    def _images(
        self, params: dict[str, Any], image_size: tuple[int, int] | None, fault: Fault | None
    ) -> Response:
        model = params.get("model", "dall-e-2")
        size = params.get("size", "1024x1024")
        if size == "auto":
            width, height = image_size or (1024, 1024)
        else:
            width, height = (int(v) for v in size.split("x"))
        n = int(params.get("n", 1))
        if fault is not None and fault.kind == "wrong_count":
            n += 1
        b64 = model.startswith("gpt-image") or params.get("response_format") == "b64_json"
        data = []
        for i in range(n):
            png = draw_png(width, height, i, params["prompt"])
            if fault is not None and fault.kind == "broken_image":
                png = BROKEN
            if fault is not None and fault.kind == "bad_base64":
                data.append({"b64_json": "%%% not base64 %%%"})
            elif b64 and not self.answer_with_urls:
                data.append({"b64_json": base64.b64encode(png).decode()})
            else:
                data.append({"url": self.put_file(png)})
        headers = {"x-request-id": f"req_{self.next_id()}"}
        return Response.json(200, {"created": int(time.time()), "data": data}, headers)
