# ruff: noqa: RUF001, RUF002  (Chinese punctuation is what this module handles)
"""Reading a story: paragraphs, sentences, quoted speech and who says it (Chinese and English).

- Paragraphs: Chinese text breaks at every line; English text at blank lines (single line
  breaks are re-flowed). A short first line without closing punctuation is the title.
- Sentences end after ``。！？!?…`` (and ``.`` in English, not after ``Mr.``, an initial or
  inside a number), with the closing quotes that follow, but never inside a quotation; an
  attribution right after a quotation (``“走吧！”小明说。``, ``"Run!" Anna said.``) stays in the
  quotation's sentence.
- Quotations: ``“…”``, ``「…」``, ``『…』``, ``«…»`` and ASCII ``"…"`` (when balanced).
- Speakers: the attribution before (``小明说：“…”``, ``Anna said, "…"``) or after the
  quotation (``“…”小明笑着说``, ``"…," said Anna``, ``"…," she said``); a pronoun is the
  subject of the nearest sentence that names someone. Unattributed lines keep the subject of
  their own sentence, or get no speaker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from atelier.manga.models import Language

QUOTES: Final = {"“": "”", "「": "」", "『": "』", "«": "»", '"': '"'}
CLOSERS: Final = frozenset("”」』»\"')）】》’")
ZH_END: Final = frozenset("。！？!?…")
EN_END: Final = frozenset(".!?…")
ABBREVIATIONS: Final = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "capt", "lt", "gen", "vs", "etc", "e.g",
     "i.e", "no", "mt"}
)  # fmt: skip
ZH_VERBS: Final = (
    "说道", "问道", "喊道", "叫道", "答道", "笑道", "叹道", "骂道", "嚷道", "回答道", "回答",
    "大喊", "大叫", "喊着", "嘟囔", "低语", "(?<![听小据])说(?![明服法])", "问(?![题候])",
    "喊", "叫(?![做作])", "答(?![案应])", "嚷",
)  # fmt: skip
ZH_ADVERBS: Final = (
    "笑着", "哭着", "大声", "小声", "低声", "轻声", "高声", "冷冷地", "慢慢地", "急忙", "连忙",
    "忽然", "突然", "又", "也", "就", "便", "还", "才", "却", "终于", "看着", "点点头",
    "高兴地", "生气地", "伤心地", "害怕地", "惊讶地", "温柔地", "认真地", "兴奋地", "着急地",
    "轻轻地", "悄悄地", "大声地", "小声地", "地", "着",
)  # fmt: skip
EN_VERBS: Final = (
    "said", "says", "asked", "asks", "replied", "replies", "shouted", "shouts", "whispered",
    "whispers", "cried", "cries", "answered", "answers", "called", "calls", "yelled", "yells",
    "muttered", "mutters", "exclaimed", "added", "screamed", "laughed", "sighed", "murmured",
    "told", "tells", "began", "continued", "insisted", "warned", "snapped", "growled",
    "explained", "admitted", "agreed", "repeated", "demanded", "pleaded", "protested",
)  # fmt: skip
PRONOUNS: Final = frozenset(
    {"he", "she", "they", "i", "we", "it", "他", "她", "它", "他们", "她们", "我", "我们"}
)
_VERB = "|".join(EN_VERBS)
_EN_TITLE = r"(?:Mr|Mrs|Ms|Dr|Prof|Capt|St)\.?"
_EN_NAME = (
    rf"(?:{_EN_TITLE} )?[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)?"
    r"|(?:the|a|an) [a-z]+(?: [a-z]+)?"
)
_EN_WHO = rf"\b(?P<who>{_EN_NAME}|[Hh]e|[Ss]he|[Tt]hey|I|[Ww]e)"
_EN_TAIL = rf"(?:{_VERB})(?:\s+\w+ly)?(?:\s+(?:to|at)\s+[\w ]{{1,20}}?)?\s*[,:]?\s*$"
_EN_BEFORE = re.compile(rf"{_EN_WHO}\s+(?:\w+ly\s+)?{_EN_TAIL}")
#: "Ana turned and said, …": a name, up to three lower-case words, then the verb.
_EN_BEFORE_LOOSE = re.compile(rf"{_EN_WHO}\s+(?:[a-z]+\s+){{1,3}}?{_EN_TAIL}")
_EN_AFTER = re.compile(
    rf"^\s*,?\s*(?:(?:{_VERB})\s+(?P<who1>{_EN_NAME})"
    rf"|\b(?P<who2>{_EN_NAME}|[Hh]e|[Ss]he|[Tt]hey|I|[Ww]e)\s+(?:\w+ly\s+)?(?:{_VERB}))\b"
)
_ZH_VERB = "|".join(ZH_VERBS)
_ZH_BEFORE = re.compile(
    rf"(?P<clause>[^，,。！？!?；;：:“”「」]{{1,16}}?)(?:{_ZH_VERB})[：:，,]?\s*$"
)
_ZH_AFTER = re.compile(rf"^[，,]?(?P<clause>[^，,。！？!?；;“”「」]{{1,12}}?)(?:{_ZH_VERB})")
_ZH_NAME_CHARS = re.compile(r"^[\u4e00-\u9fff]{1,5}$")


@dataclass(frozen=True)
class Quote:
    text: str  # without the quotation marks
    start: int  # span of the quotation, marks included, in the sentence
    end: int
    speaker: str | None = None  # the raw attribution (a name or a pronoun)


@dataclass(frozen=True)
class Sentence:
    text: str
    paragraph: int
    quotes: tuple[Quote, ...]
    narrative: str  # the sentence without quotations and their attributions


# -- paragraphs and sentences ----------------------------------------------------------------
def paragraphs(story: str, language: Language) -> tuple[str, list[str]]:
    """``(title, paragraphs)``: see the module docstring."""
    text = story.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ")
    if language == "zh":
        paras = [" ".join(line.split()) for line in text.split("\n")]
    else:
        paras = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    paras = [p for p in paras if p]
    title = ""
    ends = ZH_END | EN_END | frozenset('”"」』')
    if len(paras) > 1 and len(paras[0]) <= 40 and paras[0][-1] not in ends:
        title = paras.pop(0).strip("《》#* ")
    return title, paras


def _balanced_ascii(text: str) -> bool:
    return text.count('"') % 2 == 0


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the ``.`` at ``dot`` ends an abbreviation, an initial or a number's part."""
    match = re.search(r"([\w.]+)$", text[:dot])
    word = match.group(1).lower() if match else ""
    if word in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha() and text[dot - 1].isupper():
        return True  # an initial: J. K. Rowling
    return dot + 1 < len(text) and text[dot - 1].isdigit() and text[dot + 1].isdigit()


