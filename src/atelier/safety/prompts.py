"""The prompt filter: term lists (English, Chinese, any language) matched on normalised text.

Lists are text files: one term per line, ``#`` comments, ``[category]`` headers (terms before
any header are in ``custom``). The shipped list (``data/default_terms.txt``) holds a few
examples; the operator's file (``SAFETY__TERMS_FILE``) is where policy lives, and it is read
again whenever its modification time or size changes (looked at no more often than every
``SAFETY__TERMS_RELOAD_SECONDS``), so it changes without a restart. A file that cannot be read
or parsed keeps the list that was in force.

Matching, for the text and each term alike: NFKC (full-width and circled letters become plain
ones), case folding, accents dropped from Latin letters, a few look-alike Cyrillic and Greek
letters mapped to Latin, then every character that is not a letter or digit removed, so that
``n a k e d``, ``N.A.K.E.D`` and ``na-ked`` all read ``naked``. A term whose edge is a Latin
letter or digit must meet a word edge of the text there (``ass`` does not match ``class``);
Chinese, Japanese and Korean characters match as substrings (``儿 童 色 情`` matches
``儿童色情``). The text is also read loosely, with digits and symbols written for letters
undone (``n4k3d``, ``$ex``, ``1`` for ``i`` or ``l``). Terms are indexed by length, so a
prompt costs a few lookups per character however long the list is.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from atelier.config import SafetySettings
from atelier.safety.errors import PromptRejected

log = logging.getLogger(__name__)

DEFAULT_CATEGORY = "custom"
#: The params fields read as user text, at any depth (``redraw.prompt`` of ``erase``).
#: Negative prompts say what to avoid, so they are not filtered.
TEXT_FIELDS = frozenset({"prompt", "text", "story", "title"})
_CATEGORY = re.compile(r"^\[\s*([A-Za-z0-9_\-]{1,64})\s*\]$")
#: Cyrillic and Greek letters that look like Latin ones (\u escapes: they are invisible)
_LOOKALIKES = str.maketrans(
    "\u0430\u0432\u0435\u0451\u043a\u043c\u043d\u043e\u0440\u0441\u0442\u0443\u0445\u0456\u0458\u0455"
    "\u03b1\u03b2\u03b5\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7",
    "abeekmhopctyxijsabeikvoptux",
)
#: The loose reading: digits and symbols written for letters become those letters, and since
#: "1" may stand for an "i" or an "l", every "l" reads "i" too (in the terms as in the text)
_LOOSE_TEXT = str.maketrans(
    {
        "0": "o", "1": "i", "!": "i", "|": "i", "l": "i", "3": "e", "4": "a", "@": "a",
        "5": "s", "$": "s", "7": "t",
    }
)  # fmt: skip
_LOOSE_TERM = str.maketrans({"l": "i"})


# -- normalisation -----------------------------------------------------------------------------
def _cjk(char: str) -> bool:
    """Han, kana, Hangul and the CJK symbols: matched as substrings, no word edges."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, CJK symbols, kana, CJK unified ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= code <= 0x3FFFF  # extensions B and later
    )


def _wordish(char: str) -> bool:
    return char.isalnum() and not _cjk(char)


