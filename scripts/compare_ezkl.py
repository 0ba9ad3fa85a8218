#!/usr/bin/env python3
"""Proves the same ONNX models and inputs with EZKL (its default pipeline) and with zkinfer, in
one run, alternating, and prints per model: prove wall time (median), peak RSS, proof size,
verify time, and the ratios.

Usage (see scripts/compare_ezkl.sh, which sets up the virtualenv):
    python3 scripts/compare_ezkl.py [--reps 3] [model_dir ...]     # default: circuits/mlp_digits circuits/lenet5

Each prove and verify runs in its own process under /usr/bin/time, so peak RSS is the step's own.
EZKL: gen_settings (defaults: weights fixed in the circuit), calibrate_settings (target
"resources"), compile_circuit, gen_srs at the settings' logrows (generated locally: fine for
timing, not for production), setup, gen_witness; then prove and verify are measured.
zkinfer: `zkinfer compile` once, then `zkinfer prove` and `zkinfer verify` are measured (verify
includes rebuilding the verifying key from the spec; the proof check alone, as a service holding
the key pays it, is read from what `zkinfer verify` reports on stderr). Likewise `zkinfer prove`
includes generating the proving key (halo2_proofs 0.4 cannot read one from disk), and the
create_proof time it prints is what a prover holding the key pays per proof.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ZKINFER = os.path.join(ROOT, "target", "release", "zkinfer")


def timed(cmd, cwd=None):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS in MB, stderr)."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M"] + cmd, cwd=cwd, capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
    line = [l for l in out.stderr.splitlines() if l.startswith("TIME ")][-1]
    _, wall, rss = line.split()
    return float(wall), int(rss) / 1024.0, out.stderr, out.stdout


def create_proof_seconds(stdout):
    """The create_proof time `zkinfer prove` prints (key generation excluded)."""
    m = re.search(r"bytes in ([0-9.]+) s", stdout)
    return float(m.group(1)) if m else float("nan")


def check_seconds(stderr):
    """The proof-check time `zkinfer verify` reports (key rebuild excluded)."""
    m = re.search(r"proof\(s\) checked in ([0-9.]+) s", stderr)
    return float(m.group(1)) if m else float("nan")


def ezkl_call(fn, **kwargs):
    """Calls an ezkl function in this process (setup steps), awaiting it if it is async."""
    import asyncio
    import inspect

    import ezkl

    result = getattr(ezkl, fn)(**kwargs)
    if inspect.isawaitable(result):
        result = asyncio.run(result)
    return result


def ezkl_step(fn, **kwargs):
    """The python command running one ezkl call in a fresh process."""
    code = (
        "import asyncio, inspect, ezkl\n"
        f"r = ezkl.{fn}(**{kwargs!r})\n"
        "r = asyncio.run(r) if inspect.isawaitable(r) else r\n"
        "assert r is not False\n"
    )
    return [sys.executable, "-c", code]


def prepare_ezkl(model_dir, work):
    p = lambda f: os.path.join(work, f)
    model, data = os.path.join(model_dir, "model.onnx"), os.path.join(model_dir, "input.json")
    import ezkl
    import onnx

    # Symbolic dimensions (a batch dimension) are fixed to 1, as zkinfer reads them.
    names = {d.dim_param for i in onnx.load(model).graph.input
             for d in i.type.tensor_type.shape.dim if d.dim_param}
    run_args = ezkl.PyRunArgs()
    run_args.variables = [(n, 1) for n in sorted(names)] or [("batch_size", 1)]
    ezkl_call("gen_settings", model=model, output=p("settings.json"), py_run_args=run_args)
    ezkl_call("calibrate_settings", data=data, model=model, settings=p("settings.json"), target="resources")
    ezkl_call("compile_circuit", model=model, compiled_circuit=p("model.compiled"), settings_path=p("settings.json"))
    logrows = json.load(open(p("settings.json")))["run_args"]["logrows"]
    ezkl_call("gen_srs", srs_path=p("kzg.srs"), logrows=logrows)
    ezkl_call("setup", model=p("model.compiled"), vk_path=p("vk.key"), pk_path=p("pk.key"), srs_path=p("kzg.srs"))
    ezkl_call("gen_witness", data=data, model=p("model.compiled"), output=p("witness.json"))
    prove = ezkl_step("prove", witness=p("witness.json"), model=p("model.compiled"), pk_path=p("pk.key"),
                      proof_path=p("proof.json"), srs_path=p("kzg.srs"))
    verify = ezkl_step("verify", proof_path=p("proof.json"), settings_path=p("settings.json"),
                       vk_path=p("vk.key"), srs_path=p("kzg.srs"))

    def size():
        proof = json.load(open(p("proof.json")))
        raw = proof.get("proof") or proof.get("hex_proof") or ""
        if isinstance(raw, list):
            return len(raw)
        return len(bytes.fromhex(raw[2:] if raw.startswith("0x") else raw))

    return logrows, prove, verify, size


def prepare_zkinfer(model_dir, work):
    p = lambda f: os.path.join(work, f)
    subprocess.run(
        [ZKINFER, "compile", os.path.join(model_dir, "model.onnx"), "--calibration",
         os.path.join(model_dir, "calibration.json"), "--out", p("model.zkm"), "--spec", p("spec.json")],
        check=True, capture_output=True,
    )
    k = json.load(open(p("spec.json")))["circuit"]["k"]
    prove = [ZKINFER, "prove", p("model.zkm"), "--input", os.path.join(model_dir, "input.json"), "--out", p("proof.bin")]
    verify = [ZKINFER, "verify", p("spec.json"), p("proof.bin")]
    # Warm the parameter cache and key path once.
    subprocess.run(prove, check=True, capture_output=True)
    return k, prove, verify, lambda: os.path.getsize(p("proof.bin"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("models", nargs="*", default=["circuits/mlp_digits", "circuits/lenet5"])
    args = ap.parse_args()
    if not os.path.exists(ZKINFER):
        sys.exit("build first: cargo build --release -p zkinfer-cli")
    rows = []
    for m in args.models:
        model_dir = os.path.join(ROOT, m)
        with tempfile.TemporaryDirectory() as ew, tempfile.TemporaryDirectory() as zw:
            print(f"== {m}: preparing", flush=True)
            e_rows, e_prove, e_verify, e_size = prepare_ezkl(model_dir, ew)
            z_k, z_prove, z_verify, z_size = prepare_zkinfer(model_dir, zw)
            e_p, z_p, e_v, z_v = [], [], [], []
            for r in range(args.reps):  # alternating
                e_p.append(timed(e_prove))
                z_p.append(timed(z_prove))
                e_v.append(timed(e_verify))
                z_v.append(timed(z_verify))
                print(f"   rep {r + 1}: ezkl prove {e_p[-1][0]:.2f} s, zkinfer prove {z_p[-1][0]:.2f} s", flush=True)
            med = lambda xs, i: statistics.median(x[i] for x in xs)
            z_check = statistics.median(check_seconds(x[2]) for x in z_v)
            z_create = statistics.median(create_proof_seconds(x[3]) for x in z_p)
            rows.append((m, e_rows, z_k, med(e_p, 0), med(z_p, 0), max(x[1] for x in e_p), max(x[1] for x in z_p),
                         e_size(), z_size(), med(e_v, 0), med(z_v, 0), z_check, z_create))
    print()
    print("| model | EZKL logrows | zkinfer k | EZKL prove | zkinfer prove | speed-up | zkinfer create_proof (key held) | EZKL peak RSS | zkinfer peak RSS | RSS ratio | EZKL proof | zkinfer bundle | EZKL verify | zkinfer verify | zkinfer proof check |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (m, er, zk, ep, zp, erss, zrss, es, zs, ev, zv, zc, zcp) in rows:
        print(f"| {os.path.basename(m)} | {er} | {zk} | {ep:.2f} s | {zp:.2f} s | {ep / zp:.1f}x | {zcp:.2f} s ({ep / zcp:.1f}x) | "
              f"{erss:.0f} MB | {zrss:.0f} MB | "
              f"{erss / zrss:.1f}x | {es} B | {zs} B | {ev:.2f} s | {zv:.2f} s | {zc:.3f} s |")


if __name__ == "__main__":
    main()
