"""Text detection: RapidOCR with the PP-OCR models it ships (Chinese and English, offline).

One engine per process and detection size (:func:`engine`), loaded on first use behind a lock;
calls are serialised on it (the ONNX sessions already use every core). :func:`detect` reads a
photo and sorts each line it found into what will be erased and what stays: lines under the
minimum confidence, lines read as symbols only (a "●" is a shape, not text), lines mostly
outside the region of interest, and lines (or the parts of lines) matching the keep-list.

A keep-list entry matches a line when, compared without case, spaces or width differences
(NFKC), it appears in the line's text. A line that is wholly kept is left alone; when an entry
covers only part of a line, the characters it covers are located from the recogniser's
per-character boxes and protected, and the rest of the line is erased.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
Point = tuple[float, float]
Polygon = tuple[Point, ...]
LineStatus = Literal["erase", "keep", "low_confidence", "outside_roi", "not_text"]
#: A line must read as at least one letter, digit or ideogram to be text (not "●" or "—").
_WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Roi:
    """A rectangle in pixels of the picture: only text inside it is erased, and nothing
    outside it changes."""

    x: int
    y: int
    width: int
    height: int

    def polygon(self) -> Polygon:
        x0, y0, x1, y1 = self.x, self.y, self.x + self.width, self.y + self.height
        return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))

    def scaled(self, factor: float) -> Roi:
        x0, y0 = round(self.x * factor), round(self.y * factor)
        x1 = round((self.x + self.width) * factor)
        y1 = round((self.y + self.height) * factor)
        return Roi(x0, y0, max(1, x1 - x0), max(1, y1 - y0))


@dataclass(frozen=True)
class TextLine:
    polygon: Polygon
    text: str
    confidence: float
    status: LineStatus = "erase"
    #: Parts of the line protected by the keep-list (character boxes), when only part is kept.
    keep_regions: tuple[Polygon, ...] = ()
    #: ``(text, polygon)`` per recognised character or word, when they were asked for.
    words: tuple[tuple[str, Polygon], ...] = field(default=(), repr=False)

    @property
    def height(self) -> float:
        """The line's height: the short side of its smallest enclosing rectangle."""
        (_, _), (w, h), _ = cv2.minAreaRect(np.asarray(self.polygon, np.float32))
        return float(max(1.0, min(w, h)))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "polygon": [[round(x, 1), round(y, 1)] for x, y in self.polygon],
            "status": self.status,
        }
        if self.keep_regions:
            out["keep_regions"] = [
                [[round(x, 1), round(y, 1)] for x, y in p] for p in self.keep_regions
            ]
        return out


