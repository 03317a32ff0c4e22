"""The Manga and Erase pages in a real browser against a real server and worker: a story on
the offline writer and the ``procedural`` model fills its panels in, reaches the page
preview and downloads as a file; a photo with text drawn on it is erased and compared before
and after. Both pages fit a phone, and land in the screenshots at 1280 and 375 px."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont
from studio_support import DESKTOP, PHONE, Studio, screenshot

from support.live import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

STORY = (
    "The Night Train\n\n"
    'Ana, a young conductor with a red cap, walked along the platform. "All aboard!" Ana said.\n\n'
    "The old man climbed in with a lantern and sat by the window.\n\n"
    '"Where are we going?" the old man asked. "To the sea," Ana said, smiling.'
)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def api(page: Any, path: str) -> Any:
    response = page.request.get(path)
    assert response.ok, (path, response.status, response.text())
    return response.json()


def loaded(image: Any) -> None:
    expect(image).to_be_visible()
    wait_until(lambda: image.evaluate("e => e.complete && e.naturalWidth > 0"), 20, "an image")


def test_manga_story_to_page_preview_and_export(studio: Studio, page: Any) -> None:
    # the job and its panel tasks run side by side
    studio.start_worker(concurrency=3)
    page.goto("/manga")
    expect(page.get_by_role("heading", name="Manga", level=1)).to_be_visible()
    page.get_by_label("Story", exact=True).fill(STORY)
    page.get_by_label("Panels", exact=True).select_option("2")
    page.get_by_label("Model", exact=True).select_option("procedural")
    page.get_by_label("Seed", exact=True).fill("11")
    page.get_by_role("button", name="Draw the manga").click()

    expect(page).to_have_url(re.compile(r"[?&]job="))
    job_view = page.locator("article.manga")
    job_id = job_view.get_attribute("data-task-id")
    panels = page.get_by_role("list", name="Panels")
    expect(panels.get_by_role("article")).to_have_count(2, timeout=60_000)
    for n in (1, 2):
        loaded(panels.get_by_role("img", name=f"Panel {n}, version 1"))
    preview = page.get_by_role("img", name="The manga page: ", exact=False)
    expect(preview).to_be_visible(timeout=90_000)
    loaded(preview)
    expect(job_view.locator(".badge").first).to_have_text("Done")

    job = api(page, f"/api/v1/manga/{job_id}")
    assert job["status"] == "completed" and job["page"] is not None
    assert [p["selected_version"] for p in job["panels"]] == [1, 1]

    downloads = page.get_by_role("group", name="Download the page")
    with page.expect_download() as png:
        downloads.get_by_role("link", name="Download the page as PNG").click()
    with Image.open(io.BytesIO(Path(png.value.path()).read_bytes())) as picture:
        assert picture.format == "PNG"
        assert picture.size == (job["page"]["image"]["width"], job["page"]["image"]["height"])
    with page.expect_download() as cbz:
        downloads.get_by_role("link", name="Download the page as CBZ").click()
    assert cbz.value.suggested_filename.endswith(".cbz")
    with zipfile.ZipFile(Path(cbz.value.path())) as archive:
        assert archive.namelist()

    # a refresh keeps the job open (its id is in the address)
    page.reload()
    loaded(page.get_by_role("img", name="The manga page: ", exact=False))
    screenshot(page, "manga")


def make_sign(path: Path) -> Path:
    picture = Image.new("RGB", (480, 320), (90, 140, 190))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((180, 60, 300, 180), fill=(240, 200, 160))
    try:
        font: Any = ImageFont.load_default(size=44)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    draw.text((40, 230), "SALE 50% OFF", fill=(255, 255, 255), font=font)
    picture.save(path)
    return path


def test_erase_an_uploaded_photo_and_compare(studio: Studio, page: Any) -> None:
    studio.start_worker()
    page.goto("/erase")
    expect(page.get_by_role("heading", name="Erase", level=1)).to_be_visible()
    page.get_by_label("Choose a file").set_input_files(str(make_sign(studio.tmp / "sign.png")))
    expect(page.get_by_role("img", name="The chosen photo")).to_be_visible()
    page.get_by_role("button", name="Erase", exact=True).click()

    card = page.locator("article[data-task-id]").first
    expect(card.locator(".badge")).to_have_text("Done", timeout=120_000)
    before = card.get_by_role("img", name="Before")
    after = card.get_by_role("img", name="After")
    for image in (before, after):
        loaded(image)
    task = api(page, f"/api/v1/tasks/{card.get_attribute('data-task-id')}")
    assert task["kind"] == "erase" and task["status"] == "completed"
    assert before.get_attribute("src") == f"/api/v1/images/{task['result']['source_image_id']}"
    loaded(card.get_by_role("img", name="Text mask"))
    slider = card.get_by_role("slider", name="Slide to compare before and after")
    slider.press("ArrowRight")
    expect(slider).to_have_value("51")
    with page.expect_download() as download:
        card.get_by_role("link", name="Download", exact=True).click()
    with Image.open(io.BytesIO(Path(download.value.path()).read_bytes())) as picture:
        assert picture.size == (480, 320)
    screenshot(page, "erase")


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter((el) => !(el.labels?.length || el.getAttribute('aria-label')
                   || el.getAttribute('aria-labelledby') || el.textContent.trim() || el.title))
  .map((el) => el.outerHTML.slice(0, 160))"""


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_manga_and_erase_fit_and_every_control_has_a_name(
    studio: Studio, page: Any, size: dict[str, int]
) -> None:
    page.set_viewport_size(size)
    for path, heading in (("/manga", "Manga"), ("/erase", "Erase")):
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than {size['width']}px"
        assert page.evaluate(UNLABELLED) == [], path
