"""Watermarks (a text or a logo in one corner) and provenance records for output images.

:func:`apply` draws a :class:`WatermarkSpec` onto a copy of an image: only the mark's box
(:func:`mark_box`) changes, and at opacity 0 nothing does. Text uses Pillow's built-in font
(scalable in Pillow >= 10.1, so nothing is bundled) with a soft shadow for legibility on light
and dark backgrounds; a logo is an image file composited through its own alpha.
:class:`WatermarkPolicy` chooses the spec per owner class (``anonymous``, ``user``, ``api``...).

Provenance: :func:`provenance` builds a record (generator, version, model, provider, task id,
creation time and a SHA-256 of the pixels); :func:`embed_provenance` writes it into a PNG as an
``iTXt`` chunk with the keyword :data:`PROVENANCE_KEY`, without re-encoding the image, and
:func:`read_provenance` reads it back. :func:`verify_provenance` recomputes the pixel hash, so
an edited image no longer matches its record. Only PNG is supported: JPEG and lossy WebP
decoders may differ by a level per pixel between libraries, which would make the pixel hash
unverifiable, so a record embedded there would promise more than it can keep.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from pydantic import BaseModel, ConfigDict, Field, model_validator

from atelier import __version__

Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]
Box = tuple[int, int, int, int]
PROVENANCE_KEY: Final = "atelier:provenance"
GENERATOR: Final = "Atelier"
PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_PROBE_SIZE: Final = 64


class WatermarkSpec(BaseModel):
    """One watermark. Sizes are relative, so the mark looks the same at every resolution."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["text", "logo"] = Field(default="text", description="`text` or `logo`.")
    text: str = Field(default="", max_length=100, description="The text of a text mark.")
    logo_path: Path | None = Field(
        default=None, description="Image file of a logo mark (PNG with alpha recommended)."
    )
    font_path: Path | None = Field(
        default=None,
        description="TrueType/OpenType font for the text; default: Pillow's built-in font, "
        "which has Latin glyphs only (set a CJK font for Chinese text).",
    )
    corner: Corner = Field(default="bottom-right", description="Where the mark goes.")
    opacity: float = Field(default=0.6, ge=0.0, le=1.0, description="0 invisible, 1 opaque.")
    scale: float = Field(
        default=0.2, gt=0.0, le=1.0, description="Width of the mark as a fraction of the image's."
    )
    margin: float = Field(
        default=0.02,
        ge=0.0,
        le=0.25,
        description="Gap between the mark and the edges, as a fraction of the shorter side.",
    )
    colour: str = Field(default="#FFFFFF", pattern=r"^#[0-9A-Fa-f]{6}$", description="Text colour.")
    shadow: bool = Field(default=True, description="Draw a soft shadow behind text.")

    @model_validator(mode="after")
    def _needs_content(self) -> WatermarkSpec:
        if self.kind == "text" and not self.text.strip():
            raise ValueError("a text watermark needs text")
        if self.kind == "logo" and self.logo_path is None:
            raise ValueError("a logo watermark needs logo_path")
        return self


