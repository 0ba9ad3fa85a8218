#!/usr/bin/env python3
"""Proves the same ONNX models and inputs with EZKL and with zkinfer, in one run, alternating,
and prints per model one table with a column per setting (by default all four: EZKL default,
EZKL hashed, zkinfer private, zkinfer public): prove wall time (median), create_proof with the
key held, peak RSS, proof size, verify time, and the ratios zkinfer wins by.

Usage (see scripts/compare_ezkl.sh, which sets up the virtualenv):
    python3 scripts/compare_ezkl.py [--reps 3] [--ezkl-params fixed,hashed] [--ezkl-mem-gb N]
        [--zkinfer-weights private,public] [model_dir ...]
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


def parse_list(text, allowed):
    """A comma-separated choice list, e.g. `fixed,hashed`."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in allowed]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(allowed)}")
    return items


def measure(system, reps_done, cmds, mem_gb):
    """One rep of a prepared system: (prove, verify) measurements, or a failure text."""
    prove, verify = cmds
    try:
        return timed(prove, mem_gb=mem_gb), timed(verify, mem_gb=mem_gb)
    except StepFailed as e:
        return f"{system} prove or verify failed ({e})"


def summary(system, info, runs):
    """Median prove and verify of a system's runs, with its circuit size and proof size."""
    med = lambda i, j: statistics.median(r[i][j] for r in runs)
    out = dict(size=info["size"](), rows=info["rows"], prove=med(0, 0), verify=med(1, 0),
               rss=max(r[0][1] for r in runs))
    if system.startswith("zkinfer"):
        out["create"] = statistics.median(create_proof_seconds(r[0][3]) for r in runs)
        out["check"] = statistics.median(check_seconds(r[1][2]) for r in runs)
    return out


def print_model(name, systems, results):
    """One table per model: a column per system, then the ratios zkinfer wins by."""
    cols = [s for s in systems]
    print(f"\n### {name}\n")
    print("| | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    cell = lambda s, f: f(results[s]) if isinstance(results.get(s), dict) else "failed"
    rows = [
        ("circuit (EZKL logrows, zkinfer k)", lambda r: str(r["rows"])),
        ("prove (median)", lambda r: f"{r['prove']:.2f} s"),
        ("create_proof, key held", lambda r: f"{r['create']:.2f} s" if "create" in r else "-"),
        ("peak RSS of prove", lambda r: f"{r['rss']:,.0f} MB"),
        ("proof", lambda r: f"{r['size']:,} B"),
        ("verify (zkinfer: key rebuilt)", lambda r: f"{r['verify']:.2f} s"),
        ("proof check, key held", lambda r: f"{r['check']:.3f} s" if "check" in r else "-"),
    ]
    for label, f in rows:
        print(f"| {label} | " + " | ".join(cell(s, f) for s in cols) + " |")
    for s in cols:
        if not isinstance(results.get(s), dict):
            print(f"\n{s}: {results.get(s, 'not run')}")
    pairs = [("EZKL default", "zkinfer public"), ("EZKL default", "zkinfer private"),
             ("EZKL hashed", "zkinfer private")]
    for e, z in pairs:
        a, b = results.get(e), results.get(z)
        if isinstance(a, dict) and isinstance(b, dict):
            print(f"\n{z} against {e}: prove {a['prove'] / b['prove']:.1f}x "
                  f"({a['prove'] / b['create']:.1f}x with the key held), "
                  f"peak RSS {a['rss'] / b['rss']:.1f}x less")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ezkl-params", type=lambda t: parse_list(t, ["fixed", "hashed"]),
                    default=["fixed", "hashed"],
                    help="EZKL's param_visibility settings to run: fixed (its default: weights in the "
                         "circuit), hashed (private weights, public hash), or both (fixed,hashed)")
    ap.add_argument("--ezkl-mem-gb", type=float, default=None,
                    help="address-space cap for each EZKL process, in GiB")
    ap.add_argument("--zkinfer-weights", type=lambda t: parse_list(t, ["private", "public"]),
                    default=["private", "public"],
                    help="zkinfer's weights to run: private (committed, its default), public (in the "
                         "spec), or both (private,public)")
    ap.add_argument("models", nargs="*", default=["circuits/mlp_digits", "circuits/lenet5"])
    args = ap.parse_args()
    if not os.path.exists(ZKINFER):
        sys.exit("build first: cargo build --release -p zkinfer-cli")
    ezkl_names = {"fixed": "EZKL default", "hashed": "EZKL hashed"}
    systems = [ezkl_names[p] for p in args.ezkl_params] + [f"zkinfer {w}" for w in args.zkinfer_weights]
    for m in args.models:
        model_dir = os.path.join(ROOT, m)
        prepared, results = {}, {}
        with tempfile.TemporaryDirectory() as work:
            for p in args.ezkl_params:
                name = ezkl_names[p]
                print(f"== {m}: preparing {name}", flush=True)
                d = os.path.join(work, p)
                os.makedirs(d)
                try:
                    rows, prove, verify, size = prepare_ezkl(
                        model_dir, d, "hashed/public" if p == "hashed" else "fixed", args.ezkl_mem_gb)
                    prepared[name] = dict(rows=rows, cmds=(prove, verify), size=size, mem=args.ezkl_mem_gb)
                except StepFailed as e:
                    results[name] = str(e)
                    print(f"   {e}", flush=True)
            for w in args.zkinfer_weights:
                name = f"zkinfer {w}"
                print(f"== {m}: preparing {name}", flush=True)
                d = os.path.join(work, w)
                os.makedirs(d)
                k, prove, verify, size = prepare_zkinfer(model_dir, d, w)
                prepared[name] = dict(rows=k, cmds=(prove, verify), size=size, mem=None)
            runs = {name: [] for name in prepared}
            for r in range(args.reps):  # alternating between the systems
                for name, info in prepared.items():
                    if name in results:
                        continue
                    got = measure(name, r, info["cmds"], info["mem"])
                    if isinstance(got, str):
                        results[name] = got
                        print(f"   {got}", flush=True)
                        continue
                    runs[name].append(got)
                    print(f"   rep {r + 1}: {name} prove {got[0][0]:.2f} s, verify {got[1][0]:.2f} s",
                          flush=True)
            for name, info in prepared.items():
                if name not in results:
                    results[name] = summary(name, info, runs[name])
        print_model(os.path.basename(m), systems, results)


if __name__ == "__main__":
    main()
