"""Image identification, normalisation and encoding: pure functions on bytes and Pillow images.

Uploads are untrusted. :func:`open_image` (and :func:`probe`, built on it) checks, in order: the
byte size, that the bytes are an image in an allowed format (only those decoders are tried), the
pixel count read from the header (before anything is decoded), and then that the first frame
decodes completely. Every failure is an :class:`ImageRejected` with a stable ``code``; nothing
else escapes for any input.

Outputs are re-encoded from pixel data alone, so no metadata (EXIF, GPS, XMP, ICC profiles, PNG
text chunks, comments) survives, and identical pixels give identical bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

RejectionCode = Literal["unsupported_media_type", "payload_too_large", "validation_error"]
OutputFormat = Literal["png", "webp", "jpeg"]
Bytes = bytes | bytearray | memoryview

#: Pillow format id -> (our format name, content type). HEIF only decodes where a plugin such as
#: pillow-heif has registered itself; MPO is what Pillow calls multi-picture JPEGs from cameras.
ACCEPTED_FORMATS: Final[dict[str, tuple[str, str]]] = {
    "JPEG": ("jpeg", "image/jpeg"),
    "MPO": ("jpeg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
    "BMP": ("bmp", "image/bmp"),
    "TIFF": ("tiff", "image/tiff"),
    "HEIF": ("heif", "image/heif"),
}
_OPENERS: Final = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF")

OUTPUT_CONTENT_TYPES: Final[dict[str, str]] = {
    "png": "image/png",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
}
JPEG_QUALITY: Final = 90
WEBP_QUALITY: Final = 90
THUMBNAIL_QUALITY: Final = 80
_JPEG_BACKGROUND: Final = (255, 255, 255)


class ImageRejected(Exception):
    """An upload that is not accepted; ``code`` is the API error code to answer with."""

    def __init__(self, code: RejectionCode, message: str) -> None:
        super().__init__(message)
        self.code: RejectionCode = code
        self.message = message

    def __repr__(self) -> str:
        return f"ImageRejected(code={self.code!r}, message={self.message!r})"


@dataclass(frozen=True)
class ProbeResult:
    width: int
    height: int
    format: str  # "jpeg", "png", "webp", "gif", "bmp", "tiff" or "heif"
    content_type: str


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    format: str


# -- identification ----------------------------------------------------------------------------
def _register_heif() -> None:
    """HEIC/HEIF photos (iPhones) decode when the optional ``[heic]`` extra is installed.
    pillow-heif's binary wheel is GPL-licensed, so it is not in the default install."""
    try:
        import pillow_heif  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return
    pillow_heif.register_heif_opener()


_register_heif()


def _allowed_openers() -> list[str]:
    Image.init()  # registers every built-in plugin (and keeps third-party registrations)
    return [name for name in _OPENERS if name in Image.OPEN]


def _pixel_limit(max_pixels: int) -> int:
    """Our limit, never above Pillow's own bomb threshold (which may warn or raise)."""
    pillow_limit = Image.MAX_IMAGE_PIXELS
    return min(max_pixels, pillow_limit) if pillow_limit is not None else max_pixels


def open_image(data: Bytes, *, max_bytes: int, max_pixels: int) -> tuple[ProbeResult, Image.Image]:
    """Identify and fully decode the first frame of an uploaded image.

    Returns what was found and the decoded (not yet normalised) image, which the caller owns.
    Raises :class:`ImageRejected` and nothing else.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ImageRejected("validation_error", "the upload must be bytes")
    size = len(data)
    if size == 0:
        raise ImageRejected("validation_error", "the file is empty")
    if size > max_bytes:
        raise ImageRejected(
            "payload_too_large", f"the file is {size} bytes; the limit is {max_bytes}"
        )
    too_many = f"the image has more than {_pixel_limit(max_pixels)} pixels"
    try:
        image = Image.open(io.BytesIO(bytes(data)), formats=_allowed_openers())
    except UnidentifiedImageError:
        raise ImageRejected(
            "unsupported_media_type",
            "not an image in a supported format (JPEG, PNG, WebP, GIF, BMP, TIFF)",
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("payload_too_large", too_many) from None
    except Exception as exc:  # corrupt headers make decoders raise about anything
        raise ImageRejected("validation_error", f"the image is corrupt: {exc}") from None
    try:
        kind = ACCEPTED_FORMATS.get(image.format or "")
        if kind is None:
            raise ImageRejected("unsupported_media_type", f"unsupported format {image.format}")
        width, height = image.size
        if width < 1 or height < 1:
            raise ImageRejected("validation_error", "the image has no pixels")
        if width * height > _pixel_limit(max_pixels):
            raise ImageRejected("payload_too_large", f"{too_many} ({width}x{height})")
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected("payload_too_large", too_many) from None
        except Exception as exc:
            raise ImageRejected(
                "validation_error", f"the image is truncated or corrupt: {exc}"
            ) from None
    except BaseException:
        image.close()
        raise
    return ProbeResult(width, height, kind[0], kind[1]), image


def probe(data: Bytes, *, max_bytes: int, max_pixels: int) -> ProbeResult:
    """Identify an uploaded image safely; see :func:`open_image`."""
    result, image = open_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    image.close()
    return result


# -- normalisation -----------------------------------------------------------------------------
def _high_depth_to_l(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer or float greyscale -> 8-bit, scaled rather than clipped."""
    pixels = np.asarray(image)
    if image.mode == "F":
        values = pixels.astype(np.float64)
        finite = values[np.isfinite(values)]
        peak = float(finite.max()) if finite.size else 0.0
        scale = 255.0 if peak <= 1.0 else 1.0
        values = np.nan_to_num(values * scale, nan=0.0, posinf=255.0, neginf=0.0)
    else:
        values = pixels.astype(np.float64)
        peak = float(values.max()) if values.size else 0.0
        if image.mode.startswith("I;16") or peak > 255:
            values = values / 257.0
    out = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return Image.fromarray(out)


