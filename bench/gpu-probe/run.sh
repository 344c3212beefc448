#!/usr/bin/env bash
# gpu-probe bench: builds the probe, measures PyTorch reference figures, runs quick mode 10 times and every fault
# injection, then prints the comparison table. Needs a GPU machine with the driver, CUDA 13 and PyTorch.
# Usage: bench/gpu-probe/run.sh [output-dir]     (env: RUNS=10, JOBS=$(nproc), GPU_PROBE=prebuilt binary,
#        PROBE_TIMEOUT=120 seconds per probe run)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-bench-probe/results}
RUNS=${RUNS:-10}
JOBS=${JOBS:-$(nproc)}
PROBE_TIMEOUT=${PROBE_TIMEOUT:-120}  # a hung probe is a result (exit 124), not a lost lease
mkdir -p "$OUT"

if [[ -z "${GPU_PROBE:-}" ]]; then
  # The full project configure needs the server's dependencies; fall back to building gpu-probe alone.
  if cmake -S "$ROOT" -B "$ROOT/build-bench-probe/full" -G Ninja -DCMAKE_BUILD_TYPE=Release \
       -DFLEET_WITH_CUDA=ON -DFLEET_BUILD_TESTS=OFF -DFLEET_BUILD_BENCH=OFF >"$OUT/configure.log" 2>&1; then
    ninja -C "$ROOT/build-bench-probe/full" -j"$JOBS" gpu-probe
    GPU_PROBE=$ROOT/build-bench-probe/full/gpu-probe/gpu-probe
  else
    echo "full configure failed (see $OUT/configure.log); building gpu-probe standalone" >&2
    cmake -S "$ROOT/bench/gpu-probe/standalone" -B "$ROOT/build-bench-probe/standalone" -G Ninja \
      -DCMAKE_BUILD_TYPE=Release
    ninja -C "$ROOT/build-bench-probe/standalone" -j"$JOBS" gpu-probe
    GPU_PROBE=$ROOT/build-bench-probe/standalone/gpu-probe/gpu-probe
  fi
fi
echo "probe: $GPU_PROBE"
nvidia-smi -L || true

echo "PyTorch reference (GPU 0)..."
# A missing or broken PyTorch must not cost the probe's own figures: the table then shows '-' for the reference.
python3 "$ROOT/bench/gpu-probe/torch_reference.py" --device 0 >"$OUT/torch_reference.json" ||
  echo "PyTorch reference failed; continuing without it" >&2

: >"$OUT/quick_runs.tsv"
for i in $(seq 1 "$RUNS"); do
  start=$EPOCHREALTIME
  set +e
  timeout "$PROBE_TIMEOUT" "$GPU_PROBE" --quick --output "$OUT/quick_$i.json" >/dev/null
  code=$?
  set -e
  wall=$(python3 -c "print(round($EPOCHREALTIME - $start, 3))")
  echo "$i $code $wall" >>"$OUT/quick_runs.tsv"
  echo "quick run $i: exit $code, ${wall}s"
done

: >"$OUT/inject_runs.tsv"
for mode in memflip gemm-corrupt slow-bandwidth ecc throttle missing-gpu; do
  set +e
  timeout "$PROBE_TIMEOUT" "$GPU_PROBE" --quick --inject "$mode" --output "$OUT/inject_$mode.json" >/dev/null
  code=$?
  set -e
  echo "$mode $code" >>"$OUT/inject_runs.tsv"
  echo "inject $mode: exit $code"
done

python3 "$ROOT/bench/gpu-probe/summarize.py" "$OUT" | tee "$OUT/summary.txt"
