"""Writes the two models of the scale benchmarks (not shipped in circuits/: 4 MB and 100 KB of
weights) with their input, calibration and held-out files:

    python scripts/scale_models.py OUT_DIR

- mlp1m/: a 784-1024-256-10 ReLU MLP (Gemm, Relu, Gemm, Relu, Gemm; 1,068,544 weights)
  trained with scikit-learn on the digits upsampled to 28x28 (the first 1400), held out: the
  other 397.
- cnn2m/: a CIFAR-shaped (3x32x32) CNN of 2.2 M multiply-accumulates: conv 3x3 (16) + ReLU,
  max pool 2x2, conv 3x3 (32) + ReLU, max pool 2x2, conv 3x3 (32) + ReLU, average pool 2x2,
  Flatten, Gemm 3. Convolutions are random (He); the Gemm is trained on the shape images of
  circuits/gen/build_models.py (300 of them), held out: the next 100.

Each folder gets model.onnx, input.json, calibration.json and heldout.json (with labels).
Requires: numpy, onnx, onnxruntime, scikit-learn.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "circuits", "gen"))
from build_models import cifar_shape_image, digits_28x28  # noqa: E402


def dump(path, name, x, labels=None):
    obj = {"input_data": [np.asarray(x, dtype=np.float64).reshape(-1).round(6).tolist()]}
    if labels is not None:
        obj["labels"] = [int(v) for v in labels]
    with open(os.path.join(path, name), "w") as f:
        json.dump(obj, f)


def finish(path, model, sample, calibration, heldout, labels):
    os.makedirs(path, exist_ok=True)
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(path, "model.onnx"))
    dump(path, "input.json", sample)
    dump(path, "calibration.json", calibration)
    dump(path, "heldout.json", heldout, labels)


def graph_model(name, nodes, inputs, outputs, inits):
    model = helper.make_model(
        helper.make_graph(nodes, name, inputs, outputs, inits),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    model.ir_version = 8
    return model


def mlp1m(out):
    x, y = digits_28x28()
    clf = MLPClassifier(hidden_layer_sizes=(1024, 256), activation="relu", max_iter=60, random_state=0)
    clf.fit(x[:1400], y[:1400])
    print("mlp1m: float held-out accuracy", clf.score(x[1400:], y[1400:]))
    inits, nodes, prev = [], [], "input"
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_), start=1):
        inits += [
            numpy_helper.from_array(w.T.astype(np.float32), f"fc{i}.weight"),
            numpy_helper.from_array(b.astype(np.float32), f"fc{i}.bias"),
        ]
        nodes.append(helper.make_node("Gemm", [prev, f"fc{i}.weight", f"fc{i}.bias"], [f"h{i}"], name=f"fc{i}", transB=1))
        prev = f"h{i}"
        if i < len(clf.coefs_):
            nodes.append(helper.make_node("Relu", [prev], [f"r{i}"], name=f"relu{i}"))
            prev = f"r{i}"
    weights = sum(w.size for w in clf.coefs_)
    print("mlp1m: weights", weights)
    model = graph_model(
        "mlp1m", nodes,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 784])],
        [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, 10])], inits)
    finish(os.path.join(out, "mlp1m"), model, x[1400], x[:32], x[1400:], y[1400:])


def cnn2m(out):
    rng = np.random.default_rng(21)
    he = lambda *s: (rng.standard_normal(s) * np.sqrt(2.0 / np.prod(s[1:]))).astype(np.float32)
    inits, nodes, prev, macs, side = [], [], "image", 0, 32
    for i, (ci, co) in enumerate([(3, 16), (16, 32), (32, 32)], start=1):
        inits += [
            numpy_helper.from_array(he(co, ci, 3, 3), f"conv{i}.weight"),
            numpy_helper.from_array((rng.standard_normal(co) * 0.05).astype(np.float32), f"conv{i}.bias"),
        ]
        nodes += [
            helper.make_node("Conv", [prev, f"conv{i}.weight", f"conv{i}.bias"], [f"c{i}"], name=f"conv{i}", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"),
        ]
        macs += side * side * co * ci * 9
        pool = "MaxPool" if i < 3 else "AveragePool"
        nodes.append(helper.make_node(pool, [f"r{i}"], [f"p{i}"], name=f"pool{i}", kernel_shape=[2, 2], strides=[2, 2]))
        prev, side = f"p{i}", side // 2
    nodes.append(helper.make_node("Flatten", [prev], ["f"], name="flatten"))
    features = 32 * side * side
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])
    extractor = graph_model("features", nodes, [image], [helper.make_tensor_value_info("f", TensorProto.FLOAT, [1, features])], inits)
    sess = ort.InferenceSession(extractor.SerializeToString(), providers=["CPUExecutionProvider"])
    r = np.random.default_rng(22)
    labels = r.integers(0, 3, size=400)
    images = np.stack([cifar_shape_image(k, r) for k in labels]).astype(np.float32)
    feats = np.concatenate([sess.run(None, {"image": im[None]})[0] for im in images])
    clf = LogisticRegression(max_iter=3000).fit(feats[:300], labels[:300])
    print("cnn2m: float held-out accuracy", clf.score(feats[300:], labels[300:]))
    inits += [
        numpy_helper.from_array(clf.coef_.astype(np.float32), "fc.weight"),
        numpy_helper.from_array(clf.intercept_.astype(np.float32), "fc.bias"),
    ]
    nodes.append(helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1))
    macs += features * 3
    print("cnn2m: multiply-accumulates", macs)
    model = graph_model("cnn2m", nodes, [image], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3])], inits)
    finish(os.path.join(out, "cnn2m"), model, images[300].round(3), images[:12].round(3), images[300:].round(3), labels[300:])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    mlp1m(sys.argv[1])
    cnn2m(sys.argv[1])
