#!/usr/bin/env python3
"""Exports a subset of the ONNX backend node tests into tests/data/onnx-node/ for the Rust
conformance suite (tests/conformance.rs), so the tests need neither Python nor a network.

Each case becomes tests/data/onnx-node/<test name>/{model.onnx, data.json}. The model keeps
its first graph input as the model input; every other input is baked in as an initializer
holding the test's value (weights, biases, bounds, shapes), which is what zkinfer proves: a
model with committed constants applied to one input. data.json holds the input and the
expected output (flat, row-major) with their shapes.

Needs an onnx wheel that ships the node test data (1.19.x does):
    python3 -m venv /tmp/onnx-venv && /tmp/onnx-venv/bin/pip install onnx==1.19.1 numpy
    /tmp/onnx-venv/bin/python scripts/export_onnx_node_tests.py
"""
import json
import os
import re
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper

OPS = [
    "gemm", "matmul", "add", "sub", "relu", "conv", "maxpool", "averagepool", "globalaveragepool",
    "batchnorm", "flatten", "reshape", "identity", "sigmoid", "tanh", "exp", "erf", "gelu",
    "leakyrelu", "clip", "mul", "transpose", "concat", "slice", "constant_pad", "edge_pad",
    "reflect_pad", "wrap_pad", "squeeze", "unsqueeze", "reduce_sum", "reduce_mean", "reduce_max",
    "softmax", "logsoftmax", "layer_normalization",
    # Unary functions (tables), Pow by a constant, PRelu, Min/Max with a constant.
    "sqrt", "abs", "neg", "sign", "floor", "ceil", "round", "sin", "cos", "softplus", "softsign",
    "mish", "hardswish", "hardsigmoid", "reciprocal", "log", "elu", "celu", "selu",
    "thresholdedrelu", "pow", "prelu", "min", "max", "div",
    # Layout and selection by constants.
    "gather", "expand", "tile", "split", "where",
    # Shape arithmetic, casts and comparisons (folded when their inputs are constants).
    "shape", "size", "cast", "castlike", "constantofshape", "range", "trilu", "nonzero", "equal",
    "less", "greater", "less_equal", "greater_equal", "not", "and", "or", "xor",
    # Reductions composed with tables, normalisation and rearrangements.
    "reduce_min", "reduce_l1", "reduce_l2", "reduce_sum_square", "reduce_log_sum",
    "reduce_log_sum_exp", "instancenorm", "depthtospace", "spacetodepth", "argmax", "argmin",
    # Resampling and the remaining pools.
    "resize", "upsample", "globalmaxpool", "convtranspose",
]
PATTERN = re.compile(r"^test_(%s)(_.*)?$" % "|".join(OPS))
SKIP = re.compile(r"(_cuda|training_mode|_bfloat16|_float16|_ver18|_opset|_square)")
MAX_VALUES = 4096
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "onnx-node")


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def export(src, name):
    model = onnx.load(os.path.join(src, "model.onnx"))
    data_dir = os.path.join(src, "test_data_set_0")
    outputs = sorted(f for f in os.listdir(data_dir) if f.startswith("output_"))
    try:
        inputs = [load_pb(os.path.join(data_dir, f"input_{i}.pb")) for i in range(len(model.graph.input))]
        expected = load_pb(os.path.join(data_dir, "output_0.pb")) if outputs else None
    except ValueError:
        return False  # sequence or optional values: not tensors
    numeric = lambda a: a is not None and a.dtype.kind in "biuf"
    if not all(numeric(a) for a in inputs) or not numeric(expected):
        return False  # strings: not numbers
    if not all(np.isfinite(np.asarray(a, dtype=np.float64)).all() for a in inputs + [expected]):
        return False  # NaN or infinity: no fixed-point value
    if expected is None or not inputs or inputs[0].size > MAX_VALUES or expected.size > MAX_VALUES:
        return False
    if inputs[0].size == 0 or expected.size == 0:
        return False  # empty tensors: nothing to prove
    graph = model.graph
    for value, arr in zip(list(graph.input)[1:], inputs[1:]):
        graph.initializer.append(numpy_helper.from_array(arr, value.name))
    keep = graph.input[0]
    del graph.input[:]
    graph.input.append(keep)
    # Only the first output is compared (e.g. LayerNormalization's Y, not Mean/InvStdDev).
    first = graph.output[0]
    del graph.output[:]
    graph.output.append(first)
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    onnx.save(model, os.path.join(out, "model.onnx"))
    x = inputs[0]
    data = {
        "input_shape": list(x.shape),
        "input": [float(v) for v in np.asarray(x, dtype=np.float64).reshape(-1)],
        "output_shape": list(expected.shape),
        "output": [float(v) for v in np.asarray(expected, dtype=np.float64).reshape(-1)],
    }
    with open(os.path.join(out, "data.json"), "w") as f:
        json.dump(data, f)
    return True


def main():
    node_dir = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")
    if not os.path.isdir(node_dir):
        sys.exit(f"{node_dir} is missing: use an onnx wheel that ships node test data (1.19.x)")
    shutil.rmtree(ROOT, ignore_errors=True)
    names = sorted(n for n in os.listdir(node_dir) if PATTERN.match(n) and not SKIP.search(n))
    done = [n for n in names if export(os.path.join(node_dir, n), n)]
    print(f"exported {len(done)} node tests to {ROOT}")


if __name__ == "__main__":
    main()
