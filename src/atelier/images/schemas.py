"""How an image appears in API responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from atelier.config import Settings
from atelier.images.models import ImageRecord


class ImageOut(BaseModel):
    image_id: str
    url: str
    thumbnail_url: str
    width: int
    height: int
    file_size: int
    format: str
    content_type: str
    seed: int | None = None


def image_links(record: ImageRecord, settings: Settings) -> dict[str, Any]:
    base = f"{settings.public_url.rstrip('/')}/api/v1/images/{record.id}"
    return ImageOut(
        image_id=record.id,
        url=base,
        thumbnail_url=f"{base}/thumbnail",
        width=record.width,
        height=record.height,
        file_size=record.size_bytes,
        format=record.format,
        content_type=record.content_type,
        seed=record.seed,
    ).model_dump()
