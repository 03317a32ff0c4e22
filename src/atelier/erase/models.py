"""ONNX models from the models directory: located, loaded lazily, evicted when idle.

A model's *role* (what a segmenter or an inpainter computes) lives in its own module; this one
owns the *runtime session*: finding the file (:func:`locate`), the ONNX Runtime session with
its execution providers and thread count, the input and output signature, and the
:class:`~atelier.providers.runtime_torch.LazyModel` that loads it on first use and drops it
after ``erase.model_idle_seconds``. Nothing is ever downloaded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from atelier.providers.errors import NotConfigured
from atelier.providers.runtime_torch import LazyModel

log = logging.getLogger(__name__)


def locate(name: str, models_dir: Path | None, *, what: str) -> Path:
    """The model file ``name``: an absolute path, or a path under ``models_dir``. A missing
    file is :class:`NotConfigured`, naming where it was looked for."""
    if not name:
        raise NotConfigured(f"no {what} model is configured")
    path = Path(name).expanduser()
    if not path.is_absolute():
        if models_dir is None:
            raise NotConfigured(
                f"{what} model {name!r}: providers.models_dir is not set, so there is nowhere "
                "to look for it"
            )
        path = models_dir.expanduser() / path
    if not path.is_file():
        raise NotConfigured(
            f"{what} model not found at {path}; nothing is downloaded: put the file there"
        )
    return path


@dataclass(frozen=True)
class Port:
    """One input or output of a model: its name and shape (``None`` for a free dimension)."""

    name: str
    shape: tuple[int | None, ...]

    @property
    def fixed_hw(self) -> tuple[int, int] | None:
        """The height and width when the last two dimensions are fixed."""
        if len(self.shape) >= 2:
            h, w = self.shape[-2], self.shape[-1]
            if isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0:
                return h, w
        return None


def _shape(raw: Any) -> tuple[int | None, ...]:
    return tuple(d if isinstance(d, int) and d > 0 else None for d in (raw or ()))


class OnnxModel:
    """An ONNX Runtime session over one model file. ``run`` takes and returns numpy arrays;
    one call runs at a time (the session already uses every core it is given)."""

    def __init__(self, path: Path, *, threads: int = 0, use_gpu: bool = False) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]

        options = ort.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        available = ort.get_available_providers()
        providers = ["CPUExecutionProvider"]
        if use_gpu and "CUDAExecutionProvider" in available:
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as exc:  # a corrupt or unsupported file
            raise NotConfigured(f"ONNX model {path} could not be loaded: {exc}") from exc
        self.path = path
        self.inputs = tuple(Port(i.name, _shape(i.shape)) for i in self.session.get_inputs())
        self.outputs = tuple(Port(o.name, _shape(o.shape)) for o in self.session.get_outputs())
        self._lock = threading.Lock()

    def run(self, feeds: dict[str, npt.NDArray[Any]]) -> list[npt.NDArray[np.float32]]:
        with self._lock:
            results = self.session.run(None, feeds)
        return [np.asarray(r, dtype=np.float32) for r in results]


_cache: dict[tuple[str, int, bool], LazyModel[OnnxModel]] = {}
_cache_lock = threading.Lock()


def lazy(
    path: Path, *, threads: int = 0, use_gpu: bool = False, idle_seconds: float | None = None
) -> LazyModel[OnnxModel]:
    """The process's lazily loaded session for ``path`` (one per file and options)."""
    key = (str(path.resolve()), threads, use_gpu)
    with _cache_lock:
        model = _cache.get(key)
        if model is None:
            loader: Callable[[], OnnxModel] = lambda: OnnxModel(  # noqa: E731
                path, threads=threads, use_gpu=use_gpu
            )
            model = LazyModel(path.name, loader, idle_timeout=idle_seconds)
            _cache[key] = model
        return model


def evict_all() -> None:
    """Drop every loaded ONNX model (tests, and workers shutting down)."""
    with _cache_lock:
        models = list(_cache.values())
        _cache.clear()
    for model in models:
        model.evict()
