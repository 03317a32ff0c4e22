"""``dashscope``: Alibaba Cloud Model Studio (DashScope) Tongyi Wanxiang, asynchronous tasks.

Wire format (Model Studio "text-to-image V2", "wanx2.1-imageedit" and "manage asynchronous
tasks" API references):

- text-to-image: ``POST {base_url}/services/aigc/text2image/image-synthesis`` with headers
  ``X-DashScope-Async: enable`` and ``Authorization: Bearer``, body ``{"model", "input":
  {"prompt", "negative_prompt"}, "parameters": {"size": "W*H", "n", "seed"}}``;
- image-to-image (``edit_model``, default ``wanx2.1-imageedit``): ``POST .../image2image/
  image-synthesis``, ``input`` ``{"function": "description_edit" | "description_edit_with_mask",
  "prompt", "base_image_url", "mask_image_url"}`` as PNG data URIs (mask white = repaint, the
  image's size), ``parameters`` ``{"n", "seed", "strength"}``; results have the input's size;
- both answer ``{"output": {"task_id", "task_status"}, "request_id"}``; then ``GET
  {base_url}/tasks/{task_id}`` is polled every ``poll_interval`` seconds until ``task_status``
  is SUCCEEDED (``output.results[]`` hold ``url``, or ``code``/``message`` for a failed
  sub-task: the others are returned), FAILED, CANCELED or UNKNOWN (``output.code``,
  ``output.message``). Past ``max_wait`` the call raises ProviderTimeout.
- HTTP failures answer ``{"code", "message", "request_id"}``.

Sizes: wan2.x / wanx2.x text-to-image models take 512-1440 px a side; a request is scaled
into that box keeping its aspect ratio where possible. 1-4 images; image ``i`` is reported
with seed ``seed + i`` (assumed: the API documents one seed per request).

Codes: ``DataInspectionFailed``/``data_inspection_failed``/``IPInfringementSuspect`` ->
ContentRejected; ``Arrearage``/``AllocationQuota.*`` -> QuotaExhausted; ``Throttling*``/429 ->
RateLimited (``Retry-After`` if sent); ``InvalidApiKey``/``AccessDenied*``/401/403 ->
AuthFailed; ``InvalidParameter*``/``BadRequest*``/``InvalidURL``/other 4xx -> InvalidRequest;
``RequestTimeOut``/408 -> ProviderTimeout; ``InternalError*``, 5xx, CANCELED, UNKNOWN and
unknown task codes -> Upstream5xx. Malformed answers raise a transient Upstream5xx ("bad
response"). Progress is reported at every poll: PENDING 1/3, RUNNING 2/3, images fetched 3/3.
The key never appears in messages, logs or ``repr``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
from PIL import Image

from atelier.config import DashScopeSettings
from atelier.providers.base import (
    GeneratedImage,
    ImageResult,
    ImageToImageRequest,
    ModelInfo,
    ProgressCallback,
    TextToImageRequest,
    TextToImageResult,
)
from atelier.providers.errors import (
    AuthFailed,
    ContentRejected,
    InvalidRequest,
    NotConfigured,
    ProviderError,
    ProviderTimeout,
    QuotaExhausted,
    RateLimited,
    Upstream5xx,
)
from atelier.providers.remote_http import (
    HTTPProvider,
    clean,
    data_uri,
    fetch_image,
    json_or_none,
    new_client,
    retry_after,
    send,
)

log = logging.getLogger(__name__)

NAME = "dashscope"
MODEL_ID = "wanx"
T2I_PATH = "/services/aigc/text2image/image-synthesis"
I2I_PATH = "/services/aigc/image2image/image-synthesis"
SIDE = (512, 1440)  # text-to-image, per side
EDIT_SIDE = (512, 4096)  # image edit input, per side
MAX_IMAGES = 4
MAX_SEED = 2**31 - 1
STAGES = {"PENDING": 1, "RUNNING": 2}
CONTENT = frozenset({"DataInspectionFailed", "data_inspection_failed", "IPInfringementSuspect"})


def fit(width: int, height: int, lo: int, hi: int) -> tuple[int, int]:
    """``width`` x ``height`` scaled into [lo, hi] a side, keeping the aspect ratio if it can."""
    scale = min(1.0, hi / max(width, height))
    scale = max(scale, lo / min(width, height)) if min(width, height) * scale < lo else scale
    return (min(hi, max(lo, round(width * scale))), min(hi, max(lo, round(height * scale))))


def classify(code: str, status: int | None) -> type[ProviderError]:
    if code in CONTENT or code.startswith("DataInspection"):
        return ContentRejected
    if code == "Arrearage" or code.startswith("AllocationQuota"):
        return QuotaExhausted
    if code.startswith("Throttling") or status == 429:
        return RateLimited
    if code in ("InvalidApiKey",) or code.startswith("AccessDenied") or status in (401, 403):
        return AuthFailed
    if code == "RequestTimeOut" or status == 408:
        return ProviderTimeout
    if code.startswith(("InvalidParameter", "BadRequest", "InvalidURL")):
        return InvalidRequest
    if status is not None and 400 <= status < 500:
        return InvalidRequest
    return Upstream5xx


class DashScopeProvider(HTTPProvider):
    name = NAME

    def __init__(
        self,
        settings: DashScopeSettings,
        timeout: float = 60,
        max_wait: float = 180,
        edit_model: str = "wanx2.1-imageedit",
    ) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self.max_wait = max_wait
        self.edit_model = edit_model
        self._client = new_client(timeout)

    def __repr__(self) -> str:
        return (
            f"DashScopeProvider(base_url={self.base_url!r}, model={self.settings.model!r}, "
            f"edit_model={self.edit_model!r})"
        )

    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                id=MODEL_ID,
                provider=NAME,
                kind="remote",
                capabilities=("text_to_image", "image_to_image"),
                description=f"Tongyi Wanxiang {self.settings.model} (edits: {self.edit_model}); "
                f"{SIDE[0]}-{SIDE[1]} px a side.",
                max_width=SIDE[1],
                max_height=SIDE[1],
                max_images=MAX_IMAGES,
            )
        ]

    # -- capabilities ---------------------------------------------------------------------------
    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult:
        key = self._prepare(request.model, request.num_images)
        width, height = fit(request.width, request.height, *SIDE)
        prompt: dict[str, Any] = {"prompt": request.prompt}
        if request.negative_prompt:
            prompt["negative_prompt"] = request.negative_prompt
        body = {
            "model": self.settings.model,
            "input": prompt,
            "parameters": {
                "size": f"{width}*{height}",
                "n": request.num_images,
                "seed": request.seed % (MAX_SEED + 1),
            },
        }
        return self._run(key, T2I_PATH, body, self.settings.model, request.seed, on_progress)

    def image_to_image(
        self, request: ImageToImageRequest, on_progress: ProgressCallback | None = None
    ) -> ImageResult:
        key = self._prepare(request.model, request.num_images)
        size = fit(
            request.width or request.image.width,
            request.height or request.image.height,
            *EDIT_SIDE,
        )
        image = request.image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
        params: dict[str, Any] = {
            "n": request.num_images,
            "seed": request.seed % (MAX_SEED + 1),
        }
        inputs = {"prompt": request.prompt, "base_image_url": data_uri(image)}
        if request.mask is not None:
            mask = request.mask.convert("L").resize(size).point(lambda v: 255 if v >= 128 else 0)
            inputs |= {"function": "description_edit_with_mask", "mask_image_url": data_uri(mask)}
        else:
            inputs["function"] = "description_edit"
            params["strength"] = min(1.0, max(0.0, request.strength))
        body = {"model": self.edit_model, "input": inputs, "parameters": params}
        return self._run(key, I2I_PATH, body, self.edit_model, request.seed, on_progress)

    # -- the task -------------------------------------------------------------------------------
    def _run(
        self,
        key: str,
        path: str,
        body: dict[str, Any],
        model: str,
        seed: int,
        on_progress: ProgressCallback | None,
    ) -> TextToImageResult:
        headers = {"X-DashScope-Async": "enable"}
        submitted = self._json(self._send(key, "POST", path, json=body, headers=headers))
        output = submitted.get("output")
        task_id = output.get("task_id") if isinstance(output, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise Upstream5xx("dashscope: bad response: no output.task_id", provider=NAME)
        log.debug("dashscope: task %s submitted (%s)", task_id, model)
        answer = self._wait(key, task_id, on_progress)
        results = answer["output"].get("results")
        if not isinstance(results, list) or not results:
            raise Upstream5xx("dashscope: bad response: no output.results", provider=NAME)
        urls = [r["url"] for r in results if isinstance(r, dict) and isinstance(r.get("url"), str)]
        if not urls:
            raise self._task_error(task_id, "SUCCEEDED", results[0], key)
        images = tuple(
            GeneratedImage(fetch_image(self._client, url, NAME, key), seed + i)
            for i, url in enumerate(urls)
        )
        if on_progress is not None:
            on_progress(3, 3)
        metadata = {"upstream_model": model, "task_id": task_id}
        if isinstance(answer.get("request_id"), str):
            metadata["request_id"] = answer["request_id"]
        if len(urls) < len(results):
            metadata["partial"] = f"{len(urls)}/{len(results)}"
        return TextToImageResult(images, provider=NAME, model=MODEL_ID, metadata=metadata)

    def _wait(self, key: str, task_id: str, on_progress: ProgressCallback | None) -> dict[str, Any]:
        """Poll the task until it succeeds (its last answer) or fails, or ``max_wait`` passes."""
        deadline = time.monotonic() + self.max_wait
        while True:
            answer = self._json(self._send(key, "GET", f"/tasks/{task_id}"))
            output = answer.get("output")
            if not isinstance(output, dict):
                raise Upstream5xx("dashscope: bad response: no output", provider=NAME)
            status = output.get("task_status")
            if status == "SUCCEEDED":
                return answer
            if status in ("FAILED", "CANCELED", "UNKNOWN"):
                raise self._task_error(task_id, status, output, key)
            if status not in STAGES:
                raise Upstream5xx(f"dashscope: bad response: task status {status!r}", provider=NAME)
            if on_progress is not None:
                on_progress(STAGES[status], 3)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProviderTimeout(
                    f"dashscope: task {task_id} still {status} after {self.max_wait:g}s",
                    provider=NAME,
                )
            time.sleep(min(self.settings.poll_interval, remaining))

    def _task_error(self, task_id: str, status: str, output: Any, key: str) -> ProviderError:
        if not isinstance(output, dict):
            output = {}
        code = str(output.get("code") or "")
        message = clean(str(output.get("message") or ""), key)
        return classify(code, None)(
            f"dashscope: task {task_id} {status} {code}: {message}", provider=NAME
        )

    # -- HTTP -----------------------------------------------------------------------------------
    def _prepare(self, model: str | None, n: int) -> str:
        key = self.settings.api_key.get_secret_value()
        if not key:
            raise NotConfigured("dashscope: no API key is configured", provider=NAME)
        if model not in (None, MODEL_ID, self.settings.model, self.edit_model):
            raise InvalidRequest(f"dashscope does not offer model {model!r}", provider=NAME)
        if not 1 <= n <= MAX_IMAGES:
            raise InvalidRequest(
                f"dashscope makes 1 to {MAX_IMAGES} images, not {n}", provider=NAME
            )
        return key

    def _send(
        self, key: str, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}", **(headers or {})}
        url = self.base_url + path
        response = send(
            self._client, method, url, what=path, provider=NAME, secret=key, headers=headers, **kw
        )
        if response.status_code >= 400:
            payload = json_or_none(response)
            if not isinstance(payload, dict):
                payload = {"message": response.text}
            code = str(payload.get("code") or "")
            text = (
                f"dashscope HTTP {response.status_code} {code}: "
                f"{clean(str(payload.get('message') or ''), key)}"
            )
            kind = classify(code, response.status_code)
            if kind is RateLimited:
                raise RateLimited(text, retry_after=retry_after(response.headers), provider=NAME)
            raise kind(text, provider=NAME)
        return response

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        payload = json_or_none(response)
        if not isinstance(payload, dict):
            raise Upstream5xx("dashscope: bad response: not a JSON object", provider=NAME)
        return payload
