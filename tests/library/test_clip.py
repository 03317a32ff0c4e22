"""CLIP-family ONNX towers: layouts, preprocessing (resize, centre crop, CLIP normalisation),
text tokenisation, zero-shot labels — with tiny models built in the test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from library_models import RGB, clip_colour, colour_rows, write_tiny_clip
from PIL import Image

from atelier.config import Settings
from atelier.library.clip import ClipOnnxEmbedder, Preprocess
from atelier.library.embedding import ImageEmbedder
from atelier.library.factory import build_image_embedder
from atelier.library.labels import Label
from atelier.providers.errors import NotConfigured


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@pytest.mark.parametrize("layout", ["flat", "immich", "hf"])
def test_layouts_and_the_centre_crop(tmp_path: Path, layout: str) -> None:
    weights = write_tiny_clip(
        tmp_path, layout=layout, dim=4, fixed_length=77 if layout == "immich" else None
    )
    clip = ClipOnnxEmbedder(tmp_path)
    assert isinstance(clip, ImageEmbedder)
    assert clip.dim == 4
    # 448 x 224: black quarters left and right, red in the middle half. The shorter side is
    # already 224, so the 224 x 224 centre crop is exactly the red half.
    image = Image.new("RGB", (448, 224), (0, 0, 0))
    image.paste((255, 0, 0), (112, 0, 336, 224))
    got = clip.embed_images([image])[0]
    expected = unit(clip_colour(RGB["red"]) @ weights["projection"])
    assert np.allclose(got, expected, atol=1e-4)
    # portrait, scaled: 100 x 300 -> 224 x 672, centre crop = the middle third (green)
    tall = Image.new("RGB", (100, 300), (0, 0, 255))
    tall.paste((0, 255, 0), (0, 100, 100, 200))
    got = clip.embed_images([tall])[0]
    expected = unit(clip_colour(RGB["green"]) @ weights["projection"])
    assert np.allclose(got, expected, atol=2e-2)  # bicubic edges blur a little


def test_preprocess_shape_and_values() -> None:
    pixels = Preprocess()(Image.new("RGB", (640, 480), (255, 255, 255)))
    assert pixels.shape == (3, 224, 224) and pixels.dtype == np.float32
    assert np.allclose(pixels[:, 100, 100], clip_colour((1.0, 1.0, 1.0)), atol=1e-5)


def test_text_tower_and_zero_shot(tmp_path: Path) -> None:
    write_tiny_clip(
        tmp_path, dim=3, token_rows=colour_rows(), projection=np.eye(3, dtype=np.float32)
    )
    clip = ClipOnnxEmbedder(tmp_path)
    texts = clip.embed_texts(["a photo of red", "a photo of blue", "blue"])
    assert np.allclose(texts[0], unit(clip_colour(RGB["red"])), atol=1e-5)
    assert np.allclose(texts[1], texts[2], atol=1e-5)  # words without a row add nothing
    labels = [Label("red", "红色"), Label("green", "绿色"), Label("blue", "蓝色")]
    for name, rgb in RGB.items():
        image = Image.new("RGB", (300, 200), tuple(int(255 * c) for c in rgb))
        found = clip.zero_shot(image, labels, threshold=0.1, top=2)
        assert found[0][0].en == name and found[0][1] > 0.9
        assert all(p >= 0.1 for _, p in found)
    # image and text vectors share one space: the red picture is nearest to "red"
    red = clip.embed_images([Image.new("RGB", (64, 64), (255, 0, 0))])[0]
    assert int(np.argmax(clip.label_vectors(labels) @ red)) == 0


def test_fixed_length_text_graph_is_padded_to_it(tmp_path: Path) -> None:
    write_tiny_clip(tmp_path, layout="immich", dim=3, token_rows=colour_rows(), fixed_length=77)
    clip = ClipOnnxEmbedder(tmp_path)
    short, longer = clip.embed_texts(["red", "a photo of something that is blue and long"])
    assert np.allclose(short, unit(clip_colour(RGB["red"])), atol=1e-5)
    assert np.allclose(longer, unit(clip_colour(RGB["blue"])), atol=1e-5)


def test_factory_and_missing_models(tmp_path: Path) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert build_image_embedder(settings) is None
    write_tiny_clip(tmp_path / "models" / "clip-tiny")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        providers={"models_dir": tmp_path / "models"},
        library={"clip_model": "clip-tiny"},
    )
    clip = build_image_embedder(settings)
    assert clip is not None and clip.name == "clip:clip-tiny"
    with pytest.raises(NotConfigured, match="layouts"):
        ClipOnnxEmbedder(tmp_path)
