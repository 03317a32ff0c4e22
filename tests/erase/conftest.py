"""Fixtures of the erase tests: one OCR engine for the session (it takes about a second to
load), and no ONNX model cached from one test to the next."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atelier.erase import detect, models


@pytest.fixture(scope="session")
def ocr() -> detect.OcrEngine:
    engine = detect.engine(1280)
    engine.warm_up()
    return engine


@pytest.fixture(autouse=True)
def _fresh_models() -> Iterator[None]:
    yield
    models.evict_all()
