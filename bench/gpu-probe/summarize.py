#!/usr/bin/env python3
"""Prints the gpu-probe bench table from the files run.sh left in its output directory."""
import json
import os
import statistics
import sys

CHECKS = ["hbm_bandwidth", "gemm_bf16_throughput", "gemm_fp16_throughput", "gemm_tf32_throughput",
          "gemm_fp32_throughput", "host_to_device_bandwidth", "device_to_host_bandwidth"]
# Which check must fail for each injection (any GPU).
EXPECTED = {"memflip": ["memory_test"], "gemm-corrupt": ["gemm_bf16_correctness", "gemm_fp16_correctness",
            "gemm_tf32_correctness", "gemm_fp32_correctness"], "slow-bandwidth": ["hbm_bandwidth"],
            "ecc": ["counters_after_load"], "throttle": ["throttle_reasons"], "missing-gpu": ["gpu_count"]}
GOALS = {"hbm_bandwidth": 0.95, "gemm_bf16_throughput": 0.90}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def checks_of(report, gpu=0):
    if not report or not report.get("gpus"):
        return {}
    return {c["name"]: c for c in report["gpus"][gpu]["checks"]}


def main(out):
    ref = load(os.path.join(out, "torch_reference.json")) or {}
    runs = []
    with open(os.path.join(out, "quick_runs.tsv")) as f:
        for line in f:
            i, code, wall = line.split()
            runs.append((int(i), int(code), float(wall), load(os.path.join(out, f"quick_{i}.json"))))
    passes = sum(1 for _, code, _, r in runs if code == 0 and r and r["verdict"] == "pass")
    walls = [w for _, _, w, _ in runs]
    print(f"device: {ref.get('device', '?')}  torch {ref.get('torch', '?')} (CUDA {ref.get('cuda', '?')})")
    print()
    print(f"{'check':28} {'probe (median)':>15} {'spec':>10} {'pytorch':>10} {'probe/torch':>12} {'probe/spec':>11}  unit")
    for name in CHECKS:
        vals = [checks_of(r)[name]["measured"] for _, _, _, r in runs if name in checks_of(r)
                and checks_of(r)[name]["measured"] is not None]
        if not vals:
            print(f"{name:28} {'-':>15}")
            continue
        c = checks_of(runs[-1][3])[name]
        med = statistics.median(vals)
        spec = c.get("spec")
        tr = ref.get(name)
        ratio = med / tr if tr else None
        goal = GOALS.get(name)
        flag = "" if goal is None or ratio is None else ("  OK" if ratio >= goal else f"  BELOW GOAL {goal:.0%}")
        print(f"{name:28} {med:15.1f} {spec if spec is not None else '-':>10} "
              f"{(f'{tr:.1f}' if tr else '-'):>10} {(f'{ratio:.3f}' if ratio else '-'):>12} "
              f"{(f'{med / spec:.3f}' if spec else '-'):>11}  {c['unit']}{flag}")
    print()
    print(f"quick mode wall time: min {min(walls):.2f} s, median {statistics.median(walls):.2f} s, "
          f"max {max(walls):.2f} s (goal <= 15 s: {'OK' if max(walls) <= 15 else 'MISSED'})")
    print(f"healthy runs passing: {passes}/{len(runs)} (goal {len(runs)}/{len(runs)})")
    print()
    print(f"{'injection':16} {'exit':>4}  {'expected detector':28} fired")
    all_fired = True
    with open(os.path.join(out, "inject_runs.tsv")) as f:
        for line in f:
            mode, code = line.split()
            r = load(os.path.join(out, f"inject_{mode}.json"))
            failed = set()
            if r:
                failed |= {c["name"] for c in r.get("node_checks", []) if c["status"] == "fail"}
                for g in r.get("gpus", []):
                    failed |= {c["name"] for c in g["checks"] if c["status"] == "fail"}
            fired = int(code) == 1 and any(e in failed for e in EXPECTED[mode])
            all_fired &= fired
            print(f"{mode:16} {code:>4}  {EXPECTED[mode][0]:28} {'yes' if fired else 'NO'}")
    print(f"every injected fault detected: {'yes' if all_fired else 'NO'}")


if __name__ == "__main__":
    main(sys.argv[1])