class OcrEngine:
    """RapidOCR configured for erasing: no orientation classifier, detection at the picture's
    own resolution up to ``detection_side`` pixels, every score kept (filtered here)."""

    def __init__(self, detection_side: int = 1280, threads: int = 0) -> None:
        from rapidocr import RapidOCR

        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Global.text_score": 0.0,
            "Det.limit_type": "max",
            "Det.limit_side_len": detection_side,
        }
        if threads > 0:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        self.detection_side = detection_side
        self._ocr: Any = RapidOCR(params=params)
        self._lock = threading.Lock()

    def read(self, rgb: U8, *, words: bool = False) -> list[TextLine]:
        """Every line of text in ``rgb`` (an RGB ``uint8`` array), with its confidence."""
        if rgb.shape[0] < 8 or rgb.shape[1] < 8:
            return []
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        with self._lock:
            result = self._ocr(bgr, use_cls=False, return_word_box=words)
        boxes = getattr(result, "boxes", None)
        txts = getattr(result, "txts", None)
        scores = getattr(result, "scores", None)
        if boxes is None or txts is None or scores is None:
            return []
        word_results = getattr(result, "word_results", ()) if words else ()
        lines = []
        for i, (box, text, score) in enumerate(zip(boxes, txts, scores, strict=False)):
            polygon = tuple((float(x), float(y)) for x, y in np.asarray(box).reshape(-1, 2))
            found: tuple[tuple[str, Polygon], ...] = ()
            if words and i < len(word_results) and word_results[i]:
                found = tuple(
                    (str(w[0]), tuple((float(x), float(y)) for x, y in w[2]))
                    for w in word_results[i]
                    if len(w) >= 3 and w[2] is not None
                )
            lines.append(TextLine(polygon, str(text), float(score), words=found))
        return lines

    def warm_up(self) -> None:
        """Load the models now (the first call otherwise pays for it)."""
        canvas = np.full((64, 160, 3), 255, np.uint8)
        cv2.putText(canvas, "Atelier", (6, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 2)
        self.read(canvas)


_engines: dict[tuple[int, int], OcrEngine] = {}
_engines_lock = threading.Lock()


def engine(detection_side: int = 1280, threads: int = 0) -> OcrEngine:
    """The process's engine for these settings (created once)."""
    key = (detection_side, threads)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = OcrEngine(detection_side, threads)
        return _engines[key]


# -- the keep-list --------------------------------------------------------------------------
def normalise(text: str) -> tuple[str, list[int]]:
    """``text`` folded for matching (NFKC, case-folded, without spaces), and for each folded
    character the index of the character of ``text`` it came from."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for folded in unicodedata.normalize("NFKC", ch).casefold():
            if not folded.isspace():
                out.append(folded)
                index.append(i)
    return "".join(out), index


def _char_boxes(line: TextLine) -> list[Polygon] | None:
    """One box per character of ``line.text`` (spaces included), from the recogniser's word
    boxes, split evenly inside a word; ``None`` when they do not line up with the text."""
    if not line.words:
        return None
    boxes: list[Polygon | None] = [None] * len(line.text)
    pos = 0
    for word, poly in line.words:
        start = line.text.find(word, pos)
        if not word or start < 0:
            return None
        p = np.asarray(poly, np.float32).reshape(-1, 2)
        top_l, top_r, bot_r, bot_l = p[0], p[1], p[2], p[3]
        n = len(word)
        for k in range(n):
            a, b = k / n, (k + 1) / n
            boxes[start + k] = tuple(
                (float(q[0]), float(q[1]))
                for q in (
                    top_l + (top_r - top_l) * a,
                    top_l + (top_r - top_l) * b,
                    bot_l + (bot_r - bot_l) * b,
                    bot_l + (bot_r - bot_l) * a,
                )
            )
        pos = start + n
    if any(b is None for i, b in enumerate(boxes) if not line.text[i].isspace()):
        return None
    return [b if b is not None else () for b in boxes]


def _even_boxes(line: TextLine) -> list[Polygon]:
    """Character boxes spread evenly along the line's polygon (no word boxes to go by)."""
    p = np.asarray(line.polygon, np.float32).reshape(-1, 2)
    top_l, top_r, bot_r, bot_l = p[0], p[1], p[2], p[3]
    n = max(1, len(line.text))
    out: list[Polygon] = []
    for k in range(n):
        a, b = k / n, (k + 1) / n
        out.append(
            tuple(
                (float(q[0]), float(q[1]))
                for q in (
                    top_l + (top_r - top_l) * a,
                    top_l + (top_r - top_l) * b,
                    bot_l + (bot_r - bot_l) * b,
                    bot_l + (bot_r - bot_l) * a,
                )
            )
        )
    return out


def apply_keep(line: TextLine, keep: Sequence[str]) -> TextLine:
    """``line`` marked ``keep`` when the keep-list covers all of it, or with the kept
    characters' boxes in ``keep_regions`` when it covers part of it."""
    folded, index = normalise(line.text)
    if not folded:
        return line
    covered = [False] * len(folded)
    for entry in keep:
        needle, _ = normalise(entry)
        if not needle:
            continue
        start = folded.find(needle)
        while start >= 0:
            for k in range(start, start + len(needle)):
                covered[k] = True
            start = folded.find(needle, start + 1)
    if not any(covered):
        return line
    if all(covered):
        return replace(line, status="keep")
    chars = _char_boxes(line) or _even_boxes(line)
    kept_chars = sorted({index[k] for k, c in enumerate(covered) if c})
    regions = tuple(chars[i] for i in kept_chars if i < len(chars) and len(chars[i]) == 4)
    return replace(line, keep_regions=regions)


# -- detection ------------------------------------------------------------------------------
def _inside_share(polygon: Polygon, roi: Roi) -> float:
    poly = np.asarray(polygon, np.float32).reshape(-1, 1, 2)
    area = abs(float(cv2.contourArea(poly)))
    if area <= 0:
        return 0.0
    rect = np.asarray(roi.polygon(), np.float32).reshape(-1, 1, 2)
    hull = cv2.convexHull(poly)
    inter, _ = cv2.intersectConvexConvex(hull, rect)
    return float(inter) / area


@dataclass(frozen=True)
class Detection:
    lines: tuple[TextLine, ...]

    @property
    def to_erase(self) -> tuple[TextLine, ...]:
        return tuple(line for line in self.lines if line.status == "erase")

    def to_json(self) -> list[dict[str, Any]]:
        return [line.to_json() for line in self.lines]


def detect(
    ocr: OcrEngine,
    rgb: U8,
    *,
    min_confidence: float = 0.5,
    keep: Sequence[str] = (),
    roi: Roi | None = None,
) -> Detection:
    """Read ``rgb`` and decide, line by line, what to erase."""
    h, w = rgb.shape[:2]
    dx = dy = 0
    view = rgb
    if roi is not None:
        margin = max(32, round(0.25 * max(roi.width, roi.height)))
        x0, y0 = max(0, roi.x - margin), max(0, roi.y - margin)
        x1, y1 = min(w, roi.x + roi.width + margin), min(h, roi.y + roi.height + margin)
        view, dx, dy = rgb[y0:y1, x0:x1], x0, y0
    lines = ocr.read(np.ascontiguousarray(view), words=bool(keep))
    out: list[TextLine] = []
    for line in lines:
        if dx or dy:
            line = replace(
                line,
                polygon=tuple((x + dx, y + dy) for x, y in line.polygon),
                words=tuple((t, tuple((x + dx, y + dy) for x, y in p)) for t, p in line.words),
            )
        if not _WORD.search(line.text):
            line = replace(line, status="not_text")
        elif line.confidence < min_confidence:
            line = replace(line, status="low_confidence")
        elif roi is not None and _inside_share(line.polygon, roi) < 0.5:
            line = replace(line, status="outside_roi")
        elif keep:
            line = apply_keep(line, keep)
        out.append(replace(line, words=()))
    return Detection(tuple(out))
