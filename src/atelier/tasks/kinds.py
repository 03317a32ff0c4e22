"""The registry of task kinds. A kind validates its params, picks a queue and runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from threading import RLock
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from atelier.errors import ValidationFailed
from atelier.providers.base import ModelInfo
from atelier.providers.registry import UnknownModel
from atelier.safety.prompts import check_params

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


class AwaitChildren(Exception):
    """Raised by :meth:`TaskKind.run` once it has created its child tasks
    (:func:`atelier.tasks.children.spawn`): the task stays ``processing`` in ``stage``
    without holding a worker, and ``run`` is called again when every child has finished."""

    def __init__(self, stage: str, total: int) -> None:
        super().__init__(stage, total)
        self.stage = stage
        self.total = total


class TaskKind(ABC):
    name: ClassVar[str]
    params_model: ClassVar[type[BaseModel]]
    #: What the kind's models must be able to do, when it runs on models.
    capability: ClassVar[str | None] = None
    #: Whether :meth:`validate` does I/O (reads the database, storage...): if it does, the
    #: API validates in a worker thread, not on the event loop.
    validation_blocks: ClassVar[bool] = True
    #: Internal kinds (the children of another kind) cannot be submitted by callers.
    internal: ClassVar[bool] = False

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
        check_params(runtime.settings.safety, params)  # the prompt filter: 422 prompt_rejected
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
        runner inserts with the completion). A result with a non-empty ``failures`` list ends
        the task ``partial`` instead of ``completed`` (a parent some of whose children
        failed)."""


_KINDS: dict[str, TaskKind] = {}


def register(kind: TaskKind) -> TaskKind:
    _KINDS[kind.name] = kind
    return kind


def get_kind(name: str, *, internal: bool = True) -> TaskKind:
    """The kind called ``name``; with ``internal=False`` (a caller's submission) the kinds
    only tasks create are unknown."""
    _load_builtin()
    kind = _KINDS.get(name)
    if kind is None or (kind.internal and not internal):
        raise ValidationFailed(
            f"unknown task kind {name!r}",
            details={"field": "kind", "allowed": kinds()},
        )
    return kind


def kinds() -> list[str]:
    """The kinds a caller may submit."""
    _load_builtin()
    return sorted(name for name, kind in _KINDS.items() if not kind.internal)


_builtin_loaded = False
#: Held while the built-in kinds import, so that a thread asking for a kind meanwhile (a
#: fresh worker's first tasks run at once) waits for them instead of missing some.
_builtin_lock = RLock()


def _load_builtin() -> None:
    """Import the built-in kinds once (they register themselves); kinds registered before
    (plugins, tests) do not stop them from loading."""
    global _builtin_loaded
    with _builtin_lock:
        if not _builtin_loaded:
            _builtin_loaded = True
            import atelier.erase.kind
            import atelier.generation.kind
            import atelier.library.kind
            import atelier.manga.kind
            import atelier.stylize.kind  # noqa: F401  (registers "stylize")
