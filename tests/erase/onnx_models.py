"""Tiny ONNX models with the signatures of the real ones, built here with ``onnx`` so that the
tests load them through the same loaders as real weights. Their outputs are simple functions
of the input (the red channel, a constant fill), so a test can tell what the loader did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR = 8


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _const(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def _red(name: str, source: str) -> list[onnx.NodeProto]:
    """``name`` = the first channel of ``source`` (N x 1 x H x W)."""
    return [helper.make_node("Slice", [source, "c0", "c1", "axis1"], [name])]


_SLICE_CONSTS = [
    _const("c0", np.array([0], np.int64)),
    _const("c1", np.array([1], np.int64)),
    _const("axis1", np.array([1], np.int64)),
]


def lama(path: Path, *, side: int | None = 64, fill: float = 0.5, scale255: bool = True) -> Path:
    """LaMa's signature: ``image`` 1x3xHxW (0..1) and ``mask`` 1x1xHxW in, the picture out.
    The holes are filled with ``fill`` (grey); the output is 0..255 like the common export
    (or 0..1 with ``scale255=False``). ``side=None`` makes H and W free."""
    dims: list[int | str] = [1, 3, side, side] if side else [1, 3, "H", "W"]
    mdims: list[int | str] = [1, 1, side, side] if side else [1, 1, "H", "W"]
    nodes = [
        helper.make_node("Sub", ["one", "mask"], ["keep"]),
        helper.make_node("Mul", ["image", "keep"], ["kept"]),
        helper.make_node("Mul", ["mask", "fill"], ["filled"]),
        helper.make_node("Add", ["kept", "filled"], ["pic"]),
        helper.make_node("Mul", ["pic", "scale"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-lama",
        [
            helper.make_tensor_value_info("image", TensorProto.FLOAT, dims),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, mdims),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, dims)],
        [
            _const("one", np.array(1.0, np.float32)),
            _const("fill", np.array(fill, np.float32)),
            _const("scale", np.array(255.0 if scale255 else 1.0, np.float32)),
        ],
    )
    return _save(graph, path)


def salient(path: Path, family: str, side: int = 32) -> Path:
    """A salient-object / matting model whose mask is the (normalised) red channel:
    ``u2net``/``isnet`` (seven outputs, the first used), ``birefnet`` (the last output holds
    logits), ``modnet`` (free H and W, a 0..1 matte)."""
    if family == "modnet":
        dims: list[int | str] = [1, 3, "H", "W"]
        out_dims: list[int | str] = [1, 1, "H", "W"]
    else:
        dims, out_dims = [1, 3, side, side], [1, 1, side, side]
    nodes = _red("red", "input")
    inits = list(_SLICE_CONSTS)
    outputs: list[str]
    if family in ("u2net", "isnet"):
        nodes.append(helper.make_node("Sigmoid", ["red"], ["d0"]))
        for i in range(1, 7):
            nodes.append(helper.make_node("Identity", ["d0"], [f"d{i}"]))
        outputs = [f"d{i}" for i in range(7)]
    elif family == "birefnet":
        nodes += [
            helper.make_node("Mul", ["red", "gain"], ["logits"]),
            helper.make_node("Identity", ["red"], ["aux"]),
        ]
        inits.append(_const("gain", np.array(8.0, np.float32)))
        outputs = ["aux", "logits"]
    elif family == "modnet":
        # the input is in -1..1: the matte is (red + 1) / 2
        nodes += [
            helper.make_node("Add", ["red", "one"], ["shifted"]),
            helper.make_node("Mul", ["shifted", "half"], ["matte"]),
        ]
        inits += [
            _const("one", np.array(1.0, np.float32)),
            _const("half", np.array(0.5, np.float32)),
        ]
        outputs = ["matte"]
    else:
        raise ValueError(family)
    graph = helper.make_graph(
        nodes,
        f"tiny-{family}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, out_dims) for o in outputs],
        inits,
    )
    return _save(graph, path)


def sam(encoder: Path, decoder: Path, side: int = 64) -> tuple[Path, Path]:
    """Segment Anything's two models. The encoder (``image`` 1x3xSxS) gives a 1x1x(S/4)x(S/4)
    embedding: the red channel averaged over 4x4 cells; the decoder takes the official
    decoder's six inputs and gives ``masks`` (1x1xHxW logits at ``orig_im_size``: the
    embedding scaled up) and ``iou_predictions``."""
    enc_nodes = [
        *_red("red", "image"),
        helper.make_node(
            "AveragePool", ["red"], ["image_embeddings"], kernel_shape=[4, 4], strides=[4, 4]
        ),
    ]
    _save(
        helper.make_graph(
            enc_nodes,
            "tiny-sam-encoder",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, side, side])],
            [
                helper.make_tensor_value_info(
                    "image_embeddings", TensorProto.FLOAT, [1, 1, side // 4, side // 4]
                )
            ],
            list(_SLICE_CONSTS),
        ),
        encoder,
    )
    emb = side // 4
    dec_nodes = [
        # like the official decoder: up to the padded input frame, crop the picture's part,
        # then to the original size
        helper.make_node("Mul", ["image_embeddings", "gain"], ["scaled"]),
        helper.make_node("Resize", ["scaled", "", "", "frame"], ["up"], mode="linear"),
        helper.make_node("ReduceMax", ["orig_im_size"], ["longest"], keepdims=1),
        helper.make_node("Div", ["side", "longest"], ["ratio"]),
        helper.make_node("Mul", ["orig_im_size", "ratio"], ["resized"]),
        helper.make_node("Round", ["resized"], ["rounded"]),
        helper.make_node("Cast", ["rounded"], ["ends"], to=TensorProto.INT64),
        helper.make_node("Slice", ["up", "starts", "ends", "axes23"], ["cropped"]),
        helper.make_node("Cast", ["orig_im_size"], ["hw"], to=TensorProto.INT64),
        helper.make_node("Concat", ["ones", "hw"], ["sizes"], axis=0),
        helper.make_node("Resize", ["cropped", "", "", "sizes"], ["masks"], mode="linear"),
        helper.make_node("ReduceSum", ["point_labels"], ["labels_sum"], keepdims=0),
        helper.make_node("Mul", ["labels_sum", "zero"], ["nothing"]),
        helper.make_node("Add", ["iou", "nothing"], ["iou_predictions"]),
    ]
    _save(
        helper.make_graph(
            dec_nodes,
            "tiny-sam-decoder",
            [
                helper.make_tensor_value_info(
                    "image_embeddings", TensorProto.FLOAT, [1, 1, emb, emb]
                ),
                helper.make_tensor_value_info("point_coords", TensorProto.FLOAT, [1, "N", 2]),
                helper.make_tensor_value_info("point_labels", TensorProto.FLOAT, [1, "N"]),
                helper.make_tensor_value_info(
                    "mask_input", TensorProto.FLOAT, [1, 1, 4 * emb, 4 * emb]
                ),
                helper.make_tensor_value_info("has_mask_input", TensorProto.FLOAT, [1]),
                helper.make_tensor_value_info("orig_im_size", TensorProto.FLOAT, [2]),
            ],
            [
                helper.make_tensor_value_info("masks", TensorProto.FLOAT, [1, 1, "H", "W"]),
                helper.make_tensor_value_info("iou_predictions", TensorProto.FLOAT, [1, 1]),
            ],
            [
                _const("ones", np.array([1, 1], np.int64)),
                _const("frame", np.array([1, 1, side, side], np.int64)),
                _const("side", np.array([float(side)], np.float32)),
                _const("starts", np.array([0, 0], np.int64)),
                _const("axes23", np.array([2, 3], np.int64)),
                _const("gain", np.array(4.0, np.float32)),
                _const("zero", np.array(0.0, np.float32)),
                _const("iou", np.array([[0.9]], np.float32)),
            ],
        ),
        decoder,
    )
    return encoder, decoder
