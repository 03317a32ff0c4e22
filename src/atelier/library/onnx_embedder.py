"""``onnx``: any sentence-embedding ONNX model from the models directory.

A model directory holds ``model.onnx`` (or ``onnx/model.onnx``, as Hugging Face exports lay it
out) and ``tokenizer.json``; optional ``1_Pooling/config.json`` (sentence-transformers) says the
pooling and ``sentence_bert_config.json`` the token limit. For example ``bge-small-zh-v1.5``
(CLS pooling, 512 tokens, 512 dimensions), ``all-MiniLM-L6-v2`` (mean pooling) or a
decoder-style embedder (last-token pooling).

The session is fed the inputs the graph declares among ``input_ids``, ``attention_mask``,
``token_type_ids`` and ``position_ids``. A 3-D first output (token states) is pooled; a 2-D
one (``sentence_embedding``, already pooled) is used as it is. Rows are L2-normalised unless
configured otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]
from tokenizers import Tokenizer

from atelier.library.embedding import (
    BATCH,
    Pooling,
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

TEXT_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids")
DEFAULT_MAX_TOKENS = 512


def onnx_session(path: Path, threads: int = 0) -> ort.InferenceSession:
    """A CPU inference session for ``path`` (``threads`` 0: ONNX Runtime's choice)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        raise NotConfigured(f"cannot load the ONNX model {path}: {exc}") from exc


def find_file(model_dir: Path, *candidates: str) -> Path | None:
    for name in candidates:
        if (model_dir / name).is_file():
            return model_dir / name
    return None


def configured_pooling(model_dir: Path) -> Pooling:
    """The pooling sentence-transformers' ``1_Pooling/config.json`` names; ``mean`` without."""
    cfg = read_json(model_dir / "1_Pooling" / "config.json")
    if cfg.get("pooling_mode_cls_token"):
        return "cls"
    if cfg.get("pooling_mode_lasttoken"):
        return "last"
    return "mean"


@dataclass
class _Loaded:
    session: ort.InferenceSession
    tokenizer: Tokenizer
    pad: int
    inputs: tuple[str, ...]
    output: str
    dim: int


class OnnxSentenceEmbedder:
    def __init__(
        self,
        model_dir: Path,
        *,
        pooling: Pooling | None = None,
        normalize: bool = True,
        max_tokens: int = 0,
        batch_size: int = BATCH,
        idle_timeout: float | None = None,
    ) -> None:
        self.model_dir = model_dir
        model = find_file(model_dir, "model.onnx", "onnx/model.onnx")
        tokenizer = find_file(model_dir, "tokenizer.json", "onnx/tokenizer.json")
        if model is None or tokenizer is None:
            raise NotConfigured(
                f"onnx embedder: {model_dir} needs model.onnx (or onnx/model.onnx) "
                "and tokenizer.json"
            )
        self.model_path, self.tokenizer_path = model, tokenizer
        self.pooling: Pooling = pooling or configured_pooling(model_dir)
        self.normalize = normalize
        st = read_json(model_dir / "sentence_bert_config.json")
        self.max_tokens = max_tokens or int(st.get("max_seq_length", DEFAULT_MAX_TOKENS))
        self.batch_size = batch_size
        self.name = f"onnx:{model_dir.name}"
        self._model = LazyModel(self.name, self._load, idle_timeout=idle_timeout)

    def __repr__(self) -> str:
        return f"OnnxSentenceEmbedder({str(self.model_dir)!r}, pooling={self.pooling!r})"

    def _load(self) -> _Loaded:
        session = onnx_session(self.model_path)
        declared = [i.name for i in session.get_inputs()]
        unknown = [name for name in declared if name not in TEXT_INPUTS]
        if unknown or "input_ids" not in declared:
            raise NotConfigured(
                f"onnx embedder: {self.model_path} takes inputs {declared}; expected "
                f"input_ids and some of {list(TEXT_INPUTS[1:])}"
            )
        output = session.get_outputs()[0]
        dim = output.shape[-1]
        tokenizer = load_tokenizer(self.tokenizer_path, self.max_tokens)
        loaded = _Loaded(session, tokenizer, pad_id(tokenizer), tuple(declared), output.name, 0)
        loaded.dim = dim if isinstance(dim, int) else self._probe(loaded)
        return loaded

    def _probe(self, loaded: _Loaded) -> int:
        """The output size when the graph leaves it symbolic: run one short text."""
        return int(self._run(loaded, ["dimension"]).shape[1])

    def preload(self) -> None:
        self._model.preload()

    @property
    def dim(self) -> int:
        with self._model.use() as loaded:
            return loaded.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._model.use() as loaded:
            out = self._run(loaded, texts)
        return l2_normalise(out) if self.normalize else out

    def _run(self, loaded: _Loaded, texts: Sequence[str]) -> Vectors:
        rows: list[tuple[Any, Vectors]] = []
        for batch in encode_batches(
            loaded.tokenizer, texts, batch_size=self.batch_size, pad=loaded.pad
        ):
            feed = {
                "input_ids": batch.input_ids,
                "attention_mask": batch.attention_mask,
                "token_type_ids": batch.token_type_ids,
                "position_ids": np.broadcast_to(
                    np.arange(batch.input_ids.shape[1], dtype=np.int64), batch.input_ids.shape
                ).copy(),
            }
            (result,) = loaded.session.run(
                [loaded.output], {name: feed[name] for name in loaded.inputs}
            )
            result = np.asarray(result, dtype=np.float32)
            if result.ndim == 3:
                result = pool(result, batch.attention_mask, self.pooling)
            elif result.ndim != 2:
                raise NotConfigured(
                    f"onnx embedder: output {loaded.output!r} has shape {result.shape}"
                )
            rows.append((batch.rows, result))
        dim = rows[0][1].shape[1]
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for index, values in rows:
            out[index] = values
        return out
