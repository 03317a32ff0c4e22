"""Sentence-embedding ONNX models, loaded from a directory as users drop them in the models
directory: a tiny random BERT graph built in the test, pooling checked against the raw
token states ONNX Runtime returns."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from library_models import bert_onnx, minilm_tokenizer, write_tiny_bert

from atelier.config import Settings
from atelier.library.embedding import Embedder
from atelier.library.factory import build_embedder
from atelier.library.onnx_embedder import OnnxSentenceEmbedder
from atelier.providers.errors import NotConfigured

TEXTS = ["a cat", "一只猫坐在红色的沙发上", "a much longer sentence " * 5, "x"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    return write_tiny_bert(tmp_path_factory.mktemp("bert"))


def model_dir(root: Path, weights: dict[str, np.ndarray], **kwargs: object) -> Path:
    bert_onnx(weights, root / "model.onnx", **kwargs)  # type: ignore[arg-type]
    shutil.copy(minilm_tokenizer(), root / "tokenizer.json")
    return root


def token_states(path: Path, texts: list[str]) -> list[tuple[np.ndarray, int]]:
    """Each text alone (no padding): its token states from ONNX Runtime, and its length."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(minilm_tokenizer()))
    tokenizer.no_padding()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = []
    for text in texts:
        ids = np.asarray([tokenizer.encode(text).ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids}
        out.append((session.run(None, feed)[0][0], ids.shape[1]))
    return out


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@pytest.mark.parametrize("pooling", ["mean", "cls", "last"])
def test_pooling_of_padded_batches(
    tmp_path: Path, tiny: dict[str, np.ndarray], pooling: str
) -> None:
    root = model_dir(tmp_path, tiny)
    embedder = OnnxSentenceEmbedder(root, pooling=pooling)  # type: ignore[arg-type]
    got = embedder.embed(TEXTS)
    for row, (states, _) in zip(got, token_states(root / "model.onnx", TEXTS), strict=True):
        expected = {"mean": states.mean(axis=0), "cls": states[0], "last": states[-1]}[pooling]
        assert np.allclose(row, unit(expected), atol=1e-5)
    assert isinstance(embedder, Embedder)
    assert embedder.dim == 32


def test_pooling_comes_from_the_sentence_transformers_config(
    tmp_path: Path, tiny: dict[str, np.ndarray]
) -> None:
    root = model_dir(tmp_path, tiny)
    (root / "1_Pooling").mkdir()
    (root / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    (root / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 8}))
    embedder = OnnxSentenceEmbedder(root)
    assert embedder.pooling == "cls" and embedder.max_tokens == 8
    states, length = token_states(root / "model.onnx", ["one two three four five six seven"])[0]
    assert length > 8  # the text is longer than the limit: it is cut to 8 tokens
    cut = embedder.embed(["one two three four five six seven"])[0]
    assert not np.allclose(cut, unit(states[0]), atol=1e-4)  # attention saw fewer tokens


def test_a_pooled_output_is_used_as_it_is(tmp_path: Path, tiny: dict[str, np.ndarray]) -> None:
    (tmp_path / "onnx").mkdir()
    bert_onnx(tiny, tmp_path / "onnx" / "model.onnx", output="sentence_embedding", pooled=True)
    shutil.copy(minilm_tokenizer(), tmp_path / "tokenizer.json")
    pooled = OnnxSentenceEmbedder(tmp_path, pooling="cls").embed(TEXTS)  # pooling is moot
    # each text alone through the graph (no padding): the graph's own mean pooling
    alone = token_states(tmp_path / "onnx" / "model.onnx", TEXTS)
    assert np.allclose(pooled, [unit(vector) for vector, _ in alone], atol=1e-5)


def test_without_normalisation(tmp_path: Path, tiny: dict[str, np.ndarray]) -> None:
    root = model_dir(tmp_path, tiny)
    raw = OnnxSentenceEmbedder(root, pooling="cls", normalize=False).embed(TEXTS)
    states = token_states(root / "model.onnx", TEXTS)
    assert np.allclose(raw, [s[0] for s, _ in states], atol=1e-4)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)


def test_factory_finds_the_model_under_the_models_dir(
    tmp_path: Path, tiny: dict[str, np.ndarray]
) -> None:
    model_dir(tmp_path / "models" / "bge-tiny", tiny)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        providers={"models_dir": tmp_path / "models"},
        library={"embedder": "onnx", "onnx_model": "bge-tiny", "onnx_pooling": "cls"},
    )
    embedder = build_embedder(settings)
    assert isinstance(embedder, OnnxSentenceEmbedder)
    assert embedder.name == "onnx:bge-tiny" and embedder.pooling == "cls"
    assert embedder.embed(["hello"]).shape == (1, 32)


def test_missing_files_and_foreign_graphs(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured, match=r"model\.onnx"):
        OnnxSentenceEmbedder(tmp_path)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        library={"embedder": "onnx", "onnx_model": "nowhere"},
    )
    with pytest.raises(NotConfigured, match="MODELS_DIR"):
        build_embedder(settings)
    # a graph that does not take input_ids is refused when it loads
    from onnx import TensorProto, helper, save

    graph = helper.make_graph(
        [helper.make_node("Identity", ["pixels"], ["out"])],
        "image",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    save(model, str(tmp_path / "model.onnx"))
    shutil.copy(minilm_tokenizer(), tmp_path / "tokenizer.json")
    with pytest.raises(NotConfigured, match="input_ids"):
        OnnxSentenceEmbedder(tmp_path).embed(["x"])
