#!/usr/bin/env python3
"""Generates the reference models in circuits/ (deterministic; outputs are committed).

mlp_digits/  a 64-32-10 ReLU MLP (Gemm, Relu, Gemm) trained on scikit-learn's 8x8 digits.
mlp784/      a 784-128-10 ReLU MLP (Gemm, Relu, Gemm) on the digits upsampled to 28x28.
mlp_matmul/  a 1x10x10 -> 100-24-10 MLP written with Flatten, MatMul + Add, Relu, Reshape,
             Identity (random weights), to exercise the other lowering paths.

Each folder gets model.onnx, input.json (one sample, EZKL format), calibration.json (several
samples concatenated), expected.json (onnxruntime float outputs for input.json) and, for the
digits model, test.json (held-out samples with labels).

Requires: numpy, onnx, onnxruntime, scikit-learn.
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def write_model(folder, model):
    """Checks and writes circuits/<folder>/model.onnx; returns the folder and an onnxruntime
    session on the written model."""
    path = os.path.join(ROOT, folder)
    os.makedirs(path, exist_ok=True)
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(path, "model.onnx"))
    sess = ort.InferenceSession(os.path.join(path, "model.onnx"), providers=["CPUExecutionProvider"])
    return path, sess


def save(folder, model, input_sample, calibration, extra=None):
    path, sess = write_model(folder, model)
    name = sess.get_inputs()[0].name
    shape = [1 if not isinstance(d, int) else d for d in sess.get_inputs()[0].shape]
    out = sess.run(None, {name: input_sample.reshape(shape).astype(np.float32)})[0]
    dump = lambda obj, f: json.dump(obj, open(os.path.join(path, f), "w"))
    dump({"input_data": [input_sample.astype(float).round(6).tolist()]}, "input.json")
    dump({"input_data": [calibration.astype(float).round(6).reshape(-1).tolist()]}, "calibration.json")
    dump({"output_data": [out.reshape(-1).astype(float).tolist()]}, "expected.json")
    if extra:
        for f, obj in extra.items():
            dump(obj, f)


def gemm_relu_gemm(name, clf, batch, inputs):
    """The ONNX form (Gemm, Relu, Gemm) of a one-hidden-layer scikit-learn ReLU MLP, input
    shape [batch, inputs] (batch: a number or a symbolic dimension)."""
    (w1, w2), (b1, b2) = clf.coefs_, clf.intercepts_
    inits = [
        numpy_helper.from_array(w1.T.astype(np.float32), "fc1.weight"),
        numpy_helper.from_array(b1.astype(np.float32), "fc1.bias"),
        numpy_helper.from_array(w2.T.astype(np.float32), "fc2.weight"),
        numpy_helper.from_array(b2.astype(np.float32), "fc2.bias"),
    ]
    nodes = [
        helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["h_relu"], name="relu1"),
        helper.make_node("Gemm", ["h_relu", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, inputs])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def digits_mlp():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target
    x_train, y_train, x_test, y_test = x[:1400], y[:1400], x[1400:], y[1400:]
    clf = MLPClassifier(hidden_layer_sizes=(32,), activation="relu", max_iter=400, random_state=0)
    clf.fit(x_train, y_train)
    model = gemm_relu_gemm("mlp_digits", clf, "batch", 64)
    test = {"input_data": [x_test[:64].astype(float).round(6).reshape(-1).tolist()], "labels": y_test[:64].tolist()}
    save("mlp_digits", model, x_test[0], x_train[:32], {"test.json": test})
    print("mlp_digits: float test accuracy", clf.score(x_test, y_test))


def digits_28x28():
    """scikit-learn digits upsampled to 28x28 (3x3 blocks, 2 pixels of padding), flattened."""
    digits = load_digits()
    images = np.kron(digits.images / 16.0, np.ones((3, 3)))  # 24x24
    return np.pad(images, ((0, 0), (2, 2), (2, 2))).astype(np.float32).reshape(-1, 784), digits.target


def mlp784():
    """A 784-128-10 ReLU MLP (Gemm, Relu, Gemm), the MNIST-sized MLP of the benchmarks, trained
    on the 28x28 digits."""
    x, y = digits_28x28()
    clf = MLPClassifier(hidden_layer_sizes=(128,), activation="relu", max_iter=300, random_state=0)
    clf.fit(x[:1400], y[:1400])
    print("mlp784: float test accuracy", clf.score(x[1400:], y[1400:]))
    model = gemm_relu_gemm("mlp784", clf, 1, 784)
    test = {"input_data": [x[1500:1532].astype(float).round(6).reshape(-1).tolist()], "labels": y[1500:1532].tolist()}
    save("mlp784", model, x[1400], x[:32], {"test.json": test})


def matmul_mlp():
    rng = np.random.default_rng(1)
    w1 = (rng.standard_normal((100, 24)) / 10).astype(np.float32)
    b1 = (rng.standard_normal(24) / 10).astype(np.float32)
    w2 = (rng.standard_normal((24, 10)) / 5).astype(np.float32)
    b2 = (rng.standard_normal(10) / 10).astype(np.float32)
    inits = [
        numpy_helper.from_array(w1, "w1"),
        numpy_helper.from_array(b1, "b1"),
        numpy_helper.from_array(w2, "w2"),
        numpy_helper.from_array(b2, "b2"),
        numpy_helper.from_array(np.array([1, 10], dtype=np.int64), "out_shape"),
    ]
    nodes = [
        helper.make_node("Flatten", ["image"], ["flat"], name="flatten", axis=1),
        helper.make_node("MatMul", ["flat", "w1"], ["mm1"], name="matmul1"),
        helper.make_node("Add", ["mm1", "b1"], ["add1"], name="add1"),
        helper.make_node("Relu", ["add1"], ["r1"], name="relu1"),
        helper.make_node("MatMul", ["r1", "w2"], ["mm2"], name="matmul2"),
        helper.make_node("Add", ["b2", "mm2"], ["add2"], name="add2"),
        helper.make_node("Reshape", ["add2", "out_shape"], ["reshaped"], name="reshape"),
        helper.make_node("Identity", ["reshaped"], ["scores"], name="identity"),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp_matmul",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 10, 10])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    data = rng.random((16, 100)).astype(np.float32)
    save("mlp_matmul", model, data[0], data)


def lenet5():
    """LeNet-5-shaped CNN on 28x28: conv 5x5 (6) - ReLU - max pool - conv 5x5 (16) - BatchNorm -
    ReLU - max pool - Flatten - Gemm 120 - ReLU - Gemm 84 - ReLU - Gemm 10.

    The convolutions keep random He-initialised weights (a fixed feature extractor); the three
    dense layers are trained with scikit-learn on those features, so the classifier is real.
    Inputs are scikit-learn digits upsampled to 28x28.
    """
    rng = np.random.default_rng(5)
    he = lambda *shape: (rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))).astype(np.float32)
    small = lambda n: (rng.standard_normal(n) * 0.05).astype(np.float32)
    conv_inits = [
        numpy_helper.from_array(he(6, 1, 5, 5), "conv1.weight"),
        numpy_helper.from_array(small(6), "conv1.bias"),
        numpy_helper.from_array(he(16, 6, 5, 5), "conv2.weight"),
        numpy_helper.from_array(small(16), "conv2.bias"),
        numpy_helper.from_array((1 + 0.1 * rng.standard_normal(16)).astype(np.float32), "bn.scale"),
        numpy_helper.from_array(small(16), "bn.bias"),
        numpy_helper.from_array(small(16), "bn.mean"),
        numpy_helper.from_array((1 + 0.1 * rng.random(16)).astype(np.float32), "bn.var"),
    ]
    features = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["c1"], name="conv1", kernel_shape=[5, 5], strides=[1, 1], pads=[0, 0, 0, 0], dilations=[1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2", kernel_shape=[5, 5], strides=[1, 1], pads=[0, 0, 0, 0], dilations=[1, 1]),
        helper.make_node("BatchNormalization", ["c2", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["b2"], name="bn2"),
        helper.make_node("Relu", ["b2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["f"], name="flatten"),
    ]
    image_info = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 28, 28])

    images, labels = digits_28x28()

    extractor = helper.make_model(
        helper.make_graph(features, "features", [image_info], [helper.make_tensor_value_info("f", TensorProto.FLOAT, [1, 256])], conv_inits),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    extractor.ir_version = 8
    sess = ort.InferenceSession(extractor.SerializeToString(), providers=["CPUExecutionProvider"])
    feats = np.concatenate([sess.run(None, {"image": im.reshape(1, 1, 28, 28)})[0] for im in images])
    clf = MLPClassifier(hidden_layer_sizes=(120, 84), activation="relu", max_iter=300, random_state=0)
    clf.fit(feats[:1400], labels[:1400])
    print("lenet5: float test accuracy", clf.score(feats[1400:], labels[1400:]))

    dense_inits = []
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        dense_inits += [
            numpy_helper.from_array(w.T.astype(np.float32), f"fc{i + 1}.weight"),
            numpy_helper.from_array(b.astype(np.float32), f"fc{i + 1}.bias"),
        ]
    nodes = features + [
        helper.make_node("Gemm", ["f", "fc1.weight", "fc1.bias"], ["h1"], name="fc1", transB=1),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu3"),
        helper.make_node("Gemm", ["a1", "fc2.weight", "fc2.bias"], ["h2"], name="fc2", transB=1),
        helper.make_node("Relu", ["h2"], ["a2"], name="relu4"),
        helper.make_node("Gemm", ["a2", "fc3.weight", "fc3.bias"], ["logits"], name="fc3", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "lenet5",
        [image_info],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        conv_inits + dense_inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    test = {"input_data": [images[1500:1532].astype(float).round(6).reshape(-1).tolist()], "labels": labels[1500:1532].tolist()}
    save("lenet5", model, images[1400], images[:32], {"test.json": test})


def cifar_shape_image(kind, r):
    """A 3x32x32 image of a random shape (square, cross, ring) at a random position, its
    dominant colour channel `kind`, with noise."""
    img = np.zeros((3, 32, 32), dtype=np.float32)
    cy, cx = r.integers(10, 22, size=2)
    colour = r.uniform(0.0, 0.3, size=3)
    colour[kind] = r.uniform(0.7, 1.0)
    kind = r.integers(0, 3)
    yy, xx = np.mgrid[0:32, 0:32]
    if kind == 0:
        mask = (abs(yy - cy) <= 6) & (abs(xx - cx) <= 6)
    elif kind == 1:
        mask = ((abs(yy - cy) <= 1) & (abs(xx - cx) <= 8)) | ((abs(xx - cx) <= 1) & (abs(yy - cy) <= 8))
    else:
        d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        mask = (d >= 4) & (d <= 7)
    img[:, mask] = colour[:, None]
    return img + r.uniform(0, 0.1, size=img.shape).astype(np.float32)


def cifar_resnet():
    """A small CIFAR-shaped (3x32x32) CNN with BatchNorm and a residual Add:
    conv 3x3 (4) + BN + ReLU, max pool 2x2, conv 3x3 (4) + BN + ReLU, conv 3x3 (4) + BN,
    Add with the pooled value, ReLU, average pool 4x4, Flatten, Gemm 10.

    Convolutions are random (He); the final Gemm is trained with scikit-learn on the pooled
    features of synthetic 32x32 images of random shapes (square, cross, ring) at random
    positions; the class is the dominant colour channel.
    """
    rng = np.random.default_rng(9)
    he = lambda *shape: (rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))).astype(np.float32)
    small = lambda n: (rng.standard_normal(n) * 0.05).astype(np.float32)
    inits = []
    for i, ci in enumerate([3, 4, 4], start=1):
        inits += [
            numpy_helper.from_array(he(4, ci, 3, 3), f"conv{i}.weight"),
            numpy_helper.from_array(small(4), f"conv{i}.bias"),
            numpy_helper.from_array((1 + 0.1 * rng.standard_normal(4)).astype(np.float32), f"bn{i}.scale"),
            numpy_helper.from_array(small(4), f"bn{i}.bias"),
            numpy_helper.from_array(small(4), f"bn{i}.mean"),
            numpy_helper.from_array((1 + 0.1 * rng.random(4)).astype(np.float32), f"bn{i}.var"),
        ]
    conv = lambda i, x, y: helper.make_node("Conv", [x, f"conv{i}.weight", f"conv{i}.bias"], [y], name=f"conv{i}", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    bn = lambda i, x, y: helper.make_node("BatchNormalization", [x, f"bn{i}.scale", f"bn{i}.bias", f"bn{i}.mean", f"bn{i}.var"], [y], name=f"bn{i}")
    features = [
        conv(1, "image", "c1"), bn(1, "c1", "b1"), helper.make_node("Relu", ["b1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        conv(2, "p1", "c2"), bn(2, "c2", "b2"), helper.make_node("Relu", ["b2"], ["r2"], name="relu2"),
        conv(3, "r2", "c3"), bn(3, "c3", "b3"),
        helper.make_node("Add", ["b3", "p1"], ["res"], name="residual"),
        helper.make_node("Relu", ["res"], ["r3"], name="relu3"),
        helper.make_node("AveragePool", ["r3"], ["p2"], name="pool2", kernel_shape=[4, 4], strides=[4, 4]),
        helper.make_node("Flatten", ["p2"], ["f"], name="flatten"),
    ]
    image_info = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])

    r = np.random.default_rng(10)
    labels = r.integers(0, 3, size=400)
    images = np.stack([cifar_shape_image(k, r) for k in labels]).astype(np.float32)

    extractor = helper.make_model(
        helper.make_graph(features, "features", [image_info], [helper.make_tensor_value_info("f", TensorProto.FLOAT, [1, 64])], inits),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    extractor.ir_version = 8
    sess = ort.InferenceSession(extractor.SerializeToString(), providers=["CPUExecutionProvider"])
    feats = np.concatenate([sess.run(None, {"image": im[None]})[0] for im in images])
    from sklearn.linear_model import LogisticRegression
    clf = LogisticRegression(max_iter=2000).fit(feats[:300], labels[:300])
    print("cifar_resnet: float test accuracy", clf.score(feats[300:], labels[300:]))
    w = clf.coef_.astype(np.float32)
    b = clf.intercept_.astype(np.float32)
    inits += [numpy_helper.from_array(w, "fc.weight"), numpy_helper.from_array(b, "fc.bias")]
    nodes = features + [helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1)]
    graph = helper.make_graph(nodes, "cifar_resnet", [image_info], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    test = {"input_data": [images[300:316].astype(float).round(3).reshape(-1).tolist()], "labels": labels[300:316].tolist()}
    save("cifar_resnet", model, images[300].reshape(-1).round(3), images[:12].reshape(12, -1).round(3), {"test.json": test})


def unsupported_op():
    """A model with an op zkinfer refuses (Hardmax), for the error-path tests."""
    w = np.ones((4, 3), dtype=np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul"),
        helper.make_node("Hardmax", ["y"], ["z"], name="wave"),
    ]
    graph = helper.make_graph(
        nodes,
        "unsupported_op",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 3])],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    save("unsupported_op", model, np.full(4, 0.5, dtype=np.float32), np.full((2, 4), 0.5, dtype=np.float32))


def attention():
    """A one-head transformer block on scikit-learn digits read as 8 tokens of 8 pixels:
    embedding MatMul - q/k/v MatMul + Add - scores MatMul(q, Transpose(k)) / 4 - Softmax -
    MatMul(attention, v) - residual Add - LayerNormalization - MatMul + Add - Gelu - MatMul + Add
    - residual Add - LayerNormalization - ReduceMean over tokens - Gemm head (10 classes).

    The block keeps random weights (a fixed feature extractor); the Gemm head is trained with
    scikit-learn on its mean-pooled features, so the classifier is real.
    """
    rng = np.random.default_rng(7)
    t, d, h = 8, 16, 32
    mat = lambda *shape: (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)
    vec = lambda n, s=0.05: (rng.standard_normal(n) * s).astype(np.float32)
    block_inits = [
        numpy_helper.from_array(mat(8, d), "embed.weight"),
        numpy_helper.from_array(mat(d, d), "q.weight"),
        numpy_helper.from_array(vec(d), "q.bias"),
        numpy_helper.from_array(mat(d, d), "k.weight"),
        numpy_helper.from_array(vec(d), "k.bias"),
        numpy_helper.from_array(mat(d, d), "v.weight"),
        numpy_helper.from_array(vec(d), "v.bias"),
        numpy_helper.from_array(np.array(np.sqrt(d), dtype=np.float32), "scale"),
        numpy_helper.from_array((1 + vec(d, 0.1)).astype(np.float32), "ln1.weight"),
        numpy_helper.from_array(vec(d), "ln1.bias"),
        numpy_helper.from_array(mat(d, h), "ff1.weight"),
        numpy_helper.from_array(vec(h), "ff1.bias"),
        numpy_helper.from_array(mat(h, d), "ff2.weight"),
        numpy_helper.from_array(vec(d), "ff2.bias"),
        numpy_helper.from_array((1 + vec(d, 0.1)).astype(np.float32), "ln2.weight"),
        numpy_helper.from_array(vec(d), "ln2.bias"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "token_axis"),
    ]
    n = helper.make_node
    block = [
        n("MatMul", ["tokens", "embed.weight"], ["x0"], name="embed"),
        n("MatMul", ["x0", "q.weight"], ["q0"], name="q"),
        n("Add", ["q0", "q.bias"], ["q1"], name="q_bias"),
        n("MatMul", ["x0", "k.weight"], ["k0"], name="k"),
        n("Add", ["k0", "k.bias"], ["k1"], name="k_bias"),
        n("MatMul", ["x0", "v.weight"], ["v0"], name="v"),
        n("Add", ["v0", "v.bias"], ["v1"], name="v_bias"),
        n("Transpose", ["k1"], ["kt"], name="k_transpose", perm=[0, 2, 1]),
        n("MatMul", ["q1", "kt"], ["s0"], name="scores"),
        n("Div", ["s0", "scale"], ["s1"], name="scores_scale"),
        n("Softmax", ["s1"], ["p"], name="softmax", axis=-1),
        n("MatMul", ["p", "v1"], ["a0"], name="attend"),
        n("Add", ["x0", "a0"], ["r1"], name="residual1"),
        n("LayerNormalization", ["r1", "ln1.weight", "ln1.bias"], ["n1"], name="ln1", axis=-1),
        n("MatMul", ["n1", "ff1.weight"], ["f0"], name="ff1"),
        n("Add", ["f0", "ff1.bias"], ["f1"], name="ff1_bias"),
        n("Gelu", ["f1"], ["g"], name="gelu"),
        n("MatMul", ["g", "ff2.weight"], ["f2"], name="ff2"),
        n("Add", ["f2", "ff2.bias"], ["f3"], name="ff2_bias"),
        n("Add", ["n1", "f3"], ["r2"], name="residual2"),
        n("LayerNormalization", ["r2", "ln2.weight", "ln2.bias"], ["n2"], name="ln2", axis=-1),
        n("ReduceMean", ["n2", "token_axis"], ["pooled"], name="pool", keepdims=0),
    ]
    tokens_info = helper.make_tensor_value_info("tokens", TensorProto.FLOAT, [1, t, 8])
    opset = [helper.make_opsetid("", 20)]
    extractor = helper.make_model(
        helper.make_graph(block, "block", [tokens_info], [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [1, d])], block_inits),
        opset_imports=opset,
    )
    extractor.ir_version = 9
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    labels = digits.target
    sess = ort.InferenceSession(extractor.SerializeToString(), providers=["CPUExecutionProvider"])
    feats = np.concatenate([sess.run(None, {"tokens": im.reshape(1, t, 8)})[0] for im in images])
    clf = LogisticRegression(max_iter=2000, C=1.0)
    clf.fit(feats[:1400], labels[:1400])
    print("attention: float test accuracy", clf.score(feats[1400:], labels[1400:]))
    head_inits = [
        numpy_helper.from_array(clf.coef_.astype(np.float32), "head.weight"),
        numpy_helper.from_array(clf.intercept_.astype(np.float32), "head.bias"),
    ]
    nodes = block + [n("Gemm", ["pooled", "head.weight", "head.bias"], ["logits"], name="head", transB=1)]
    graph = helper.make_graph(
        nodes,
        "attention",
        [tokens_info],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        block_inits + head_inits,
    )
    model = helper.make_model(graph, opset_imports=opset)
    model.ir_version = 9
    flat = images.reshape(-1, t * 8)
    test = {"input_data": [flat[1500:1532].astype(float).reshape(-1).tolist()], "labels": labels[1500:1532].tolist()}
    save("attention", model, flat[1400], flat[:32], {"test.json": test})


def two_inputs():
    """Digits seen as two inputs (the top and bottom halves, 32 pixels each) and two outputs
    (logits and probabilities), joined by Concat and flattened by the shape arithmetic
    TorchScript writes for `x.view(x.size(0), -1)`: a trained one-hidden-layer MLP."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=600, random_state=0).fit(x[:1400], y[:1400])
    print("two_inputs: float test accuracy", clf.score(x[1400:], y[1400:]))
    (w1, w2), (b1, b2) = clf.coefs_, clf.intercepts_
    inits = [
        numpy_helper.from_array(w1.T.astype(np.float32), "fc1.weight"),
        numpy_helper.from_array(b1.astype(np.float32), "fc1.bias"),
        numpy_helper.from_array(w2.T.astype(np.float32), "fc2.weight"),
        numpy_helper.from_array(b2.astype(np.float32), "fc2.bias"),
    ]
    n = helper.make_node
    nodes = [
        n("Concat", ["top", "bottom"], ["joined"], name="/Concat", axis=1),
        n("Shape", ["joined"], ["/Shape_output_0"], name="/Shape"),
        n("Constant", [], ["/Constant_output_0"], name="/Constant", value=numpy_helper.from_array(np.array(0, dtype=np.int64))),
        n("Gather", ["/Shape_output_0", "/Constant_output_0"], ["/Gather_output_0"], name="/Gather", axis=0),
        n("Constant", [], ["/Constant_1_output_0"], name="/Constant_1", value=numpy_helper.from_array(np.array([0], dtype=np.int64))),
        n("Unsqueeze", ["/Gather_output_0", "/Constant_1_output_0"], ["/Unsqueeze_output_0"], name="/Unsqueeze"),
        n("Constant", [], ["/Constant_2_output_0"], name="/Constant_2", value=numpy_helper.from_array(np.array([-1], dtype=np.int64))),
        n("Concat", ["/Unsqueeze_output_0", "/Constant_2_output_0"], ["/Concat_1_output_0"], name="/Concat_1", axis=0),
        n("Reshape", ["joined", "/Concat_1_output_0"], ["flat"], name="/Reshape"),
        n("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["h"], name="/fc1/Gemm", transB=1),
        n("Relu", ["h"], ["h_relu"], name="/Relu"),
        n("Gemm", ["h_relu", "fc2.weight", "fc2.bias"], ["logits"], name="/fc2/Gemm", transB=1),
        n("Softmax", ["logits"], ["probs"], name="/Softmax", axis=1),
    ]
    batch = "batch_size"
    graph = helper.make_graph(
        nodes,
        "two_inputs",
        [helper.make_tensor_value_info(v, TensorProto.FLOAT, [batch, 32]) for v in ("top", "bottom")],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 10]),
         helper.make_tensor_value_info("probs", TensorProto.FLOAT, [batch, 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path, sess = write_model("two_inputs", model)
    halves = lambda rows: [rows[:, :32].reshape(-1).astype(float).round(6).tolist(), rows[:, 32:].reshape(-1).astype(float).round(6).tolist()]
    sample = x[1400:1401]
    logits, probs = sess.run(None, {"top": sample[:, :32], "bottom": sample[:, 32:]})
    dump = lambda obj, f: json.dump(obj, open(os.path.join(path, f), "w"))
    dump({"input_data": halves(sample)}, "input.json")
    dump({"input_data": halves(x[:32])}, "calibration.json")
    dump({"output_data": [np.concatenate([logits, probs], axis=1).reshape(-1).astype(float).tolist()]}, "expected.json")
    test = x[1400:1464]
    dump({"input_data": halves(test), "labels": y[1400:1464].tolist()}, "test.json")


def nanogpt(folder="nanogpt", layers=2, block=16, width=32, heads=2, vocab=32, seed=0):
    """A nanoGPT-shaped decoder written as torch.onnx writes one (opset 17): token Gather
    embedding, positional embedding gathered by a Range, fused QKV MatMul + Split, heads by
    Reshape/Transpose, causal mask by Where(Equal(tril buffer, 0), -inf, att), Softmax,
    tanh GELU spelled out with Pow/Tanh (nanoGPT's NewGELU), LayerNormalization, residuals,
    and an untied LM head. Weights are random, scaled (0.5/sqrt(fan_in)) so the residual
    stream stays within the range 8-bit activations hold."""
    rng = np.random.default_rng(seed)
    t, d, h = block, width, heads
    hd = d // h
    inits, nodes = [], []
    n = lambda *a, **k: nodes.append(helper.make_node(*a, **k))

    def weight(name, shape, fan_in=None, scale=1.0):
        std = scale / np.sqrt(fan_in) if fan_in else scale
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * std).astype(np.float32), name))
        return name

    def const(name, value):
        n("Constant", [], [name], name=name, value=numpy_helper.from_array(np.array(value)))
        return name

    def layer_norm(x, prefix):
        g = prefix + ".weight"
        b = prefix + ".bias"
        inits.append(numpy_helper.from_array((1.0 + 0.1 * rng.standard_normal(d)).astype(np.float32), g))
        inits.append(numpy_helper.from_array((0.1 * rng.standard_normal(d)).astype(np.float32), b))
        out = f"/{prefix}/LayerNormalization_output_0"
        n("LayerNormalization", [x, g, b], [out], name=f"/{prefix}/LayerNormalization", axis=-1, epsilon=1e-5)
        return out

    def linear(x, prefix, fan_in, fan_out, bias=True):
        w = weight(prefix + ".weight", (fan_in, fan_out), fan_in, 0.5)
        out = f"/{prefix}/MatMul_output_0"
        n("MatMul", [x, w], [out], name=f"/{prefix}/MatMul")
        if not bias:
            return out
        b = weight(prefix + ".bias", (fan_out,), None, 0.02)
        added = f"/{prefix}/Add_output_0"
        n("Add", [b, out], [added], name=f"/{prefix}/Add")
        return added

    weight("transformer.wte.weight", (vocab, d), None, 0.5)
    weight("transformer.wpe.weight", (t, d), None, 0.25)
    n("Shape", ["idx"], ["/Shape_output_0"], name="/Shape")
    n("Gather", ["/Shape_output_0", const("/Constant_output_0", np.int64(1))], ["/Gather_output_0"], name="/Gather", axis=0)
    n("Range", [const("/Constant_1_output_0", np.int64(0)), "/Gather_output_0", const("/Constant_2_output_0", np.int64(1))], ["/Range_output_0"], name="/Range")
    n("Gather", ["transformer.wte.weight", "idx"], ["/transformer/wte/Gather_output_0"], name="/transformer/wte/Gather")
    n("Gather", ["transformer.wpe.weight", "/Range_output_0"], ["/transformer/wpe/Gather_output_0"], name="/transformer/wpe/Gather")
    n("Add", ["/transformer/wte/Gather_output_0", "/transformer/wpe/Gather_output_0"], ["/transformer/Add_output_0"], name="/transformer/Add")
    x = "/transformer/Add_output_0"
    tril = np.tril(np.ones((t, t), dtype=np.float32)).reshape(1, 1, t, t)
    inits.append(numpy_helper.from_array(tril, "bias_buffer"))
    for i in range(layers):
        p = f"transformer.h.{i}"
        a = layer_norm(x, f"{p}.ln_1")
        qkv = linear(a, f"{p}.attn.c_attn", d, 3 * d)
        parts = [f"/{p}/attn/Split_output_{j}" for j in range(3)]
        n("Split", [qkv, const(f"/{p}/attn/Constant_output_0", np.array([d, d, d], dtype=np.int64))], parts, name=f"/{p}/attn/Split", axis=2)
        heads_shape = const(f"/{p}/attn/Constant_1_output_0", np.array([1, t, h, hd], dtype=np.int64))
        qkvh = []
        for j, part in enumerate(parts):
            r = f"/{p}/attn/Reshape_{j}_output_0"
            n("Reshape", [part, heads_shape], [r], name=f"/{p}/attn/Reshape_{j}")
            tr = f"/{p}/attn/Transpose_{j}_output_0"
            n("Transpose", [r], [tr], name=f"/{p}/attn/Transpose_{j}", perm=[0, 2, 1, 3])
            qkvh.append(tr)
        q, k, v = qkvh
        kt = f"/{p}/attn/Transpose_3_output_0"
        n("Transpose", [k], [kt], name=f"/{p}/attn/Transpose_3", perm=[0, 1, 3, 2])
        att = f"/{p}/attn/MatMul_output_0"
        n("MatMul", [q, kt], [att], name=f"/{p}/attn/MatMul")
        scaled = f"/{p}/attn/Mul_output_0"
        n("Mul", [att, const(f"/{p}/attn/Constant_2_output_0", np.float32(1.0 / np.sqrt(hd)))], [scaled], name=f"/{p}/attn/Mul")
        sl = f"/{p}/attn/Slice_output_0"
        n("Slice", ["bias_buffer", const(f"/{p}/attn/Constant_3_output_0", np.array([0, 0], dtype=np.int64)),
                    const(f"/{p}/attn/Constant_4_output_0", np.array([t, t], dtype=np.int64)),
                    const(f"/{p}/attn/Constant_5_output_0", np.array([2, 3], dtype=np.int64))], [sl], name=f"/{p}/attn/Slice")
        eq = f"/{p}/attn/Equal_output_0"
        n("Equal", [sl, const(f"/{p}/attn/Constant_6_output_0", np.float32(0.0))], [eq], name=f"/{p}/attn/Equal")
        masked = f"/{p}/attn/Where_output_0"
        n("Where", [eq, const(f"/{p}/attn/Constant_7_output_0", np.float32(-np.inf)), scaled], [masked], name=f"/{p}/attn/Where")
        sm = f"/{p}/attn/Softmax_output_0"
        n("Softmax", [masked], [sm], name=f"/{p}/attn/Softmax", axis=-1)
        y = f"/{p}/attn/MatMul_1_output_0"
        n("MatMul", [sm, v], [y], name=f"/{p}/attn/MatMul_1")
        yt = f"/{p}/attn/Transpose_4_output_0"
        n("Transpose", [y], [yt], name=f"/{p}/attn/Transpose_4", perm=[0, 2, 1, 3])
        yr = f"/{p}/attn/Reshape_3_output_0"
        n("Reshape", [yt, const(f"/{p}/attn/Constant_8_output_0", np.array([1, t, d], dtype=np.int64))], [yr], name=f"/{p}/attn/Reshape_3")
        proj = linear(yr, f"{p}.attn.c_proj", d, d)
        res = f"/{p}/Add_output_0"
        n("Add", [x, proj], [res], name=f"/{p}/Add")
        m = layer_norm(res, f"{p}.ln_2")
        fc = linear(m, f"{p}.mlp.c_fc", d, 4 * d)
        g = f"/{p}/mlp/gelu"
        n("Pow", [fc, const(g + "/Constant_output_0", np.float32(3.0))], [g + "/Pow_output_0"], name=g + "/Pow")
        n("Mul", [const(g + "/Constant_1_output_0", np.float32(0.044715)), g + "/Pow_output_0"], [g + "/Mul_output_0"], name=g + "/Mul")
        n("Add", [fc, g + "/Mul_output_0"], [g + "/Add_output_0"], name=g + "/Add")
        n("Mul", [const(g + "/Constant_2_output_0", np.float32(np.sqrt(2.0 / np.pi))), g + "/Add_output_0"], [g + "/Mul_1_output_0"], name=g + "/Mul_1")
        n("Tanh", [g + "/Mul_1_output_0"], [g + "/Tanh_output_0"], name=g + "/Tanh")
        n("Add", [const(g + "/Constant_3_output_0", np.float32(1.0)), g + "/Tanh_output_0"], [g + "/Add_1_output_0"], name=g + "/Add_1")
        n("Mul", [const(g + "/Constant_4_output_0", np.float32(0.5)), fc], [g + "/Mul_2_output_0"], name=g + "/Mul_2")
        n("Mul", [g + "/Mul_2_output_0", g + "/Add_1_output_0"], [g + "/Mul_3_output_0"], name=g + "/Mul_3")
        out = linear(g + "/Mul_3_output_0", f"{p}.mlp.c_proj", 4 * d, d)
        x2 = f"/{p}/Add_1_output_0"
        n("Add", [res, out], [x2], name=f"/{p}/Add_1")
        x = x2
    f = layer_norm(x, "transformer.ln_f")
    w = weight("lm_head.weight", (d, vocab), d, 1.0)
    n("MatMul", [f, w], ["logits"], name="/lm_head/MatMul")
    graph = helper.make_graph(
        nodes,
        folder,
        [helper.make_tensor_value_info("idx", TensorProto.INT64, [1, t])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, t, vocab])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path, sess = write_model(folder, model)
    tokens = rng.integers(0, vocab, size=(48, t))
    logits = sess.run(None, {"idx": tokens[:1]})[0]
    dump = lambda obj, f: json.dump(obj, open(os.path.join(path, f), "w"))
    dump({"input_data": [tokens[0].astype(float).tolist()]}, "input.json")
    dump({"input_data": [tokens[:16].reshape(-1).astype(float).tolist()]}, "calibration.json")
    dump({"output_data": [logits.reshape(-1).astype(float).tolist()]}, "expected.json")
    test_logits = np.concatenate([sess.run(None, {"idx": tokens[i:i + 1]})[0] for i in range(16, 48)])
    dump({"input_data": [tokens[16:48].reshape(-1).astype(float).tolist()],
          "top1": test_logits.argmax(-1).reshape(-1).tolist()}, "test.json")


