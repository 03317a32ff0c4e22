"""The studio in a real browser against a real server and worker: generate with the offline
``procedural`` model and watch the progress reach 100 %, open and download a result, reuse
its seed, run it again; reload in the middle of a task and see it resume; restyle an
uploaded photo; cancel and delete from the history; every page fits a phone."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from studio_support import DESKTOP, PHONE, Studio, screenshot

from support.live import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def api(page: Any, path: str) -> Any:
    """GET with the browser's own session cookie."""
    response = page.request.get(path)
    assert response.ok, (path, response.status, response.text())
    return response.json()


def fill_generate(
    page: Any, prompt: str, *, size: str = "256x256", count: int = 1, steps: int = 8
) -> None:
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Model", exact=True).select_option("procedural")
    page.get_by_label("Size", exact=True).select_option(size)
    page.get_by_label("Images", exact=True).select_option(str(count))
    page.get_by_label("Steps", exact=True).fill(str(steps))


def card_of(page: Any, title: str) -> Any:
    heading = page.get_by_role("heading", name=title, exact=True)
    return page.locator("article[data-task-id]").filter(has=heading)


def progress_seen(page: Any, task_id: str) -> list[int]:
    return [int(v) for v in page.evaluate(f"() => window.__progress[{task_id!r}] || []")]


def test_generate_watch_progress_open_download_and_reuse(studio: Studio, page: Any) -> None:
    studio.start_worker()
    page.goto("/")
    expect(page.get_by_role("heading", name="Generate", level=1)).to_be_visible()
    prompt = "a red sunset over the sea, mountains"
    fill_generate(page, prompt, count=2, steps=12)
    page.get_by_label("Seed", exact=True).fill("1234")
    page.get_by_role("button", name="Generate", exact=True).click()

    card = card_of(page, prompt)
    expect(card).to_have_count(1)
    task_id = card.get_attribute("data-task-id")
    bar = card.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=90_000)
    expect(card.locator(".badge")).to_have_text("Done")
    seen = progress_seen(page, task_id)
    assert seen == sorted(seen) and seen[-1] == 100, seen

    task = api(page, f"/api/v1/tasks/{task_id}")
    assert task["status"] == "completed" and task["progress"] == 100
    assert task["params"]["seed"] == 1234 and task["params"]["steps"] == 12
    images = task["result"]["images"]
    assert [i["seed"] for i in images] == [1234, 1235]
    expect(card.get_by_role("button", name=re.compile(r"^Open image \d of 2$"))).to_have_count(2)

    # the full view: the real image, a download, Escape closes it
    card.get_by_role("button", name="Open image 1 of 2").click()
    dialog = page.get_by_role("dialog", name="Image 1 of 2")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("img")).to_have_js_property("naturalWidth", 256)
    with page.expect_download() as download:
        dialog.get_by_role("link", name="Download").click()
    saved = Path(download.value.path())
    with Image.open(io.BytesIO(saved.read_bytes())) as picture:
        assert picture.format == "PNG" and picture.size == (256, 256)
    assert download.value.suggested_filename == f"atelier-{images[0]['image_id']}.png"
    dialog.press("Escape")
    expect(dialog).to_be_hidden()

    # reuse the second image's seed: the form is filled with the task's settings
    card.get_by_role("button", name="Open image 2 of 2").click()
    page.get_by_role("dialog").get_by_role("button", name="Use seed 1235").click()
    expect(page.get_by_label("Seed", exact=True)).to_have_value("1235")
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(prompt)
    expect(page.get_by_label("Steps", exact=True)).to_have_value("12")

    # again with the same settings: a new task, same parameters, a new seed
    card.get_by_role("button", name="Again").click()
    expect(card_of(page, prompt)).to_have_count(2)
    again = card_of(page, prompt).first
    again_id = again.get_attribute("data-task-id")
    assert again_id != task_id
    expect(again.get_by_role("progressbar")).to_have_attribute(
        "aria-valuenow", "100", timeout=90_000
    )
    params = api(page, f"/api/v1/tasks/{again_id}")["params"]
    assert {k: v for k, v in params.items() if k != "seed"} == {
        k: v for k, v in task["params"].items() if k != "seed"
    }
    screenshot(page, "generate")


