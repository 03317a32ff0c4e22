"""Signed, expiring image URLs: fetchable without a session (OpenAI-style `url` results)."""

from __future__ import annotations

import hashlib
import hmac
import time

from atelier.config import Settings


def _digest(settings: Settings, image_id: str, variant: str, expires: int) -> str:
    key = hashlib.sha256(b"atelier-image-urls:" + settings.secret_key.get_secret_value().encode())
    message = f"{image_id}:{variant}:{expires}".encode()
    return hmac.new(key.digest(), message, hashlib.sha256).hexdigest()[:40]


def signed_url(
    settings: Settings, image_id: str, *, thumbnail: bool = False, ttl: int = 3600
) -> str:
    variant = "thumbnail" if thumbnail else "full"
    expires = int(time.time()) + ttl
    path = f"/api/v1/images/{image_id}" + ("/thumbnail" if thumbnail else "")
    sig = _digest(settings, image_id, variant, expires)
    return f"{settings.public_url.rstrip('/')}{path}?expires={expires}&sig={sig}"


def verify(settings: Settings, image_id: str, variant: str, expires: int, sig: str) -> bool:
    if expires < time.time():
        return False
    # bytes: a str with non-ASCII characters (any client can send one) would raise TypeError
    return hmac.compare_digest(_digest(settings, image_id, variant, expires).encode(), sig.encode())
