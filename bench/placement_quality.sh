#!/usr/bin/env bash
# Placement quality against the optimum (issue #14): builds placement_quality if needed and runs it. Each of K
# seeded small instances is solved exactly by COIN-OR cbc (an LP file the program writes) and placed by the engine,
# first-fit and spread-only; prints a table per instance and the averages as % of the optimum (engine goal ≥ 97%).
# Usage: bench/placement_quality.sh [--instances K] [--seed S] [--load L] [--time-limit SEC] [--keep] [--show K]
#   --keep: leave the LP files, cbc's solutions and logs in the temp dir it names (or --dir DIR).
# FLEET_BUILD_DIR picks the build folder (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cbc >/dev/null || { echo "placement_quality: cbc not found; install it: apt-get install coinor-cbc" >&2; exit 2; }
build_dir=${FLEET_BUILD_DIR:-build}
bin=$build_dir/bench/placement_quality
[[ -x $bin ]] || cmake --build "$build_dir" --target placement_quality
exec "$bin" "$@"
