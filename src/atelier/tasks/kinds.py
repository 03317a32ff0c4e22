"""The registry of task kinds. A kind validates its params, picks a queue and runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from atelier.errors import ValidationFailed
from atelier.providers.base import ModelInfo
from atelier.providers.registry import UnknownModel

if TYPE_CHECKING:
    from atelier.images.service import PreparedImages
    from atelier.runtime import Runtime


@dataclass
class RunContext:
    """What a running task may use. ``progress`` may raise ``TaskCancelled``."""

    runtime: Runtime
    task_id: str
    owner: str
    prepared: PreparedImages
    progress: Callable[[str, int, int, float], None]
    """``progress(stage, current, total, overall_fraction)``"""


class TaskKind(ABC):
    name: ClassVar[str]
    params_model: ClassVar[type[BaseModel]]
    #: What the kind's models must be able to do, when it runs on models.
    capability: ClassVar[str | None] = None

    def models_for(self, runtime: Runtime, model: str) -> list[ModelInfo]:
        """Every model a task naming ``model`` (a model id or a route) may run on, each
        checked for the kind's capability; bad names are a 422 listing the allowed ones."""
        routes = runtime.settings.policy.routes
        route = routes.get(model)
        names = [*route.candidates, *route.fallback] if route is not None else [model]
        try:
            infos = [runtime.providers.resolve(n).info for n in dict.fromkeys(names)]
        except UnknownModel as exc:
            raise ValidationFailed(
                f"unknown model {model!r}" if route is None else str(exc),
                details={"field": "model", "allowed": sorted({*exc.available, *routes})},
            ) from None
        for info in infos:
            if self.capability is not None and self.capability not in info.capabilities:
                raise ValidationFailed(
                    f"model {info.id} cannot do {self.capability.replace('_', '-')}",
                    details={"field": "model"},
                )
        return infos

    @staticmethod
    def queue_of(infos: list[ModelInfo]) -> str:
        """Diffusion models run on GPU workers; everything else on CPU workers."""
        return "gpu" if any(i.kind == "diffusers" for i in infos) else "cpu"

    @staticmethod
    def provider_of(infos: list[ModelInfo]) -> str | None:
        """The provider, when one model is named; a route decides when the task runs."""
        return infos[0].provider if len(infos) == 1 else None

    def validate(self, runtime: Runtime, raw: dict[str, Any], owner: str) -> BaseModel:
        """Validate and complete params at submission (e.g. pick a seed), so every attempt of
        the task runs with the same inputs."""
        try:
            params = self.params_model.model_validate(raw)
        except ValidationError as exc:
            raise ValidationFailed(
                "invalid params",
                details=exc.errors(include_url=False, include_context=False),
            ) from None
        return self.complete(runtime, params, owner)

    def complete(self, runtime: Runtime, params: BaseModel, owner: str) -> BaseModel:
        return params

    def parse(self, raw: dict[str, Any]) -> BaseModel:
        return self.params_model.model_validate(raw)

    def queue(self, runtime: Runtime, params: BaseModel) -> str:
        return "cpu"

    def provider(self, runtime: Runtime, params: BaseModel) -> str | None:
        return None

    @abstractmethod
    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        """Do the work and return the task's result (without the image records, which the
        runner inserts with the completion)."""


_KINDS: dict[str, TaskKind] = {}


def register(kind: TaskKind) -> TaskKind:
    _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> TaskKind:
    _load_builtin()
    try:
        return _KINDS[name]
    except KeyError:
        raise ValidationFailed(
            f"unknown task kind {name!r}",
            details={"field": "kind", "allowed": sorted(_KINDS)},
        ) from None


def kinds() -> list[str]:
    _load_builtin()
    return sorted(_KINDS)


def _load_builtin() -> None:
    if not _KINDS:
        import atelier.generation.kind
        import atelier.stylize.kind  # noqa: F401  (registers "stylize")