def _attribution_follows(rest: str, language: Language) -> int:
    """Length of an attribution at the start of ``rest`` (up to its full stop), or 0."""
    if language == "zh":
        match = re.match(
            r"^[^。！？!?“”「」]{1,12}?(?:" + _ZH_VERB + r")[^。！？!?“「]{0,6}?[。！？!?]", rest
        )
    else:
        match = re.match(
            rf"^\s*(?:(?:{_VERB})\s+(?:{_EN_NAME})|(?:{_EN_NAME}|he|she|they|I|we)\s+"
            rf"(?:\w+ly\s+)?(?:{_VERB}))[^.!?\"“]{{0,40}}?[.!?]",
            rest,
        )
    return match.end() if match else 0


def sentences(paragraph: str, language: Language) -> list[str]:
    """Split one paragraph into sentences (see the module docstring)."""
    ends = ZH_END if language == "zh" else EN_END
    ascii_quotes = _balanced_ascii(paragraph)
    out: list[str] = []
    stack: list[str] = []
    start = i = 0
    n = len(paragraph)
    while i < n:
        char = paragraph[i]
        if stack and char == stack[-1]:
            stack.pop()
        elif char in QUOTES and (char != '"' or ascii_quotes):
            stack.append(QUOTES[char])
        if char not in ends or (char == "." and _is_abbreviation(paragraph, i)):
            i += 1
            continue
        j = i + 1
        while j < n:
            if stack and paragraph[j] == stack[-1]:
                stack.pop()
            elif not (paragraph[j] in ends or (paragraph[j] in CLOSERS and paragraph[j] != '"')):
                break
            j += 1
        if stack:  # inside a quotation: not the end of the sentence
            i = j
            continue
        closed_quote = paragraph[j - 1] in CLOSERS and j - 1 > i
        if language == "en" and j < n and not closed_quote:
            following = paragraph[j:].lstrip()
            if following and following[0].islower():
                i = j  # "…?" she asked — the sentence goes on
                continue
        if closed_quote:
            j += _attribution_follows(paragraph[j:], language)
        out.append(paragraph[start:j].strip())
        start = i = j
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


