#!/usr/bin/env python3
"""How many bits the CIFAR-ResNet reference model needs: a numpy re-implementation of
`circuits/cifar_resnet/model.onnx` (BatchNorm folded, as zkinfer lowers it) with
round-to-nearest quantization of every activation (a power-of-two scale per tensor fitted to
its calibrated maximum) and every weight (one scale per output channel: a power of two as
zkinfer has, or an arbitrary one as a fixed-point multiplier would allow), optionally with
each filter's bias corrected by the mean weight-rounding error on the calibration inputs,
measured against the float model on held-out images (`scripts/heldout_sets.py DIR` writes
them).

It simulates the arithmetic only (no saturation, no integer bias rounding), so its 8-bit row
is close to, not equal to, `zkinfer eval`.
Usage: scripts/precision_sim.py HELDOUT_DIR/cifar_resnet.json   (needs numpy and onnx)
"""
import json, sys

import numpy as np
import onnx
from onnx import numpy_helper

MODEL = "circuits/cifar_resnet/model.onnx"
W = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in onnx.load(MODEL).graph.initializer}


def fold(conv, bn):
    s = W[bn + ".scale"] / np.sqrt(W[bn + ".var"] + 1e-5)
    return W[conv + ".weight"] * s[:, None, None, None], (W[conv + ".bias"] - W[bn + ".mean"]) * s + W[bn + ".bias"]


def conv3x3(x, w, b):
    n, _, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd))
    for ky in range(3):
        for kx in range(3):
            out += np.einsum("ncij,oc->noij", xp[:, :, ky:ky + h, kx:kx + wd], w[:, :, ky, kx])
    return out + b[None, :, None, None]


def pow2_scale(max_abs, bits):
    return 2.0 ** np.floor(np.log2((2 ** (bits - 1) - 1) / max(max_abs, 1e-9)))


def quantize_weights(w, bits, arbitrary):
    out = np.empty_like(w)
    for o in range(w.shape[0]):
        m = np.abs(w[o]).max()
        s = (2 ** (bits - 1) - 1) / m if arbitrary else pow2_scale(m, bits)
        out[o] = np.round(w[o] * s) / s
    return out


def bias_corrected(quantized, float_w, cal):
    """Each filter's bias minus the mean of (W_q - W) x over the calibration inputs."""
    out = []
    _, _, reads = forward(cal, float_w)
    for x, (wq, _), (w, b) in zip(reads, quantized, float_w):
        if wq.ndim == 4:
            drift = conv3x3(x, wq - w, np.zeros(w.shape[0])).mean(axis=(0, 2, 3))
        else:
            drift = (x @ (wq - w).T).mean(axis=0)
        out.append((wq, b - drift))
    return out


def forward(x, weights, act_bits=None, act_max=None):
    """Logits, each quantized tensor's largest magnitude, and the values the four weighted
    layers read (conv1, conv2, conv3, fc)."""
    (w1, b1), (w2, b2), (w3, b3), (wf, bf) = weights
    seen = {}

    def q(name, v):
        seen[name] = np.abs(v).max()
        if act_bits is None:
            return v
        s = pow2_scale(act_max[name], act_bits)
        return np.round(v * s) / s

    x = q("input", x)
    r1 = q("relu1", np.maximum(conv3x3(x, w1, b1), 0))
    p1 = r1.reshape(-1, 4, 16, 2, 16, 2).max(axis=(3, 5))
    r2 = q("relu2", np.maximum(conv3x3(p1, w2, b2), 0))
    c3 = q("conv3", conv3x3(r2, w3, b3))
    r3 = q("residual", np.maximum(c3 + p1, 0))
    p2 = q("pool2", r3.reshape(-1, 4, 4, 4, 4, 4).mean(axis=(3, 5))).reshape(-1, 64)
    return q("logits", p2 @ wf.T + bf), seen, [x, p1, r2, p2]


def main():
    float_w = [fold("conv1", "bn1"), fold("conv2", "bn2"), fold("conv3", "bn3"), (W["fc.weight"], W["fc.bias"])]
    cal = np.array(json.load(open("circuits/cifar_resnet/calibration.json"))["input_data"]).reshape(-1, 3, 32, 32)
    held = np.array(json.load(open(sys.argv[1]))["input_data"]).reshape(-1, 3, 32, 32)
    _, act_max, _ = forward(cal, float_w)
    ref, _, _ = forward(held, float_w)
    print("Prediction agreement with the float model (mean |logit error|):")
    print("| weights (per channel) | " + " | ".join(f"{a}-bit activations" for a in (8, 10, 12, 16)) + " |")
    print("|---|" + "---:|" * 4)
    cases = [(8, False, False), (8, False, True), (8, True, False), (9, False, False),
             (10, False, False), (12, False, False)]
    for wbits, arbitrary, correct in cases:
        qw = [(quantize_weights(w, wbits, arbitrary), b) for w, b in float_w]
        if correct:
            qw = bias_corrected(qw, float_w, cal)
        cells = []
        for a in (8, 10, 12, 16):
            out, _, _ = forward(held, qw, a, act_max)
            agree = (out.argmax(1) == ref.argmax(1)).mean() * 100
            cells.append(f"{agree:.0f}% ({np.abs(out - ref).mean():.3f})")
        name = f"{wbits}-bit, {'arbitrary' if arbitrary else 'power-of-two'} scale"
        name += ", bias-corrected" if correct else ""
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
