"""Exports: PNG and WebP pages, multi-page PDF, CBZ with ComicInfo.xml; the whole engine."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

import pytest
from PIL import Image, PdfParser

from atelier.errors import ValidationFailed
from atelier.manga import (
    MangaOptions,
    encode_page,
    export,
    export_cbz,
    export_pdf,
    make_page,
    write_scenes,
)
from atelier.manga.engine import MangaRun

COLOURS = [(200, 30, 30), (30, 160, 40), (30, 40, 200)]


def pages(size: tuple[int, int] = (310, 438)) -> list[Image.Image]:
    out = []
    for colour in COLOURS:
        page = Image.new("RGB", size, "white")
        page.paste(colour, (10, 10, size[0] - 10, size[1] - 10))
        out.append(page)
    return out


def near(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_a_page_as_an_image(fmt: str) -> None:
    (page, *_) = pages()
    data = encode_page(page, fmt)  # type: ignore[arg-type]
    decoded = Image.open(io.BytesIO(data))
    assert decoded.format == fmt.upper() and decoded.size == page.size
    assert near(decoded.convert("RGB").getpixel((150, 200)), COLOURS[0])  # type: ignore[arg-type]
    if fmt == "png":
        assert decoded.convert("RGB").tobytes() == page.tobytes()  # lossless
    lossless = Image.open(io.BytesIO(encode_page(page, "webp", quality=100)))
    assert lossless.convert("RGB").tobytes() == page.tobytes()


def test_a_multi_page_pdf() -> None:
    data = export_pdf(pages(), title="The Night Train", dpi=150)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")

    pdf = PdfParser.PdfParser(buf=data)  # reads the xref table, trailer and page tree
    assert len(pdf.pages) == 3
    assert pdf.read_indirect(pdf.root[b"Pages"])[b"Count"] == 3
    assert pdf.info[b"Title"].decode("utf-16") == "The Night Train"
    for ref, colour in zip(pdf.pages, COLOURS, strict=True):
        page = pdf.read_indirect(ref)
        assert page[b"Type"] == b"Page"
        assert page[b"MediaBox"] == [
            0,
            0,
            pytest.approx(310 * 72 / 150),
            pytest.approx(438 * 72 / 150),
        ]
        (image_ref,) = page[b"Resources"][b"XObject"].values()
        stream = pdf.read_indirect(image_ref)
        assert stream.dictionary[b"Filter"] == b"DCTDecode"
        image = Image.open(io.BytesIO(stream.buf))
        assert image.size == (310, 438)
        assert near(image.convert("RGB").getpixel((155, 219)), colour)  # pages in order


@pytest.mark.parametrize("direction", ["ltr", "rtl"])
def test_a_cbz_with_comic_info(direction: str) -> None:
    data = export_cbz(
        pages(),
        fmt="webp",
        title="灯塔",
        summary="A storm, a lamp.",
        language="zh",
        reading_direction=direction,  # type: ignore[arg-type]
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == ["page-001.webp", "page-002.webp", "page-003.webp", "ComicInfo.xml"]
        images = [Image.open(io.BytesIO(archive.read(n))) for n in names[:3]]
        for image, colour in zip(images, COLOURS, strict=True):
            assert image.size == (310, 438)
            assert near(image.convert("RGB").getpixel((155, 219)), colour)
        sizes = [archive.getinfo(n).file_size for n in names[:3]]
        info = ET.fromstring(archive.read("ComicInfo.xml"))

    assert info.tag == "ComicInfo"
    assert info.findtext("Title") == "灯塔" and info.findtext("Summary") == "A storm, a lamp."
    assert info.findtext("PageCount") == "3" and info.findtext("LanguageISO") == "zh"
    assert info.findtext("Manga") == ("YesAndRightToLeft" if direction == "rtl" else "Yes")
    entries = info.findall("Pages/Page")
    assert [e.get("Image") for e in entries] == ["0", "1", "2"]
    assert entries[0].get("Type") == "FrontCover"
    assert [int(e.get("ImageSize", "0")) for e in entries] == sizes
    assert all((e.get("ImageWidth"), e.get("ImageHeight")) == ("310", "438") for e in entries)


def test_export_dispatches_and_checks_page_counts() -> None:
    three = pages()
    assert export(three, "pdf").media_type == "application/pdf"
    cbz = export(three, "cbz", title="x")
    assert cbz.extension == "cbz" and zipfile.is_zipfile(io.BytesIO(cbz.data))
    single = export(three[:1], "webp")
    assert single.media_type == "image/webp"
    assert Image.open(io.BytesIO(single.data)).size == three[0].size
    with pytest.raises(ValidationFailed):
        export(three, "png")
    with pytest.raises(ValidationFailed):
        export([], "pdf")


def test_the_whole_engine_offline(en_story: str) -> None:
    options = MangaOptions(panels=3, page_width=600, panel_long_side=256, seed=5)
    run = make_page(en_story, options)
    again = make_page(en_story, options)

    assert isinstance(run, MangaRun)
    assert run.script == write_scenes(en_story, options)
    assert len(run.prompts) == len(run.images) == 3
    assert [im.size for im in run.images] == [(p.width, p.height) for p in run.prompts]
    assert run.page.image.size == options.page_size
    assert run.page.layout == run.layout.name
    assert run.page.image.tobytes() == again.page.image.tobytes()  # deterministic
    texts = {t.text for t in run.page.texts}
    assert {d.text for p in run.script.panels for d in p.dialogue} <= texts
    drawn: list[int] = []
    supplied = make_page(
        en_story, options, draw=lambda p: drawn.append(p.seed) or Image.new("RGB", (64, 64))
    )
    assert drawn == [p.seed for p in run.prompts] and supplied.page.image.size == options.page_size
