"""Tiny random models built in the tests and loaded through the real loaders.

- :func:`write_tiny_bert`: a 2-layer BERT (hidden 32) in safetensors, with the MiniLM
  tokenizer, as :class:`~atelier.library.minilm.MiniLMEmbedder` reads it;
- :func:`bert_onnx`: the same network written as an ONNX graph with the ``onnx`` helper
  (Gather, LayerNormalization, MatMul, Softmax, Erf...), as an exporter would produce it;
- :func:`write_tiny_clip`: CLIP-style towers: the image tower averages the normalised
  pixels and projects them, the text tower sums token embeddings and projects them;

and test data shared by several test modules: clustered unit vectors, a JPEG with EXIF
(camera, date, GPS), colour words whose token embeddings point where their pixels do.
"""

from __future__ import annotations

import io
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from safetensors.numpy import save_file
from tokenizers import Tokenizer

from atelier.library.clip import CLIP_MEAN, CLIP_STD
from atelier.library.minilm import shipped_model_dir

TINY = {"hidden": 32, "heads": 4, "layers": 2, "intermediate": 64, "positions": 128}
VOCAB = 30522
OPSET = [helper.make_opsetid("", 17)]


def minilm_tokenizer() -> Path:
    return shipped_model_dir() / "tokenizer.json"


def write_tiny_bert(directory: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """A random BERT in ``directory`` (model.safetensors, config.json, tokenizer.json)."""
    rng = np.random.default_rng(seed)
    h, inter = TINY["hidden"], TINY["intermediate"]

    def rand(*shape: int, scale: float = 0.2) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": rand(VOCAB, h),
        "embeddings.position_embeddings.weight": rand(TINY["positions"], h),
        "embeddings.token_type_embeddings.weight": rand(2, h),
        "embeddings.LayerNorm.weight": 1 + rand(h, scale=0.05),
        "embeddings.LayerNorm.bias": rand(h, scale=0.05),
    }
    for i in range(TINY["layers"]):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            w[f"{p}attention.self.{name}.weight"] = rand(h, h)
            w[f"{p}attention.self.{name}.bias"] = rand(h, scale=0.05)
        w[f"{p}attention.output.dense.weight"] = rand(h, h)
        w[f"{p}attention.output.dense.bias"] = rand(h, scale=0.05)
        w[f"{p}attention.output.LayerNorm.weight"] = 1 + rand(h, scale=0.05)
        w[f"{p}attention.output.LayerNorm.bias"] = rand(h, scale=0.05)
        w[f"{p}intermediate.dense.weight"] = rand(inter, h)
        w[f"{p}intermediate.dense.bias"] = rand(inter, scale=0.05)
        w[f"{p}output.dense.weight"] = rand(h, inter)
        w[f"{p}output.dense.bias"] = rand(h, scale=0.05)
        w[f"{p}output.LayerNorm.weight"] = 1 + rand(h, scale=0.05)
        w[f"{p}output.LayerNorm.bias"] = rand(h, scale=0.05)
    directory.mkdir(parents=True, exist_ok=True)
    save_file({"bert." + k: v for k, v in w.items()}, str(directory / "model.safetensors"))
    config = {
        "model_type": "bert",
        "hidden_size": h,
        "num_attention_heads": TINY["heads"],
        "num_hidden_layers": TINY["layers"],
        "intermediate_size": inter,
        "max_position_embeddings": TINY["positions"],
        "layer_norm_eps": 1e-12,
        "hidden_act": "gelu",
        "vocab_size": VOCAB,
    }
    (directory / "config.json").write_text(json.dumps(config))
    shutil.copy(minilm_tokenizer(), directory / "tokenizer.json")
    return w


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def const(self, value: Any, dtype: Any = np.float32) -> str:
        self._n += 1
        name = f"c{self._n}"
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, kind: str, *inputs: str, **attrs: Any) -> str:
        self._n += 1
        out = f"t{self._n}"
        self.nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out