class WatermarkPolicy(BaseModel):
    """Which watermark each owner class gets; ``None`` means no mark. Classes not listed get
    ``default``. The default policy marks nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    classes: dict[str, WatermarkSpec | None] = Field(
        default_factory=dict,
        description="Owner class (`anonymous`, `user`, `api`) -> watermark, or null for none.",
    )
    default: WatermarkSpec | None = Field(
        default=None, description="Watermark for owner classes not listed in `classes`."
    )

    def spec_for(self, owner_class: str) -> WatermarkSpec | None:
        if owner_class in self.classes:
            return self.classes[owner_class]
        return self.default

    def apply(self, image: Image.Image, owner_class: str) -> Image.Image:
        spec = self.spec_for(owner_class)
        return apply(image, spec) if spec is not None else image.copy()


def owner_class(owner: str) -> str:
    """``anon:<uuid>`` owners are ``anonymous``; ``api:``/``key:`` owners are ``api``; any
    other owner is a ``user``."""
    prefix, sep, _ = owner.partition(":")
    if not sep:
        return "user"
    if prefix == "anon":
        return "anonymous"
    return "api" if prefix in ("api", "key") else "user"


# -- drawing ---------------------------------------------------------------------------------
FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=64)
def _font(size: int, path: str | None = None) -> FontType:
    return ImageFont.load_default(size=size) if path is None else ImageFont.truetype(path, size)


def _with_opacity(mark: Image.Image, opacity: float) -> Image.Image:
    lut = [round(v * opacity) for v in range(256)]
    out = mark.copy()
    out.putalpha(mark.getchannel("A").point(lut))
    return out


def _text_mark(spec: WatermarkSpec, target_width: int) -> Image.Image:
    text = spec.text.strip()
    path = str(spec.font_path) if spec.font_path is not None else None
    probe = _font(_PROBE_SIZE, path).getbbox(text)
    probe_width = max(1, int(probe[2] - probe[0]))
    size = max(6, round(_PROBE_SIZE * target_width / probe_width))
    font = _font(size, path)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    offset = max(1, size // 16) if spec.shadow else 0
    blur = max(1, size // 24) if spec.shadow else 0
    pad = 2 * blur
    width = right - left + offset + 2 * pad
    height = bottom - top + offset + 2 * pad
    origin = (pad - left, pad - top)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if spec.shadow:
        shadow = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        ImageDraw.Draw(shadow).text(
            (origin[0] + offset, origin[1] + offset), text, font=font, fill=(0, 0, 0, 150)
        )
        layer = shadow.filter(ImageFilter.GaussianBlur(blur))
    rgb = tuple(int(spec.colour[i : i + 2], 16) for i in (1, 3, 5))
    ImageDraw.Draw(layer).text(origin, text, font=font, fill=(*rgb, 255))
    return layer


@lru_cache(maxsize=16)
def _logo(path: str, mtime_ns: int) -> Image.Image:
    with Image.open(path) as img:
        return img.convert("RGBA")


def _logo_mark(spec: WatermarkSpec, target_width: int) -> Image.Image:
    assert spec.logo_path is not None
    path = spec.logo_path
    logo = _logo(str(path), path.stat().st_mtime_ns)
    height = max(1, round(logo.height * target_width / logo.width))
    return logo.resize((target_width, height), Image.Resampling.LANCZOS)


def render_mark(spec: WatermarkSpec, image_size: tuple[int, int]) -> Image.Image | None:
    """The mark for an image of ``image_size``, RGBA with the opacity applied; ``None`` when
    the image leaves no room for one."""
    width, height = image_size
    margin = round(spec.margin * min(width, height))
    room_w, room_h = width - 2 * margin, height - 2 * margin
    if room_w < 1 or room_h < 1:
        return None
    target = max(1, min(room_w, round(spec.scale * width)))
    mark = _text_mark(spec, target) if spec.kind == "text" else _logo_mark(spec, target)
    if mark.width > room_w or mark.height > room_h:
        ratio = min(room_w / mark.width, room_h / mark.height)
        size = (max(1, int(mark.width * ratio)), max(1, int(mark.height * ratio)))
        mark = mark.resize(size, Image.Resampling.LANCZOS)
    return _with_opacity(mark, spec.opacity)


def placement(image_size: tuple[int, int], mark_size: tuple[int, int], spec: WatermarkSpec) -> Box:
    """The box ``(left, top, right, bottom)`` a mark of ``mark_size`` occupies."""
    width, height = image_size
    mark_w, mark_h = mark_size
    margin = round(spec.margin * min(width, height))
    left = margin if spec.corner.endswith("left") else width - margin - mark_w
    top = margin if spec.corner.startswith("top") else height - margin - mark_h
    return left, top, left + mark_w, top + mark_h


def mark_box(image_size: tuple[int, int], spec: WatermarkSpec) -> Box | None:
    """Where :func:`apply` would draw on an image of ``image_size`` (``None``: nowhere)."""
    mark = render_mark(spec, image_size)
    return None if mark is None else placement(image_size, mark.size, spec)


def apply(image: Image.Image, spec: WatermarkSpec) -> Image.Image:
    """A copy of ``image`` with the mark drawn; RGBA when the input has alpha, else RGB."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    out = image.convert("RGBA" if has_alpha else "RGB")
    mark = render_mark(spec, out.size)
    if mark is None:
        return out
    box = placement(out.size, mark.size, spec)
    region = Image.alpha_composite(out.crop(box).convert("RGBA"), mark)
    out.paste(region if has_alpha else region.convert("RGB"), box[:2])
    return out


