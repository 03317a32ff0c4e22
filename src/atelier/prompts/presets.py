"""Style and location presets: TOML data files, validated with pydantic.

The built-in presets live in ``atelier/prompts/data/styles.toml`` and ``locations.toml``. A
user directory may add more: every ``*.toml`` file directly in it (read in name order) has the
same shape as the built-in files and may hold ``[[styles]]`` and ``[[locations]]`` entries. An
entry whose ``id`` matches an existing preset of its kind replaces it whole (built-in order is
kept); a new ``id`` is appended. A later user file wins over an earlier one.

One entry::

    [[styles]]
    id = "watercolor"                    # lowercase letters, digits and "-"
    name.en = "Watercolour"
    name.zh = "水彩"
    description.en = "..."
    description.zh = "..."
    prompt.en = "..."                    # the fragment added to the prompt
    prompt.zh = "..."
    negative.en = "..."                  # optional; added to the negative prompt
    negative.zh = "..."
    tags = ["painterly", "soft"]
    params = { strength = 0.6, guidance = 7.0, steps = 30 }   # each optional
    preview = { colour = "#8EC5E8", accent = "#F7D9C4", thumbnail = "🎨" }

Every mistake in a file is a :class:`PresetError` naming the file and the field, such as
``presets/mine.toml: styles[2] (id 'neon').prompt.zh: Field required``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from atelier.errors import NotFound, ValidationFailed

Language = Literal["zh", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("zh", "en")
PresetKind = Literal["style", "location"]
KINDS: Final[tuple[PresetKind, ...]] = ("style", "location")
#: Top-level array name in a file -> the kind of its entries.
FILE_KEYS: Final[dict[str, PresetKind]] = {"styles": "style", "locations": "location"}
BUILTIN_FILES: Final = ("styles.toml", "locations.toml")

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=600)]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(_Frozen):
    """A text in both supported languages; neither may be empty."""

    zh: Text
    en: Text

    def get(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en


class OptionalLocalized(_Frozen):
    """A text in both languages that may be empty (negative prompt fragments)."""

    zh: OptionalText = ""
    en: OptionalText = ""

    def get(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en


class SuggestedParams(_Frozen):
    """Generation parameters a preset suggests; ``None`` means no opinion."""

    strength: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Image-to-image strength: 0 keeps the photo."
    )
    guidance: float | None = Field(default=None, ge=0.0, le=30.0, description="CFG scale.")
    steps: int | None = Field(default=None, ge=1, le=150, description="Sampling steps.")


class Preview(_Frozen):
    """What a UI may show before a real thumbnail exists: a swatch and an emoji."""

    colour: Colour = Field(description="Main swatch colour, `#RRGGBB`.")
    accent: Colour | None = Field(default=None, description="Second colour for a gradient.")
    thumbnail: str = Field(default="", max_length=16, description="An emoji hint.")


class Preset(_Frozen):
    id: Slug
    name: Localized
    description: Localized
    prompt: Localized
    negative: OptionalLocalized = OptionalLocalized()
    tags: tuple[Slug, ...] = ()
    params: SuggestedParams = SuggestedParams()
    preview: Preview


class PresetFile(_Frozen):
    """The shape of one preset file."""

    version: Literal[1] = 1
    styles: tuple[Preset, ...] = ()
    locations: tuple[Preset, ...] = ()


class PresetError(ValueError):
    """A preset file that cannot be used; the message names the file and the field."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class UnknownPreset(NotFound):
    def __init__(self, kind: str, preset_id: str, available: Iterable[str]) -> None:
        known = sorted(available)
        super().__init__(
            f"unknown {kind} preset {preset_id!r}",
            details={"kind": kind, "id": preset_id, "available": known},
        )
        self.kind = kind
        self.preset_id = preset_id


def parse_language(value: str | None, default: Language = "en") -> Language:
    """``zh``, ``en`` and regional forms (``zh-CN``, ``en_US``); ``None`` or ``""`` is the
    default. Anything else is :class:`ValidationFailed`."""
    if not value:
        return default
    base = value.strip().lower().replace("_", "-").split("-", 1)[0]
    for language in LANGUAGES:
        if base == language:
            return language
    raise ValidationFailed(
        f"unsupported language {value!r}; use one of: {', '.join(LANGUAGES)}",
        details={"field": "lang", "allowed": list(LANGUAGES)},
    )


def _field_path(loc: tuple[int | str, ...], raw: Any) -> str:
    """``("styles", 2, "prompt", "zh")`` -> ``styles[2] (id 'x').prompt.zh``."""
    out = ""
    node = raw
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if i == 1 and isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f" (id {node['id']!r})"
        else:
            out += f".{part}" if out else part
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(file)"


def parse_file(text: str, source: str) -> PresetFile:
    """Parse and validate one preset file; ``source`` names it in errors."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(source, f"invalid TOML: {exc}") from None
    try:
        parsed = PresetFile.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_field_path(e['loc'], raw)}: {e['msg']}" for e in exc.errors()]
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise PresetError(source, "; ".join(problems[:5]) + more) from None
    for key in FILE_KEYS:
        seen: dict[str, int] = {}
        for index, preset in enumerate(getattr(parsed, key)):
            if preset.id in seen:
                raise PresetError(
                    source,
                    f"{key}[{index}].id: duplicate id {preset.id!r} "
                    f"(first at {key}[{seen[preset.id]}])",
                )
            seen[preset.id] = index
    return parsed


class PresetLibrary:
    """The presets of an installation: the built-in ones, then the user directory's."""

    def __init__(self, user_dir: Path | None = None, *, include_builtin: bool = True) -> None:
        self._presets: dict[PresetKind, dict[str, Preset]] = {kind: {} for kind in KINDS}
        self._sources: dict[tuple[PresetKind, str], str] = {}
        if include_builtin:
            data = resources.files("atelier.prompts").joinpath("data")
            for name in BUILTIN_FILES:
                text = data.joinpath(name).read_text(encoding="utf-8")
                self._add(parse_file(text, f"<builtin>/{name}"), f"<builtin>/{name}")
        if user_dir is not None:
            for path in self._user_files(user_dir):
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise PresetError(str(path), f"cannot read: {exc}") from None
                self._add(parse_file(text, str(path)), str(path))

    @staticmethod
    def _user_files(user_dir: Path) -> list[Path]:
        if not user_dir.is_dir():
            raise PresetError(str(user_dir), "preset directory does not exist")
        return sorted(p for p in user_dir.glob("*.toml") if p.is_file())

    def _add(self, parsed: PresetFile, source: str) -> None:
        for key, kind in FILE_KEYS.items():
            for preset in getattr(parsed, key):
                self._presets[kind][preset.id] = preset  # keeps the position of a replaced id
                self._sources[(kind, preset.id)] = source

    def all(self, kind: PresetKind) -> list[Preset]:
        return list(self._presets[kind].values())

    def styles(self) -> list[Preset]:
        return self.all("style")

    def locations(self) -> list[Preset]:
        return self.all("location")

    def get(self, kind: PresetKind, preset_id: str) -> Preset:
        try:
            return self._presets[kind][preset_id]
        except KeyError:
            raise UnknownPreset(kind, preset_id, self._presets[kind]) from None

    def style(self, preset_id: str) -> Preset:
        return self.get("style", preset_id)

    def location(self, preset_id: str) -> Preset:
        return self.get("location", preset_id)

    def source(self, kind: PresetKind, preset_id: str) -> str:
        """The file a preset came from (``<builtin>/styles.toml`` or a user file's path)."""
        self.get(kind, preset_id)
        return self._sources[(kind, preset_id)]
