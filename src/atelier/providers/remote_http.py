"""HTTP plumbing shared by the remote image providers (OpenAI, DashScope, Volcengine).

Each remote provider speaks its own wire format, but they all need the same few pieces:

- an :class:`httpx.Client` per provider (:func:`new_client`), closed by :class:`HTTPProvider`;
- requests whose httpx failures land on the provider error tree (:func:`send`,
  :func:`transport_error`): timeouts -> ProviderTimeout, connection trouble ->
  ProviderNetworkError, anything else httpx raises (an undecodable body) -> Upstream5xx;
- ``Retry-After`` parsing for RateLimited (:func:`retry_after`);
- result images downloaded with a size cap and decoded to RGB/RGBA (:func:`download`,
  :func:`fetch_image`, :func:`decode_image`, :func:`decode_b64`) and request images encoded
  as PNG (:func:`png_bytes`, :func:`data_uri`);
- key scrubbing (:func:`clean`): upstream text is shown without the secret, cut to a readable
  length, so keys never reach error messages or logs.

Every message names the provider first (``"{provider}: ..."``); malformed answers raise a
transient Upstream5xx whose message contains "bad response".
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import io
import time
from typing import Any

import httpx
from PIL import Image

from atelier.providers.errors import (
    ProviderError,
    ProviderNetworkError,
    ProviderTimeout,
    Upstream5xx,
)

#: The largest result image (bytes) a provider downloads.
MAX_DOWNLOAD = 64 * 1024 * 1024
#: Upstream text kept in error messages (characters).
MAX_TEXT = 300


def new_client(timeout: float) -> httpx.Client:
    """A client with ``timeout`` seconds per read/write and 5 s to connect."""
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0))


class HTTPProvider:
    """Base of the remote providers: owns the :class:`httpx.Client` and closes it."""

    _client: httpx.Client

    def close(self) -> None:
        self._client.close()


def clean(text: str, secret: str) -> str:
    """Upstream text without the secret, cut to a readable length."""
    return (text.replace(secret, "***") if secret else text)[:MAX_TEXT]


def retry_after(headers: httpx.Headers, *, ms: bool = False) -> float | None:
    """Seconds to wait from ``retry-after`` (seconds or an HTTP date), or None.

    With ``ms``, a ``retry-after-ms`` header (milliseconds, as OpenAI sends) comes first."""
    if ms and (millis := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def transport_error(exc: httpx.HTTPError, what: str, provider: str, secret: str) -> ProviderError:
    """httpx's failures on the error tree: timeouts, connection trouble, undecodable bodies."""
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeout(f"{provider}: no answer from {what} in time", provider=provider)
    if isinstance(exc, httpx.TransportError):
        text = f"{provider}: {type(exc).__name__} on {what}: {clean(str(exc), secret)}"
        return ProviderNetworkError(text, provider=provider)
    text = f"{provider}: bad response from {what}: {type(exc).__name__}"
    return Upstream5xx(text, provider=provider)


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    what: str,
    provider: str,
    secret: str,
    **kwargs: Any,
) -> httpx.Response:
    """``client.request(method, url, **kwargs)``; httpx failures become provider errors that
    name ``what`` (a path or action, never the full URL). HTTP error statuses are returned."""
    try:
        return client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise transport_error(exc, what, provider, secret) from exc


def json_or_none(response: httpx.Response) -> Any:
    """The decoded JSON body, or None where the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def download(client: httpx.Client, url: str, provider: str, secret: str) -> bytes:
    """Fetch a result image's bytes, at most :data:`MAX_DOWNLOAD`. Sends no credentials:
    result URLs are presigned and live on other hosts. Errors name the URL without its query."""
    where = clean(url.split("?", 1)[0], secret)
    try:
        with client.stream("GET", url, follow_redirects=True) as response:
            if response.status_code != 200:
                raise Upstream5xx(
                    f"{provider}: bad response: result image {where} answered "
                    f"HTTP {response.status_code} (expired?)",
                    provider=provider,
                )
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_DOWNLOAD:
                    raise Upstream5xx(
                        f"{provider}: bad response: {where} too large", provider=provider
                    )
    except httpx.HTTPError as exc:
        raise transport_error(exc, f"result image {where}", provider, secret) from exc
    return bytes(data)


def decode_image(data: bytes, provider: str) -> Image.Image:
    """Decode an image file; RGB or RGBA (other modes are converted to RGB)."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Upstream5xx(
            f"{provider}: bad response: undecodable image ({exc})", provider=provider
        ) from None
    return image if image.mode in ("RGB", "RGBA") else image.convert("RGB")


def decode_b64(text: str, provider: str) -> Image.Image:
    """Decode a base64-encoded image file (strict base64)."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Upstream5xx(f"{provider}: bad response: invalid base64", provider=provider) from None
    return decode_image(data, provider)


def fetch_image(client: httpx.Client, url: str, provider: str, secret: str) -> Image.Image:
    """:func:`download` and :func:`decode_image` a result image."""
    return decode_image(download(client, url, provider, secret), provider)


def png_bytes(image: Image.Image) -> bytes:
    """``image`` as a PNG file."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def data_uri(image: Image.Image) -> str:
    """``image`` as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode()
