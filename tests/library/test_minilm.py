"""all-MiniLM-L6-v2 in numpy against transformers' BertModel on the same weights, and the
encoder against an ONNX graph of a tiny random BERT."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from library_models import bert_onnx, write_tiny_bert

from atelier.library.embedding import Embedder
from atelier.library.minilm import MiniLMEmbedder, erf, shipped_model_dir
from atelier.library.onnx_embedder import OnnxSentenceEmbedder
from atelier.providers.errors import NotConfigured

SENTENCES = [
    "A cat is sleeping on a red sofa.",
    "The stock market fell sharply on Monday after the announcement.",
    "hi",
    "一只猫在红色的沙发上睡觉。",
    "北京的冬天很冷\uff0c经常下雪。",  # a full-width comma
    "Mixed 中文 and English text, with numbers 12345 and symbols #@!",
    "word " * 300,  # longer than the 256-token limit: truncated like sentence-transformers
]


def reference(texts: list[str]) -> np.ndarray:
    """sentence-transformers' recipe with transformers: BertModel, mean pooling, L2 norm."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torch
        from transformers import AutoTokenizer, BertModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        model_dir = str(shipped_model_dir())
        model = BertModel.from_pretrained(model_dir).eval()
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        batch = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
        with torch.no_grad():
            states = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (states * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def test_matches_transformers(minilm: MiniLMEmbedder) -> None:
    ours = minilm.embed(SENTENCES)
    theirs = reference(SENTENCES)
    assert ours.shape == (len(SENTENCES), 384) and ours.dtype == np.float32
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() >= 0.999, cosine


def test_rows_are_unit_length_and_order_independent(minilm: MiniLMEmbedder) -> None:
    vectors = minilm.embed(SENTENCES)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # batches are sorted by length inside; the answer follows the caller's order
    reversed_ = minilm.embed(SENTENCES[::-1])[::-1]
    assert np.allclose(vectors, reversed_, atol=1e-5)
    single = minilm.embed([SENTENCES[1]])[0]
    assert np.allclose(vectors[1], single, atol=1e-5)
    assert minilm.embed([]).shape == (0, 384)


@pytest.mark.parametrize(
    ("anchor", "paraphrase", "unrelated"),
    [
        (
            "A dog is running on the beach.",
            "A puppy runs along the seashore.",
            "The quarterly financial report is due tomorrow.",
        ),
        (
            "How do I reset my password?",
            "I forgot my password and need to change it.",
            "The mountains are covered in snow this winter.",
        ),
        (
            "A bowl of hot noodle soup.",
            "Ramen served in a steaming bowl.",
            "A red sports car parked downtown.",
        ),
    ],
)
def test_paraphrase_is_closer_than_unrelated(
    minilm: MiniLMEmbedder, anchor: str, paraphrase: str, unrelated: str
) -> None:
    a, p, u = minilm.embed([anchor, paraphrase, unrelated])
    assert a @ p > a @ u + 0.2


def test_is_an_embedder(minilm: MiniLMEmbedder) -> None:
    assert isinstance(minilm, Embedder)
    assert minilm.dim == 384
    assert minilm.name == "minilm:all-MiniLM-L6-v2"
    assert minilm.max_tokens == 256


def test_erf_is_accurate() -> None:
    import math

    x = np.linspace(-6, 6, 2001, dtype=np.float32)
    exact = np.array([math.erf(float(v)) for v in x])
    assert np.abs(erf(x) - exact).max() < 5e-7  # the formula: 1.5e-7, plus float32


def test_tiny_bert_agrees_with_an_onnx_graph_of_it(tmp_path: Path) -> None:
    """Two independent implementations of BERT (this numpy encoder, ONNX Runtime running a
    graph built op by op) on the same random weights give the same sentence vectors."""
    weights = write_tiny_bert(tmp_path / "tiny")  # saved with a "bert." prefix, as many are
    bert_onnx(weights, tmp_path / "onnx" / "model.onnx")
    shutil.copy(tmp_path / "tiny" / "tokenizer.json", tmp_path / "onnx" / "tokenizer.json")
    texts = ["hello world", "一只猫坐在沙发上", "a longer sentence with " + "many words " * 10]
    numpy_bert = MiniLMEmbedder(tmp_path / "tiny")
    assert numpy_bert.dim == 32 and numpy_bert.name == "minilm:tiny"
    ours = numpy_bert.embed(texts)
    theirs = OnnxSentenceEmbedder(tmp_path / "onnx", pooling="mean").embed(texts)
    assert np.allclose(ours, theirs, atol=1e-5)


def test_missing_or_foreign_models_are_not_configured(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured, match=r"config\.json"):
        MiniLMEmbedder(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "gpt2"}')
    with pytest.raises(NotConfigured, match="not a BERT"):
        MiniLMEmbedder(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    embedder = MiniLMEmbedder(tmp_path)
    with pytest.raises(NotConfigured, match=r"model\.safetensors"):
        embedder.embed(["x"])
