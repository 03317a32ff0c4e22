"""Downloading an image from a URL the caller gave, safely.

- only ``http`` and ``https``, with a host and no user name or password;
- the host is resolved here and every address it resolves to must be public (not loopback,
  private, link-local, multicast or reserved) unless ``LIBRARY__ALLOW_PRIVATE_URLS``; the
  connection then goes to the checked address (the ``Host`` header and TLS's SNI and
  certificate check keep the name), so a second resolution cannot point elsewhere;
- redirects are followed by hand, at most ``LIBRARY__URL_MAX_REDIRECTS``, each target checked
  the same way;
- the body is streamed and abandoned one byte past ``IMAGES__MAX_UPLOAD_BYTES`` (413), a
  declared ``Content-Length`` above it is refused before reading;
- the answer must be 200 with an ``image/*`` content type (415 otherwise);
- the whole download must end within ``LIBRARY__URL_TIMEOUT`` seconds.

Every refusal is an :class:`~atelier.errors.AtelierError` with a stable code.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from atelier import __version__
from atelier.config import Settings
from atelier.errors import AtelierError, PayloadTooLarge, UnsupportedMediaType

REDIRECTS = (301, 302, 303, 307, 308)


class UrlNotAllowed(AtelierError):
    status_code = 422
    code = "url_not_allowed"


class UrlFetchFailed(AtelierError):
    status_code = 422
    code = "url_fetch_failed"


@dataclass(frozen=True)
class Fetched:
    url: str  # the URL asked for
    final_url: str  # after redirects
    data: bytes
    content_type: str
    filename: str | None


def check_syntax(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlNotAllowed(
            "only absolute http and https URLs can be imported", details={"url": url}
        )
    if parts.username or parts.password:
        raise UrlNotAllowed("URLs with credentials are not accepted", details={"url": url})
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise UrlNotAllowed("the URL has an invalid port", details={"url": url}) from None


def resolve(url: str, allow_private: bool) -> str:
    """The address to connect to for ``url``'s host: every address it resolves to must be
    public unless ``allow_private``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlFetchFailed(f"cannot resolve {host}: {exc}", details={"url": url}) from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise UrlFetchFailed(f"{host} has no address", details={"url": url})
    if not allow_private:
        for addr in addresses:
            mapped = getattr(addr, "ipv4_mapped", None) or addr
            if not mapped.is_global or mapped.is_multicast:
                raise UrlNotAllowed(
                    f"{host} resolves to a non-public address ({addr})",
                    details={"url": url, "address": str(addr)},
                )
    return str(addresses[0])


def _pinned(url: str, address: str) -> str:
    """``url`` with its host replaced by ``address`` (the port kept)."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def _filename(url: str) -> str | None:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name[:255] or None


def fetch(url: str, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> Fetched:
    """Download the image at ``url`` under the rules above."""
    lib = settings.library
    limit = settings.images.max_upload_bytes
    deadline = time.monotonic() + lib.url_timeout
    current = url.strip()
    with httpx.Client(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(lib.url_timeout, connect=min(10.0, lib.url_timeout)),
        headers={"User-Agent": f"atelier/{__version__} (library import)"},
        trust_env=False,
    ) as client:
        for _ in range(lib.url_max_redirects + 1):
            check_syntax(current)
            address = resolve(current, lib.allow_private_urls)
            parts = urlsplit(current)
            request = client.build_request(
                "GET",
                _pinned(current, address),
                headers={"Host": parts.netloc.rsplit("@", 1)[-1], "Accept": "image/*"},
                extensions={"sni_hostname": parts.hostname or ""},
            )
            try:
                response = client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise UrlFetchFailed(
                    f"could not download {current}: {type(exc).__name__}", details={"url": url}
                ) from None
            try:
                if response.status_code in REDIRECTS and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                return _body(url, current, response, limit, deadline)
            finally:
                response.close()
    raise UrlFetchFailed("too many redirects", details={"url": url})


def _body(url: str, final: str, response: httpx.Response, limit: int, deadline: float) -> Fetched:
    if response.status_code != 200:
        raise UrlFetchFailed(
            f"the server answered HTTP {response.status_code}",
            details={"url": url, "status": response.status_code},
        )
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.startswith("image/"):
        raise UnsupportedMediaType(
            f"the URL is not an image (Content-Type {content_type or 'missing'})",
            details={"url": url, "content_type": content_type},
        )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"the image is {declared} bytes; the limit is {limit}", details={"url": url}
        )
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(
                    f"the image is larger than {limit} bytes", details={"url": url}
                )
            if time.monotonic() > deadline:
                raise UrlFetchFailed("the download took too long", details={"url": url})
            chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise UrlFetchFailed(
            f"the download failed: {type(exc).__name__}", details={"url": url}
        ) from None
    return Fetched(url, final, b"".join(chunks), content_type, _filename(final))
