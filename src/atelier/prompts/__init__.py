"""Prompts: style and location presets, the PromptBuilder and per-provider parameter mapping."""

from atelier.prompts.builder import BuiltPrompt, PromptBuilder
from atelier.prompts.mapping import PROVIDERS, ProviderSpec, UnknownProvider, map_params
from atelier.prompts.presets import (
    Preset,
    PresetError,
    PresetLibrary,
    UnknownPreset,
    parse_language,
)

__all__ = [
    "PROVIDERS",
    "BuiltPrompt",
    "Preset",
    "PresetError",
    "PresetLibrary",
    "PromptBuilder",
    "ProviderSpec",
    "UnknownPreset",
    "UnknownProvider",
    "map_params",
    "parse_language",
]
