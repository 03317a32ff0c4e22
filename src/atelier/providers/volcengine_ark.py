"""``volcengine_ark``: Volcengine Ark (Doubao) Seedream 4.0 images API, synchronous.

Wire format (Ark "image generation API" reference and Ark error-code list):

- ``POST {ark_base_url}/images/generations`` with ``Authorization: Bearer {ark_api_key}``,
  JSON ``{"model", "prompt", "size": "WxH", "seed", "sequential_image_generation":
  "disabled", "response_format": "url" | "b64_json", "watermark": false}`` plus ``"image":
  "data:image/png;base64,..."`` for image-to-image;
- answers ``{"model", "created", "data": [{"url" | "b64_json", "size"}], "usage"}`` (an item
  may instead carry ``{"error": {"code", "message"}}``); failures answer ``{"error": {"code",
  "message", "param", "type"}}``.

One call yields one image, so ``num_images`` makes that many calls with seeds ``seed + i``,
reporting ``on_progress(i + 1, n)`` after each. Sizes: Seedream 4.0 takes a total of 1024*1024
to 4096*4096 pixels at an aspect ratio within 1:16-16:1, so a request is scaled up or down into
that range keeping its aspect ratio (512x512 becomes 1024x1024). The API has no negative prompt,
strength or mask: masks are ignored (recorded in the result's metadata). ``seed`` is sent as
documented for Seedream 3.0; 4.0 may ignore it (assumed).

Codes: ``*SensitiveContentDetected*``/``*RiskDetection`` -> ContentRejected; ``QuotaExceeded``/
``AccountOverdueError`` -> QuotaExhausted (even on HTTP 429); ``RateLimitExceeded*``/
``ServerOverloaded``/429 -> RateLimited (``Retry-After`` if sent); ``AuthenticationError``/
``AccessDenied``/401/403 -> AuthFailed; ``InternalServiceError``/
``ContentSecurityDetectionError``/5xx -> Upstream5xx; other 4xx -> InvalidRequest. Malformed
answers raise a transient Upstream5xx ("bad response"). The key never appears in messages,
logs or ``repr``.

The module also holds :func:`area_size`, the Seedream size rule the Jimeng provider shares.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import httpx
from PIL import Image

from atelier.config import VolcengineSettings
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
    decode_b64,
    fetch_image,
    json_or_none,
    new_client,
    retry_after,
    send,
)

log = logging.getLogger(__name__)

NAME = "volcengine_ark"
MODEL_ID = "seedream"
MIN_AREA, MAX_AREA, MAX_RATIO = 1024 * 1024, 4096 * 4096, 16.0
MAX_IMAGES = 8
MAX_SEED = 2**31 - 1


# -- the size rule shared by the Volcengine providers ----------------------------------------------
def area_size(width: int, height: int) -> tuple[int, int]:
    """``width`` x ``height`` scaled into MIN_AREA-MAX_AREA pixels at an aspect of 1:16-16:1."""
    ratio = min(MAX_RATIO, max(1 / MAX_RATIO, width / height))
    if ratio == width / height and MIN_AREA <= width * height <= MAX_AREA:
        return width, height
    area = min(MAX_AREA, max(MIN_AREA, width * height))
    w = math.sqrt(area * ratio)
    h = w / ratio
    size = round(w), round(h)
    if size[0] * size[1] < MIN_AREA:
        size = math.ceil(w), math.ceil(h)
    elif size[0] * size[1] > MAX_AREA:
        size = math.floor(w), math.floor(h)
    return size


def classify(code: str, status: int | None) -> type[ProviderError]:
    if "SensitiveContentDetected" in code or code.endswith("RiskDetection"):
        return ContentRejected
    if code.startswith(("QuotaExceeded", "AccountOverdue")):
        return QuotaExhausted
    if code.startswith(("RateLimitExceeded", "ServerOverloaded")) or status == 429:
        return RateLimited
    if code in ("AuthenticationError", "AccessDenied") or status in (401, 403):
        return AuthFailed
    if status == 408:
        return ProviderTimeout
    if status is not None and 400 <= status < 500 and code != "ContentSecurityDetectionError":
        return InvalidRequest
    return Upstream5xx


# -- the provider ---------------------------------------------------------------------------------
class VolcengineArkProvider(HTTPProvider):
    name = NAME

    def __init__(
        self, settings: VolcengineSettings, timeout: float = 60, response_format: str = "url"
    ) -> None:
        if response_format not in ("url", "b64_json"):
            raise ValueError("response_format is 'url' or 'b64_json'")
        self.settings = settings
        self.base_url = settings.ark_base_url.rstrip("/")
        self.response_format = response_format
        self._client = new_client(timeout)

    def __repr__(self) -> str:
        return (
            f"VolcengineArkProvider(base_url={self.base_url!r}, model={self.settings.ark_model!r})"
        )

    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                id=MODEL_ID,
                provider=NAME,
                kind="remote",
                capabilities=("text_to_image", "image_to_image"),
                description=f"Seedream on Volcengine Ark ({self.settings.ark_model}); "
                "1024*1024 to 4096*4096 pixels, aspect 1:16 to 16:1.",
                max_width=4096,
                max_height=4096,
                max_images=MAX_IMAGES,
                supports_negative_prompt=False,
            )
        ]

    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult:
        key = self._prepare(request.model, request.num_images)
        size = area_size(request.width, request.height)
        return self._generate(key, request.prompt, size, request, None, on_progress)

    def image_to_image(
        self, request: ImageToImageRequest, on_progress: ProgressCallback | None = None
    ) -> ImageResult:
        key = self._prepare(request.model, request.num_images)
        size = area_size(
            request.width or request.image.width, request.height or request.image.height
        )
        image = data_uri(request.image.convert("RGB"))
        result = self._generate(key, request.prompt, size, request, image, on_progress)
        if request.mask is not None:
            result.metadata["mask"] = "ignored"
        return result

    # -- helpers --------------------------------------------------------------------------------
    def _prepare(self, model: str | None, n: int) -> str:
        key = self.settings.ark_api_key.get_secret_value()
        if not key:
            raise NotConfigured("volcengine_ark: no Ark API key is configured", provider=NAME)
        if model not in (None, MODEL_ID, self.settings.ark_model):
            raise InvalidRequest(f"volcengine_ark does not offer model {model!r}", provider=NAME)
        if not 1 <= n <= MAX_IMAGES:
            raise InvalidRequest(f"seedream makes 1 to {MAX_IMAGES} images, not {n}", provider=NAME)
        return key

    def _generate(
        self,
        key: str,
        prompt: str,
        size: tuple[int, int],
        request: TextToImageRequest | ImageToImageRequest,
        image: str | None,
        on_progress: ProgressCallback | None,
    ) -> TextToImageResult:
        images: list[GeneratedImage] = []
        request_ids: list[str] = []
        for i in range(request.num_images):
            seed = (request.seed + i) % (MAX_SEED + 1)
            body: dict[str, Any] = {
                "model": self.settings.ark_model,
                "prompt": prompt,
                "size": f"{size[0]}x{size[1]}",
                "seed": seed,
                "sequential_image_generation": "disabled",
                "response_format": self.response_format,
                "watermark": False,
            }
            if image is not None:
                body["image"] = image
            log.debug("volcengine_ark: image %d/%d at %dx%d", i + 1, request.num_images, *size)
            response = self._post(key, body)
            images.append(GeneratedImage(self._image(response, key), request.seed + i))
            if rid := response.headers.get("x-request-id"):
                request_ids.append(rid)
            if on_progress is not None:
                on_progress(i + 1, request.num_images)
        metadata = {"upstream_model": self.settings.ark_model}
        if request_ids:
            metadata["request_id"] = ",".join(request_ids)
        return TextToImageResult(tuple(images), provider=NAME, model=MODEL_ID, metadata=metadata)

    def _post(self, key: str, body: dict[str, Any]) -> httpx.Response:
        path = "/images/generations"
        response = send(
            self._client,
            "POST",
            self.base_url + path,
            what=path,
            provider=NAME,
            secret=key,
            json=body,
            headers={"Authorization": f"Bearer {key}"},
        )
        if response.status_code >= 400:
            payload = json_or_none(response)
            error = payload.get("error") if isinstance(payload, dict) else None
            raise self._error(error, response.status_code, response.headers, key)
        return response

    def _error(
        self, error: Any, status: int | None, headers: httpx.Headers | None, key: str
    ) -> ProviderError:
        if not isinstance(error, dict):
            error = {}
        code = str(error.get("code") or "")
        where = f"HTTP {status}" if status is not None else "image"
        text = f"volcengine_ark {where} {code}: {clean(str(error.get('message') or ''), key)}"
        kind = classify(code, status)
        if kind is RateLimited:
            wait = retry_after(headers) if headers is not None else None
            return RateLimited(text, retry_after=wait, provider=NAME)
        return kind(text, provider=NAME)

    def _image(self, response: httpx.Response, key: str) -> Image.Image:
        try:
            payload = response.json()
            item = payload["data"][0]
            if not isinstance(item, dict):
                raise TypeError("data[0] is not an object")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise Upstream5xx(f"volcengine_ark: bad response: {exc!r}", provider=NAME) from None
        if "error" in item:
            raise self._error(item["error"], None, None, key)
        if isinstance(item.get("b64_json"), str):
            return decode_b64(item["b64_json"], NAME)
        if isinstance(item.get("url"), str):
            return fetch_image(self._client, item["url"], NAME, key)
        raise Upstream5xx("volcengine_ark: bad response: no url or b64_json", provider=NAME)
