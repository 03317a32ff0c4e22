"""The Library page in a real browser against a real server and worker: two photos uploaded
through the page (one of them twice, reported as a duplicate) are analysed live and show up
in the gallery; a tag is added and found by search; a collection is made, filled and shared;
similar images are listed. The page fits a phone, every control has a name, and it lands in
the screenshots at 1280 and 375 px."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from studio_support import DESKTOP, PHONE, Studio, screenshot

from support.live import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

#: The offline analyser's slow stages off (colours, EXIF and descriptions stay), as in the
#: library's own API tests: this test is about the page, not the analysis.
QUICK = {
    "ATELIER_LIBRARY__OCR": "false",
    "ATELIER_LIBRARY__FACES": "false",
    "ATELIER_LIBRARY__PEOPLE": "false",
    "ATELIER_LIBRARY__SAFETY": "false",
}


@pytest.fixture(autouse=True)
def quick_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the studio reads its settings (autouse fixtures come first), so the
    server and the worker process both see it."""
    for key, value in QUICK.items():
        monkeypatch.setenv(key, value)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def api(page: Any, path: str) -> Any:
    """GET with the browser's own session cookie."""
    response = page.request.get(path)
    assert response.ok, (path, response.status, response.text())
    return response.json()


def make_photo(path: Path, sky: tuple[int, int, int], sun: tuple[int, int, int]) -> Path:
    picture = Image.new("RGB", (320, 240), sky)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 170, 320, 240), fill=(40, 90, 60))
    draw.ellipse((210, 30, 280, 100), fill=sun)
    picture.save(path)
    return path


def loaded(image: Any) -> None:
    expect(image).to_be_visible()
    wait_until(lambda: image.evaluate("e => e.complete && e.naturalWidth > 0"), 20, "an image")


def gallery(page: Any, name: str) -> Any:
    return page.get_by_role("list", name=name, exact=True)


