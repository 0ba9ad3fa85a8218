#!/usr/bin/env python3
"""Checks the cost model printed by `zkinfer compile` against measured proving runs.

For each case (model folder, inferences per circuit, inferences per proof, layout) it compiles
the model, reads the prediction, proves under /usr/bin/time and prints predicted and measured
create_proof time, `prove` wall time and peak RSS, with the relative errors.

--sweep runs every reference model in every layout instead (batch 1), and --points FILE
writes the measured points with their columns (what the coefficients are fitted on:
scripts/fit_cost_model.py). --weights public compiles every case with public weights (the
layouts without hash lanes).
Usage: scripts/cost_model_check.py [--zkinfer target/release/zkinfer] [--sweep] [--points F]
       [--weights private|public]
"""
import argparse, json, os, re, subprocess, sys, tempfile

CASES = [
    # (model, inferences per circuit, inferences per proof, layout; None: the planner's)
    ("mlp_digits", 1, 1, None),
    ("mlp_digits", 8, 8, None),
    ("mlp_digits", 1, 8, None),
    ("mlp784", 1, 1, None),
    ("attention", 1, 1, None),
    ("lenet5", 1, 1, None),
    ("cifar_resnet", 1, 1, None),
    ("lenet5", 2, 2, None),
]
LAYOUTS = ["1x1", "1x2", "1x6", "2x1", "2x2", "2x6", "1x1w16", "1x2w16", "4x1", "4x3", "4x3p5", "4x1p3",
           "8x1p3"]
PUBLIC_LAYOUTS = ["1x0", "2x0", "4x0", "1x0w16", "4x0p5", "4x0p3", "8x0p3", "4x0t", "8x0t"]
SWEEP_MODELS = ["mlp_digits", "mlp784", "attention", "lenet5", "cifar_resnet"]


def run(cmd, skip=False):
    """Runs `cmd`; a failure ends the script, or with `skip` returns None (a sweep case that
    does not fit its layout)."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        if skip:
            print(f"skipped: {' '.join(cmd)}: {r.stderr.strip()[-200:]}", file=sys.stderr)
            return None
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zkinfer", default="target/release/zkinfer")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--points")
    ap.add_argument("--weights", choices=["private", "public"], default="private")
    args = ap.parse_args()
    z = args.zkinfer
    cases = CASES
    if args.sweep:
        layouts = PUBLIC_LAYOUTS if args.weights == "public" else LAYOUTS
        cases = [(m, 1, 1, l) for m in SWEEP_MODELS for l in layouts]
    rows, points = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for model, batch, n, layout in cases:
            d = os.path.join("circuits", model)
            zkm, spec = os.path.join(tmp, "m.zkm"), os.path.join(tmp, "m.json")
            cmd = [z, "compile", f"{d}/model.onnx", "--calibration", f"{d}/calibration.json",
                   "--out", zkm, "--spec", spec, "--batch", str(batch), "--weights", args.weights]
            if layout:
                cmd += ["--layout", layout]
            compiled = run(cmd, skip=args.sweep)
            if compiled is None:
                continue
            out = compiled.stdout
            k = int(re.search(r"^k +(\d+)", out, re.M).group(1))
            commitment_rows = int(re.search(r"commitment (\d+)", out).group(1))
            cols = re.search(r"columns +(\d+) advice \((\d+) with copies\), (\d+) fixed, \d+ instance, "
                             r"(\d+) lookups; layout (\d+)x(\d+)([wp]\d+|t)?", out)
            advice, equality = int(cols.group(1)), int(cols.group(2))
            fixed, lookups = int(cols.group(3)), int(cols.group(4))
            used = f"{cols.group(5)}x{cols.group(6)}{cols.group(7) or ''}"
            full_cells = commitment_rows * int(cols.group(6)) * 19
            circuits = n // batch
            spec_json = json.load(open(spec))
            length = 1
            for s in spec_json["input"]["shape"]:
                length *= s
            data = json.load(open(f"{d}/test.json"))["input_data"][0][: length * n]
            inp = os.path.join(tmp, "in.json")
            json.dump({"input_data": [data]}, open(inp, "w"))
            r = run(["/usr/bin/time", "-f", "TIME %e %M", z, "prove", zkm, "--input", inp,
                     "--out", os.path.join(tmp, "p.bin")])
            cp = float(re.search(r"bytes in ([\d.]+) s", r.stdout).group(1))
            m = re.search(r"predicted: create_proof ([\d.]+) s, prove ([\d.]+) s, peak RSS (\d+) MB",
                          r.stdout)
            pred_cp, pred_wall, pred_rss = float(m.group(1)), float(m.group(2)), float(m.group(3))
            wall, rss_kb = re.search(r"TIME ([\d.]+) (\d+)", r.stderr).groups()
            rows.append((model, batch, circuits, used, k, pred_cp, cp, pred_wall, float(wall),
                         pred_rss, int(rss_kb) / 1e3))
            points.append(dict(model=model, layout=used, k=k, circuits=circuits, advice=advice,
                               equality=equality, fixed=fixed, lookups=lookups,
                               full_cells=full_cells, create_proof_s=cp,
                               prove_wall_s=float(wall), peak_rss_mb=int(rss_kb) / 1e3))
            print(rows[-1], file=sys.stderr, flush=True)
    if args.points:
        json.dump(points, open(args.points, "w"), indent=1)
    print("| model | inferences per circuit | circuits | layout | k | create_proof predicted | measured | error "
          "| prove wall predicted | measured | error | peak RSS predicted | measured | error |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    errs = []
    for model, b, c, lay, k, pc, mc, pw, mw, pr, mr in rows:
        e = [(pc - mc) / mc, (pw - mw) / mw, (pr - mr) / mr]
        errs.append(e)
        print(f"| {model} | {b} | {c} | {lay} | {k} | {pc:.2f} s | {mc:.2f} s | {100*e[0]:+.0f}% | {pw:.2f} s "
              f"| {mw:.2f} s | {100*e[1]:+.0f}% | {pr:.0f} MB | {mr:.0f} MB | {100*e[2]:+.0f}% |")
    for i, what in enumerate(["create_proof", "prove wall", "peak RSS"]):
        v = [abs(e[i]) for e in errs]
        print(f"{what}: mean |error| {100*sum(v)/len(v):.1f}%, max {100*max(v):.1f}%")


if __name__ == "__main__":
    main()
