# ruff: noqa: RUF001, RUF002  (Chinese punctuation is what this module handles)
"""Text for balloons and captions: language detection, line breaking and fitting a font size.

Line breaking is per character for CJK text and per word for Latin text (a Latin word inside
Chinese text stays whole), with the kinsoku rules of CJK typesetting: a line never begins with
closing punctuation (``。，、！？」』）”`` …, :data:`NO_START`) and never ends with opening
punctuation (``「『（“`` …, :data:`NO_END`). A character that may not start a line takes the
character before it along to the next line (*oidashi*); where that cannot be done (a line two
characters wide) the mark hangs past the line's end (*burasagari*). A word longer than the line
is broken between letters.

Fonts: Noto Sans SC from the ``pylopdf-fonts-zh-cn`` package (SIL OFL), which covers Chinese,
Latin and the fullwidth punctuation; any TrueType/OpenType font may replace it.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import ImageFont

from atelier.manga.models import Language

Measure = Callable[[str], float]

NO_START: Final = frozenset(
    "、。，．,.：:；;？?！!）)]｝}〕〉》」』】〙〗〟’”»…‥ー・々ゝゞヽヾ"
    "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ%％‰℃°～〜"
)
NO_END: Final = frozenset("（([｛{〔〈《「『【〘〖〝‘“«")
LINE_SPACING: Final = 1.25
_CJK = re.compile(
    r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf"
    r"\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
)
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_TOKEN = re.compile(_CJK.pattern + r"\s*|[^\s" + _CJK.pattern[1:-1] + r"]+\s*|\S\s*")


def is_cjk(char: str) -> bool:
    return bool(_CJK.match(char))


def detect_language(text: str) -> Language:
    """``zh`` when CJK characters carry the text (one counts as three Latin letters)."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk * 3 >= latin else "en"


def normalise(text: str) -> str:
    """Letters and digits only, NFKC-folded and lower-cased: for comparing texts."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in folded if c.isalnum())


# -- fonts ------------------------------------------------------------------------------------
def default_font_path() -> Path:
    """Noto Sans SC, shipped by the ``pylopdf-fonts-zh-cn`` package."""
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.__file__).parent / "NotoSansSC-Regular.otf"


@functools.lru_cache(maxsize=256)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def load_font(size: int, path: Path | None = None) -> ImageFont.FreeTypeFont:
    """The font at ``size`` pixels (cached)."""
    return _font(str(path or default_font_path()), size)


def line_height(font: ImageFont.FreeTypeFont) -> int:
    return round(font.size * LINE_SPACING)


# -- line breaking -------------------------------------------------------------------------
def tokens(text: str) -> list[str]:
    """Breakable units with their trailing spaces: one CJK character or fullwidth mark, or a
    run of other characters (a Latin word with the punctuation around it)."""
    return _TOKEN.findall(text.strip())


def _joined(parts: list[str]) -> str:
    return "".join(parts).strip()


def _starts_bad(token: str) -> bool:
    stripped = token.strip()
    return bool(stripped) and stripped[0] in NO_START


def _ends_bad(token: str) -> bool:
    stripped = token.strip()
    return bool(stripped) and stripped[-1] in NO_END


def wrap(text: str, max_width: float, measure: Measure) -> list[str]:
    """Break ``text`` into lines no wider than ``max_width`` (see the module docstring).
    Newlines in ``text`` are kept as breaks."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        units: list[tuple[str, bool]] = []  # (unit, starts a new line)
        for token in tokens(paragraph):
            word = token.strip()
            if measure(word) > max_width and len(word) > 1:
                # a word wider than the line starts a line and breaks anywhere
                units.extend((char, i == 0) for i, char in enumerate(word))
                units[-1] = (units[-1][0] + token[len(word) :], False)
            else:
                units.append((token, False))
        current: list[str] = []
        for unit, fresh in units:
            if fresh and current:
                lines.append(_joined(current))
                current = []
            if not current or measure(_joined([*current, unit])) <= max_width:
                current.append(unit)
                continue
            carried: list[str] = []
            if _starts_bad(unit):  # oidashi: take the previous characters along
                while len(current) > 1:
                    carried.insert(0, current.pop())
                    if not _starts_bad(carried[0]):
                        break
                if (
                    not carried
                    or _starts_bad(carried[0])
                    or measure(_joined([*carried, unit])) > max_width
                ):
                    # nothing can go down with it: the mark hangs at the line's end
                    current.extend(carried)
                    current.append(unit)
                    continue
            while len(current) > 1 and _ends_bad(current[-1]):
                carried.insert(0, current.pop())
            lines.append(_joined(current))
            current = [*carried, unit]
        lines.append(_joined(current))
    return [line for line in lines if line] or [""]


