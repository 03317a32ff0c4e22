"""The ``noop`` provider: instant solid images of the requested size, one progress call each."""

from __future__ import annotations

import numpy as np
import pytest

from atelier.providers.base import TextToImageProvider, TextToImageRequest
from atelier.providers.errors import InvalidRequest
from atelier.providers.noop import NoopProvider


def test_models_and_protocol() -> None:
    provider = NoopProvider()
    assert isinstance(provider, TextToImageProvider)
    [info] = provider.models()
    assert (info.id, info.provider, info.kind) == ("noop", "noop", "noop")


@pytest.mark.parametrize(("width", "height", "count"), [(64, 64, 1), (333, 97, 3), (1, 1, 8)])
def test_solid_images_of_the_requested_size_and_count(width: int, height: int, count: int) -> None:
    calls: list[tuple[int, int]] = []
    request = TextToImageRequest(prompt="x", width=width, height=height, num_images=count, seed=5)
    result = NoopProvider().text_to_image(request, lambda d, t: calls.append((d, t)))
    assert (result.provider, result.model) == ("noop", "noop")
    assert [g.seed for g in result.images] == [5 + i for i in range(count)]
    assert calls == [(i + 1, count) for i in range(count)]
    for generated in result.images:
        assert generated.image.mode == "RGB"
        assert generated.image.size == (width, height)
        pixels = np.asarray(generated.image).reshape(-1, 3)
        assert (pixels == pixels[0]).all(), "one solid colour"
    if count > 1:
        first, second = (np.asarray(g.image) for g in result.images[:2])
        assert not np.array_equal(first, second), "each seed has its own colour"


def test_a_raising_callback_stops_it() -> None:
    calls: list[int] = []

    def on_progress(done: int, total: int) -> None:
        calls.append(done)
        raise LookupError("stop")

    request = TextToImageRequest(prompt="x", width=8, height=8, num_images=4)
    with pytest.raises(LookupError):
        NoopProvider().text_to_image(request, on_progress)
    assert calls == [1]


@pytest.mark.parametrize("changes", [{"width": 0}, {"height": 5000}, {"num_images": 0}])
def test_bad_sizes_are_invalid(changes: dict[str, int]) -> None:
    request = TextToImageRequest(prompt="x", **changes)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        NoopProvider().text_to_image(request)
