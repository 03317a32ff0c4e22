"""The registry of task kinds. A kind validates its params, picks a queue and runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from atelier.errors import ValidationFailed

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