def bert_onnx(
    w: dict[str, np.ndarray], path: Path, *, output: str = "last_hidden_state", pooled: bool = False
) -> None:
    """The BERT of ``w`` as an ONNX graph: inputs input_ids, attention_mask, token_type_ids;
    output ``(batch, tokens, hidden)`` token states, or mean-pooled ``(batch, hidden)``."""
    g = _Graph()
    h, heads = TINY["hidden"], TINY["heads"]
    size = h // heads
    eps = 1e-12

    def ln(x: str, prefix: str) -> str:
        return g.op(
            "LayerNormalization",
            x,
            g.const(w[prefix + ".weight"]),
            g.const(w[prefix + ".bias"]),
            axis=-1,
            epsilon=eps,
        )

    def dense(x: str, prefix: str) -> str:
        return g.op(
            "Add", g.op("MatMul", x, g.const(w[prefix + ".weight"].T)), g.const(w[prefix + ".bias"])
        )

    length = g.op("Gather", g.op("Shape", "input_ids"), g.const(1, np.int64), axis=0)
    positions = g.op("Range", g.const(0, np.int64), length, g.const(1, np.int64))
    x = g.op("Gather", g.const(w["embeddings.word_embeddings.weight"]), "input_ids")
    x = g.op(
        "Add", x, g.op("Gather", g.const(w["embeddings.position_embeddings.weight"]), positions)
    )
    x = g.op(
        "Add",
        x,
        g.op("Gather", g.const(w["embeddings.token_type_embeddings.weight"]), "token_type_ids"),
    )
    x = ln(x, "embeddings.LayerNorm")
    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    bias = g.op("Mul", g.op("Sub", g.const(1.0), mask), g.const(-1e9))
    bias = g.op("Unsqueeze", bias, g.const([1, 2], np.int64))
    split = g.const([0, 0, heads, size], np.int64)
    merge = g.const([0, 0, h], np.int64)
    for i in range(TINY["layers"]):
        p = f"encoder.layer.{i}."
        q = g.op(
            "Transpose",
            g.op("Reshape", dense(x, p + "attention.self.query"), split),
            perm=[0, 2, 1, 3],
        )
        k = g.op(
            "Transpose",
            g.op("Reshape", dense(x, p + "attention.self.key"), split),
            perm=[0, 2, 3, 1],
        )
        v = g.op(
            "Transpose",
            g.op("Reshape", dense(x, p + "attention.self.value"), split),
            perm=[0, 2, 1, 3],
        )
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), g.const(1 / math.sqrt(size))), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge)
        x = ln(
            g.op("Add", x, dense(context, p + "attention.output.dense")),
            p + "attention.output.LayerNorm",
        )
        up = dense(x, p + "intermediate.dense")
        gelu = g.op(
            "Mul",
            g.op("Mul", up, g.const(0.5)),
            g.op("Add", g.const(1.0), g.op("Erf", g.op("Mul", up, g.const(1 / math.sqrt(2))))),
        )
        x = ln(g.op("Add", x, dense(gelu, p + "output.dense")), p + "output.LayerNorm")
    shape: list[Any] = ["batch", "tokens", h]
    if pooled:  # mean over the tokens the mask keeps
        m = g.op("Unsqueeze", mask, g.const([2], np.int64))
        total = g.op("ReduceSum", g.op("Mul", x, m), g.const([1], np.int64), keepdims=0)
        count = g.op("ReduceSum", m, g.const([1], np.int64), keepdims=0)
        x = g.op("Div", total, count)
        shape = ["batch", h]
    g.nodes.append(helper.make_node("Identity", [x], [output]))
    ints = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"])
        for n in ("input_ids", "attention_mask", "token_type_ids")
    ]
    graph = helper.make_graph(
        g.nodes,
        "tiny-bert",
        ints,
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, shape)],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=OPSET)
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def write_tiny_clip(
    directory: Path,
    *,
    layout: str = "flat",
    dim: int = 3,
    token_rows: dict[int, np.ndarray] | None = None,
    fixed_length: int | None = None,
    projection: np.ndarray | None = None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """CLIP-style towers in one of the layouts the loader reads (``flat``, ``immich``, ``hf``).

    Image tower: mean of the normalised pixels per channel, times ``projection`` (3 x dim).
    Text tower: the sum of the token embeddings (``token_rows`` set chosen rows, the others
    are zero), times the identity (dim x dim)."""
    rng = np.random.default_rng(seed)
    projection = (
        rng.standard_normal((3, dim)).astype(np.float32) if projection is None else projection
    )
    table = np.zeros((VOCAB, dim), dtype=np.float32)
    for row, value in (token_rows or {}).items():
        table[row] = value
    visual, textual, tokenizer, extra = {
        "flat": ("visual.onnx", "textual.onnx", "tokenizer.json", None),
        "immich": ("visual/model.onnx", "textual/model.onnx", "textual/tokenizer.json", "immich"),
        "hf": ("onnx/vision_model.onnx", "onnx/text_model.onnx", "tokenizer.json", "hf"),
    }[layout]
    g = _Graph()
    pooled = g.op("ReduceMean", "pixel_values", axes=[2, 3], keepdims=0)
    g.nodes.append(helper.make_node("MatMul", [pooled, g.const(projection)], ["image_embeds"]))
    image_graph = helper.make_graph(
        g.nodes,
        "tiny-clip-visual",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch", dim])],
        g.inits,
    )
    t = _Graph()
    summed = t.op(
        "ReduceSum", t.op("Gather", t.const(table), "input_ids"), t.const([1], np.int64), keepdims=0
    )
    t.nodes.append(helper.make_node("MatMul", [summed, t.const(np.eye(dim))], ["text_embeds"]))
    length: Any = fixed_length or "tokens"
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", length])]
    if fixed_length is None:  # a graph that declares the mask too (and ignores it)
        inputs.append(
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", length])
        )
    text_graph = helper.make_graph(
        t.nodes,
        "tiny-clip-textual",
        inputs,
        [
            helper.make_tensor_value_info(
                "last_hidden_state", TensorProto.FLOAT, ["batch", length, dim]
            ),
            helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch", dim]),
        ],
        t.inits,
    )
    # the extra first output checks that the loader picks the embedding output by name
    text_graph.node.insert(
        0, helper.make_node("Gather", [t.inits[0].name, "input_ids"], ["last_hidden_state"])
    )
    for graph, name in ((image_graph, visual), (text_graph, textual)):
        model = helper.make_model(graph, opset_imports=OPSET)
        model.ir_version = 8
        onnx.checker.check_model(model)
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(directory / name))
    (directory / tokenizer).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(minilm_tokenizer(), directory / tokenizer)
    if extra == "immich":
        cfg = {"size": [224, 224], "mean": [0.48145466, 0.4578275, 0.40821073],
               "std": [0.26862954, 0.26130258, 0.27577711]}  # fmt: skip
        (directory / "visual" / "preprocess_cfg.json").write_text(json.dumps(cfg))
    if extra == "hf":
        cfg = {"crop_size": {"height": 224, "width": 224},
               "image_mean": [0.48145466, 0.4578275, 0.40821073],
               "image_std": [0.26862954, 0.26130258, 0.27577711]}  # fmt: skip
        (directory / "preprocessor_config.json").write_text(json.dumps(cfg))
    return {"projection": projection, "table": table}