# -- provenance ------------------------------------------------------------------------------
def _canonical(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    has_alpha = image.mode in ("LA", "PA") or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def pixel_sha256(image: Image.Image) -> str:
    """SHA-256 of the pixels (as RGB or RGBA) and the size; metadata does not count."""
    img = _canonical(image)
    digest = hashlib.sha256(f"{img.mode} {img.width}x{img.height}\n".encode())
    digest.update(img.tobytes())
    return digest.hexdigest()


def provenance(
    image: Image.Image,
    *,
    model: str,
    provider: str,
    task_id: str,
    created: datetime | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The provenance record of a generated image."""
    when = (created or datetime.now(UTC)).astimezone(UTC)
    record: dict[str, Any] = {
        "generator": GENERATOR,
        "version": __version__,
        "model": model,
        "provider": provider,
        "task_id": task_id,
        "created": when.isoformat().replace("+00:00", "Z"),
        "width": image.width,
        "height": image.height,
        "pixel_sha256": pixel_sha256(image),
    }
    if extra:
        record["extra"] = dict(extra)
    return record


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes, int, int]]:
    """``(type, body, start, end)`` of each well-formed chunk of a PNG, in order."""
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        end = pos + 12 + length
        if end > len(data):
            return
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        yield kind, body, pos, end
        if kind == b"IEND":
            return
        pos = end


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _itxt(body: bytes) -> tuple[str, str] | None:
    """``(keyword, text)`` of an iTXt chunk body, or ``None`` when it is malformed."""
    try:
        keyword, rest = body.split(b"\0", 1)
        compressed, method = rest[0], rest[1]
        _language, rest = rest[2:].split(b"\0", 1)
        _translated, text = rest.split(b"\0", 1)
        if compressed:
            if method != 0:
                return None
            text = zlib.decompress(text)
        return keyword.decode("latin-1"), text.decode("utf-8")
    except (ValueError, IndexError, zlib.error, UnicodeDecodeError):
        return None


def _is_ours(kind: bytes, body: bytes) -> bool:
    if kind == b"iTXt":
        parsed = _itxt(body)
        return parsed is not None and parsed[0] == PROVENANCE_KEY
    if kind in (b"tEXt", b"zTXt"):
        return body.split(b"\0", 1)[0] == PROVENANCE_KEY.encode("latin-1")
    return False


def embed_provenance(png: bytes, record: Mapping[str, Any]) -> bytes:
    """``png`` with ``record`` as an iTXt chunk (replacing an earlier record); the image data
    is untouched. Raises :class:`ValueError` for anything but a well-formed PNG."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("provenance can only be embedded in PNG images")
    text = json.dumps(dict(record), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # keyword, NUL, compression flag 0, method 0, empty language tag + NUL, empty translated
    # keyword + NUL, then the UTF-8 text
    body = PROVENANCE_KEY.encode("latin-1") + b"\0" + b"\0\0" + b"\0" + b"\0" + text.encode()
    out = bytearray(PNG_SIGNATURE)
    for kind, chunk_body, start, end in _chunks(png):
        if kind == b"IEND":
            out += _chunk(b"iTXt", body) + png[start:end]
            return bytes(out)
        if not _is_ours(kind, chunk_body):
            out += png[start:end]
    raise ValueError("not a complete PNG: no IEND chunk")


def read_provenance(data: bytes) -> dict[str, Any] | None:
    """The provenance record embedded in ``data``, or ``None`` (not a PNG, no record, or a
    damaged one)."""
    if not data.startswith(PNG_SIGNATURE):
        return None
    for kind, body, _start, end in _chunks(data):
        if kind != b"iTXt" or data[end - 4 : end] != _chunk(kind, body)[-4:]:
            continue
        parsed = _itxt(body)
        if parsed is None or parsed[0] != PROVENANCE_KEY:
            continue
        try:
            record = json.loads(parsed[1])
        except ValueError:
            return None
        return record if isinstance(record, dict) else None
    return None


def verify_provenance(data: bytes) -> bool | None:
    """Whether the pixels of ``data`` still match its provenance record; ``None`` when it has
    no record."""
    record = read_provenance(data)
    if record is None:
        return None
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return bool(record.get("pixel_sha256") == pixel_sha256(img))
