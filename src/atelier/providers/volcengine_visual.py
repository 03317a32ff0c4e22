"""``volcengine_visual``: Jimeng text-to-image on the Volcengine Visual API (async tasks, signed).

Wire format (Volcengine "Jimeng 4.0" Visual API reference and the OpenAPI signing guide):

- every call is ``POST {visual_base_url}/?Action=...&Version=2022-08-31`` with a JSON body,
  signed with HMAC-SHA256 ("V4"): the canonical request is method, path, canonical query (keys
  sorted, RFC 3986 encoded), canonical headers (``host``, ``x-content-sha256``, ``x-date``,
  lower-case ``name:value`` lines), the signed header names and the body's SHA-256; the string
  to sign is ``HMAC-SHA256\\n{x-date}\\n{date}/{region}/cv/request\\n{sha256(canonical)}``; the
  key is HMAC(HMAC(HMAC(HMAC(secret, date), region), "cv"), "request"); the header is
  ``Authorization: HMAC-SHA256 Credential={ak}/{scope}, SignedHeaders=..., Signature=...``;
- ``CVSync2AsyncSubmitTask`` ``{"req_key", "prompt", "seed", "width", "height",
  "force_single": true}`` answers ``{"code": 10000, "data": {"task_id"}, "message",
  "request_id"}``;
- ``CVSync2AsyncGetResult`` ``{"req_key", "task_id", "req_json": "{\\"return_url\\":true}"}``
  answers ``data.status`` ``in_queue`` | ``generating`` | ``done`` (with ``image_urls`` or
  ``binary_data_base64``) | ``not_found`` | ``expired``; polled every ``poll_interval`` s up to
  ``max_wait`` (then ProviderTimeout).

One task per image (``force_single``), seeds ``seed + i``. Progress: per task ``in_queue`` 1,
``generating`` 2, done 3, of ``3 * n``. Sizes: ``jimeng_t2i_v40`` takes 1024*1024 to 4096*4096
pixels (as Seedream), older ``req_key`` versions 512-2048 px a side. Text-to-image only: the
documented image inputs are public URLs (``image_urls``), which this service cannot offer.

Business codes (HTTP 400/429/500 or in the body): 50411/50412/50413/50511/50512 (risk checks
on input image, input text, output image/text) -> ContentRejected; 50429/50430 (QPS and
concurrency limits) -> RateLimited; 50500/50501 -> Upstream5xx. Gateway errors
(``ResponseMetadata.Error.Code``): ``SignatureDoesNotMatch``/``InvalidAccessKey``/
``MissingAuthenticationToken``/``MissingSignature``/``InvalidTimestamp``/``AccessDenied``/
``LackPolicy`` -> AuthFailed; ``FlowLimitExceeded``/429 -> RateLimited; 5xx -> Upstream5xx;
other 4xx -> InvalidRequest. ``not_found``/``expired`` tasks and malformed answers raise a
transient Upstream5xx. The secret key is never sent, logged or shown in ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from PIL import Image

from atelier.config import VolcengineSettings
from atelier.providers.base import (
    GeneratedImage,
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
    RateLimited,
    Upstream5xx,
)
from atelier.providers.remote_http import (
    HTTPProvider,
    clean,
    decode_b64,
    fetch_image,
    json_or_none,
    new_client,
    retry_after,
    send,
)
from atelier.providers.volcengine_ark import area_size

log = logging.getLogger(__name__)

NAME = "volcengine_visual"
MODEL_ID = "jimeng"
SERVICE = "cv"
VERSION = "2022-08-31"
SIGNED_HEADERS = ("host", "x-content-sha256", "x-date")
MAX_IMAGES = 4
MAX_SEED = 2**31 - 1
STAGES = {"in_queue": 1, "generating": 2}
CONTENT = frozenset({50411, 50412, 50413, 50511, 50512})
RATE = frozenset({50429, 50430})
GATEWAY_AUTH = frozenset(
    {
        "SignatureDoesNotMatch",
        "InvalidAccessKey",
        "MissingAuthenticationToken",
        "MissingSignature",
        "InvalidTimestamp",
        "AccessDenied",
        "LackPolicy",
    }
)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(
    *,
    method: str,
    host: str,
    path: str,
    query: dict[str, str],
    body: bytes,
    access_key: str,
    secret_key: str,
    region: str,
    now: datetime,
) -> dict[str, str]:
    """The headers that sign one Visual API request (``Authorization`` among them)."""
    x_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = x_date[:8]
    body_hash = hashlib.sha256(body).hexdigest()
    headers = {"host": host, "x-content-sha256": body_hash, "x-date": x_date}
    canonical = "\n".join(
        [
            method,
            path,
            canonical_query(query),
            "".join(f"{name}:{headers[name].strip()}\n" for name in SIGNED_HEADERS),
            ";".join(SIGNED_HEADERS),
            body_hash,
        ]
    )
    scope = f"{date}/{region}/{SERVICE}/request"
    to_sign = "\n".join(
        ["HMAC-SHA256", x_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(_hmac(secret_key.encode(), date), region), SERVICE), "request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Host": host,
        "X-Date": x_date,
        "X-Content-Sha256": body_hash,
        "Authorization": f"HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(SIGNED_HEADERS)}, Signature={signature}",
    }


def canonical_query(query: dict[str, str]) -> str:
    return "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())
    )


def jimeng_size(req_key: str, width: int, height: int) -> tuple[int, int]:
    if req_key.endswith(("v30", "v31")):
        scale = min(1.0, 2048 / max(width, height))
        scale = max(scale, 512 / min(width, height)) if min(width, height) * scale < 512 else scale
        return min(2048, max(512, round(width * scale))), min(2048, max(512, round(height * scale)))
    return area_size(width, height)


def classify(code: int | str, status: int | None) -> type[ProviderError]:
    if code in CONTENT:
        return ContentRejected
    if code in RATE or code == "FlowLimitExceeded" or status == 429:
        return RateLimited
    if code in GATEWAY_AUTH or status in (401, 403):
        return AuthFailed
    if status is not None and 400 <= status < 500:
        return InvalidRequest
    return Upstream5xx


class VolcengineVisualProvider(HTTPProvider):
    name = NAME

    def __init__(
        self,
        settings: VolcengineSettings,
        timeout: float = 60,
        max_wait: float = 180,
        poll_interval: float = 1.0,
    ) -> None:
        self.settings = settings
        self.base_url = settings.visual_base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self._host = parts.netloc
        self._path = parts.path or "/"
        self.max_wait = max_wait
        self.poll_interval = poll_interval
        self._client = new_client(timeout)

    def __repr__(self) -> str:
        return (
            f"VolcengineVisualProvider(base_url={self.base_url!r}, "
            f"req_key={self.settings.jimeng_req_key!r})"
        )

    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                id=MODEL_ID,
                provider=NAME,
                kind="remote",
                description=f"Jimeng ({self.settings.jimeng_req_key}) on the Volcengine "
                "Visual API; one task per image.",
                max_width=4096,
                max_height=4096,
                max_images=MAX_IMAGES,
                supports_negative_prompt=False,
            )
        ]

    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult:
        secret = self.settings.secret_access_key.get_secret_value()
        if not self.settings.access_key_id or not secret:
            raise NotConfigured("volcengine_visual: no access key is configured", provider=NAME)
        req_key = self.settings.jimeng_req_key
        if request.model not in (None, MODEL_ID, req_key):
            raise InvalidRequest(f"{NAME} does not offer model {request.model!r}", provider=NAME)
        n = request.num_images
        if not 1 <= n <= MAX_IMAGES:
            raise InvalidRequest(f"jimeng makes 1 to {MAX_IMAGES} images, not {n}", provider=NAME)
        width, height = jimeng_size(req_key, request.width, request.height)
        images, task_ids = [], []
        for i in range(n):

            def progress(stage: int, i: int = i) -> None:
                if on_progress is not None:
                    on_progress(3 * i + stage, 3 * n)

            seed = (request.seed + i) % (MAX_SEED + 1)
            task = {"req_key": req_key, "prompt": request.prompt, "seed": seed}
            task |= {"width": width, "height": height, "force_single": True}
            task_id, data = self._task(secret, task, progress)
            images.append(GeneratedImage(self._first_image(data, secret), request.seed + i))
            task_ids.append(task_id)
            progress(3)
        metadata = {"upstream_model": req_key, "task_id": ",".join(task_ids)}
        return TextToImageResult(tuple(images), provider=NAME, model=MODEL_ID, metadata=metadata)

    # -- helpers --------------------------------------------------------------------------------
    def _task(
        self, secret: str, task: dict[str, Any], progress: Callable[[int], None]
    ) -> tuple[str, dict[str, Any]]:
        """Submit one task and poll it until ``done``: its id and the last ``data``."""
        task_id = self._call(secret, "CVSync2AsyncSubmitTask", task).get("task_id")
        if not isinstance(task_id, str | int) or task_id == "":
            raise Upstream5xx(f"{NAME}: bad response: no data.task_id", provider=NAME)
        log.debug("volcengine_visual: task %s submitted", task_id)
        query = {"req_key": task["req_key"], "task_id": str(task_id)}
        query["req_json"] = '{"return_url":true}'
        deadline = time.monotonic() + self.max_wait
        while True:
            data = self._call(secret, "CVSync2AsyncGetResult", query)
            status = data.get("status")
            if status == "done":
                return str(task_id), data
            if status in ("not_found", "expired"):
                raise Upstream5xx(f"{NAME}: task {task_id} is {status}", provider=NAME)
            if status not in STAGES:
                raise Upstream5xx(f"{NAME}: bad response: task status {status!r}", provider=NAME)
            progress(STAGES[status])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProviderTimeout(
                    f"{NAME}: task {task_id} still {status} after {self.max_wait:g}s",
                    provider=NAME,
                )
            time.sleep(min(self.poll_interval, remaining))

    def _first_image(self, data: dict[str, Any], secret: str) -> Image.Image:
        urls, blobs = data.get("image_urls"), data.get("binary_data_base64")
        if isinstance(urls, list) and urls and isinstance(urls[0], str):
            return fetch_image(self._client, urls[0], NAME, secret)
        if isinstance(blobs, list) and blobs and isinstance(blobs[0], str):
            return decode_b64(blobs[0], NAME)
        raise Upstream5xx(f"{NAME}: bad response: a done task without images", provider=NAME)

    def _call(self, secret: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One signed call; returns ``data`` of a ``code == 10000`` answer or raises."""
        query = {"Action": action, "Version": VERSION}
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = sign(
            method="POST",
            host=self._host,
            path=self._path,
            query=query,
            body=body,
            access_key=self.settings.access_key_id,
            secret_key=secret,
            region=self.settings.region,
            now=datetime.now(UTC),
        )
        headers["Content-Type"] = "application/json"
        url = f"{self.base_url}{'' if self._path.endswith('/') else '/'}?{canonical_query(query)}"
        response = send(
            self._client,
            "POST",
            url,
            what=action,
            provider=NAME,
            secret=secret,
            content=body,
            headers=headers,
        )
        answer = json_or_none(response)
        if not isinstance(answer, dict):
            if response.status_code >= 400:
                raise classify("", response.status_code)(
                    f"{NAME} HTTP {response.status_code} on {action}", provider=NAME
                )
            raise Upstream5xx(f"{NAME}: bad response to {action}: not JSON", provider=NAME)
        meta = answer.get("ResponseMetadata")
        error = meta.get("Error") if isinstance(meta, dict) else None
        code: int | str | None = answer.get("code")
        message = answer.get("message")
        if isinstance(error, dict):
            code, message = str(error.get("Code") or ""), error.get("Message")
        if response.status_code < 400 and code == 10000:
            data = answer.get("data")
            if not isinstance(data, dict):
                raise Upstream5xx(f"{NAME}: bad response to {action}: no data", provider=NAME)
            return data
        if response.status_code < 400 and code is None:
            raise Upstream5xx(f"{NAME}: bad response to {action}: no code", provider=NAME)
        status = response.status_code if response.status_code >= 400 else None
        text = f"{NAME} {action} HTTP {response.status_code} {code}: "
        text += clean(str(message or ""), secret)
        kind = classify(code if code is not None else "", status)
        if kind is RateLimited:
            raise RateLimited(text, retry_after=retry_after(response.headers), provider=NAME)
        raise kind(text, provider=NAME)
