"""Which models this installation offers, and the provider behind each."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from importlib.metadata import entry_points

from atelier.config import Settings
from atelier.providers.base import ImageToImageProvider, ModelInfo, TextToImageProvider

Provider = TextToImageProvider | ImageToImageProvider
log = logging.getLogger(__name__)


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

    def close(self) -> None:
        for provider in {id(e.provider): e.provider for e in self._models.values()}.values():
            close = getattr(provider, "close", None)
            if callable(close):
                close()

    def resolve(self, model: str) -> ModelEntry:
        try:
            return self._models[model]
        except KeyError:
            raise UnknownModel(model, sorted(self._models)) from None


ENTRY_POINTS = "atelier.providers"


def with_secrets(settings: Settings) -> Settings:
    """Provider keys from ``providers.secrets_file`` (TOML: ``[openai] api_key = "..."``,
    ``[dashscope]``, ``[volcengine]``), layered over the environment's."""
    path = settings.providers.secrets_file
    if path is None:
        return settings
    try:
        with path.open("rb") as fh:
            secrets = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read the provider secrets file {path}: {exc}") from None
    merged = settings.providers.model_dump()
    for section, values in secrets.items():
        if section not in ("openai", "dashscope", "volcengine") or not isinstance(values, dict):
            raise ValueError(f"{path}: unknown section [{section}]")
        merged[section].update(values)
    providers = type(settings.providers).model_validate(merged)
    return settings.model_copy(update={"providers": providers})


def build_registry(settings: Settings) -> ProviderRegistry:
    """The built-in offline models, every remote provider whose key is configured, local
    diffusers models when named, and third-party providers from the ``atelier.providers``
    entry-point group (each a callable taking the settings and returning a provider)."""
    from atelier.providers.classical import ClassicalStylizer
    from atelier.providers.noop import NoopProvider
    from atelier.providers.procedural import ProceduralProvider

    settings = with_secrets(settings)
    p = settings.providers
    registry = ProviderRegistry()
    registry.register(ProceduralProvider())
    registry.register(ClassicalStylizer())
    if settings.generation.enable_noop:
        registry.register(NoopProvider())
    if p.openai.api_key.get_secret_value():
        from atelier.providers.openai_images import OpenAIImagesProvider

        registry.register(OpenAIImagesProvider(p.openai))
    if p.dashscope.api_key.get_secret_value():
        from atelier.providers.dashscope import DashScopeProvider

        registry.register(DashScopeProvider(p.dashscope))
    if p.volcengine.ark_api_key.get_secret_value():
        from atelier.providers.volcengine_ark import VolcengineArkProvider

        registry.register(VolcengineArkProvider(p.volcengine))
    if p.volcengine.access_key_id and p.volcengine.secret_access_key.get_secret_value():
        from atelier.providers.volcengine_visual import VolcengineVisualProvider

        registry.register(VolcengineVisualProvider(p.volcengine))
    if p.diffusers.models:
        from atelier.providers.diffusers_local import DiffusersProvider

        registry.register(DiffusersProvider(settings))
    for entry_point in entry_points(group=ENTRY_POINTS):
        try:
            registry.register(entry_point.load()(settings))
        except Exception:
            log.exception("could not load provider plugin %s", entry_point.name)
    return registry
