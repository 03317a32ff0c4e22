"""CLIP-family image and text towers from ONNX files: image embeddings, search by example image,
text-to-image similarity and zero-shot tags.

Model directory layouts understood (the first match wins):

============================ ======================== =====================================
image tower                  text tower               tokenizer / preprocessing
============================ ======================== =====================================
``visual.onnx``              ``textual.onnx``         ``tokenizer.json``
``visual/model.onnx``        ``textual/model.onnx``   ``textual/tokenizer.json``,
                                                      ``visual/preprocess_cfg.json`` (immich)
``onnx/vision_model.onnx``   ``onnx/text_model.onnx`` ``tokenizer.json``,
                                                      ``preprocessor_config.json`` (Hugging Face)
============================ ======================== =====================================

Image preprocessing is CLIP's: the shorter side resized to 224 (bicubic), a 224 x 224 centre
crop, values in [0, 1] normalised with CLIP's mean and standard deviation, NCHW float32; the
size, mean and std come from the preprocessing file when there is one. Texts are tokenised to
the tower's context (77 tokens), padded to it when the graph has a fixed length.

Each tower must answer projected embeddings: the output whose name mentions ``embed``, else
its first 2-D output. Both are L2-normalised, so image-text similarity is a dot product.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]
from numpy.typing import NDArray
from PIL import Image
from tokenizers import Tokenizer

from atelier.library.embedding import (
    Vectors,
    encode_batches,
    l2_normalise,
    load_tokenizer,
    pad_id,
    read_json,
)
from atelier.library.labels import Label
from atelier.library.onnx_embedder import find_file, onnx_session
from atelier.providers.errors import NotConfigured
from atelier.providers.runtime_torch import LazyModel

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
CONTEXT = 77
#: CLIP's learned temperature saturates at 100: logits = 100 * cosine.
LOGIT_SCALE = 100.0
PROMPT = "a photo of {}"
LAYOUTS = (
    ("visual.onnx", "textual.onnx", ("tokenizer.json",)),
    ("visual/model.onnx", "textual/model.onnx", ("textual/tokenizer.json", "tokenizer.json")),
    ("onnx/vision_model.onnx", "onnx/text_model.onnx", ("tokenizer.json", "onnx/tokenizer.json")),
)


@dataclass(frozen=True)
class Preprocess:
    size: int = 224
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD

    @classmethod
    def read(cls, model_dir: Path) -> Preprocess:
        immich = read_json(model_dir / "visual" / "preprocess_cfg.json")
        hf = read_json(model_dir / "preprocessor_config.json")
        size, mean, std = 224, CLIP_MEAN, CLIP_STD
        if immich:
            raw = immich.get("size", 224)
            size = int(raw[0] if isinstance(raw, list) else raw)
            mean = tuple(immich.get("mean", mean))  # type: ignore[assignment]
            std = tuple(immich.get("std", std))  # type: ignore[assignment]
        elif hf:
            crop = hf.get("crop_size", 224)
            size = int(crop.get("height", 224) if isinstance(crop, dict) else crop)
            mean = tuple(hf.get("image_mean", mean))  # type: ignore[assignment]
            std = tuple(hf.get("image_std", std))  # type: ignore[assignment]
        return cls(size, mean, std)

    def __call__(self, image: Image.Image) -> NDArray[np.float32]:
        """``(3, size, size)``: shorter side to ``size`` (bicubic), centre crop, normalised."""
        image = image.convert("RGB")
        w, h = image.size
        scale = self.size / min(w, h)
        nw, nh = max(self.size, round(w * scale)), max(self.size, round(h * scale))
        image = image.resize((nw, nh), Image.Resampling.BICUBIC)
        left, top = (nw - self.size) // 2, (nh - self.size) // 2
        image = image.crop((left, top, left + self.size, top + self.size))
        arr = np.asarray(image, dtype=np.float32) / np.float32(255.0)
        mean, std = np.asarray(self.mean, np.float32), np.asarray(self.std, np.float32)
        return np.ascontiguousarray(((arr - mean) / std).transpose(2, 0, 1), dtype=np.float32)


@dataclass
class _Tower:
    session: ort.InferenceSession
    inputs: tuple[str, ...]
    output: str
    fixed_length: int | None  # the text tower's static sequence length, if any


@dataclass
class _Loaded:
    image: _Tower
    text: _Tower
    tokenizer: Tokenizer
    pad: int


def _tower(path: Path) -> _Tower:
    session = onnx_session(path)
    outputs = session.get_outputs()
    named = [o for o in outputs if "embed" in o.name.lower() and len(o.shape) == 2]
    flat = named or [o for o in outputs if len(o.shape) == 2]
    if not flat:
        raise NotConfigured(f"clip: {path} has no 2-D embedding output")
    inputs = session.get_inputs()
    length = inputs[0].shape[1] if len(inputs[0].shape) == 2 else None
    return _Tower(
        session,
        tuple(i.name for i in inputs),
        flat[0].name,
        length if isinstance(length, int) else None,
    )


class ClipOnnxEmbedder:
    """Image and text towers of one CLIP-family model (an :class:`ImageEmbedder`)."""

    def __init__(self, model_dir: Path, *, idle_timeout: float | None = None) -> None:
        self.model_dir = model_dir
        for visual, textual, tokenizers in LAYOUTS:
            tokenizer = find_file(model_dir, *tokenizers)
            if (model_dir / visual).is_file() and (model_dir / textual).is_file() and tokenizer:
                self.visual_path, self.textual_path = model_dir / visual, model_dir / textual
                self.tokenizer_path = tokenizer
                break
        else:
            raise NotConfigured(
                f"clip: {model_dir} has none of the known layouts "
                "(visual.onnx + textual.onnx + tokenizer.json, ...)"
            )
        self.preprocess = Preprocess.read(model_dir)
        self.name = f"clip:{model_dir.name}"
        self._model = LazyModel(self.name, self._load, idle_timeout=idle_timeout)
        self._labels_lock = threading.Lock()
        self._label_cache: dict[tuple[Label, ...], Vectors] = {}

    def __repr__(self) -> str:
        return f"ClipOnnxEmbedder({str(self.model_dir)!r})"

    def _load(self) -> _Loaded:
        text = _tower(self.textual_path)
        if text.inputs[0] != "input_ids" and "input_ids" not in text.inputs:
            raise NotConfigured(f"clip: {self.textual_path} takes no input_ids")
        tokenizer = load_tokenizer(self.tokenizer_path, text.fixed_length or CONTEXT)
        return _Loaded(_tower(self.visual_path), text, tokenizer, pad_id(tokenizer))

    def preload(self) -> None:
        self._model.preload()

    @property
    def dim(self) -> int:
        with self._model.use() as loaded:
            shape = loaded.image.session.get_outputs()
            out = next(o for o in shape if o.name == loaded.image.output)
            if isinstance(out.shape[1], int):
                return int(out.shape[1])
        return int(self.embed_texts(["dimension"]).shape[1])

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        pixels = np.stack([self.preprocess(image) for image in images])
        with self._model.use() as loaded:
            tower = loaded.image
            (out,) = tower.session.run([tower.output], {tower.inputs[0]: pixels})
        return l2_normalise(out)

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._model.use() as loaded:
            tower = loaded.text
            parts: list[tuple[NDArray[np.int64], Vectors]] = []
            for batch in encode_batches(
                loaded.tokenizer, texts, pad=loaded.pad, fixed_length=tower.fixed_length
            ):
                feed = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask}
                (out,) = tower.session.run(
                    [tower.output], {name: feed[name] for name in tower.inputs if name in feed}
                )
                parts.append((batch.rows, np.asarray(out, dtype=np.float32)))
        result = np.zeros((len(texts), parts[0][1].shape[1]), dtype=np.float32)
        for rows, values in parts:
            result[rows] = values
        return l2_normalise(result)

    def label_vectors(self, labels: Sequence[Label]) -> Vectors:
        """Text embeddings of ``a photo of <label>`` prompts (cached per label set)."""
        key = tuple(labels)
        with self._labels_lock:
            cached = self._label_cache.get(key)
        if cached is None:
            cached = self.embed_texts([PROMPT.format(label.en) for label in labels])
            with self._labels_lock:
                self._label_cache[key] = cached
        return cached

    def zero_shot(
        self, image: Image.Image, labels: Sequence[Label], *, threshold: float = 0.0, top: int = 5
    ) -> list[tuple[Label, float]]:
        """The labels most probable for ``image`` (softmax over ``labels``), best first."""
        if not labels:
            return []
        vector = self.embed_images([image])[0]
        logits = LOGIT_SCALE * (self.label_vectors(labels) @ vector)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        order = np.argsort(-probs)[:top]
        return [(labels[i], float(probs[i])) for i in order if probs[i] >= threshold]
