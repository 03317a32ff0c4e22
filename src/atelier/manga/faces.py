"""Face boxes in a panel image, so that balloons and captions keep off the faces.

OpenCV's frontal-face Haar cascade (shipped with ``opencv-python-headless`` in
``cv2.data.haarcascades``): fast on a CPU, no model download. It finds upright frontal faces,
photographic or clearly drawn; profiles and heavily stylised faces may be missed, in which case
placement falls back to its reading-order preferences.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import numpy as np
from PIL import Image

Box = tuple[int, int, int, int]  # x0, y0, x1, y1
CASCADE = "haarcascade_frontalface_default.xml"
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _cascade() -> object:
    import cv2

    path = Path(cv2.data.haarcascades) / CASCADE  # type: ignore[attr-defined]
    classifier = cv2.CascadeClassifier(str(path))
    if classifier.empty():
        raise RuntimeError(f"cannot load the face cascade {path}")
    return classifier


def detect_faces(image: Image.Image, *, min_fraction: float = 0.06) -> list[Box]:
    """Face boxes of ``image`` (its own pixel coordinates), left to right. Faces smaller than
    ``min_fraction`` of the image's shorter side are ignored."""
    import cv2

    grey = np.asarray(image.convert("L"))
    scale = 1.0
    longest = max(grey.shape)
    if longest > 800:  # detection does not need more pixels; it needs less time
        scale = 800 / longest
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    side = max(20, int(min(grey.shape) * min_fraction))
    classifier = _cascade()
    with _lock:
        found = classifier.detectMultiScale(  # type: ignore[attr-defined]
            grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side)
        )
    boxes = [
        (int(x / scale), int(y / scale), int((x + w) / scale), int((y + h) / scale))
        for x, y, w, h in (tuple(int(v) for v in row) for row in found)
    ]
    return sorted(boxes)
