"""Image encoding (temporary minimal version)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    format: str


def normalize(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image)
    return image if image.mode in ("RGB", "RGBA") else image.convert("RGB")


def encode(image: Image.Image, fmt: Literal["png", "webp", "jpeg"]) -> EncodedImage:
    buf = io.BytesIO()
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    clean.save(buf, format=fmt.upper())
    return EncodedImage(buf.getvalue(), f"image/{fmt}", image.width, image.height, fmt)


def thumbnail(image: Image.Image, max_side: int) -> EncodedImage:
    thumb = image.copy()
    thumb.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    thumb.convert("RGB").save(buf, format="WEBP", quality=80)
    return EncodedImage(buf.getvalue(), "image/webp", thumb.width, thumb.height, "webp")
