"""The embeddings API client against a local emulator of OpenAI's ``/v1/embeddings``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from pydantic import SecretStr

from atelier.config import LibraryApiEmbedderSettings, Settings
from atelier.library.api_embedder import ApiEmbedder
from atelier.library.embedding import Embedder
from atelier.library.factory import build_embedder
from atelier.providers.errors import (
    AuthFailed,
    InvalidRequest,
    ProviderNetworkError,
    ProviderTimeout,
    QuotaExhausted,
    RateLimited,
    Upstream5xx,
)
from support.emulators import assert_secret_free
from support.emulators.openai_embeddings import OpenAIEmbeddingsEmulator, embed

Make = Callable[..., ApiEmbedder]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make(embeddings_emulator: OpenAIEmbeddingsEmulator, sleeps: list[float]) -> Iterator[Make]:
    made: list[ApiEmbedder] = []

    def make(**overrides: Any) -> ApiEmbedder:
        values: dict[str, Any] = {
            "base_url": embeddings_emulator.url + "/v1",
            "api_key": SecretStr(embeddings_emulator.api_key or ""),
            "model": "emulated-32",
            "retries": 2,
            "retry_base_delay": 0.5,
            "timeout": 5,
        }
        values.update(overrides)
        made.append(ApiEmbedder(LibraryApiEmbedderSettings(**values), sleep=sleeps.append))
        return made[-1]

    yield make
    for embedder in made:
        embedder.close()


def test_embeds_in_batches_in_order(
    make: Make, embeddings_emulator: OpenAIEmbeddingsEmulator
) -> None:
    embedder = make(batch_size=2)
    texts = ["red car", "blue sky", "red car on the street", "", "a cat"]
    vectors = embedder.embed(texts)
    assert isinstance(embedder, Embedder)
    assert vectors.shape == (5, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embeddings_emulator.inputs == [
        ["red car", "blue sky"],
        ["red car on the street", " "],  # empty texts go as a space: the API refuses ""
        ["a cat"],
    ]
    assert np.allclose(vectors[1], embed("blue sky", 32), atol=1e-5)
    # the emulator's vectors are bags of words: shared words mean closer vectors
    assert vectors[0] @ vectors[2] > vectors[0] @ vectors[1]
    body = embeddings_emulator.api_requests()[0].json()
    assert body["encoding_format"] == "float" and "dimensions" not in body
    assert embedder.dim == 32 and embedder.name == "api:emulated-32"


def test_rows_are_placed_by_index(
    make: Make, embeddings_emulator: OpenAIEmbeddingsEmulator
) -> None:
    embeddings_emulator.fail_next("shuffled")
    vectors = make().embed(["one", "two", "three"])
    for row, text in zip(vectors, ["one", "two", "three"], strict=True):
        assert np.allclose(row, embed(text, 32), atol=1e-5)


def test_dimensions_are_sent_and_learned(
    make: Make, embeddings_emulator: OpenAIEmbeddingsEmulator
) -> None:
    embedder = make(model="text-embedding-3-small", dimensions=64)
    assert embedder.dim == 64  # known from the settings, no request
    assert embeddings_emulator.api_requests() == []
    assert embedder.embed(["x"]).shape == (1, 64)
    assert embeddings_emulator.api_requests()[0].json()["dimensions"] == 64
    assert embedder.name == "api:text-embedding-3-small:64"
    probing = make(model="text-embedding-3-small")
    assert probing.dim == 1536  # one small request to learn it
    assert len(embeddings_emulator.api_requests()) == 2


def test_transient_failures_are_retried_with_backoff(
    make: Make, embeddings_emulator: OpenAIEmbeddingsEmulator, sleeps: list[float]
) -> None:
    embeddings_emulator.fail_next("server_error", status=503)
    embeddings_emulator.fail_next("rate_limit", retry_after=3)
    vectors = make(retries=2).embed(["hello"])
    assert vectors.shape == (1, 32)
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5  # base 0.5 s with jitter
    assert sleeps[1] == 3.0  # the server's Retry-After


def test_retries_run_out(
    make: Make, embeddings_emulator: OpenAIEmbeddingsEmulator, sleeps: list[float]
) -> None:
    for _ in range(3):
        embeddings_emulator.fail_next("server_error")
    with pytest.raises(Upstream5xx, match="HTTP 500"):
        make(retries=2).embed(["hello"])
    assert len(embeddings_emulator.api_requests()) == 3 and len(sleeps) == 2
    assert sleeps[1] > sleeps[0] / 2  # exponential, with jitter


def test_a_long_retry_after_fails_at_once(
    make: Make, embeddings_emulator: OpenAIEmbeddingsEmulator, sleeps: list[float]
) -> None:
    embeddings_emulator.fail_next("rate_limit", retry_after_ms=90_000)
    with pytest.raises(RateLimited) as caught:
        make(retry_max_delay=20).embed(["hello"])
    assert caught.value.retry_after == 90.0 and sleeps == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("quota", QuotaExhausted),
        ("context_length", InvalidRequest),
    ],
)
def test_permanent_errors_are_not_retried(
    make: Make,
    embeddings_emulator: OpenAIEmbeddingsEmulator,
    sleeps: list[float],
    fault: str,
    error: type[Exception],
) -> None:
    embeddings_emulator.fail_next(fault)
    with pytest.raises(error):
        make().embed(["hello"])
    assert sleeps == [] and len(embeddings_emulator.api_requests()) == 1


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("wrong_count", "embeddings for"),
        ("wrong_dim", "sizes"),
        ("missing_data", "no data"),
        ("not_numbers", "not a list of numbers"),
        ("invalid_json", "not a JSON object"),
    ],
)
def test_malformed_answers_are_bad_responses(
    make: Make, embeddings_emulator: OpenAIEmbeddingsEmulator, fault: str, message: str
) -> None:
    embeddings_emulator.fail_next(fault)
    with pytest.raises(Upstream5xx, match=f"bad response.*{message}"):
        make(retries=0).embed(["one", "two"])


def test_a_dimension_change_midway_is_refused(make: Make) -> None:
    embedder = make(model="text-embedding-3-small", dimensions=16)
    embedder.embed(["x"])
    embedder.settings = embedder.settings.model_copy(update={"dimensions": 8})
    with pytest.raises(Upstream5xx, match="8 dimensions, expected 16"):
        embedder.embed(["y"])


def test_wrong_key_is_auth_failed_and_never_leaks(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-wrong-secret-key-that-must-not-leak"
    caplog.set_level(logging.DEBUG)
    embedder = make(api_key=SecretStr(secret))
    with pytest.raises(AuthFailed) as caught:
        embedder.embed(["hello"])
    assert_secret_free(caught.value, secret)
    assert secret not in caplog.text and secret not in repr(embedder)


def test_timeouts_and_disconnects(
    make: Make, embeddings_emulator: OpenAIEmbeddingsEmulator
) -> None:
    embeddings_emulator.fail_next("timeout", delay=2)
    with pytest.raises(ProviderTimeout):
        make(timeout=0.3, retries=0).embed(["hello"])
    embeddings_emulator.fail_next("disconnect")
    with pytest.raises(ProviderNetworkError):
        make(retries=0).embed(["hello"])


def test_no_key_sends_no_authorization(sleeps: list[float]) -> None:
    with OpenAIEmbeddingsEmulator(api_key=None) as emulator:
        settings = LibraryApiEmbedderSettings(base_url=emulator.url + "/v1", model="emulated-32")
        embedder = ApiEmbedder(settings, sleep=sleeps.append)
        assert embedder.embed(["hello"]).shape == (1, 32)
        embedder.close()
        assert "authorization" not in emulator.api_requests()[0].headers


def test_factory_builds_it() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        library={"embedder": "api", "api": {"model": "emulated-32", "api_key": "sk-x"}},
    )
    embedder = build_embedder(settings)
    assert isinstance(embedder, ApiEmbedder)
    assert "sk-x" not in repr(embedder) and "sk-x" not in repr(settings)
    embedder.close()


def test_a_malformed_answer_is_retried(
    make: Make, embeddings_emulator: OpenAIEmbeddingsEmulator, sleeps: list[float]
) -> None:
    embeddings_emulator.fail_next("wrong_count")
    assert make(retries=1).embed(["one", "two"]).shape == (2, 32)
    assert len(embeddings_emulator.api_requests()) == 2 and len(sleeps) == 1