# -- fitting -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fitted:
    """Text set at ``size`` pixels in ``lines``, occupying ``width`` x ``height``."""

    size: int
    lines: tuple[str, ...]
    width: int
    height: int


def set_text(text: str, size: int, max_width: float, font_path: Path | None = None) -> Fitted:
    font = load_font(size, font_path)
    lines = wrap(text, max_width, font.getlength)
    width = max((font.getlength(line) for line in lines), default=0)
    height = line_height(font) * (len(lines) - 1) + font.size
    return Fitted(size, tuple(lines), int(width + 0.999), int(height))


def fit_text(
    text: str,
    max_width: int,
    max_height: int,
    *,
    max_size: int,
    min_size: int,
    aspect: float | None = None,
    font_path: Path | None = None,
) -> Fitted:
    """The largest size from ``max_size`` down to ``min_size`` at which ``text`` fits in
    ``max_width`` x ``max_height``. With ``aspect`` (width / height), lines are made about
    that much wider than the block is tall (balloon-shaped) instead of as wide as allowed.
    At ``min_size`` the text is returned even when it does not fit (the caller may shrink
    what it shows)."""
    size = max(min_size, max_size)
    while True:
        width_limit = float(max_width)
        if aspect is not None:
            font = load_font(size, font_path)
            natural = font.getlength(text.replace("\n", " "))
            ideal = (natural * line_height(font) * aspect) ** 0.5
            width_limit = min(max_width, max(ideal, size * 4.0))
        fitted = set_text(text, size, width_limit, font_path)
        fits = fitted.width <= max_width and fitted.height <= max_height
        if fits and aspect is not None:
            return _balanced(text, fitted, aspect, max_width, max_height, font_path)
        if fits or size <= min_size:
            return fitted
        size = max(min_size, size - max(1, size // 12))


def _aspect_error(fitted: Fitted, aspect: float) -> float:
    """How far the block is from ``aspect``; stubs (lines of one or two characters, hard
    to read and odd in a balloon) count against it."""
    error = abs(math.log(max(1, fitted.width) / max(1, fitted.height) / aspect))
    if len(fitted.lines) > 1:
        error += 0.5 * sum(1 for line in fitted.lines if len(normalise(line)) < 3)
    return error


def _narrowest(
    text: str, size: int, lines: int, widest: int, font_path: Path | None
) -> Fitted | None:
    """``text`` at ``size`` in at most ``lines`` lines, as narrow as that allows (so the
    lines come out of even length), no wider than ``widest``; None if impossible."""
    if len(set_text(text, size, widest, font_path).lines) > lines:
        return None
    lo, hi = 1, widest
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if len(set_text(text, size, mid, font_path).lines) <= lines:
            hi = mid
        else:
            lo = mid
    return set_text(text, size, hi, font_path)


def _balanced(
    text: str,
    greedy: Fitted,
    aspect: float,
    max_width: int,
    max_height: int,
    font_path: Path | None,
) -> Fitted:
    """Of one line fewer, as many, or one more line than ``greedy``, evenly filled, the
    setting closest to ``aspect`` that still fits."""
    best, error = greedy, _aspect_error(greedy, aspect)
    count = len(greedy.lines)
    for lines in (count - 1, count, count + 1):
        if lines < 1:
            continue
        candidate = _narrowest(text, greedy.size, lines, max_width, font_path)
        if candidate is None or candidate.height > max_height or candidate.width > max_width:
            continue
        candidate_error = _aspect_error(candidate, aspect)
        if candidate_error < error - 1e-9:
            best, error = candidate, candidate_error
    return best


def shorten(text: str, limit: int, language: Language) -> str:
    """``text`` cut to at most ``limit`` characters, at a clause boundary where one is near,
    with an ellipsis when anything was cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    marks = "，。；！？、,;!?" if language == "zh" else ",;:!?. "
    best = max(cut.rfind(m) for m in marks)
    if best >= limit * 0.5:
        cut = cut[: best + (0 if cut[best] == " " else 1)]
    return cut.rstrip(" ，、,;；：:") + "…"
