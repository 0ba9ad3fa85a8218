#!/usr/bin/env python3
"""Proves the same ONNX models and inputs with EZKL (its default pipeline) and with zkinfer, in
one run, alternating, and prints per model: prove wall time (median), peak RSS, proof size,
verify time, and the ratios.

Usage (see scripts/compare_ezkl.sh, which sets up the virtualenv):
    python3 scripts/compare_ezkl.py [--reps 3] [--ezkl-params fixed|hashed] [--ezkl-mem-gb N]
        [--zkinfer-weights private|public] [model_dir ...]
    (default models: circuits/mlp_digits circuits/lenet5)

Each prove and verify runs in its own process under /usr/bin/time, so peak RSS is the step's own.
EZKL: gen_settings (defaults: weights fixed in the circuit; `--ezkl-params hashed` makes them
private advice hashed by Poseidon into a public value, the setting that matches zkinfer's),
calibrate_settings (target "resources"), compile_circuit, gen_srs at the settings' logrows
(generated locally: fine for timing, not for production), setup, gen_witness; then prove and
verify are measured. Every EZKL step runs in its own process; `--ezkl-mem-gb` caps their
address space, and a step that fails (or runs out of memory) is reported in the table in place
of EZKL's figures instead of stopping the run.
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
import resource
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ZKINFER = os.path.join(ROOT, "target", "release", "zkinfer")


class StepFailed(Exception):
    """A measured or preparatory step exited with an error."""


def limit(mem_gb):
    """A preexec_fn capping the child's address space at mem_gb GiB (None: no cap)."""
    if not mem_gb:
        return None
    cap = int(mem_gb * (1 << 30))
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def timed(cmd, cwd=None, mem_gb=None):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS in MB, stderr, stdout)."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M"] + cmd, cwd=cwd, capture_output=True, text=True,
        preexec_fn=limit(mem_gb),
    )
    lines = [l for l in out.stderr.splitlines() if l.startswith("TIME ")]
    if out.returncode != 0 or not lines:
        said = [l for l in out.stderr.strip().splitlines() if l.strip() and not l.startswith("TIME ")]
        used = ""
        if lines:
            _, wall, rss = lines[-1].split()
            used = f" after {float(wall):.0f} s at {int(rss) / 1024.0:,.0f} MB peak RSS"
        why = f": {said[-1].strip()[:100]}" if said else ""
        raise StepFailed(f"exit {out.returncode}{used}{why}")
    _, wall, rss = lines[-1].split()
    return float(wall), int(rss) / 1024.0, out.stderr, out.stdout


def create_proof_seconds(stdout):
    """The create_proof time `zkinfer prove` prints (key generation excluded)."""
    m = re.search(r"bytes in ([0-9.]+) s", stdout)
    return float(m.group(1)) if m else float("nan")


def check_seconds(stderr):
    """The proof-check time `zkinfer verify` reports (key rebuild excluded)."""
    m = re.search(r"proof\(s\) checked in ([0-9.]+) s", stderr)
    return float(m.group(1)) if m else float("nan")


def ezkl_step(fn, **kwargs):
    """The python command running one ezkl call in a fresh process."""
    code = (
        "import asyncio, inspect, ezkl\n"
        f"r = ezkl.{fn}(**{kwargs!r})\n"
        "r = asyncio.run(r) if inspect.isawaitable(r) else r\n"
        "assert r is not False\n"
    )
    return [sys.executable, "-c", code]


def prepare_ezkl(model_dir, work, params, mem_gb):
    p = lambda f: os.path.join(work, f)
    model, data = os.path.join(model_dir, "model.onnx"), os.path.join(model_dir, "input.json")
    import onnx

    # Symbolic dimensions (a batch dimension) are fixed to 1, as zkinfer reads them.
    names = {d.dim_param for i in onnx.load(model).graph.input
             for d in i.type.tensor_type.shape.dim if d.dim_param}
    variables = [(n, 1) for n in sorted(names)] or [("batch_size", 1)]
    gen_settings = [sys.executable, "-c", (
        "import ezkl\n"
        "a = ezkl.PyRunArgs()\n"
        f"a.variables = {variables!r}\n"
        f"a.param_visibility = {params!r}\n"
        f"assert ezkl.gen_settings(model={model!r}, output={p('settings.json')!r}, py_run_args=a)\n"
    )]

    def step(name, cmd):
        try:
            timed(cmd, mem_gb=mem_gb)
        except StepFailed as e:
            raise StepFailed(f"EZKL {name} failed ({e})") from None

    step("gen_settings", gen_settings)
    step("calibrate_settings", ezkl_step("calibrate_settings", data=data, model=model,
                                         settings=p("settings.json"), target="resources"))
    step("compile_circuit", ezkl_step("compile_circuit", model=model, compiled_circuit=p("model.compiled"),
                                      settings_path=p("settings.json")))
    logrows = json.load(open(p("settings.json")))["run_args"]["logrows"]
    step("gen_srs", ezkl_step("gen_srs", srs_path=p("kzg.srs"), logrows=logrows))
    step(f"setup (logrows {logrows})", ezkl_step("setup", model=p("model.compiled"), vk_path=p("vk.key"),
                                                 pk_path=p("pk.key"), srs_path=p("kzg.srs")))
    step("gen_witness", ezkl_step("gen_witness", data=data, model=p("model.compiled"), output=p("witness.json")))
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


