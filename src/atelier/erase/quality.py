"""Checking the result: text read again where text was erased, a no-reference quality score,
and figures about the masks.

:func:`residual_text` runs the OCR again on crops around the erased lines and returns what it
still reads there. :class:`Brisque` is the BRISQUE score (Mittal et al., 2012; lower is
better, roughly 0-100) computed with the support-vector model the ``brisque`` package ships:
its features are recomputed here with OpenCV (the package's own code is slow and fails on
NumPy 2), following the package's definitions exactly so that its model applies, and its SVR
is evaluated directly from the shipped ``svm.txt``.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import io
import math
import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from atelier.erase.detect import OcrEngine, Polygon, TextLine, apply_keep, normalise

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]

_READABLE = re.compile(r"\w", re.UNICODE)


# -- residual text --------------------------------------------------------------------------
def _box(polygon: Polygon) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    return min(xs), min(ys), max(xs), max(ys)


def _overlap(a: Polygon, b: Polygon) -> float:
    """Share of ``a``'s box covered by ``b``'s box."""
    ax0, ay0, ax1, ay1 = _box(a)
    bx0, by0, bx1, by1 = _box(b)
    inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    area = max(1e-6, (ax1 - ax0) * (ay1 - ay0))
    return inter / area


@dataclass(frozen=True)
class Residual:
    line: TextLine  # what the OCR read now
    erased: int  # index of the erased line it lies on

    def to_json(self) -> dict[str, Any]:
        return {**self.line.to_json(), "erased_line": self.erased}


def residual_text(
    ocr: OcrEngine,
    rgb: U8,
    erased: Sequence[TextLine],
    *,
    min_confidence: float,
    keep: Sequence[str] = (),
) -> list[Residual]:
    """What the OCR still reads over the erased lines: it reads crops around them (or the
    whole picture, when they cover most of it); a reading counts when it overlaps an erased
    line, has a letter or digit, reaches ``min_confidence`` and is not kept by the keep-list."""
    if not erased:
        return []
    h, w = rgb.shape[:2]
    crops: list[tuple[int, int, int, int]] = []
    for line in erased:
        x0, y0, x1, y1 = _box(line.polygon)
        pad = max(16.0, 0.6 * line.height)
        crops.append(
            (
                max(0, int(x0 - pad)),
                max(0, int(y0 - pad)),
                min(w, int(x1 + pad) + 1),
                min(h, int(y1 + pad) + 1),
            )
        )
    crops = _merge(crops)
    if sum((c[2] - c[0]) * (c[3] - c[1]) for c in crops) > 0.5 * w * h:
        crops = [(0, 0, w, h)]
    found: list[Residual] = []
    for x0, y0, x1, y1 in crops:
        for line in ocr.read(np.ascontiguousarray(rgb[y0:y1, x0:x1])):
            if line.confidence < min_confidence or not _READABLE.search(line.text):
                continue
            moved = TextLine(
                tuple((x + x0, y + y0) for x, y in line.polygon), line.text, line.confidence
            )
            if keep and apply_keep(moved, keep).status == "keep":
                continue
            hits = [
                i
                for i, e in enumerate(erased)
                if _same_text(moved, e, _overlap(moved.polygon, e.polygon))
            ]
            if hits:
                found.append(Residual(moved, hits[0]))
    return found


def _same_text(read: TextLine, erased: TextLine, overlap: float) -> bool:
    """Whether a reading over an erased line is what is left of it: it lies on the line and
    shares characters with it, or covers it squarely and is read with high confidence (a
    remnant misread). Texture read as text beside the line is not."""
    if overlap <= 0.3:
        return False
    got, _ = normalise(read.text)
    wanted, _ = normalise(erased.text)
    shared = sum(b.size for b in difflib.SequenceMatcher(None, wanted, got).get_matching_blocks())
    return shared >= max(1, 0.3 * len(got)) or (overlap > 0.6 and read.confidence >= 0.9)


def _merge(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    out = list(boxes)
    merged = True
    while merged:
        merged = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                a, b = out[i], out[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    out[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del out[j]
                    merged = True
                    break
            if merged:
                break
    return out


# -- BRISQUE --------------------------------------------------------------------------------
class _Plain(pickle.Unpickler):
    """Unpickles plain data only (dicts, lists, numbers): no classes, no code."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _model_dir() -> Path:
    spec = importlib.util.find_spec("brisque")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        raise RuntimeError("the brisque package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@functools.lru_cache(maxsize=1)
def _alpha_table() -> tuple[F64, F64]:
    """rho(alpha) = G(2/alpha)^2 / (G(1/alpha) G(3/alpha)), G the gamma function, on a fine
    grid of alpha (it increases with alpha)."""
    alphas = np.arange(0.2, 10.0, 0.001)
    rho = np.array(
        [math.exp(2 * math.lgamma(2 / a) - math.lgamma(1 / a) - math.lgamma(3 / a)) for a in alphas]
    )
    return rho, alphas


def _aggd(x: F64) -> tuple[float, float, float, float]:
    """Asymmetric generalised Gaussian fit: (alpha, mean, left variance, right variance)."""
    x = x.reshape(-1)
    left, right = x[x < 0], x[x >= 0]
    left_sq = float((left**2).mean()) if left.size else 0.0
    right_sq = float((right**2).mean()) if right.size else 1e-12
    gamma = math.sqrt(left_sq) / max(math.sqrt(right_sq), 1e-12)
    r_hat = float(np.abs(x).mean()) ** 2 / max(float((x**2).mean()), 1e-12)
    big_r = r_hat * (gamma**3 + 1) * (gamma + 1) / (gamma**2 + 1) ** 2
    rho, alphas = _alpha_table()
    alpha = float(np.interp(big_r, rho, alphas))
    constant = math.sqrt(math.gamma(1 / alpha) / math.gamma(3 / alpha))
    mean = (
        (math.sqrt(right_sq) - math.sqrt(left_sq))
        * constant
        * (math.gamma(2 / alpha) / math.gamma(1 / alpha))
    )
    return alpha, mean, left_sq, right_sq


def _kernel() -> F64:
    n, sigma = 7, 7 / 6
    y, x = np.indices((n, n)) - n // 2
    k = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    return np.asarray(k / k.sum(), np.float64)


def _features(grey: F64) -> list[float]:
    k = _kernel()

    def conv(a: F64) -> F64:
        return np.asarray(cv2.filter2D(a, -1, k, borderType=cv2.BORDER_CONSTANT), np.float64)

    mu = conv(grey)
    sigma = np.sqrt(np.abs(mu**2 - conv(grey**2)))
    m = (grey - mu) / (sigma + 1 / 255)
    pairs = (
        m,
        m[:, :-1] * m[:, 1:],
        m[:-1, :] * m[1:, :],
        m[:-1, :-1] * m[1:, 1:],
        m[1:, :-1] * m[:-1, 1:],
    )
    out: list[float] = []
    for i, coefficients in enumerate(pairs):
        alpha, mean, left, right = _aggd(coefficients)
        out += [alpha, (left + right) / 2] if i == 0 else [alpha, mean, left, right]
    return out


class Brisque:
    """The BRISQUE score with the ``brisque`` package's shipped model."""

    def __init__(self, model_dir: Path | None = None) -> None:
        where = model_dir or _model_dir()
        with (where / "normalize.pickle").open("rb") as fh:
            scale = _Plain(io.BytesIO(fh.read())).load()
        self.low = np.asarray(scale["min_"], np.float64)
        self.high = np.asarray(scale["max_"], np.float64)
        header: dict[str, str] = {}
        coef: list[float] = []
        vectors: list[list[float]] = []
        lines = (where / "svm.txt").read_text().splitlines()
        start = lines.index("SV") + 1
        for line in lines[:start]:
            key, _, value = line.partition(" ")
            header[key] = value
        width = len(self.low)
        for line in lines[start:]:
            parts = line.split()
            if not parts:
                continue
            coef.append(float(parts[0]))
            row = [0.0] * width
            for item in parts[1:]:
                index, value = item.split(":")
                row[int(index) - 1] = float(value)
            vectors.append(row)
        if header.get("kernel_type") != "rbf" or header.get("svm_type") != "epsilon_svr":
            raise RuntimeError("unexpected BRISQUE model: want an RBF epsilon-SVR")
        self.gamma = float(header["gamma"])
        self.rho = float(header["rho"])
        self.coef = np.asarray(coef, np.float64)
        self.vectors = np.asarray(vectors, np.float64)

    def features(self, rgb: U8) -> F64:
        grey = (rgb[:, :, 0] * 0.2125 + rgb[:, :, 1] * 0.7154 + rgb[:, :, 2] * 0.0721).astype(
            np.float64
        ) / 255.0
        half = np.asarray(
            cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC), np.float64
        )
        return np.asarray(_features(grey) + _features(half), np.float64)

    def score(self, rgb: U8, *, max_side: int = 512) -> float:
        """The score of ``rgb`` (scaled down to ``max_side`` first: the score is meant for
        photos of a few hundred pixels)."""
        h, w = rgb.shape[:2]
        if max(h, w) > max_side:
            f = max_side / max(h, w)
            size = (max(16, round(w * f)), max(16, round(h * f)))
            rgb = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), np.uint8)
        scaled = -1 + 2.0 / (self.high - self.low) * (self.features(rgb) - self.low)
        k = np.exp(-self.gamma * ((self.vectors - scaled[None, :]) ** 2).sum(axis=1))
        return float(self.coef @ k - self.rho)


@functools.lru_cache(maxsize=1)
def brisque() -> Brisque:
    return Brisque()


# -- mask figures ---------------------------------------------------------------------------
def mask_stats(mask: U8) -> dict[str, Any]:
    binary = (mask > 0).astype(np.uint8)
    count, _ = cv2.connectedComponents(binary, connectivity=8)
    return {
        "pixels": int(binary.sum()),
        "coverage": round(float(binary.mean()), 6),
        "components": max(0, int(count) - 1),
    }
