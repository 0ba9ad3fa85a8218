"""Writes large held-out sets for the reference models trained on scikit-learn's digits (every
digit after the 1400 used for training: 397 samples), the 100 shape images cifar_resnet's
classifier was not trained on, and 256 token sequences for nanoGPT, in the EZKL input format
with labels, for `zkinfer eval`:

    python scripts/heldout_sets.py OUT_DIR
    zkinfer eval lenet5.zkm --onnx circuits/lenet5/model.onnx --input OUT_DIR/lenet5.json

The files shipped in `circuits/*/test.json` are small slices of these sets (32-128 samples).
"""
import json
import os
import sys

import numpy as np
from sklearn.datasets import load_digits

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "circuits", "gen"))
from build_models import cifar_shape_image  # noqa: E402


def write(out, name, x, labels=None):
    obj = {"input_data": [np.asarray(x, dtype=np.float64).reshape(-1).round(6).tolist()]}
    if labels is not None:
        obj["labels"] = [int(v) for v in labels]
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(obj, f)


def main(out):
    os.makedirs(out, exist_ok=True)
    digits = load_digits()
    y = digits.target[1400:]
    small = digits.images[1400:] / 16.0
    big = np.pad(np.kron(small, np.ones((3, 3))), ((0, 0), (2, 2), (2, 2)))
    write(out, "mlp_digits", small, y)
    write(out, "attention", small, y)
    write(out, "mlp784", big, y)
    write(out, "lenet5", big, y)
    for name in ["skl_forest", "skl_logreg", "skl_mlp", "hb_forest"]:
        write(out, name, digits.data[1400:], y)
    # The generator's sequence: 400 images, the classifier trained on the first 300.
    r = np.random.default_rng(10)
    kinds = r.integers(0, 3, size=400)
    shapes = np.stack([cifar_shape_image(k, r) for k in kinds])
    write(out, "cifar_resnet", shapes[300:].round(3), kinds[300:])
    tokens = np.random.default_rng(1).integers(0, 32, size=(256, 16))
    write(out, "nanogpt", tokens)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "heldout")