def test_upload_tag_search_collect_and_find_similar(studio: Studio, page: Any) -> None:
    studio.start_worker()
    page.goto("/library")
    expect(page.get_by_role("heading", name="Library", level=1)).to_be_visible()
    expect(page.get_by_text("Your library is empty.", exact=False)).to_be_visible()
    sea = make_photo(studio.tmp / "sea.png", (40, 110, 200), (250, 250, 250))
    sunset = make_photo(studio.tmp / "sunset.png", (230, 120, 40), (255, 220, 80))

    # two photos through the file picker, with a tag for both; their analysis runs live
    page.get_by_label("Choose images").set_input_files([str(sea), str(sunset)])
    expect(page.get_by_role("list", name="Chosen files")).to_contain_text("sunset.png")
    page.get_by_label("Tags for these images (optional)").fill("holiday")
    page.get_by_role("button", name="Add to the library (2)").click()
    expect(page.get_by_role("heading", name="2 added, 0 already in your library")).to_be_visible()
    batch = page.locator(".lib-upload .lib-task")
    expect(batch.get_by_role("progressbar")).to_be_visible()
    expect(batch.locator(".badge")).to_have_text("Done", timeout=120_000)
    grid = gallery(page, "All images, newest first")
    expect(grid.get_by_role("button", name=re.compile("^Open "))).to_have_count(2)
    loaded(grid.get_by_role("button", name="Open sea.png").locator("img"))
    expect(grid.get_by_role("list", name="Tags of sea.png")).to_contain_text("holiday")

    # the same photo again: a duplicate, with a link to the copy already there
    page.get_by_label("Choose images").set_input_files(str(sea))
    page.get_by_role("button", name="Add to the library (1)").click()
    expect(page.get_by_role("heading", name="0 added, 1 already in your library")).to_be_visible()
    expect(page.get_by_text("Already in your library", exact=True)).to_be_visible()
    expect(grid.get_by_role("button", name=re.compile("^Open "))).to_have_count(2)
    page.get_by_role("button", name="Open the existing copy of sea.png").click()

    # a tag of one's own: PATCH, then the re-tag task's progress
    dialog = page.get_by_role("dialog", name="sea.png")
    expect(dialog).to_be_visible()
    loaded(dialog.get_by_role("img", name="sea.png"))
    dialog.get_by_label("Add a tag").fill("lighthouse")
    dialog.get_by_role("button", name="Add a tag").click()
    expect(dialog.get_by_role("list", name="Your tags")).to_contain_text("lighthouse")
    retag = dialog.locator(".lib-task")
    expect(retag).to_contain_text("Updating the search index")
    expect(retag.locator(".badge")).to_have_text("Done", timeout=60_000)
    image_id = page.locator("li.tile", has=page.get_by_role("button", name="Open sea.png"))
    sea_id = image_id.get_attribute("data-image-id")
    stored = api(page, f"/api/v1/library/images/{sea_id}")
    assert {"holiday", "lighthouse"} <= {t["tag"] for t in stored["tags"] if t["source"] == "user"}
    screenshot(page, "library-details")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # search by that tag: the image, with its score and what matched
    search = page.get_by_role("search", name="Search your images")
    search.get_by_role("searchbox").fill("lighthouse")
    search.get_by_role("button", name="Search", exact=True).click()
    results = gallery(page, "Results for “lighthouse”")
    expect(results.get_by_role("button", name="Open sea.png")).to_be_visible()
    expect(results.locator(".tile__score").first).to_contain_text("matched by")
    expect(page).to_have_url(re.compile(r"[?&]q=lighthouse"))
    search.get_by_role("button", name="Clear").click()
    expect(grid.get_by_role("button", name=re.compile("^Open "))).to_have_count(2)

    # a collection: create it, add the selected image, show it, share it
    page.get_by_label("New collection name").fill("Seaside")
    page.get_by_role("button", name="Create", exact=True).click()
    collections = page.get_by_role("list", name="Collections")
    expect(collections.get_by_role("button", name="Seaside", exact=True)).to_be_visible()
    page.get_by_role("checkbox", name="Select sea.png").check()
    selection = page.get_by_role("group", name="Selected images")
    expect(selection).to_contain_text("1 selected")
    selection.get_by_role("button", name="Add to collection").click()
    expect(collections).to_contain_text("1 images")
    collections.get_by_role("button", name="Seaside", exact=True).click()
    in_collection = gallery(page, "Collection “Seaside”")
    expect(in_collection.get_by_role("button", name=re.compile("^Open "))).to_have_count(1)
    expect(in_collection.get_by_role("button", name="Open sea.png")).to_be_visible()
    collections.get_by_role("button", name="Share Seaside").click()
    link = collections.get_by_label("Anyone with this link can see it")
    expect(link).to_have_value(re.compile(r"/library\?shared="))
    shared_url = link.input_value()
    page.get_by_role("button", name="Show all images").click()

    # similar images of the sea: the sunset is the only other one
    grid.get_by_role("button", name="Open sea.png").click()
    dialog.get_by_role("button", name="Similar images").click()
    similar = gallery(page, "Images like “sea.png”")
    expect(similar.get_by_role("button", name="Open sunset.png")).to_be_visible(timeout=30_000)
    expect(similar.get_by_role("button", name="Open sea.png")).to_have_count(0)
    screenshot(page, "library")

    # the shared link works in the same browser (and needs no session)
    page.goto(shared_url)
    expect(page.get_by_role("heading", name="Seaside", level=1)).to_be_visible()
    loaded(page.get_by_role("img", name=re.compile(".+")).first)


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter((el) => !(el.labels?.length || el.getAttribute('aria-label')
                   || el.getAttribute('aria-labelledby') || el.textContent.trim() || el.title))
  .map((el) => el.outerHTML.slice(0, 160))"""

OVERFLOW = "() => document.documentElement.scrollWidth - innerWidth"


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_library_fits_and_every_control_has_a_name(
    studio: Studio, page: Any, size: dict[str, int]
) -> None:
    page.set_viewport_size(size)
    page.goto("/library")
    expect(page.get_by_role("heading", name="Library", level=1)).to_be_visible()
    # the page has loaded (so the browser holds its session): the upload below, made outside the
    # page with the same cookies, belongs to that session rather than minting one of its own
    expect(page.get_by_text("Your library is empty.")).to_be_visible()
    # an image in the library (its analysis waits: there is no worker), so tiles are shown
    photo = make_photo(
        studio.tmp / "a-photo-with-a-rather-long-file-name.png", (90, 90, 90), (0, 0, 0)
    )
    made = page.request.post(
        "/api/v1/library/images",
        multipart={
            "files": {"name": photo.name, "mimeType": "image/png", "buffer": photo.read_bytes()},
            "tags": "one tag,another tag,a third",
        },
    )
    assert made.status == 201, made.text()
    page.reload()
    tile = page.get_by_role("button", name=f"Open {photo.name}")
    expect(tile).to_be_visible()
    page.get_by_text("Filters", exact=True).click()  # the filters unfolded
    page.wait_for_load_state("networkidle")
    assert page.evaluate(OVERFLOW) <= 0, f"/library is wider than {size['width']}px"
    assert page.evaluate(UNLABELLED) == []
    tile.click()
    dialog = page.get_by_role("dialog", name=photo.name)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("list", name="Your tags")).to_contain_text("another tag")
    assert page.evaluate(OVERFLOW) <= 0, "the image's details are too wide"
    assert page.evaluate(UNLABELLED) == []
    dialog.get_by_role("button", name="Close").click()
    # and in Chinese
    page.get_by_label("Language").select_option("zh")
    expect(page.get_by_role("heading", name="图库", level=1)).to_be_visible()
    expect(page.get_by_role("button", name=f"打开 {photo.name}")).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0, "/library in Chinese is too wide"
