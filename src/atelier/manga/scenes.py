"""Building panels from sentences: how many panels, which sentences each tells, where it
happens, its shot and its scene description (used by the offline writer)."""

# ruff: noqa: RUF001  (Chinese punctuation is what this module handles)

from __future__ import annotations

import math
import re

from atelier.manga import lexicon
from atelier.manga.models import MAX_PANELS, Language, Shot
from atelier.manga.text import shorten

PER_PANEL = {"zh": 40, "en": 110}  # characters of story per panel when N is not given
SCENE_CHARS = {"zh": 160, "en": 400}
PARAGRAPH_CUT = 0.25  # cost saved by cutting between paragraphs


def panel_count(total_chars: int, units: int, wanted: int | None, language: Language) -> int:
    """N: the request's, else one per :data:`PER_PANEL` characters; 1 to 8, at most one per
    unit of text."""
    if wanted is None:
        wanted = math.ceil(total_chars / PER_PANEL[language])
    return max(1, min(MAX_PANELS, wanted, units))


def partition(weights: list[float], breaks: list[bool], n: int) -> list[int]:
    """Cut ``weights`` into ``n`` contiguous groups of about equal weight, preferring cuts
    where ``breaks[i]`` (a paragraph ends after item ``i``). Returns the group sizes."""
    count = len(weights)
    target = sum(weights) / n
    prefix = [0.0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    inf = float("inf")
    best = [[inf] * (count + 1) for _ in range(n + 1)]
    back = [[0] * (count + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for k in range(1, n + 1):
        for end in range(k, count - (n - k) + 1):
            for start in range(k - 1, end):
                if best[k - 1][start] == inf:
                    continue
                size = prefix[end] - prefix[start]
                cost = ((size - target) / target) ** 2
                if end < count and breaks[end - 1]:
                    cost -= PARAGRAPH_CUT
                total = best[k - 1][start] + cost
                if total < best[k][end] - 1e-12:
                    best[k][end] = total
                    back[k][end] = start
    sizes = []
    end = count
    for k in range(n, 0, -1):
        start = back[k][end]
        sizes.append(end - start)
        end = start
    return sizes[::-1]


def shot_for(index: int, setting_changed: bool, dialogue: int, characters: int) -> Shot:
    if index == 0 or setting_changed:
        return "wide"
    if dialogue and characters <= 1:
        return "close-up"
    return "medium"


def place_in_first(text: str, language: Language) -> tuple[str, str] | None:
    """The first place named in ``text`` (the establishing setting)."""
    return _place(text, language, last=False)


def place_in(text: str, language: Language) -> tuple[str, str] | None:
    """The last place named in ``text``: ``(as written, English)``."""
    return _place(text, language, last=True)


def _place(text: str, language: Language, *, last: bool) -> tuple[str, str] | None:
    found: list[tuple[int, str, str]] = []
    if language == "zh":
        for place, english in lexicon.PLACES_ZH.items():
            at = text.rfind(place) if last else text.find(place)
            if at >= 0:
                found.append((at + len(place) if last else -at, place, english))
    else:
        lowered = text.lower()
        for place in lexicon.PLACES_EN:
            for match in re.finditer(rf"\b{re.escape(place)}\b", lowered):
                found.append((match.end() if last else -match.start(), f"the {place}", place))
    if not found:
        return None
    _, written, english = max(found, key=lambda f: (f[0], len(f[1])))
    return written, english


def scene_text(
    shot: Shot, setting: str, names: list[str], narrative: str, language: Language
) -> str:
    shots_zh = {"wide": "远景", "medium": "中景", "close-up": "特写"}
    if language == "zh":
        parts = [shots_zh[shot] + (f"，{setting}" if setting else "")]
        if names:
            parts.append("人物：" + "、".join(names))
        if narrative:
            parts.append(narrative.rstrip("。"))
        return shorten("。".join(parts) + "。", SCENE_CHARS[language], language)
    head = f"{shot.capitalize()} shot" + (f", {setting}" if setting else "")
    parts = [head]
    if names:
        parts.append("Characters: " + ", ".join(names))
    if narrative:
        parts.append(narrative.rstrip("."))
    return shorten(". ".join(parts) + ".", SCENE_CHARS[language], language)