def test_reload_in_the_middle_of_a_task_resumes_its_stream(studio: Studio, page: Any) -> None:
    studio.start_worker()
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: frames.append(payload)))
    page.goto("/")
    prompt = "night city skyline with stars, long exposure"
    fill_generate(page, prompt, size="1024x1024", count=8, steps=100)
    page.get_by_role("button", name="Generate", exact=True).click()
    card = card_of(page, prompt)
    expect(card).to_have_count(1)
    task_id = card.get_attribute("data-task-id")

    # hold the worker in the middle of the task, then reload the page
    def mid_way() -> dict[str, Any] | None:
        task: dict[str, Any] = api(page, f"/api/v1/tasks/{task_id}")
        return task if task["status"] == "processing" and 0 < task["progress"] < 90 else None

    wait_until(mid_way, 60, "the task to be running mid-way", every=0.02)
    studio.pause_worker()
    try:
        held = api(page, f"/api/v1/tasks/{task_id}")
        assert held["status"] == "processing", "the task ended before the worker was paused"
        bar = card.get_by_role("progressbar")
        expect(bar).to_have_attribute("aria-valuenow", str(held["progress"]))

        frames.clear()
        page.reload()
        card = card_of(page, prompt)
        expect(card.locator(".badge")).to_have_text("Running")
        bar = card.get_by_role("progressbar")
        expect(bar).to_have_attribute("aria-valuenow", str(held["progress"]))
        # the stream was resumed after the last event seen, not replayed from the start
        wait_until(lambda: any(task_id in f and '"subscribe"' in f for f in frames), 20, "resub")
        resubscribe = next(f for f in frames if task_id in f and '"subscribe"' in f)
        after = int(re.search(rf'"{task_id}":\s*(\d+)', resubscribe).group(1))  # type: ignore[union-attr]
        assert after > 2, resubscribe
    finally:
        studio.resume_worker()

    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=120_000)
    expect(card.locator(".badge")).to_have_text("Done")
    expect(card.get_by_role("button", name=re.compile(r"^Open image \d of 8$"))).to_have_count(8)
    seen = progress_seen(page, task_id)
    assert seen[0] == held["progress"] and seen == sorted(seen) and seen[-1] == 100, seen


def make_photo(path: Path) -> Path:
    picture = Image.new("RGB", (320, 240), (70, 130, 180))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((110, 50, 210, 150), fill=(240, 200, 160))
    draw.rectangle((120, 150, 200, 240), fill=(200, 40, 40))
    picture.save(path)
    return path


def test_stylize_an_uploaded_photo_and_compare(studio: Studio, page: Any) -> None:
    studio.start_worker()
    style = api(page, "/api/v1/presets?lang=en")["styles"][0]
    page.goto("/stylize")
    expect(page.get_by_role("heading", name="Stylize", level=1)).to_be_visible()
    page.get_by_label("Choose a file").set_input_files(str(make_photo(studio.tmp / "me.png")))
    expect(page.get_by_role("img", name="The chosen photo")).to_be_visible()
    page.get_by_role("radio", name=style["name"], exact=True).check()
    page.get_by_role("button", name="Stylize", exact=True).click()

    card = page.locator("article[data-task-id]").first
    expect(card.locator(".badge")).to_have_text("Done", timeout=90_000)
    before = card.get_by_role("img", name="Before")
    after = card.get_by_role("img", name="After")
    for image in (before, after):
        expect(image).to_be_visible()
        wait_until(lambda i=image: i.evaluate("e => e.complete && e.naturalWidth > 0"), 20, "img")
    task = api(page, f"/api/v1/tasks/{card.get_attribute('data-task-id')}")
    assert task["kind"] == "stylize" and task["params"]["style"] == style["id"]
    assert before.get_attribute("src") == f"/api/v1/images/{task['result']['source_image_id']}"
    slider = card.get_by_role("slider", name="Slide to compare before and after")
    slider.press("ArrowLeft")
    expect(slider).to_have_value("49")

    # the upload is now in the caller's library, ready to restyle again
    page.reload()
    expect(page.get_by_role("button", name="Use image 1")).to_be_visible()
    screenshot(page, "stylize")


