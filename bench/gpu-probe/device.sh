#!/usr/bin/env bash
# One call on a lent GPU machine (the workplace's `device` tool): records the machine, finds a gpu-probe binary
# (one built on the build machine and carried in .gpurun/, or else builds the standalone CMake project there with
# the nlohmann_json headers carried in .gpurun/deps), runs bench/gpu-probe/run.sh and one --full run, and packs
# every report into $OUT/probe-results.tgz (the tool returns at most 8 files).
#   prepare here:  cmake --build build --target gpu-probe; mkdir -p .gpurun/deps/{include,share/cmake}
#                  cp build/gpu-probe/gpu-probe .gpurun/; cp -r /usr/include/nlohmann .gpurun/deps/include/
#                  cp -r /usr/share/cmake/nlohmann_json .gpurun/deps/share/cmake/
#   run there:     bench/gpu-probe/device.sh        (carry .gpurun)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTDIR=${OUT:-$ROOT/build-bench-probe/out}
RES=/tmp/probe-results
mkdir -p "$RES" "$OUTDIR"
pack() { tar czf "$OUTDIR/probe-results.tgz" -C "$RES" . 2>/dev/null; }

{
  date -u
  nvidia-smi
  nvidia-smi -q | head -120
  nvcc --version
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  grep PRETTY /etc/os-release
  ldd --version | head -1
  echo "cores: $(nproc)"
} >"$RES/env.txt" 2>&1
grep -E "Driver Version|Product Name|CUDA Version" "$RES/env.txt" | head -4

# The carried binary needs libcudart/libcublas 13 from wherever the image keeps them.
for lib in libcudart.so.13 libcublas.so.13; do
  dir=$(find /usr/local /opt /usr/lib -name "$lib" -print -quit 2>/dev/null | xargs -r dirname)
  [[ -n "$dir" ]] && export LD_LIBRARY_PATH="$dir:${LD_LIBRARY_PATH:-}"
done
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"

PROBE=$ROOT/.gpurun/gpu-probe
if [[ -x "$PROBE" ]] && "$PROBE" --version; then
  echo "using the carried binary"
else
  echo "carried binary unusable; building the standalone project here"
  ldd "$PROBE" 2>&1 | grep "not found" || true
  cmake -S "$ROOT/bench/gpu-probe/standalone" -B /tmp/probe-build -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$ROOT/.gpurun/deps" >"$RES/build.log" 2>&1 &&
    ninja -C /tmp/probe-build gpu-probe >>"$RES/build.log" 2>&1
  tail -5 "$RES/build.log"
  PROBE=/tmp/probe-build/gpu-probe/gpu-probe
fi
"$PROBE" --version || { pack; exit 1; }

GPU_PROBE=$PROBE RUNS=${RUNS:-10} "$ROOT/bench/gpu-probe/run.sh" "$RES" >"$RES/run.log" 2>&1
echo "run.sh exit $?"
grep -E "^(quick run|inject)" "$RES/run.log"
pack

start=$EPOCHREALTIME
timeout "${FULL_TIMEOUT:-150}" "$PROBE" --full --output "$RES/full.json" >/dev/null 2>"$RES/full.stderr"
echo "full: exit $?, $(python3 -c "print(round($EPOCHREALTIME - $start, 1))") s"
pack
echo
cp "$RES/summary.txt" "$OUTDIR/" 2>/dev/null; cat "$RES/summary.txt" 2>/dev/null || tail -20 "$RES/run.log"
