# ruff: noqa: RUF001  (Chinese punctuation is what this module handles)
"""The offline story writer: rules, word lists and no network. Deterministic: the same story
and options always give the same script.

1. The story is read into sentences with their quotations (:mod:`atelier.manga.story`).
2. Characters: names that speak, capitalised names used mid-sentence (English), names
   introduced as ``名叫X``, ``小X``/``阿X`` used twice, ``王老师``-style titles (Chinese), and
   roles such as "the old man"/``老人`` (:mod:`atelier.manga.lexicon`). Each gets one
   description for the whole script: the story's own words (``Mira, a young keeper with…``,
   ``小明是一个戴眼镜的男孩``) or a look drawn from its name.
3. Speakers are resolved to characters: names, pronouns (the subject of the nearest sentence
   naming someone), and a quotation that continues the previous speaker's turn.
4. Sentences are grouped into N panels (the request's N, or one panel per ~40 Chinese / ~110
   English characters, 1 to 8) by dynamic programming: groups of even length, preferring
   cuts between paragraphs. A story with fewer sentences than N is cut at commas first.
5. Each panel gets the characters it mentions (or those of the panel before, when it only
   says "he" or "she"), its setting (the last place named so far), a caption (its first
   narrative sentence), its dialogue, a shot, English visual tags and a scene description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from atelier.errors import ValidationFailed
from atelier.manga import lexicon
from atelier.manga.models import (
    Character,
    Dialogue,
    Language,
    MangaOptions,
    Panel,
    Script,
)
from atelier.manga.scenes import (
    panel_count,
    partition,
    place_in,
    place_in_first,
    scene_text,
    shot_for,
)
from atelier.manga.story import (
    PRONOUNS,
    Sentence,
    make_sentence,
    paragraphs,
    segment,
    split_clauses,
)
from atelier.manga.text import detect_language, shorten

CAPTION_CHARS = {"zh": 40, "en": 110}
LINE_CHARS = {"zh": 40, "en": 110}
MAX_DIALOGUE = 4
MAX_CHARACTERS = 8
_EN_CAPS = re.compile(r"\b(?:(?:Mr|Mrs|Ms|Dr|Prof|Capt)\.? )?[A-Z][a-z'’-]+(?: [A-Z][a-z'’-]+)?")
_ZH_NAMED = re.compile(r"(?:名叫|叫做|叫作|名字叫|我叫|我是)([\u4e00-\u9fff]{2,3})")
_ZH_PREFIXED = re.compile(r"[小阿][\u4e00-\u9fff]")
_ZH_STOP = "的是在和与了着说把被就也都又很从向对跟"


@dataclass
class _Cast:
    """Names found in the story, in order of first appearance, with their kind."""

    language: Language
    kinds: dict[str, str] = field(default_factory=dict)  # name -> person/animal/machine
    roles: dict[str, str] = field(default_factory=dict)  # name -> English role

    def add(self, name: str, kind: str = "person", role: str = "") -> None:
        if name and name not in self.kinds:
            self.kinds[name] = kind
            if role:
                self.roles[name] = role

    def pattern(self) -> re.Pattern[str] | None:
        if not self.kinds:
            return None
        names = sorted(self.kinds, key=len, reverse=True)
        alternation = "|".join(re.escape(n) for n in names)
        if self.language == "zh":
            return re.compile(f"(?:{alternation})")
        return re.compile(rf"\b(?:{alternation})\b", re.IGNORECASE)

    def canonical(self, found: str) -> str:
        for name in self.kinds:
            if name.lower() == found.lower():
                return name
        return found


def _outside_quotes(sentence: Sentence) -> str:
    """The sentence with each quotation replaced by a dash (so that what follows a quotation
    does not look like the start of a sentence)."""
    text, last = [], 0
    for quote in sentence.quotes:
        text.append(sentence.text[last : quote.start])
        last = quote.end
    text.append(sentence.text[last:])
    return " — ".join(text)


def _clean_en_name(name: str) -> str:
    return re.sub(r"['’]s$", "", name).strip()


class OfflineWriter:
    name = "offline"

    def write(self, story: str, options: MangaOptions | None = None) -> Script:
        options = options or MangaOptions()
        text = story.strip()
        if not text:
            raise ValidationFailed("the story is empty", details={"field": "story"})
        if len(text) > options.max_story_chars:
            raise ValidationFailed(
                f"the story is longer than {options.max_story_chars} characters",
                details={"field": "story", "max_length": options.max_story_chars},
            )
        language = options.language or detect_language(text)
        title, paras = paragraphs(text, language)
        sentences = segment(paras, language)
        if not sentences:
            raise ValidationFailed("the story has no sentences", details={"field": "story"})
        if options.panels is not None and len(sentences) < options.panels:
            sentences = self._split_more(sentences, options.panels, language)
        cast = self._cast(sentences, language)
        pattern = cast.pattern()
        mentions = [self._mentions(s, pattern, cast) for s in sentences]
        speakers = self._speakers(sentences, mentions, cast)
        characters = self._characters(sentences, mentions, speakers, cast, language)
        groups = self._group(sentences, options.panels, language)
        panels = self._panels(groups, sentences, mentions, speakers, characters, cast, language)
        return Script(
            language=language,
            title=title,
            characters=tuple(characters),
            panels=tuple(panels),
            writer=self.name,
        )

    # -- characters ---------------------------------------------------------------------------
    def _cast(self, sentences: list[Sentence], language: Language) -> _Cast:
        cast = _Cast(language)
        if language == "zh":
            self._cast_zh(sentences, cast)
        else:
            self._cast_en(sentences, cast)
        return cast

    def _cast_zh(self, sentences: list[Sentence], cast: _Cast) -> None:
        whole = "".join(s.text for s in sentences)
        found: list[tuple[int, str, str, str]] = []  # position, name, kind, role
        said = {q.speaker for s in sentences for q in s.quotes if q.speaker}
        for role, (english, kind) in lexicon.ROLES_ZH.items():
            subject = re.search(
                rf"(?:^|[。！？!?；;，,：:”」])(?:一[个位名只条头]|那[个位只]|这[个位只])?{role}",
                whole,
            )
            spoken = any(w.startswith(role) for w in said)
            if subject or spoken or whole.count(role) >= 2:
                found.append((whole.find(role), role, kind, english))
        for match in _ZH_NAMED.finditer(whole):
            name = match.group(1)
            cut = min((name.find(c) for c in _ZH_STOP if c in name), default=-1)
            name = name[:cut] if cut > 1 else name
            found.append((match.start(1), name, "person", ""))
        for match in _ZH_PREFIXED.finditer(whole):
            name = match.group(0)
            if name not in lexicon.NOT_NAMES_ZH and whole.count(name) >= 2:
                found.append((match.start(), name, "person", ""))
        for title in lexicon.ZH_TITLES:
            for match in re.finditer(f"[\u4e00-\u9fff]{title}", whole):
                if match.group(0)[0] in lexicon.ZH_SURNAMES:
                    found.append((match.start(), match.group(0), "person", ""))
        for sentence in sentences:
            for quote in sentence.quotes:
                raw = quote.speaker
                if raw and raw not in PRONOUNS and 2 <= len(raw) <= 3:
                    found.append((whole.find(raw), raw, "person", ""))
        for _, name, kind, role in sorted(found, key=lambda f: (f[0], -len(f[1]))):
            if not any(name != other and name in other for _, other, _, _ in found):
                cast.add(name, kind, role)  # 女孩 inside 小女孩: only the longer one

    def _cast_en(self, sentences: list[Sentence], cast: _Cast) -> None:
        mid: dict[str, int] = {}
        total: dict[str, int] = {}
        first: dict[str, tuple[int, int]] = {}
        speakers: set[str] = set()
        for index, sentence in enumerate(sentences):
            plain = _outside_quotes(sentence)
            for match in _EN_CAPS.finditer(plain):
                name = _clean_en_name(match.group(0))
                words = name.split()
                if words[0].lower() in lexicon.NOT_NAMES:
                    name = " ".join(words[1:])
                if not name or name.lower() in lexicon.NOT_NAMES or name.lower() in PRONOUNS:
                    continue
                if plain[: match.start()].strip() or " " in name:
                    mid[name] = mid.get(name, 0) + 1  # mid-sentence, or two capitalised words
                total[name] = total.get(name, 0) + 1
                first.setdefault(name, (index, match.start()))
            for quote in sentence.quotes:
                raw = quote.speaker
                if raw and raw[0].isupper() and raw.lower() not in PRONOUNS:
                    speakers.add(_clean_en_name(raw))
                    first.setdefault(_clean_en_name(raw), (index, quote.start))
        prose = " ".join(_outside_quotes(s) for s in sentences)
        lowered = prose.lower()
        names = [
            n
            for n in first
            if n in speakers
            or mid.get(n, 0) > 0
            or (total.get(n, 0) >= 2 and not re.search(rf"\b{re.escape(n.lower())}\b", prose))
        ]
        names = [n for n in names if not any(n != o and n in o.split() for o in names)]
        for name in sorted(names, key=lambda n: first[n]):
            cast.add(name)
        roles = []
        for role, kind in lexicon.ROLES_EN.items():
            pattern = rf"(?:^|[.!?;:—]\s*|\b(?:the)\s+)(?:old\s+|young\s+|little\s+)?{role}\b"
            article = rf"(?:^|[.!?;:—]\s*)(?:a|an)\s+(?:\w+\s+)?{role}\b"
            said = any(
                (q.speaker or "").lower().endswith(role) for s in sentences for q in s.quotes
            )
            subject = re.search(pattern, lowered) or re.search(article, lowered)
            mentions = [m.start() for m in re.finditer(rf"\b{role}\b", lowered)]
            if subject or said or len(mentions) >= 2:
                roles.append((mentions[0] if mentions else len(lowered), role, kind))
        for _, role, kind in sorted(roles):
            if not any(role != r and role in r for _, r, _ in roles):
                cast.add(role, kind, role)

    def _mentions(
        self, sentence: Sentence, pattern: re.Pattern[str] | None, cast: _Cast
    ) -> list[str]:
        if pattern is None:
            return []
        out: list[str] = []
        for match in pattern.finditer(_outside_quotes(sentence)):
            name = cast.canonical(match.group(0))
            if name not in out:
                out.append(name)
        return out

    def _resolve(self, raw: str | None, cast: _Cast) -> str | None:
        if raw is None:
            return None
        if cast.canonical(raw) in cast.kinds:
            return cast.canonical(raw)
        lowered = raw.lower().removeprefix("the ")
        for name in sorted(cast.kinds, key=len, reverse=True):
            if name.lower() == lowered or (cast.language == "zh" and raw.startswith(name)):
                return name
        return None

    def _speakers(
        self, sentences: list[Sentence], mentions: list[list[str]], cast: _Cast
    ) -> list[list[str | None]]:
        """Per sentence, per quotation: the speaking character's name or None."""
        out: list[list[str | None]] = []
        previous: str | None = None  # speaker of the last quotation, while a turn continues
        last: str | None = None  # speaker of the last quotation, while a conversation goes on
        for index, sentence in enumerate(sentences):
            resolved: list[str | None] = []
            if index and sentence.paragraph != sentences[index - 1].paragraph:
                previous = None
            for quote in sentence.quotes:
                raw = quote.speaker
                who: str | None
                if raw is not None and raw.lower() in PRONOUNS:
                    # a reply ("…," she said) comes from someone other than the last speaker
                    exclude = last if last != previous or previous is None else None
                    who = self._subject(index, sentences, mentions, quote.start, exclude)
                else:
                    who = self._resolve(raw, cast)
                if who is None and raw is None:
                    if not sentence.narrative and previous is not None:
                        who = previous  # "We need the lamp," Mira said. "Now!"
                    elif mentions[index]:
                        who = mentions[index][0]
                resolved.append(who)
                previous = last = who
            if sentence.narrative and not sentence.quotes:
                previous = last = None
            out.append(resolved)
        return out

    def _subject(
        self,
        index: int,
        sentences: list[Sentence],
        mentions: list[list[str]],
        before: int,
        exclude: str | None,
    ) -> str | None:
        """Who a pronoun at ``before`` in sentence ``index`` stands for: a name earlier in the
        sentence, else the first name of the nearest sentence before that names someone other
        than ``exclude``."""
        head = sentences[index].text[:before].lower()
        for name in mentions[index]:
            if name.lower() in head and name != exclude:
                return name
        for back in range(index - 1, max(-1, index - 7), -1):
            names = [n for n in mentions[back] if n != exclude]
            if names:
                return names[0]
        return None

    def _characters(
        self,
        sentences: list[Sentence],
        mentions: list[list[str]],
        speakers: list[list[str | None]],
        cast: _Cast,
        language: Language,
    ) -> list[Character]:
        counts: dict[str, int] = {}
        for names, said in zip(mentions, speakers, strict=True):
            for name in [*names, *said]:
                if name is not None:
                    counts[name] = counts.get(name, 0) + 1
        order = [n for n in cast.kinds if n in counts]
        keep = set(sorted(order, key=lambda n: -counts[n])[:MAX_CHARACTERS])
        whole = " ".join(s.text for s in sentences)
        out = []
        for name in order:
            if name not in keep:
                continue
            kind = cast.kinds[name]
            look_en, look_zh = lexicon.look(name, kind)
            role = cast.roles.get(name, "")
            role_en = f"{role}, " if role else ""
            found = self._described(name, whole, language)
            if language == "zh":
                description = found or look_zh
                words = lexicon.translate_description(found)
                if role and role not in words:
                    words.insert(0, role)
                description_en = ", ".join(words) if len(words) >= 2 else role_en + look_en
            else:
                description = found or role_en + look_en
                description_en = description
            out.append(Character(name=name, description=description, description_en=description_en))
        return out

    @staticmethod
    def _described(name: str, text: str, language: Language) -> str:
        """The story's own description of a character, if it gives one."""
        escaped = re.escape(name)
        if language == "zh":
            match = re.search(
                escaped + r"是(?:一[个位名只条头])?([^，。！？“”]{2,20}?)[。，！]", text
            )
            if match and "的" in match.group(1):
                return match.group(1)
            match = re.search(r"一[个位名只条头]([^，。！？“”]{1,12}?的)" + escaped, text)
            return match.group(1) + name if match else ""
        match = re.search(
            rf"\b{escaped}, ((?:a|an|the) [^,.;!?\"“]{{3,80}}?)[,.;]", text, flags=re.IGNORECASE
        )
        if match is None:
            match = re.search(rf"\b{escaped} (?:was|is) ((?:a|an) [^,.;!?\"“]{{3,80}})[,.;]", text)
        return match.group(1) if match else ""

    # -- panels -------------------------------------------------------------------------------
    @staticmethod
    def _split_more(sentences: list[Sentence], wanted: int, language: Language) -> list[Sentence]:
        """Cut the longest sentences at their commas until there are ``wanted`` of them (or
        nothing is left to cut)."""
        out = list(sentences)
        while len(out) < wanted:
            best = max(range(len(out)), key=lambda i: len(out[i].text))
            clauses = split_clauses(out[best].text)
            if len(clauses) < 2:
                candidates = [i for i, s in enumerate(out) if len(split_clauses(s.text)) > 1]
                if not candidates:
                    break
                best = max(candidates, key=lambda i: len(out[i].text))
                clauses = split_clauses(out[best].text)
            paragraph = out[best].paragraph
            out[best : best + 1] = [make_sentence(c, paragraph, language) for c in clauses]
        return out

    @staticmethod
    def _group(
        sentences: list[Sentence], wanted: int | None, language: Language
    ) -> list[list[int]]:
        weights = [float(max(1, len(s.text))) for s in sentences]
        breaks = [
            i + 1 < len(sentences) and sentences[i + 1].paragraph != s.paragraph
            for i, s in enumerate(sentences)
        ]
        n = panel_count(int(sum(weights)), len(sentences), wanted, language)
        groups, at = [], 0
        for size in partition(weights, breaks, n):
            groups.append(list(range(at, at + size)))
            at += size
        return groups

    def _panels(
        self,
        groups: list[list[int]],
        sentences: list[Sentence],
        mentions: list[list[str]],
        speakers: list[list[str | None]],
        characters: list[Character],
        cast: _Cast,
        language: Language,
    ) -> list[Panel]:
        known = {c.name for c in characters}
        joiner = "" if language == "zh" else " "
        whole = joiner.join(_outside_quotes(s) for s in sentences)
        setting = place_in_first(whole, language)
        panels: list[Panel] = []
        previous_names: list[str] = []
        for index, group in enumerate(groups):
            plain = joiner.join(_outside_quotes(sentences[i]) for i in group)
            names: list[str] = []
            for i in group:
                for name in [*mentions[i], *speakers[i]]:
                    if name in known and name not in names:
                        names.append(name)
            words = set(re.findall(r"[a-z]+", plain.lower())) | {c for c in plain if c in "他她"}
            if not names and words & {"he", "she", "they", "him", "her", "them", "他", "她"}:
                names = list(previous_names)
            found = place_in(plain, language)
            changed = found is not None and setting is not None and found[0] != setting[0]
            setting = found or setting
            dialogue = []
            for i in group:
                for quote, who in zip(sentences[i].quotes, speakers[i], strict=True):
                    line = quote.text
                    if language == "en" and line.endswith(","):
                        line = line[:-1] + "."
                    line = shorten(line, LINE_CHARS[language], language)
                    dialogue.append(Dialogue(speaker=who if who in known else None, text=line))
            dialogue = dialogue[:MAX_DIALOGUE]
            narratives = [sentences[i].narrative for i in group if sentences[i].narrative]
            caption = (
                shorten(narratives[0], CAPTION_CHARS[language], language) if narratives else ""
            )
            narrative = joiner.join(narratives)
            if not narrative and names:
                narrative = (
                    ("、".join(names) + "在说话")
                    if language == "zh"
                    else (" and ".join(names) + " talking")
                )
            shot = shot_for(index, changed, len(dialogue), len(names))
            written, english = setting or ("", "")
            tags = [f"{shot} shot"] + ([english] if english else [])
            tags += [cast.roles[n] for n in names if cast.roles.get(n)]
            panels.append(
                Panel(
                    panel_number=index + 1,
                    scene_description=scene_text(shot, written, names, narrative, language),
                    characters=tuple(names),
                    setting=written,
                    caption=caption,
                    dialogue=tuple(dialogue),
                    shot=shot,
                    visual_tags=tuple(dict.fromkeys(tags)),
                    source_text=joiner.join(sentences[i].text for i in group),
                )
            )
            previous_names = names
        return panels


__all__ = ["OfflineWriter", "panel_count", "partition"]
