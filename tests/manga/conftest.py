"""Fixtures of the manga engine's tests: stories, a chat API emulator, one OCR engine for the
session (it takes about a second to start) and images with a real, detectable face."""

# ruff: noqa: RUF001  (the Chinese story is written with Chinese punctuation)

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from support.emulators.openai_chat import OpenAIChatEmulator

ZH_STORY = """灯塔
林小雨是一个穿黄色雨衣的女孩。她住在海边的灯塔里。
一天晚上，暴风雨来了。林小雨大声说：“灯坏了！”
老船长从楼下跑上来。“别怕，我来修。”老船长说。
他们一起爬上塔顶。林小雨问：“还来得及吗？”
“来得及。”他笑着回答。
天亮的时候，灯又亮了起来。远处的渔船平安地回到了港口。"""

EN_STORY = """The Night Train

Ana, a young conductor with a red cap, walked through the train. The old man in seat 12 was \
asleep.

"Tickets, please," Ana said. The old man opened one eye.

"I have no ticket," he whispered. "But I have a story."

Ana sat down beside him. "Tell me," she said.

The train rushed through the dark forest toward the city."""


@pytest.fixture
def zh_story() -> str:
    return ZH_STORY


@pytest.fixture
def en_story() -> str:
    return EN_STORY


@pytest.fixture
def chat_emulator() -> Iterator[OpenAIChatEmulator]:
    """A fresh chat API emulator; the test fails if the emulator raised or a queued fault
    was never triggered."""
    with OpenAIChatEmulator() as emulator:
        yield emulator
    assert not emulator.errors, f"the emulator failed: {emulator.errors!r}"
    assert emulator.pending_faults == 0, "a queued fault was never triggered"


@pytest.fixture(scope="session")
def ocr() -> Any:
    """One RapidOCR engine (PP-OCR models shipped in the package) for the whole session."""
    from rapidocr import RapidOCR

    return RapidOCR(params={"Global.log_level": "error"})


def read_text(engine: Any, image: Image.Image) -> list[str]:
    """The lines OCR reads in ``image``, top to bottom."""
    result = engine(np.asarray(image.convert("RGB")))
    return list(result.txts or ())


@pytest.fixture(scope="session")
def astronaut() -> Image.Image:
    """scikit-image's bundled astronaut photograph (a frontal face; offline)."""
    from skimage import data

    return Image.fromarray(data.astronaut())


def face_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The single face the Haar cascade finds in ``image``."""
    from atelier.manga.faces import detect_faces

    faces = detect_faces(image)
    assert len(faces) == 1, faces
    return faces[0]


# -- the manga task ------------------------------------------------------------------------------
#: Small pages and panels keep the task tests fast.
SMALL = {"ATELIER_MANGA__PAGE_WIDTH": "400", "ATELIER_MANGA__PANEL_LONG_SIDE": "256"}


@pytest.fixture
def manga_rt(profile: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A worker runtime on the profile's database with small pages; the provider policy does
    not retry in-call (task-level retries are what is tested)."""
    from atelier.config import Settings
    from atelier.db.migrate import upgrade
    from atelier.runtime import build_runtime

    for key, value in {**SMALL, "ATELIER_POLICY__RETRIES": "0"}.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    upgrade(settings)
    runtime = build_runtime(settings, worker=True)
    yield runtime
    runtime.close()


class PickyBackend:
    """A text-to-image provider that draws procedurally but refuses, permanently, the
    requests whose seed it was told to refuse: a remote API rejecting some panels."""

    name = "picky"

    def __init__(self, refuse: set[int]) -> None:
        self.refuse = refuse
        self.seeds: list[int] = []

    def models(self) -> list[Any]:
        from atelier.providers.base import ModelInfo

        return [ModelInfo(id="picky", provider="picky", kind="remote")]

    def text_to_image(self, request: Any, on_progress: Any = None) -> Any:
        from atelier.providers.errors import ContentRejected
        from atelier.providers.procedural import ProceduralProvider

        self.seeds.append(request.seed)
        if request.seed in self.refuse:
            raise ContentRejected("this panel was refused by the provider")
        return ProceduralProvider().text_to_image(request, on_progress)


PLACEHOLDER_GREYS = ((226, 226, 226), (204, 204, 204))


def placeholder_share(page: Image.Image, box: list[int] | tuple[int, ...]) -> float:
    """The share of a cell's pixels in the placeholder's two greys."""
    cell = np.asarray(page.convert("RGB").crop(tuple(box)))  # type: ignore[arg-type]
    hits = np.zeros(cell.shape[:2], dtype=bool)
    for grey in PLACEHOLDER_GREYS:
        hits |= np.all(cell == np.array(grey, dtype=cell.dtype), axis=-1)
    return float(hits.mean())