# -- quotations and speakers -------------------------------------------------------------------
def _zh_speaker(clause: str) -> str | None:
    """The subject of a Chinese attribution clause such as ``小明笑着`` or ``老人对他``."""
    clause = clause.strip(" ，,：:")
    for marker in ("对", "向", "跟", "朝"):
        if marker in clause[1:]:
            clause = clause[: clause.index(marker, 1)]
    changed = True
    while changed and clause:
        changed = False
        for adverb in ZH_ADVERBS:
            if clause.endswith(adverb) and len(clause) > len(adverb):
                clause = clause[: -len(adverb)]
                changed = True
    for prefix in ("于是", "然后", "这时", "接着", "只见", "可是", "但是"):
        clause = clause.removeprefix(prefix)
    if not _ZH_NAME_CHARS.match(clause) or "的" in clause or "了" in clause:
        return None
    return clause


def _en_speaker(who: str | None) -> str | None:
    if not who:
        return None
    who = who.strip()
    if who.split(" ", 1)[0].lower() in ("a", "an"):
        who = "the " + who.split(" ", 1)[1]
    if who.lower() in PRONOUNS:
        return who.lower()
    return who[0].lower() + who[1:] if who.lower().startswith("the ") else who


def attribution(before: str, after: str, language: Language) -> str | None:
    """Who speaks a quotation, from the text just before and just after it."""
    if language == "zh":
        match = _ZH_BEFORE.search(before)
        if match and (who := _zh_speaker(match.group("clause"))):
            return who
        match = _ZH_AFTER.match(after)
        return _zh_speaker(match.group("clause")) if match else None
    match = _EN_BEFORE.search(before) or _EN_BEFORE_LOOSE.search(before)
    if match:
        return _en_speaker(match.group("who"))
    match = _EN_AFTER.match(after)
    if match:
        return _en_speaker(match.group("who1") or match.group("who2"))
    return None


def find_quotes(sentence: str, language: Language) -> list[Quote]:
    """The quotations of a sentence with their raw attributions."""
    ascii_quotes = _balanced_ascii(sentence)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(sentence):
        close = QUOTES.get(sentence[i])
        if close is None or (close == '"' and not ascii_quotes):
            i += 1
            continue
        end = sentence.find(close, i + 1)
        if end < 0:
            break
        spans.append((i, end + 1))
        i = end + 1
    quotes = []
    for k, (start, end) in enumerate(spans):
        text = sentence[start + 1 : end - 1].strip()
        if not text:
            continue
        before = sentence[spans[k - 1][1] if k else 0 : start]
        after = sentence[end : spans[k + 1][0] if k + 1 < len(spans) else len(sentence)]
        quotes.append(Quote(text, start, end, attribution(before, after, language)))
    return quotes


def _narrative(sentence: str, quotes: list[Quote], language: Language) -> str:
    """The sentence without its quotations and the attributions that introduce them."""
    if not quotes:
        return sentence
    parts: list[str] = []
    last = 0
    for quote in quotes:
        parts.append(sentence[last : quote.start])
        last = quote.end
    parts.append(sentence[last:])
    kept = []
    for k, part in enumerate(parts):
        before_quote = k < len(quotes)
        after_quote = k > 0
        cleaned = part
        if before_quote and attribution(part, "", language):
            cleaned = (_ZH_BEFORE if language == "zh" else _EN_BEFORE).sub("", part)
        if after_quote and attribution("", part, language):
            pattern = _ZH_AFTER if language == "zh" else _EN_AFTER
            cleaned = pattern.sub("", cleaned, count=1)
            cleaned = re.sub(r"^[^，,。.！!？?]{0,12}[，,。.！!？?]", "", cleaned, count=1)
        kept.append(cleaned)
    text = " ".join(p.strip(" ，,：:;；") for p in kept if p.strip(" ，,：:;；。.!?！？"))
    if language == "zh":
        text = text.replace(" ", "")
    return text.strip()


def make_sentence(text: str, paragraph: int, language: Language) -> Sentence:
    quotes = find_quotes(text, language)
    return Sentence(text, paragraph, tuple(quotes), _narrative(text, quotes, language))


def segment(story_paragraphs: list[str], language: Language) -> list[Sentence]:
    return [
        make_sentence(text, index, language)
        for index, paragraph in enumerate(story_paragraphs)
        for text in sentences(paragraph, language)
    ]


def split_clauses(sentence: str) -> list[str]:
    """A long sentence cut at its commas and semicolons outside quotations."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(sentence):
        if char in QUOTES and char != '"':
            depth += 1
        elif char in CLOSERS and char != '"' and depth:
            depth -= 1
        elif char in "，,；;" and not depth and i - start >= 4:
            parts.append(sentence[start : i + 1].strip())
            start = i + 1
    if sentence[start:].strip():
        parts.append(sentence[start:].strip())
    return parts