def to_rgb(image: Image.Image) -> Image.Image:
    """``image`` in RGB, or RGBA when it has any transparency (an RGB or RGBA image is returned
    as is; any other is converted into a new image)."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode.startswith("I") or mode == "F":
        return _high_depth_to_l(image).convert("RGB")
    if mode == "La":  # premultiplied; Pillow converts it to RGBA only by way of LA
        return image.convert("LA").convert("RGBA")
    if image.has_transparency_data:  # an alpha band, or a transparent colour / palette entry
        return image.convert("RGBA")
    return image.convert("RGB")


def to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels tagged with an ICC profile (Display P3, Adobe RGB, CMYK…) into sRGB, so
    that stripping the profile later does not shift the colours. Untagged images, and
    profiles that cannot be read, are returned as they are."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, target, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image
    assert converted is not None
    converted.info.pop("icc_profile", None)
    return converted


def normalize(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation, convert to sRGB if a colour profile says so, and to RGB or
    RGBA. Idempotent."""
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # unreadable EXIF: keep the pixels as they are
        upright = image.copy()
    return to_rgb(to_srgb(upright))


# -- encoding ----------------------------------------------------------------------------------
def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image holding ``image``'s pixels and nothing else: no info, no EXIF, no ICC."""
    if image.mode not in ("RGB", "RGBA"):
        image = to_rgb(image)
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode != "RGBA":
        return image
    background = Image.new("RGB", image.size, _JPEG_BACKGROUND)
    background.paste(image, mask=image.getchannel("A"))
    return background


def encode(image: Image.Image, fmt: OutputFormat) -> EncodedImage:
    """Encode the (normalised) pixels as ``fmt``, with no metadata at all.

    The image is normalised first (a no-op on a normalised image). JPEG has no alpha channel:
    transparent pixels are composited on white.
    """
    if fmt not in OUTPUT_CONTENT_TYPES:
        raise ValueError(f"unsupported output format {fmt!r}")
    clean = _pixels_only(normalize(image))
    buf = io.BytesIO()
    if fmt == "png":
        clean.save(buf, format="PNG", compress_level=6)
    elif fmt == "webp":
        clean.save(buf, format="WEBP", quality=WEBP_QUALITY, method=4)
    else:
        _flatten(clean).save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=False)
    return EncodedImage(
        data=buf.getvalue(),
        content_type=OUTPUT_CONTENT_TYPES[fmt],
        width=clean.width,
        height=clean.height,
        format=fmt,
    )


def thumbnail_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size fitting in ``max_side`` x ``max_side`` with the aspect ratio kept; never larger
    than the original."""
    if max_side < 1:
        raise ValueError("max_side must be at least 1")
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def thumbnail(image: Image.Image, max_side: int) -> EncodedImage:
    """A WebP thumbnail of the (normalised) image, at most ``max_side`` on its longest side."""
    upright = _pixels_only(normalize(image))
    size = thumbnail_size(upright.width, upright.height, max_side)
    small = (
        upright
        if size == upright.size
        else upright.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    )
    buf = io.BytesIO()
    small.save(buf, format="WEBP", quality=THUMBNAIL_QUALITY, method=4)
    return EncodedImage(
        data=buf.getvalue(),
        content_type="image/webp",
        width=small.width,
        height=small.height,
        format="webp",
    )