def sklearn_models():
    """Classical models trained on the digits (raw pixels 0..16) and exported by skl2onnx
    without ZipMap: a random forest (TreeEnsembleClassifier), a scaled logistic regression
    (Scaler, LinearClassifier, Normalizer) and an MLP (MatMul, Softmax, ArgMax,
    ArrayFeatureExtractor). Outputs: the label, then the class probabilities."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from skl2onnx import to_onnx
    digits = load_digits()
    x = digits.data.astype(np.float32)
    y = digits.target
    models = {
        "skl_forest": RandomForestClassifier(n_estimators=6, max_depth=6, random_state=0),
        "skl_logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
        "skl_mlp": MLPClassifier(hidden_layer_sizes=(24,), max_iter=800, random_state=0),
    }
    for folder, clf in models.items():
        clf.fit(x[:1400], y[:1400])
        print(folder, "float test accuracy", clf.score(x[1400:], y[1400:]))
        last = clf.steps[-1][1] if hasattr(clf, "steps") else clf
        model = to_onnx(clf, x[:1], options={id(last): {"zipmap": False}}, target_opset={"": 13, "ai.onnx.ml": 3})
        path = os.path.join(ROOT, folder)
        os.makedirs(path, exist_ok=True)
        onnx.save(model, os.path.join(path, "model.onnx"))
        dump = lambda obj, f: json.dump(obj, open(os.path.join(path, f), "w"))
        sample = x[1400]
        dump({"input_data": [sample.astype(float).tolist()]}, "input.json")
        dump({"input_data": [x[:48].reshape(-1).astype(float).tolist()]}, "calibration.json")
        probs = clf.predict_proba(sample[None])[0]
        dump({"output_data": [[float(clf.predict(sample[None])[0])] + probs.astype(float).tolist()]}, "expected.json")
        test = x[1400:1528]
        dump({"input_data": [test.reshape(-1).astype(float).tolist()],
              "labels": y[1400:1528].tolist(), "predicted": clf.predict(test).tolist()}, "test.json")


def tree_matrices(tree, features, internal, leaves):
    """One fitted scikit-learn tree in the GEMM form: A picks each internal node's feature, B
    holds its threshold, C[i, l] is +1 (-1) when leaf l lies left (right) of node i, D[l]
    counts l's left turns, E holds the leaves' class fractions. Padding nodes compare 0 <= 0
    and feed no leaf; padding leaves want -1 left turns, which no path has."""
    t = tree.tree_
    inner = [n for n in range(t.node_count) if t.children_left[n] != -1]
    leaf = [n for n in range(t.node_count) if t.children_left[n] == -1]
    a = np.zeros((features, internal), np.float32)
    b = np.zeros(internal, np.float32)
    c = np.zeros((internal, leaves), np.float32)
    d = np.full(leaves, -1.0, np.float32)
    e = np.zeros((leaves, t.value.shape[2]), np.float32)
    for i, n in enumerate(inner):
        a[t.feature[n], i] = 1.0
        b[i] = t.threshold[n]
    def walk(n, path):
        if t.children_left[n] == -1:
            l = leaf.index(n)
            for i, side in path:
                c[i, l] = side
            d[l] = sum(1 for _, side in path if side > 0)
            e[l] = t.value[n][0] / t.value[n][0].sum()
            return
        i = inner.index(n)
        walk(t.children_left[n], path + [(i, 1.0)])
        walk(t.children_right[n], path + [(i, -1.0)])
    walk(0, [])
    return a, b, c, d, e


def hummingbird_forest(folder="hb_forest"):
    """A random forest on the digits in the shape hummingbird's GEMM strategy exports (what
    torch.onnx writes for it, opset 11): one MatMul picking every tree's features,
    Not(Greater) against the thresholds, Cast, Reshape and Transpose to trees first, a MatMul by
    the batched [trees, nodes, leaves] path matrix, Equal to each leaf's left-turn count, Cast,
    a MatMul by the batched leaf values, ReduceSum over the trees and Div by their count for
    the probabilities, ArgMax and a Gather of the class labels. Outputs: label, probabilities."""
    from sklearn.ensemble import RandomForestClassifier
    digits = load_digits()
    x = digits.data.astype(np.float32)
    y = digits.target
    clf = RandomForestClassifier(n_estimators=8, max_depth=6, random_state=1).fit(x[:1400], y[:1400])
    print(folder, "float test accuracy", clf.score(x[1400:], y[1400:]))
    trees = clf.estimators_
    internal = max(int((t.tree_.children_left != -1).sum()) for t in trees)
    leaves = max(int((t.tree_.children_left == -1).sum()) for t in trees)
    mats = [tree_matrices(t, x.shape[1], internal, leaves) for t in trees]
    n = len(trees)
    a = np.concatenate([m[0] for m in mats], axis=1)
    b = np.concatenate([m[1] for m in mats])
    c = np.stack([m[2] for m in mats])
    d = np.stack([m[3] for m in mats])[:, None, :]
    e = np.stack([m[4] for m in mats])
    init = [numpy_helper.from_array(v, name) for v, name in [
        (a, "A"), (b, "B"), (c, "C"), (d, "D"), (e, "E"),
        (np.array([-1, n, internal], np.int64), "shape"),
        (np.array(float(n), np.float32), "count"),
        (clf.classes_.astype(np.int64), "classes")]]
    node = helper.make_node
    nodes = [
        node("MatMul", ["input", "A"], ["picked"], name="/MatMul"),
        node("Greater", ["picked", "B"], ["went_right"], name="/Greater"),
        node("Not", ["went_right"], ["went_left"], name="/Not"),
        node("Cast", ["went_left"], ["left"], to=TensorProto.FLOAT, name="/Cast"),
        node("Reshape", ["left", "shape"], ["per_tree"], name="/Reshape"),
        node("Transpose", ["per_tree"], ["trees_first"], perm=[1, 0, 2], name="/Transpose"),
        node("MatMul", ["trees_first", "C"], ["turns"], name="/MatMul_1"),
        node("Equal", ["turns", "D"], ["reached"], name="/Equal"),
        node("Cast", ["reached"], ["leaf"], to=TensorProto.FLOAT, name="/Cast_1"),
        node("MatMul", ["leaf", "E"], ["votes"], name="/MatMul_2"),
        node("ReduceSum", ["votes"], ["total"], axes=[0], keepdims=0, name="/ReduceSum"),
        node("Div", ["total", "count"], ["probabilities"], name="/Div"),
        node("ArgMax", ["probabilities"], ["index"], axis=1, keepdims=0, name="/ArgMax"),
        node("Gather", ["classes", "index"], ["variable"], axis=0, name="/Gather"),
    ]
    graph = helper.make_graph(
        nodes, "hummingbird_forest",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("variable", TensorProto.INT64, ["batch"]),
         helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6
    path, sess = write_model(folder, model)
    test = x[1400:1528]
    labels, probs = sess.run(None, {"input": test})
    assert (labels == clf.predict(test)).all(), "the GEMM form disagrees with scikit-learn"
    assert np.allclose(probs, clf.predict_proba(test), atol=1e-5)
    dump = lambda obj, f: json.dump(obj, open(os.path.join(path, f), "w"))
    sample = x[1400]
    dump({"input_data": [sample.astype(float).tolist()]}, "input.json")
    dump({"input_data": [x[:48].reshape(-1).astype(float).tolist()]}, "calibration.json")
    dump({"output_data": [[float(labels[0])] + probs[0].astype(float).tolist()]}, "expected.json")
    dump({"input_data": [test.reshape(-1).astype(float).tolist()],
          "labels": y[1400:1528].tolist(), "predicted": clf.predict(test).tolist()}, "test.json")


if __name__ == "__main__":
    digits_mlp()
    matmul_mlp()
    lenet5()
    mlp784()
    cifar_resnet()
    unsupported_op()
    attention()
    two_inputs()
    nanogpt()
    sklearn_models()
    hummingbird_forest()
