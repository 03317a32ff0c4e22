"""The torch runtime behind local models: where a model runs, and how long it stays in memory.

A provider keeps a model's *role* (what it computes from a request) apart from its *runtime
session*, which this module owns: the device and dtype (:func:`select_placement`), a
:class:`LazyModel` that loads on first use behind a lock and is evicted after an idle period,
and per-hardware extras (:func:`apply_hardware_extras`). ``torch`` is imported only when one of
these is used, so the base install (without the ``[diffusers]`` extra) still imports atelier.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from atelier.providers.errors import NotConfigured

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

T = TypeVar("T")
DtypeName = Literal["bfloat16", "float32"]


def import_torch() -> Any:
    """``import torch``, or a :class:`NotConfigured` naming the extra that provides it."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - the test environment installs the extra
        raise NotConfigured(
            "local models need torch: install atelier with the [diffusers] extra"
        ) from exc
    return torch


@dataclass(frozen=True)
class Placement:
    """Where a model runs: a torch device string and the dtype of its weights."""

    device: str
    dtype: DtypeName

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def torch_dtype(self) -> torch.dtype:
        torch = import_torch()
        return torch.bfloat16 if self.dtype == "bfloat16" else torch.float32  # type: ignore[no-any-return]

    def generator(self, seed: int) -> torch.Generator:
        """A generator on this device seeded with ``seed`` (so a seed means the same noise)."""
        torch = import_torch()
        return torch.Generator(self.device).manual_seed(seed)  # type: ignore[no-any-return]


def select_placement(device: str = "auto") -> Placement:
    """``auto``: the first CUDA device in bfloat16 when there is one, else the CPU in float32.

    ``cuda``/``cuda:N`` (bfloat16) and ``cpu`` (float32) are taken as given; asking for CUDA on a
    machine without it is a configuration error rather than a silent fallback.
    """
    torch = import_torch()
    setting = device.strip().lower()
    if setting == "auto":
        setting = "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cpu":
        return Placement("cpu", "float32")
    if setting == "cuda" or (setting.startswith("cuda:") and setting[5:].isdigit()):
        if not torch.cuda.is_available():
            raise NotConfigured(f"device {device!r} was asked for but CUDA is not available")
        return Placement(setting, "bfloat16")
    raise NotConfigured(f"unknown device {device!r}: use auto, cuda, cuda:N or cpu")


def apply_hardware_extras(module: Any, placement: Placement, *, compile: bool = False) -> None:
    """Per-hardware tuning of a loaded denoiser (a ``torch.nn.Module``), in place.

    On CUDA: TF32 matmuls for any float32 work and, when asked, ``torch.compile`` of the module
    (compiled on its first call, so the first request after a load is slow). On the CPU nothing
    changes: compiling there needs a C++ toolchain and gains little for these models.
    """
    torch = import_torch()
    if not placement.is_cuda:
        if compile:
            log.info("torch.compile is only applied on CUDA; running %s eagerly", placement)
        return
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    if compile:
        module.compile()


def release_memory(placement: Placement) -> None:
    """Return freed memory to the system (and CUDA's caching allocator to the driver)."""
    gc.collect()
    if placement.is_cuda:
        import_torch().cuda.empty_cache()


class LazyModel(Generic[T]):
    """One model's runtime session: loaded on first use, evicted after ``idle_timeout`` seconds.

    ``load`` builds the model; :meth:`use` holds the lock for the whole call, so loading,
    inference and eviction never overlap and one model runs one request at a time. With an
    ``idle_timeout``, a daemon thread evicts the model once it has been unused that long (the
    next :meth:`use` loads it again); ``None`` keeps it until :meth:`evict`.
    """

    def __init__(
        self,
        name: str,
        load: Callable[[], T],
        *,
        idle_timeout: float | None = None,
        on_evict: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if idle_timeout is not None and idle_timeout < 0:
            raise ValueError("idle_timeout must be >= 0 or None")
        self.name = name
        self.idle_timeout = idle_timeout
        self._load = load
        self._on_evict = on_evict
        self._clock = clock
        self._lock = threading.RLock()
        self._model: T | None = None
        self._last_used = clock()
        self._reaper: threading.Thread | None = None
        self.loads = 0

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def idle_for(self) -> float:
        return self._clock() - self._last_used

    @contextmanager
    def use(self) -> Iterator[T]:
        with self._lock:
            model = self._ensure_loaded()
            try:
                yield model
            finally:
                self._last_used = self._clock()

    def preload(self) -> None:
        with self._lock:
            self._ensure_loaded()
            self._last_used = self._clock()

    def evict(self) -> bool:
        """Drop the model now; ``True`` when one was loaded."""
        with self._lock:
            if self._model is None:
                return False
            self._model = None
            log.info("evicted model %s", self.name)
            if self._on_evict is not None:
                self._on_evict()
            return True

    def evict_if_idle(self) -> bool:
        with self._lock:
            if self.idle_timeout is None or self.idle_for < self.idle_timeout:
                return False
            return self.evict()

    def _ensure_loaded(self) -> T:
        if self._model is None:
            started = time.perf_counter()
            self._model = self._load()
            self.loads += 1
            log.info("loaded model %s in %.2fs", self.name, time.perf_counter() - started)
            self._start_reaper()
        return self._model

    def _start_reaper(self) -> None:
        # Called with the lock held; the reaper clears ``_reaper`` under the lock as it exits.
        if self.idle_timeout is None or self._reaper is not None:
            return
        self._reaper = threading.Thread(
            target=_reap, args=(weakref.ref(self),), name=f"evict-{self.name}", daemon=True
        )
        self._reaper.start()


def _reap(ref: weakref.ReferenceType[LazyModel[Any]]) -> None:
    """Evict the referenced model once idle; exits after evicting, or when it is gone."""
    while True:
        model = ref()
        if model is None:
            return
        with model._lock:
            if model.idle_timeout is None or not model.loaded:
                model._reaper = None
                return
            if model.idle_for >= model.idle_timeout:
                model.evict()
                model._reaper = None
                return
            wait = model.idle_timeout - model.idle_for
        del model
        time.sleep(min(wait, 1.0) + 0.01)  # bounded: notice a collected model soon