def fold(text: str) -> str:
    """NFKC, case folding, look-alikes mapped, accents of Latin letters dropped."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LOOKALIKES)
    out: list[str] = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char) and out and out[-1].isascii():
            continue  # "å" -> "a", while kana keep their voicing marks
        out.append(char)
    return unicodedata.normalize("NFKC", "".join(out))


@dataclass(frozen=True)
class Squashed:
    """The letters and digits of a text, and for each whether a word of the original text
    starts before it / ends after it."""

    chars: str
    starts: tuple[bool, ...]
    ends: tuple[bool, ...]


def squash(folded: str) -> Squashed:
    chars: list[str] = []
    starts: list[bool] = []
    ends: list[bool] = []
    previous = ""
    for char in folded:
        if char.isalnum():
            if previous.isalnum() and _wordish(char):
                ends[-1] = False  # the previous letter runs on into this one
            chars.append(char)
            starts.append(not _wordish(previous))
            ends.append(True)
        previous = char
    return Squashed("".join(chars), tuple(starts), tuple(ends))


def key(term: str) -> str:
    """A term as it is compared: folded, only its letters and digits."""
    return "".join(c for c in fold(term) if c.isalnum())


# -- term lists --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    key: str
    category: str
    edge_start: bool  # the term starts with a Latin letter or digit: a word must start there
    edge_end: bool
    loose: str  # the key read loosely (see _LOOSE_TEXT)

    @classmethod
    def of(cls, text: str, category: str) -> Term | None:
        k = key(text)
        if not k:
            return None
        loose = k.translate(_LOOSE_TEXT).translate(_LOOSE_TERM)
        return cls(k, category, _wordish(k[0]), _wordish(k[-1]), loose)


class TermListError(ValueError):
    pass


def parse(text: str, source: str = "<terms>") -> list[Term]:
    """Parse a term list; raises :class:`TermListError` naming the line of a bad header."""
    terms: list[Term] = []
    seen: set[tuple[str, str]] = set()
    category = DEFAULT_CATEGORY
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            header = _CATEGORY.match(line)
            if header is None:
                raise TermListError(
                    f"{source}:{number}: a category is [letters, digits, '-' or '_']"
                )
            category = header.group(1).lower()
            continue
        term = Term.of(line, category)
        if term is not None and (term.key, term.category) not in seen:
            seen.add((term.key, term.category))
            terms.append(term)
    return terms


def default_terms() -> list[Term]:
    data = importlib.resources.files("atelier.safety").joinpath("data", "default_terms.txt")
    return parse(data.read_text(encoding="utf-8"), "<default_terms.txt>")


class TermIndex:
    """Terms by length and key: a text of n letters is searched with n lookups per distinct
    term length, however long the list."""

    def __init__(self, terms: list[Term]) -> None:
        self.terms = terms
        self._strict = self._index(terms, lambda t: t.key)
        self._loose = self._index(terms, lambda t: t.loose)

    @staticmethod
    def _index(terms: list[Term], key_of: Any) -> list[tuple[int, dict[str, list[Term]]]]:
        by_length: dict[int, dict[str, list[Term]]] = {}
        for term in terms:
            k = key_of(term)
            by_length.setdefault(len(k), {}).setdefault(k, []).append(term)
        return sorted(by_length.items())

    @staticmethod
    def _search(index: list[tuple[int, dict[str, list[Term]]]], text: Squashed) -> str | None:
        chars, n = text.chars, len(text.chars)
        for at in range(n):
            for length, table in index:
                if at + length > n:
                    break
                found = table.get(chars[at : at + length])
                if found is None:
                    continue
                last = at + length - 1
                for term in found:
                    if (not term.edge_start or text.starts[at]) and (
                        not term.edge_end or text.ends[last]
                    ):
                        return term.category
        return None

    def match(self, text: str) -> str | None:
        """The category of a term found in ``text`` (the earliest), or ``None``."""
        if not self.terms:
            return None
        folded = fold(text)
        return self._search(self._strict, squash(folded)) or self._search(
            self._loose, squash(folded.translate(_LOOSE_TEXT))
        )


def match(terms: list[Term], text: str) -> str | None:
    """The category of a term of ``terms`` found in ``text``, or ``None``."""
    return TermIndex(terms).match(text)


# -- the filter, with hot reload of the operator's file ----------------------------------------
class PromptFilter:
    """The shipped list and the operator's file; :meth:`terms` re-reads the file when it
    changed (checked at most every ``reload_seconds``)."""

    def __init__(
        self, *, use_default: bool, path: Path | None, reload_seconds: float = 5.0
    ) -> None:
        self.path = path
        self.reload_seconds = reload_seconds
        self._builtin = default_terms() if use_default else []
        self._operator: list[Term] = []
        self._stamp: tuple[int, int] | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._combined = TermIndex(list(self._builtin))

    def terms(self) -> TermIndex:
        if self.path is None:
            return self._combined
        now = time.monotonic()
        if now - self._checked < self.reload_seconds:
            return self._combined
        with self._lock:
            if now - self._checked >= self.reload_seconds:
                self._checked = now
                self._refresh(self.path)
            return self._combined

    def _refresh(self, path: Path) -> None:
        try:
            st = os.stat(path)
        except OSError as exc:
            if self._stamp != (-1, -1):
                log.error("prompt filter: cannot read %s (%s); keeping the current list", path, exc)
                self._stamp = (-1, -1)
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            loaded = parse(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError, TermListError) as exc:
            log.error("prompt filter: %s is not valid (%s); keeping the current list", path, exc)
            return
        self._operator = loaded
        self._combined = TermIndex([*self._builtin, *loaded])
        log.info("prompt filter: %d terms from %s", len(loaded), path)

    def match(self, text: str) -> str | None:
        return self.terms().match(text)


_filters: dict[tuple[bool, str | None, float], PromptFilter] = {}
_filters_lock = threading.Lock()


def filter_for(settings: SafetySettings) -> PromptFilter:
    """The process's filter for these settings (built once, then kept up to date)."""
    path = str(settings.terms_file) if settings.terms_file is not None else None
    ident = (settings.default_terms, path, settings.terms_reload_seconds)
    with _filters_lock:
        found = _filters.get(ident)
        if found is None:
            found = PromptFilter(
                use_default=settings.default_terms,
                path=settings.terms_file,
                reload_seconds=settings.terms_reload_seconds,
            )
            _filters[ident] = found
        return found


def texts(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, text) of every :data:`TEXT_FIELDS` string in a params dump."""
    if isinstance(value, dict):
        for name, item in value.items():
            where = f"{path}.{name}" if path else str(name)
            if name in TEXT_FIELDS and isinstance(item, str):
                yield where, item
            else:
                yield from texts(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from texts(item, f"{path}[{i}]")


def check_params(settings: SafetySettings, params: BaseModel | dict[str, Any]) -> None:
    """Refuse a task's params (:class:`PromptRejected`) when a text field matches a list."""
    if not settings.prompt_filter:
        return
    dump = params.model_dump(mode="json") if isinstance(params, BaseModel) else params
    found = [(field, text) for field, text in texts(dump) if text.strip()]
    if not found:
        return
    active = filter_for(settings)
    for field, text in found:
        category = active.match(text)
        if category is not None:
            log.info("prompt filter: %s refused (%s)", field, category)
            raise PromptRejected(field=field, category=category)
