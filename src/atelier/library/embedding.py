"""The embedding interfaces and what every local text encoder shares.

An :class:`Embedder` turns texts into float32 rows of unit length (cosine similarity is then a
dot product); an :class:`ImageEmbedder` (a CLIP-family model) puts images and texts into one
space of its own. Both say their ``name`` (stored beside each vector, so vectors of different
models never mix) and ``dim``.

Shared helpers: :func:`l2_normalise`, :func:`pool` (mean, CLS or last-token pooling of token
states under an attention mask), :func:`load_tokenizer` (a Hugging Face ``tokenizer.json`` with
our truncation, no fixed padding) and :func:`encode_batches` (tokenise once, sort by length and
pad each batch only to its own longest text), and :func:`resolve_model_dir`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, cast, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from tokenizers import Tokenizer

from atelier.providers.errors import NotConfigured

Pooling = Literal["mean", "cls", "last"]
Vectors = NDArray[np.float32]

#: Texts per forward pass of a local encoder, and tokens (padding included).
BATCH = 32
TOKEN_BUDGET = 4096


@runtime_checkable
class Embedder(Protocol):
    """Texts -> ``(len(texts), dim)`` float32, each row L2-normalised."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...


@runtime_checkable
class ImageEmbedder(Protocol):
    """A joint image-text space (CLIP family): both towers answer unit-length rows."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors: ...

    def embed_texts(self, texts: Sequence[str]) -> Vectors: ...


def l2_normalise(x: NDArray[Any]) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return cast(Vectors, (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False))


def pool(hidden: NDArray[Any], mask: NDArray[Any], mode: Pooling) -> Vectors:
    """Sentence vectors from token states ``(batch, tokens, dim)`` and the attention mask.

    ``mean`` averages the tokens the mask keeps; ``cls`` takes the first token; ``last`` takes
    the last token the mask keeps (right padding), as decoder-style embedders want."""
    hidden = np.asarray(hidden, dtype=np.float32)
    if mode == "cls":
        return hidden[:, 0, :].copy()
    weights = np.asarray(mask, dtype=np.float32)
    if mode == "last":
        last = np.maximum(weights.sum(axis=1).astype(np.int64) - 1, 0)
        return hidden[np.arange(hidden.shape[0]), last, :].copy()
    if mode == "mean":
        total = np.einsum("btd,bt->bd", hidden, weights)
        pooled = total / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
        return cast(Vectors, pooled.astype(np.float32))
    raise ValueError(f"unknown pooling {mode!r}")


def load_tokenizer(path: Path, max_length: int) -> Tokenizer:
    """A ``tokenizer.json`` that truncates to ``max_length`` tokens and does not pad (the
    batches are padded by :func:`encode_batches`)."""
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:
        raise NotConfigured(f"cannot read the tokenizer {path}: {exc}") from exc
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def pad_id(tokenizer: Tokenizer) -> int:
    """The id padding uses: the tokenizer's own padding id, else ``[PAD]``/``<pad>``, else 0."""
    padding = json.loads(tokenizer.to_str()).get("padding") or {}
    if isinstance(padding.get("pad_id"), int):
        return int(padding["pad_id"])
    for token in ("[PAD]", "<pad>", "<|endoftext|>"):
        found = tokenizer.token_to_id(token)
        if found is not None:
            return int(found)
    return 0


@dataclass(frozen=True)
class Batch:
    """One padded batch: ``rows`` are the positions of its texts in the caller's list."""

    rows: NDArray[np.int64]
    input_ids: NDArray[np.int64]
    attention_mask: NDArray[np.int64]
    token_type_ids: NDArray[np.int64]


def encode_batches(
    tokenizer: Tokenizer,
    texts: Sequence[str],
    *,
    batch_size: int = BATCH,
    pad: int = 0,
    fixed_length: int | None = None,
    budget: int = TOKEN_BUDGET,
) -> Iterator[Batch]:
    """Tokenise ``texts`` once, then yield batches of similar lengths, each padded (right) to
    its longest text, or to ``fixed_length`` when the model wants one shape. A batch holds at
    most ``batch_size`` texts and ``budget`` tokens with its padding (one long text does not
    make many short ones pay for its length)."""
    encodings = tokenizer.encode_batch(list(texts))
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
    groups: list[list[int]] = []
    for i in order:  # ascending lengths: the text being added is the batch's longest
        length = fixed_length or len(encodings[i].ids)
        if groups and len(groups[-1]) < batch_size and (len(groups[-1]) + 1) * length <= budget:
            groups[-1].append(i)
        else:
            groups.append([i])
    for rows in groups:
        width = fixed_length or max(1, max(len(encodings[i].ids) for i in rows))
        ids = np.full((len(rows), width), pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        types = np.zeros((len(rows), width), dtype=np.int64)
        for r, i in enumerate(rows):
            enc = encodings[i]
            n = min(len(enc.ids), width)
            ids[r, :n] = enc.ids[:n]
            mask[r, :n] = 1
            types[r, :n] = enc.type_ids[:n]
        yield Batch(np.asarray(rows, dtype=np.int64), ids, mask, types)


def resolve_model_dir(name: str | Path, models_dir: Path | None, what: str) -> Path:
    """``name`` as an absolute path, or as a directory under ``models_dir``."""
    path = Path(name).expanduser()
    if not path.is_absolute():
        if models_dir is None:
            raise NotConfigured(
                f"{what}: {str(name)!r} is relative but PROVIDERS__MODELS_DIR is not set"
            )
        path = models_dir.expanduser() / path
    if not path.is_dir():
        raise NotConfigured(f"{what}: no model directory at {path}")
    return path


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or ``{}`` when the file is missing."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return data if isinstance(data, dict) else {}
