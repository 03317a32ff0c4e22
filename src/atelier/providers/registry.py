"""Which models this installation offers, and the provider behind each."""

from __future__ import annotations

from dataclasses import dataclass

from atelier.config import Settings
from atelier.providers.base import ImageToImageProvider, ModelInfo, TextToImageProvider

Provider = TextToImageProvider | ImageToImageProvider


class UnknownModel(LookupError):
    def __init__(self, model: str, available: list[str]) -> None:
        super().__init__(f"unknown model {model!r}; available: {', '.join(available)}")
        self.model = model
        self.available = available


@dataclass(frozen=True)
class ModelEntry:
    info: ModelInfo
    provider: Provider


class ProviderRegistry:
    def __init__(self) -> None:
        self._models: dict[str, ModelEntry] = {}

    def register(self, provider: Provider) -> None:
        for info in provider.models():
            self._models[info.id] = ModelEntry(info, provider)

    def models(self) -> list[ModelInfo]:
        return [entry.info for entry in self._models.values()]

    def resolve(self, model: str) -> ModelEntry:
        try:
            return self._models[model]
        except KeyError:
            raise UnknownModel(model, sorted(self._models)) from None


def build_registry(settings: Settings) -> ProviderRegistry:
    from atelier.providers.noop import NoopProvider
    from atelier.providers.procedural import ProceduralProvider

    from atelier.providers.classical import ClassicalStylizer

    registry = ProviderRegistry()
    registry.register(ProceduralProvider())
    registry.register(ClassicalStylizer())
    if settings.generation.enable_noop:
        registry.register(NoopProvider())
    if settings.providers.diffusers.models:
        from atelier.providers.diffusers_local import DiffusersProvider

        registry.register(DiffusersProvider(settings))
    return registry
