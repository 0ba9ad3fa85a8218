#!/usr/bin/env python3
"""Fits the coefficients of the cost model (crates/zkinfer-core/src/cost.rs) on measured points.

Input: one or more JSON files written by `scripts/cost_model_check.py --sweep --points FILE`
(one point per model and layout: k, advice, permutation and fixed columns, lookup arguments,
full-width cells, measured create_proof, prove wall time and peak RSS). Least squares on

    create_proof = t0 + n (r + a A + e E + l L + x F) + f C
    prove wall - create_proof = k0 + n (kr + ke E + kf F)
    peak RSS = n (m0 + me E + ma A + mf F)

with n = 2^k, A advice, E permutation and F fixed columns, L lookup arguments and C full-width
cells (non-negative least squares, relative errors; needs numpy and scipy); prints the
coefficients and each point's error.
Usage: scripts/fit_cost_model.py POINTS.json [MORE.json ...]
"""
import json, sys

import numpy as np
from scipy.optimize import nnls


def fit(rows, target):
    x, y = np.array(rows, dtype=float), np.array(target, dtype=float)
    # Relative least squares (every point weighs the same whatever its size) with
    # non-negative coefficients: each term is a cost, so none may be fitted below zero to
    # cancel another on these points.
    w = 1.0 / y
    a = x * w[:, None]
    norm = np.abs(a).max(axis=0)
    coef, _ = nnls(a / norm, y * w)
    coef = coef / norm
    return coef, x @ coef


def main():
    pts = [p for f in sys.argv[1:] for p in json.load(open(f))]
    n = [2 ** p["k"] for p in pts]
    cp = [p["create_proof_s"] for p in pts]
    keys = [p["prove_wall_s"] - p["create_proof_s"] for p in pts]
    rss = [p["peak_rss_mb"] * 1e6 for p in pts]
    c_cp, p_cp = fit([[1, m, m * p["advice"], m * p["equality"], m * p["lookups"],
                       m * p["fixed"], p["full_cells"]] for m, p in zip(n, pts)], cp)
    c_k, p_k = fit([[1, m, m * p["equality"], m * p["fixed"]] for m, p in zip(n, pts)], keys)
    c_r, p_r = fit([[m, m * p["equality"], m * p["advice"], m * p["fixed"]]
                    for m, p in zip(n, pts)], rss)
    print("create_proof: proof_base_s {:.3g}, row_s {:.3g}, advice_row_s {:.3g}, "
          "equality_row_s {:.3g}, lookup_row_s {:.3g}, fixed_row_s {:.3g}, "
          "full_cell_s {:.3g}".format(*c_cp))
    print("keys: keygen_base_s {:.3g}, keygen_row_s {:.3g}, keygen_equality_row_s {:.3g}, "
          "keygen_fixed_row_s {:.3g}".format(*c_k))
    print("rss: shared_row_bytes {:.3g}, equality_row_bytes {:.3g}, advice_row_bytes {:.3g}, "
          "fixed_row_bytes {:.3g}".format(*c_r))
    print("| model | layout | k | create_proof | fit | prove wall | fit | peak RSS | fit |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    errs = []
    for p, a, b, c in zip(pts, p_cp, p_k, p_r):
        wall = a + b
        errs.append((abs(a - p["create_proof_s"]) / p["create_proof_s"],
                     abs(wall - p["prove_wall_s"]) / p["prove_wall_s"],
                     abs(c / 1e6 - p["peak_rss_mb"]) / p["peak_rss_mb"]))
        print(f"| {p['model']} | {p['layout']} | {p['k']} | {p['create_proof_s']:.2f} s | {a:.2f} s "
              f"| {p['prove_wall_s']:.2f} s | {wall:.2f} s | {p['peak_rss_mb']:.0f} MB | {c / 1e6:.0f} MB |")
    e = np.array(errs)
    for i, what in enumerate(["create_proof", "prove wall", "peak RSS"]):
        print(f"{what}: mean |error| {100 * e[:, i].mean():.1f}%, max {100 * e[:, i].max():.1f}%")


if __name__ == "__main__":
    main()
