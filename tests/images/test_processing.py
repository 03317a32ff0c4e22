"""Image identification, normalisation and metadata-free encoding."""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib
from typing import Any, Literal

import numpy as np
import pytest
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from atelier.images.processing import (
    EncodedImage,
    ImageRejected,
    ProbeResult,
    encode,
    normalize,
    open_image,
    probe,
    thumbnail,
)

MB = 1024 * 1024
LIMITS: dict[str, Any] = {"max_bytes": 20 * MB, "max_pixels": 40_000_000}
MARKER = "SECRET-MARKER-4711"
RED, BLUE = (220, 20, 20), (20, 20, 220)
FORMATS: list[Literal["png", "webp", "jpeg"]] = ["png", "webp", "jpeg"]


def save(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def halves(width: int = 40, height: int = 20) -> Image.Image:
    """Left half red, right half blue."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:, : width // 2] = RED
    pixels[:, width // 2 :] = BLUE
    return Image.fromarray(pixels)


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def exif_with_gps(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x013B] = MARKER  # Artist
    exif[0x010F] = "MarkerCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 8.0, 30.0)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "E", (11.0, 34.0, 5.0)  # GPSLongitudeRef, GPSLongitude
    return exif


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def tagged_jpeg(orientation: int = 6) -> bytes:
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{MARKER}</x:xmpmeta>'.encode()
    return save(
        halves(),
        "JPEG",
        quality=95,
        exif=exif_with_gps(orientation).tobytes(),
        icc_profile=srgb_icc(),
        comment=MARKER,
        xmp=xmp,
    )


def tagged_png() -> bytes:
    info = PngInfo()
    info.add_text("Comment", MARKER)
    info.add_text("Author", MARKER, zip=True)
    info.add_itxt("XML:com.adobe.xmp", MARKER)
    return save(halves(), "PNG", pnginfo=info, exif=exif_with_gps(1).tobytes())


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return chunks


def webp_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    chunks, pos = [], 12
    while pos < len(data):
        fourcc, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunks.append(fourcc)
        pos += 8 + size + (size & 1)
    return chunks


def jpeg_markers(data: bytes) -> list[int]:
    """Markers of the segments before the image data."""
    assert data[:2] == b"\xff\xd8"
    markers, pos = [], 2
    while pos < len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return markers


def png_with_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width`` x ``height`` followed by a bogus IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def rejected(data: bytes, **limits: Any) -> ImageRejected:
    with pytest.raises(ImageRejected) as error:
        probe(data, **{**LIMITS, **limits})
    return error.value


# -- probe -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pil_format", "fmt", "content_type"),
    [
        ("PNG", "png", "image/png"),
        ("JPEG", "jpeg", "image/jpeg"),
        ("WEBP", "webp", "image/webp"),
        ("GIF", "gif", "image/gif"),
        ("BMP", "bmp", "image/bmp"),
        ("TIFF", "tiff", "image/tiff"),
        ("MPO", "jpeg", "image/jpeg"),
    ],
)
def test_probe_identifies_supported_formats(pil_format: str, fmt: str, content_type: str) -> None:
    extra = {"save_all": True, "append_images": [halves()]} if pil_format == "MPO" else {}
    data = save(halves(40, 20), pil_format, **extra)
    assert probe(data, **LIMITS) == ProbeResult(40, 20, fmt, content_type)
    assert probe(bytearray(data), **LIMITS).format == fmt


def test_open_image_returns_the_decoded_first_frame() -> None:
    result, image = open_image(save(halves(), "PNG"), **LIMITS)
    with image:
        assert result.width == image.width == 40
        assert image.getpixel((0, 0)) == RED and image.getpixel((39, 19)) == BLUE


def test_probe_reports_stored_dimensions_before_orientation() -> None:
    assert probe(tagged_jpeg(6), **LIMITS) == ProbeResult(40, 20, "jpeg", "image/jpeg")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "validation_error"),
        (b"just some text, not a picture\n" * 20, "unsupported_media_type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "unsupported_media_type"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "unsupported_media_type"),
    ],
)
def test_non_images(data: bytes, code: str) -> None:
    error = rejected(data)
    assert error.code == code and error.message and str(error) == error.message


@pytest.mark.parametrize("pil_format", ["PPM", "PCX", "TGA", "ICO", "EPS"])
def test_formats_pillow_knows_but_we_do_not_accept(pil_format: str) -> None:
    image = halves(32, 32)
    data = save(image, pil_format) if pil_format != "EPS" else b"%!PS-Adobe-3.0 EPSF-3.0\n"
    assert rejected(data).code == "unsupported_media_type"


def test_size_cap_is_checked_first() -> None:
    data = save(noise(64, 64), "PNG")
    assert rejected(data, max_bytes=len(data) - 1).code == "payload_too_large"
    assert rejected(b"x" * 101, max_bytes=100).code == "payload_too_large"
    assert probe(data, max_bytes=len(data), max_pixels=64 * 64).width == 64


def test_pixel_cap_is_checked_from_the_header_before_decoding() -> None:
    # The IDAT is garbage: decoding would fail with validation_error.
    data = png_with_header(5000, 5000)
    assert rejected(data, max_pixels=1_000_000).code == "payload_too_large"
    assert rejected(png_with_header(100, 100)).code == "validation_error"
    assert rejected(save(noise(50, 50), "PNG"), max_pixels=50 * 50 - 1).code == "payload_too_large"


@pytest.mark.parametrize("side", [100_000, 10_000])
@pytest.mark.parametrize("action", ["error", "ignore", "default"])
def test_decompression_bomb_headers(side: int, action: Any) -> None:
    """Pillow's own guard warns (10k x 10k) or raises (100k x 100k); whatever the warning
    filters, the answer is payload_too_large even when our limit is higher."""
    with warnings.catch_warnings(record=action == "default"):
        warnings.simplefilter(action)
        error = rejected(png_with_header(side, side), max_pixels=10**12)
    assert error.code == "payload_too_large"


@pytest.mark.parametrize("pil_format", ["PNG", "JPEG", "WEBP", "GIF", "TIFF", "BMP"])
def test_truncated_images_are_validation_errors(pil_format: str) -> None:
    data = save(noise(128, 128), pil_format)
    assert rejected(data[: len(data) // 2]).code == "validation_error"


def test_arbitrary_bytes_never_raise_anything_else() -> None:
    rng = random.Random(20240601)
    magics = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*"]
    magics.append(b"RIFF\x00\x00\x00\x00WEBPVP8 ")
    valid = [save(noise(24, 16, i), f) for i, f in enumerate(["PNG", "JPEG", "WEBP", "GIF"])]
    valid += [save(noise(24, 16), "TIFF"), save(noise(24, 16), "BMP")]
    samples = [rng.choice(magics) + rng.randbytes(rng.randint(0, 600)) for _ in range(150)]
    for _ in range(300):  # corrupt a few bytes of valid files
        mutated = bytearray(rng.choice(valid))
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        samples.append(bytes(mutated))
    codes = set()
    for sample in samples:
        try:
            result = probe(sample, **LIMITS)
        except ImageRejected as exc:
            codes.add(exc.code)
        else:
            assert result.width > 0 and result.height > 0
    assert "unsupported_media_type" in codes and "validation_error" in codes


# -- normalize ---------------------------------------------------------------------------------
def close_to(pixel: Any, expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, expected, strict=True))


def test_exif_orientation_6_is_applied() -> None:
    _, raw = open_image(tagged_jpeg(6), **LIMITS)
    upright = normalize(raw)
    assert upright.size == (20, 40) and upright.mode == "RGB"
    # Rotating 90 degrees clockwise puts the left (red) half on top.
    assert close_to(upright.getpixel((10, 5)), RED) and close_to(upright.getpixel((10, 35)), BLUE)
    again = normalize(upright)
    assert again.size == (20, 40) and np.array_equal(np.asarray(again), np.asarray(upright))


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = save(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
    _, image = open_image(data, **LIMITS)
    assert image.mode == "CMYK"
    rgb = normalize(image)
    assert rgb.mode == "RGB" and close_to(rgb.getpixel((8, 8)), (255, 0, 0))


def test_palette_png_with_and_without_transparency() -> None:
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0])
    palette.putpixel((0, 0), 2)
    opaque = normalize(reopen(save(palette, "PNG")))
    assert opaque.mode == "RGB"
    assert opaque.getpixel((0, 0)) == (0, 255, 0) and opaque.getpixel((5, 5)) == (255, 0, 0)
    see_through = normalize(reopen(save(palette, "PNG", transparency=2)))
    assert see_through.mode == "RGBA"
    assert see_through.getchannel("A").getpixel((0, 0)) == 0
    assert see_through.getpixel((5, 5)) == (255, 0, 0, 255)


def test_greyscale_modes() -> None:
    assert normalize(Image.new("L", (4, 4), 77)).getpixel((0, 0)) == (77, 77, 77)
    la = normalize(Image.new("LA", (4, 4), (200, 10)))
    assert la.mode == "RGBA" and la.getpixel((0, 0)) == (200, 200, 200, 10)
    deep = Image.fromarray(np.array([[0, 32896, 65535]], dtype=np.uint16))
    assert deep.mode == "I;16"
    rgb = normalize(reopen(save(deep, "PNG")))
    assert [rgb.getpixel((x, 0)) for x in range(3)] == [(0, 0, 0), (128, 128, 128), (255,) * 3]


# -- encode ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_encode_strips_all_metadata(fmt: Literal["png", "webp", "jpeg"]) -> None:
    for source in (tagged_jpeg(6), tagged_png()):
        _, image = open_image(source, **LIMITS)
        assert MARKER.encode() in source
        out = encode(normalize(image), fmt)
        assert MARKER.encode() not in out.data and b"MarkerCam" not in out.data
        assert b"Exif" not in out.data and b"ICC_PROFILE" not in out.data
        decoded = reopen(out.data)
        assert len(decoded.getexif()) == 0
        assert not {"exif", "icc_profile", "xmp", "comment", "XML:com.adobe.xmp"} & set(
            decoded.info
        )
        if fmt == "png":
            assert set(png_chunks(out.data)) == {b"IHDR", b"IDAT", b"IEND"}
        elif fmt == "webp":
            assert not {b"EXIF", b"XMP ", b"ICCP"} & set(webp_chunks(out.data))
        else:
            markers = jpeg_markers(out.data)
            assert 0xE1 not in markers and 0xE2 not in markers and 0xFE not in markers


@pytest.mark.parametrize("fmt", FORMATS)
def test_encode_reports_what_it_wrote(fmt: Literal["png", "webp", "jpeg"]) -> None:
    _, image = open_image(tagged_jpeg(6), **LIMITS)
    out = encode(image, fmt)  # not normalised by the caller: encode applies the orientation
    assert isinstance(out, EncodedImage)
    assert (out.format, out.content_type) == (fmt, f"image/{fmt}")
    assert (out.width, out.height) == (20, 40)
    decoded = reopen(out.data)
    assert decoded.format == fmt.upper() and decoded.size == (20, 40)


@pytest.mark.parametrize("fmt", FORMATS)
def test_encode_is_deterministic(fmt: Literal["png", "webp", "jpeg"]) -> None:
    pixels = np.asarray(noise(64, 48, seed=3))
    plain = Image.fromarray(pixels)
    _, tagged = open_image(save(Image.fromarray(pixels), "PNG", pnginfo=PngInfo()), **LIMITS)
    tagged.info["Comment"] = MARKER
    first, second, third = encode(plain, fmt), encode(plain.copy(), fmt), encode(tagged, fmt)
    assert first.data == second.data == third.data
    assert encode(noise(64, 48, seed=4), fmt).data != first.data


def test_png_is_lossless_with_alpha() -> None:
    rgba = np.random.default_rng(1).integers(0, 256, (9, 7, 4), dtype=np.uint8)
    out = encode(Image.fromarray(rgba), "png")
    decoded = reopen(out.data)
    assert decoded.mode == "RGBA" and np.array_equal(np.asarray(decoded), rgba)


def test_jpeg_flattens_transparency_on_white() -> None:
    image = Image.new("RGBA", (16, 16), (255, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 8, 16))
    decoded = reopen(encode(image, "jpeg").data)
    assert decoded.mode == "RGB"
    assert close_to(decoded.getpixel((2, 8)), (255, 255, 255))
    assert close_to(decoded.getpixel((13, 8)), (255, 0, 0))


def test_encode_rejects_unknown_formats() -> None:
    with pytest.raises(ValueError):
        encode(halves(), "gif")  # type: ignore[arg-type]


# -- thumbnail ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("size", "max_side", "expected"),
    [((400, 200), 64, (64, 32)), ((200, 400), 64, (32, 64)), ((1000, 3), 100, (100, 1))],
)
def test_thumbnail_fits_and_keeps_aspect(
    size: tuple[int, int], max_side: int, expected: tuple[int, int]
) -> None:
    thumb = thumbnail(noise(*size), max_side)
    assert (thumb.width, thumb.height) == expected
    assert (thumb.content_type, thumb.format) == ("image/webp", "webp")
    decoded = reopen(thumb.data)
    assert decoded.format == "WEBP" and decoded.size == expected


def test_thumbnail_never_upscales() -> None:
    thumb = thumbnail(halves(30, 10), 256)
    assert (thumb.width, thumb.height) == (30, 10) and reopen(thumb.data).size == (30, 10)


def test_thumbnail_is_upright_without_metadata_and_keeps_alpha() -> None:
    _, raw = open_image(tagged_jpeg(6), **LIMITS)
    thumb = thumbnail(raw, 16)
    assert (thumb.width, thumb.height) == (8, 16)
    assert MARKER.encode() not in thumb.data
    assert not {b"EXIF", b"XMP ", b"ICCP"} & set(webp_chunks(thumb.data))
    decoded = reopen(thumb.data).convert("RGB")
    assert close_to(decoded.getpixel((4, 1)), RED) and close_to(decoded.getpixel((4, 14)), BLUE)
    clear = thumbnail(Image.new("RGBA", (64, 64), (0, 0, 255, 0)), 16)
    assert reopen(clear.data).mode == "RGBA"
    with pytest.raises(ValueError):
        thumbnail(halves(), 0)


def test_colour_profiles_are_converted_to_srgb_before_stripping() -> None:
    from PIL import ImageCms

    from atelier.images.processing import encode, normalize
    from support.icc import SRGB_PRIMARIES, rgb_profile

    pixels = Image.new("RGB", (8, 8), (40, 160, 90))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    red, green, blue = SRGB_PRIMARIES
    xyz = rgb_profile((green, red, blue))  # red and green swapped: a very different space
    same = pixels.copy()
    same.info["icc_profile"] = srgb
    other = pixels.copy()
    other.info["icc_profile"] = xyz
    kept = normalize(same).getpixel((4, 4))
    moved = normalize(other).getpixel((4, 4))
    assert isinstance(kept, tuple) and isinstance(moved, tuple)
    assert max(abs(a - b) for a, b in zip(kept, (40, 160, 90), strict=True)) <= 2
    assert max(abs(a - b) for a, b in zip(moved, (40, 160, 90), strict=True)) > 20
    assert "icc_profile" not in normalize(other).info
    out = Image.open(io.BytesIO(encode(normalize(other), "png").data))
    assert "icc_profile" not in out.info
    broken = pixels.copy()
    broken.info["icc_profile"] = b"not a profile"
    assert normalize(broken).getpixel((4, 4)) == (40, 160, 90)