def prepare_zkinfer(model_dir, work, weights):
    p = lambda f: os.path.join(work, f)
    subprocess.run(
        [ZKINFER, "compile", os.path.join(model_dir, "model.onnx"), "--calibration",
         os.path.join(model_dir, "calibration.json"), "--out", p("model.zkm"), "--spec", p("spec.json"),
         "--weights", weights],
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
    ap.add_argument("--ezkl-params", choices=["fixed", "hashed"], default="fixed",
                    help="EZKL's param_visibility: fixed (its default) or hashed (private weights, public hash)")
    ap.add_argument("--ezkl-mem-gb", type=float, default=None,
                    help="address-space cap for each EZKL process, in GiB")
    ap.add_argument("--zkinfer-weights", choices=["private", "public"], default="private",
                    help="zkinfer's weights: private (committed, its default) or public (in the spec)")
    ap.add_argument("models", nargs="*", default=["circuits/mlp_digits", "circuits/lenet5"])
    args = ap.parse_args()
    if not os.path.exists(ZKINFER):
        sys.exit("build first: cargo build --release -p zkinfer-cli")
    params = "hashed/public" if args.ezkl_params == "hashed" else "fixed"
    rows = []
    for m in args.models:
        model_dir = os.path.join(ROOT, m)
        with tempfile.TemporaryDirectory() as ew, tempfile.TemporaryDirectory() as zw:
            print(f"== {m}: preparing (EZKL params {params})", flush=True)
            failed = None
            try:
                e_rows, e_prove, e_verify, e_size = prepare_ezkl(model_dir, ew, params, args.ezkl_mem_gb)
            except StepFailed as e:
                failed = str(e)
                print(f"   {failed}", flush=True)
            z_k, z_prove, z_verify, z_size = prepare_zkinfer(model_dir, zw, args.zkinfer_weights)
            e_p, z_p, e_v, z_v = [], [], [], []
            for r in range(args.reps):  # alternating
                if not failed:
                    try:
                        e_p.append(timed(e_prove, mem_gb=args.ezkl_mem_gb))
                        e_v.append(timed(e_verify, mem_gb=args.ezkl_mem_gb))
                    except StepFailed as e:
                        failed = f"EZKL prove or verify failed ({e})"
                        print(f"   {failed}", flush=True)
                z_p.append(timed(z_prove))
                z_v.append(timed(z_verify))
                e_msg = f"ezkl prove {e_p[-1][0]:.2f} s" if e_p and not failed else "ezkl failed"
                print(f"   rep {r + 1}: {e_msg}, zkinfer prove {z_p[-1][0]:.2f} s", flush=True)
            med = lambda xs, i: statistics.median(x[i] for x in xs)
            z = dict(k=z_k, prove=med(z_p, 0), rss=max(x[1] for x in z_p), size=z_size(), verify=med(z_v, 0),
                     check=statistics.median(check_seconds(x[2]) for x in z_v),
                     create=statistics.median(create_proof_seconds(x[3]) for x in z_p))
            e = None if failed else dict(rows=e_rows, prove=med(e_p, 0), rss=max(x[1] for x in e_p),
                                         size=e_size(), verify=med(e_v, 0))
            rows.append((m, e, z, failed))
    print()
    print(f"EZKL param_visibility: {params}; zkinfer weights: {args.zkinfer_weights}")
    print("| model | EZKL logrows | zkinfer k | EZKL prove | zkinfer prove | speed-up | zkinfer create_proof (key held) | EZKL peak RSS | zkinfer peak RSS | RSS ratio | EZKL proof | zkinfer bundle | EZKL verify | zkinfer verify | zkinfer proof check |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (m, e, z, failed) in rows:
        name = os.path.basename(m)
        if e is None:
            print(f"| {name} | {failed} | {z['k']} | - | {z['prove']:.2f} s | - | {z['create']:.2f} s | - | "
                  f"{z['rss']:.0f} MB | - | - | {z['size']} B | - | {z['verify']:.2f} s | {z['check']:.3f} s |")
            continue
        print(f"| {name} | {e['rows']} | {z['k']} | {e['prove']:.2f} s | {z['prove']:.2f} s | "
              f"{e['prove'] / z['prove']:.1f}x | {z['create']:.2f} s ({e['prove'] / z['create']:.1f}x) | "
              f"{e['rss']:.0f} MB | {z['rss']:.0f} MB | {e['rss'] / z['rss']:.1f}x | {e['size']} B | "
              f"{z['size']} B | {e['verify']:.2f} s | {z['verify']:.2f} s | {z['check']:.3f} s |")


if __name__ == "__main__":
    main()