def test_history_cancel_and_delete_survive_a_reload(studio: Studio, page: Any) -> None:
    # no worker: the tasks wait in the queue, so cancelling one is deterministic
    page.goto("/")
    for prompt in ("a queued lighthouse", "a queued forest"):
        fill_generate(page, prompt)
        page.get_by_role("button", name="Generate", exact=True).click()
        expect(card_of(page, prompt)).to_have_count(1)
    expect(card_of(page, "a queued forest")).to_contain_text("1 ahead in the queue")

    page.get_by_role("navigation", name="Pages").get_by_role("link", name="History").click()
    expect(page).to_have_url(re.compile(r"/history$"))
    expect(page.get_by_role("heading", name="History", level=1)).to_be_visible()
    lighthouse = card_of(page, "a queued lighthouse")
    forest = card_of(page, "a queued forest")
    expect(lighthouse.locator(".badge")).to_have_text("Queued")

    lighthouse.get_by_role("button", name="Cancel").click()
    expect(lighthouse.locator(".badge")).to_have_text("Cancelled")
    lighthouse_id = lighthouse.get_attribute("data-task-id")
    assert api(page, f"/api/v1/tasks/{lighthouse_id}")["status"] == "cancelled"

    page.get_by_label("Status", exact=True).select_option("cancelled")
    expect(page).to_have_url(re.compile(r"status=cancelled"))
    expect(forest).to_have_count(0)
    expect(lighthouse).to_have_count(1)
    page.reload()  # the filter is in the address, the tasks on the server
    expect(card_of(page, "a queued lighthouse")).to_have_count(1)
    page.get_by_label("Status", exact=True).select_option("")
    expect(card_of(page, "a queued forest")).to_have_count(1)
    screenshot(page, "history")

    lighthouse = card_of(page, "a queued lighthouse")
    lighthouse.get_by_role("button", name="Delete").click()
    lighthouse.get_by_role("group", name="Delete this task and its images?").get_by_role(
        "button", name="Yes, delete"
    ).click()
    expect(lighthouse).to_have_count(0)
    assert page.request.get(f"/api/v1/tasks/{lighthouse_id}").status == 404
    page.reload()
    expect(card_of(page, "a queued forest")).to_have_count(1)
    expect(card_of(page, "a queued lighthouse")).to_have_count(0)


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter((el) => !(el.labels?.length || el.getAttribute('aria-label')
                   || el.getAttribute('aria-labelledby') || el.textContent.trim() || el.title))
  .map((el) => el.outerHTML.slice(0, 160))"""


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_fits_and_every_control_has_a_name(
    studio: Studio, page: Any, size: dict[str, int]
) -> None:
    page.set_viewport_size(size)
    for path, heading in (("/", "Generate"), ("/stylize", "Stylize"), ("/history", "History")):
        page.goto(path)  # deep links work: the server answers index.html
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than {size['width']}px"
        assert page.evaluate(UNLABELLED) == [], path
    # keyboard: the skip link is the first stop in the tab order, shows when focused, and
    # moves focus to the content (checked through the DOM: a headless window's own focus
    # is not reliable enough to press Tab from nowhere)
    page.goto("/history")
    first_stop = page.evaluate(
        """() => [...document.querySelectorAll('a[href], button, input, select, [tabindex]')]
                 .find((el) => el.tabIndex >= 0 && !el.disabled)?.textContent"""
    )
    assert first_stop == "Skip to content"
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.bounding_box()["y"] < 0  # off screen until focused
    skip.focus()
    wait_until(lambda: skip.bounding_box()["y"] >= 0, 5, "the focused skip link to show")
    skip.press("Enter")
    wait_until(lambda: page.evaluate("() => document.activeElement.id") == "main", 5, "focus")
    # the language switch, and the choice kept across a reload
    page.get_by_label("Language").select_option("zh")
    expect(page.get_by_role("heading", name="历史", level=1)).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="历史", level=1)).to_be_visible()
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
