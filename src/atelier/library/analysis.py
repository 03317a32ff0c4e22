"""What an analyser says about an image: typed, frozen, JSON-ready (``model_dump(mode="json")``).

:class:`Analysis` carries tags (each with its ``source`` and ``confidence``, in English and
Chinese where known), descriptions in both languages, the text read in the image, dominant
colours, faces and people found, the safety (NSFW) score, EXIF facts (camera, lens, date,
place) and the upright size and orientation. :meth:`Analysis.embedding_text` is the text the
library embeds for semantic search.

:func:`basic_analysis` is what costs nothing: size, orientation and EXIF, with the user's own
tags — the analysis of an image whose tags the user gave (no model runs, only the embedding
is computed afterwards).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from PIL import ExifTags, Image, ImageOps
from pydantic import BaseModel, ConfigDict, Field

from atelier.images.processing import open_image
from atelier.providers.base import ProgressCallback

TagSource = Literal["user", "vlm", "clip", "color", "face", "people", "ocr", "safety"]
Orientation = Literal["landscape", "portrait", "square"]
#: Images read by analysers: the largest byte size and pixel count accepted.
MAX_BYTES = 256 * 1024 * 1024
MAX_PIXELS = 40_000_000


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Tag(_Frozen):
    name: str = Field(min_length=1, max_length=100)
    name_zh: str = Field(default="", max_length=100)
    source: TagSource = "user"
    confidence: float = Field(default=1.0, ge=0, le=1)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.name_zh) if self.name_zh else (self.name,)


class Box(_Frozen):
    x: int
    y: int
    width: int
    height: int
    score: float = 1.0


class Color(_Frozen):
    hex: str
    name: str
    name_zh: str
    fraction: float = Field(ge=0, le=1)


class GeoPoint(_Frozen):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    altitude: float | None = None


class Exif(_Frozen):
    make: str = ""
    model: str = ""
    lens: str = ""
    taken_at: datetime | None = None
    gps: GeoPoint | None = None
    orientation: int | None = None
    software: str = ""

    @property
    def camera(self) -> str:
        if self.model.lower().startswith(self.make.lower()):
            return self.model
        return f"{self.make} {self.model}".strip()


class Analysis(_Frozen):
    analyzer: str
    width: int
    height: int
    orientation: Orientation
    tags: tuple[Tag, ...] = ()
    description_en: str = ""
    description_zh: str = ""
    ocr_text: str = ""
    colors: tuple[Color, ...] = ()
    faces: tuple[Box, ...] = ()
    people: tuple[Box, ...] = ()
    nsfw_score: float | None = None
    exif: Exif | None = None

    def tag_names(self) -> list[str]:
        return [name for tag in self.tags for name in tag.names]

    def embedding_text(self) -> str:
        """Tags, descriptions and OCR text as one text to embed."""
        parts = [", ".join(dict.fromkeys(self.tag_names()))]
        parts += [self.description_en, self.description_zh, self.ocr_text[:500]]
        return ". ".join(part.strip() for part in parts if part.strip())


@runtime_checkable
class Analyzer(Protocol):
    name: str

    def analyze(
        self, image: bytes | Image.Image, *, on_progress: ProgressCallback | None = None
    ) -> Analysis: ...


def user_tags(names: Sequence[str]) -> tuple[Tag, ...]:
    """Tags the user gave: cleaned, deduplicated (case-insensitively), order kept."""
    seen: dict[str, Tag] = {}
    for name in names:
        clean = " ".join(name.split())[:100]
        if clean and clean.casefold() not in seen:
            seen[clean.casefold()] = Tag(name=clean, source="user", confidence=1.0)
    return tuple(seen.values())


def load(image: bytes | Image.Image) -> tuple[Image.Image, Image.Image]:
    """(the image as stored, for its EXIF; the image upright, first frame, loaded).

    Bytes are checked as uploads are (format, size, pixel count) by
    :func:`atelier.images.processing.open_image`, which raises ``ImageRejected``."""
    if isinstance(image, bytes | bytearray | memoryview):
        _, opened = open_image(image, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
    else:
        opened = image
    upright = ImageOps.exif_transpose(opened) or opened
    return opened, upright


def orientation_of(width: int, height: int) -> Orientation:
    if abs(width - height) <= 0.02 * max(width, height):
        return "square"
    return "landscape" if width > height else "portrait"


def basic_analysis(
    image: bytes | Image.Image, tags: Sequence[str] = (), *, analyzer: str = "user"
) -> Analysis:
    """Size, orientation and EXIF, with the user's tags: no model runs."""
    original, upright = load(image)
    return Analysis(
        analyzer=analyzer,
        width=upright.width,
        height=upright.height,
        orientation=orientation_of(upright.width, upright.height),
        tags=user_tags(tags),
        exif=read_exif(original),
    )


# -- EXIF ---------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).replace("\x00", "").strip() if value is not None else ""


def _float(value: Any) -> float:
    return float(value)


def _dms(value: Any, ref: Any) -> float | None:
    try:
        degrees, minutes, seconds = (_float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    return -result if _text(ref).upper() in ("S", "W") else result


def _date(value: Any) -> datetime | None:
    text = _text(value)
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d"):
        try:
            return datetime.strptime(text[:19], fmt)
        except ValueError:
            continue
    return None


def read_exif(image: Image.Image) -> Exif | None:
    """Camera, lens, date taken, GPS position and orientation; None without EXIF."""
    try:
        exif = image.getexif()
    except (OSError, ValueError, SyntaxError):
        return None
    if not exif:
        return None
    base, sub = ExifTags.Base, ExifTags.IFD
    try:
        details = exif.get_ifd(sub.Exif)
        gps_ifd = exif.get_ifd(sub.GPSInfo)
    except (KeyError, OSError, ValueError, SyntaxError):
        details, gps_ifd = {}, {}
    gps = None
    latitude = _dms(gps_ifd.get(ExifTags.GPS.GPSLatitude), gps_ifd.get(ExifTags.GPS.GPSLatitudeRef))
    longitude = _dms(
        gps_ifd.get(ExifTags.GPS.GPSLongitude), gps_ifd.get(ExifTags.GPS.GPSLongitudeRef)
    )
    if latitude is not None and longitude is not None and abs(latitude) <= 90:
        altitude: float | None = None
        raw = gps_ifd.get(ExifTags.GPS.GPSAltitude)
        if raw is not None:
            try:
                altitude = _float(raw)
                if gps_ifd.get(ExifTags.GPS.GPSAltitudeRef) in (1, b"\x01"):
                    altitude = -altitude
            except (TypeError, ValueError, ZeroDivisionError):
                altitude = None
        if abs(longitude) <= 180:
            gps = GeoPoint(latitude=latitude, longitude=longitude, altitude=altitude)
    orientation = exif.get(base.Orientation)
    return Exif(
        make=_text(exif.get(base.Make))[:100],
        model=_text(exif.get(base.Model))[:100],
        lens=_text(details.get(base.LensModel))[:100],
        taken_at=_date(details.get(base.DateTimeOriginal) or exif.get(base.DateTime)),
        gps=gps,
        orientation=orientation if isinstance(orientation, int) else None,
        software=_text(exif.get(base.Software))[:100],
    )


def jpeg_bytes(image: Image.Image, max_side: int, quality: int = 85) -> bytes:
    """``image`` scaled down to ``max_side`` and encoded as JPEG (for vision APIs)."""
    image = image.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
