"""Exports: a page as PNG or WebP, pages as a PDF (one page per image) or a CBZ comic archive.

- PNG is lossless; WebP is written at quality 90 (method 6), lossless with ``quality=100``.
- PDF: Pillow's writer, one page per image (JPEG at quality 92) at ``dpi`` (150 by default:
  an A4-ratio page 1240 pixels wide prints at A4 width), the title in the document information.
- CBZ: a ZIP (stored, not deflated: images are compressed already) of the pages named
  ``page-001.png``… in reading order, then ``ComicInfo.xml`` (the Anansi ComicInfo 2.0 schema
  readers such as Komga, Kavita and CDisplayEx understand): title, summary, writer, page count,
  ``LanguageISO``, ``Manga`` (``YesAndRightToLeft`` for right-to-left pages) and one ``Page``
  entry per image with its size.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from atelier.errors import ValidationFailed

Format = Literal["png", "webp", "pdf", "cbz"]
MEDIA_TYPES = {
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "cbz": "application/vnd.comicbook+zip",
}


@dataclass(frozen=True)
class Export:
    data: bytes
    media_type: str
    extension: str


def encode_page(
    image: Image.Image, fmt: Literal["png", "webp"] = "png", quality: int = 90
) -> bytes:
    buffer = io.BytesIO()
    rgb = image.convert("RGB")
    if fmt == "webp":
        rgb.save(buffer, format="WEBP", quality=quality, method=6, lossless=quality >= 100)
    elif fmt == "png":
        rgb.save(buffer, format="PNG", optimize=True)
    else:
        raise ValidationFailed(f"cannot encode a page as {fmt!r}", details={"field": "format"})
    return buffer.getvalue()


def export_pdf(
    pages: Sequence[Image.Image], *, title: str = "", dpi: float = 150, quality: int = 92
) -> bytes:
    """One PDF page per image (JPEG-compressed at ``quality``)."""
    if not pages:
        raise ValidationFailed("no pages to export", details={"field": "pages"})
    rgb = [page.convert("RGB") for page in pages]
    buffer = io.BytesIO()
    rgb[0].save(
        buffer,
        format="PDF",
        save_all=True,
        append_images=rgb[1:],
        resolution=dpi,
        quality=quality,
        title=title or "Atelier manga",
        creator="Atelier",
    )
    return buffer.getvalue()


def comic_info(
    pages: Sequence[Image.Image],
    *,
    sizes: Sequence[int] = (),
    title: str = "",
    summary: str = "",
    writer: str = "",
    language: str = "",
    reading_direction: Literal["ltr", "rtl"] = "ltr",
) -> bytes:
    """``ComicInfo.xml`` for ``pages`` (``sizes``: their file sizes in bytes, when known)."""
    root = ET.Element(
        "ComicInfo",
        {
            "xmlns:xsd": "http://www.w3.org/2001/XMLSchema",
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        },
    )
    for tag, value in (
        ("Title", title),
        ("Summary", summary),
        ("Writer", writer),
        ("PageCount", str(len(pages))),
        ("LanguageISO", language),
        ("Manga", "YesAndRightToLeft" if reading_direction == "rtl" else "Yes"),
    ):
        if value:
            ET.SubElement(root, tag).text = value
    listing = ET.SubElement(root, "Pages")
    for index, page in enumerate(pages):
        attributes = {
            "Image": str(index),
            "ImageWidth": str(page.width),
            "ImageHeight": str(page.height),
        }
        if index == 0:
            attributes["Type"] = "FrontCover"
        if index < len(sizes):
            attributes["ImageSize"] = str(sizes[index])
        ET.SubElement(listing, "Page", attributes)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def export_cbz(
    pages: Sequence[Image.Image],
    *,
    fmt: Literal["png", "webp"] = "png",
    title: str = "",
    summary: str = "",
    writer: str = "",
    language: str = "",
    reading_direction: Literal["ltr", "rtl"] = "ltr",
) -> bytes:
    """A CBZ of the pages in order and ``ComicInfo.xml``."""
    if not pages:
        raise ValidationFailed("no pages to export", details={"field": "pages"})
    encoded = [encode_page(page, fmt) for page in pages]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for index, data in enumerate(encoded, start=1):
            info = zipfile.ZipInfo(f"page-{index:03d}.{fmt}", date_time=(2020, 1, 1, 0, 0, 0))
            archive.writestr(info, data)
        xml = comic_info(
            pages,
            sizes=[len(d) for d in encoded],
            title=title,
            summary=summary,
            writer=writer,
            language=language,
            reading_direction=reading_direction,
        )
        archive.writestr(zipfile.ZipInfo("ComicInfo.xml", date_time=(2020, 1, 1, 0, 0, 0)), xml)
    return buffer.getvalue()


def export(
    pages: Sequence[Image.Image],
    fmt: Format,
    *,
    title: str = "",
    summary: str = "",
    language: str = "",
    reading_direction: Literal["ltr", "rtl"] = "ltr",
) -> Export:
    """``pages`` in ``fmt``: ``png``/``webp`` take exactly one page; ``pdf``/``cbz`` any."""
    if fmt in ("png", "webp"):
        if len(pages) != 1:
            raise ValidationFailed(
                f"{fmt} holds one page, not {len(pages)}: use pdf or cbz",
                details={"field": "format"},
            )
        return Export(encode_page(pages[0], fmt), MEDIA_TYPES[fmt], fmt)
    if fmt == "pdf":
        return Export(export_pdf(pages, title=title), MEDIA_TYPES["pdf"], "pdf")
    if fmt == "cbz":
        data = export_cbz(
            pages,
            title=title,
            summary=summary,
            language=language,
            reading_direction=reading_direction,
        )
        return Export(data, MEDIA_TYPES["cbz"], "cbz")
    raise ValidationFailed(f"unknown export format {fmt!r}", details={"field": "format"})
