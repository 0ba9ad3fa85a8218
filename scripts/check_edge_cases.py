#!/usr/bin/env python3
"""Recomputes the expected outputs of tests/data/onnx-edge/ with onnxruntime and reports any
case whose data.json disagrees (the Rust suite, tests/conformance.rs, compares zkinfer with
them). Each case is a one-node model with one float input and one output; data.json holds the
input and onnxruntime's output, flat, with their shapes.

    /tmp/onnx-venv/bin/pip install onnx onnxruntime numpy
    /tmp/onnx-venv/bin/python scripts/check_edge_cases.py
"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "onnx-edge")


def main():
    bad = 0
    names = sorted(os.listdir(ROOT))
    for name in names:
        case = os.path.join(ROOT, name)
        data = json.load(open(os.path.join(case, "data.json")))
        sess = ort.InferenceSession(os.path.join(case, "model.onnx"), providers=["CPUExecutionProvider"])
        x = np.array(data["input"], np.float32).reshape(data["input_shape"])
        y = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        want = np.array(data["output"]).reshape(data["output_shape"])
        if y.shape != want.shape or not np.allclose(y, want, atol=1e-5):
            print(f"{name}: onnxruntime gives {y.reshape(-1)[:8]}..., data.json {want.reshape(-1)[:8]}...")
            bad += 1
    print(f"{len(names) - bad} of {len(names)} cases agree with onnxruntime {ort.__version__}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