# -- test data ---------------------------------------------------------------------------------
def clustered(n: int, dim: int, seed: int = 0, clusters: int = 20) -> np.ndarray:
    """Unit vectors around random centres, as embeddings of a real library are."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    points = centres[rng.integers(clusters, size=n)] + 0.6 * rng.standard_normal((n, dim))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def ids(n: int, prefix: str = "img") -> list[str]:
    return [f"{prefix}-{i:05d}" for i in range(n)]


def jpeg_with_exif(size: tuple[int, int] = (400, 300), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R5"
    exif[0x0131] = "Firmware 1.8"
    if orientation is not None:
        exif[0x0112] = orientation
    details = exif.get_ifd(0x8769)
    details[0x9003] = "2025:07:14 18:30:05"
    details[0xA434] = "RF24-105mm F4 L IS USM"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (31.0, 13.0, 48.0)  # 31°13'48" N
    gps[3] = "E"
    gps[4] = (121.0, 28.0, 12.0)  # 121°28'12" E (Shanghai)
    gps[5] = b"\x00"
    gps[6] = 12.5
    buf = io.BytesIO()
    image.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


RGB = {"red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0)}


def clip_colour(rgb: tuple[float, float, float]) -> np.ndarray:
    """A pure colour as CLIP's normalisation sees it."""
    return (np.asarray(rgb) - np.asarray(CLIP_MEAN)) / np.asarray(CLIP_STD)


def colour_rows() -> dict[int, np.ndarray]:
    """Token embeddings: the words red/green/blue point where their colour's pixels point."""
    tokenizer = Tokenizer.from_file(str(minilm_tokenizer()))
    return {tokenizer.token_to_id(name): clip_colour(rgb) for name, rgb in RGB.items()}
