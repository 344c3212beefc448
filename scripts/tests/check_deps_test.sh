#!/usr/bin/env bash
# Runs scripts/check-deps, scripts/check-size and scripts/check-test-names on a copy of the tree with planted faults: a wrong include, a test
# double in production code, a rule for a folder that does not exist yet, an oversized file, a test name with a ';'. A checker that passes
# everything would otherwise go unnoticed. Usage: scripts/tests/check_deps_test.sh [ROOT] (CTest passes the source dir).
set -euo pipefail
root=$(cd "${1:-"$(dirname "$0")/../.."}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Only the C++ sources and the three scripts: what check-deps reads, without a build folder or a git checkout.
copy=$tmp/tree
mkdir -p "$copy"
(cd "$root" && find . \( -name .git -o -name build -o -name 'build-*' -o -name node_modules -o -name .cache \) -prune \
  -o -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.cu' -o -name '*.cuh' \) -print0 |
  tar --null -T - -cf - scripts/check-deps scripts/check-size scripts/check-test-names) | tar -xf - -C "$copy"

# expect_status STATUS WHAT COMMAND...: runs the command, keeps its output in $out, fails unless it exits STATUS.
expect_status() {
  local want=$1 what=$2 got=0
  shift 2
  out=$("$@" 2>&1) || got=$?
  echo "--- $what: exit $got (want $want)"
  printf '%s\n' "$out" | tail -3 | sed 's/^/    /'
  ((got == want)) || fail "$what: exit $got, want $want"
}
expect_output() {
  local needle
  for needle in "$@"; do
    grep -qF -- "$needle" <<<"$out" || fail "output does not name '$needle'"
  done
}

# a) The tree as it is. The copy's own script with no argument also checks that ROOT defaults to the script's tree.
expect_status 0 "a) check-deps on the unchanged copy" "$copy/scripts/check-deps"

# b) model is below fleetd: it may not reach into the store.
cp "$copy/model/names.cpp" "$tmp/names.cpp"
echo '#include "fleetd/store/cluster_store.hpp"' >>"$copy/model/names.cpp"
expect_status 1 "b) model/names.cpp includes fleetd/store" "$copy/scripts/check-deps" "$copy"
expect_output "model/names.cpp" "fleetd/store"
cp "$tmp/names.cpp" "$copy/model/names.cpp"

# c) A test double in production code, even of an allowed folder (protocol may include common).
cp "$copy/protocol/command.cpp" "$tmp/command.cpp"
echo '#include "common/testing/manual_clock.hpp"' >>"$copy/protocol/command.cpp"
expect_status 1 "c) protocol/command.cpp includes common/testing" "$copy/scripts/check-deps" "$copy"
expect_output "protocol/command.cpp" "common/testing/manual_clock.hpp" "test double"
cp "$tmp/command.cpp" "$copy/protocol/command.cpp"

# d) rollout/ does not exist yet, but its rule does: the cores only, never the database.
mkdir -p "$copy/rollout"
echo '#include "fleetd/db/db_pool.hpp"' >"$copy/rollout/planner.cpp"
expect_status 1 "d) rollout/planner.cpp includes fleetd/db" "$copy/scripts/check-deps" "$copy"
expect_output "rollout/planner.cpp" "fleetd/db"
echo '#include "protocol/command.hpp"' >"$copy/rollout/planner.cpp"
expect_status 0 "d) rollout/planner.cpp includes protocol" "$copy/scripts/check-deps" "$copy"
rm -r "$copy/rollout"

# e) check-size on a tree of its own, so that a file still being split in the real tree does not decide this.
sized=$tmp/sized
mkdir -p "$sized/model/tests"
lines() { seq "$1" | sed 's|^|// line |'; }
lines 600 >"$sized/model/ok.cpp"
lines 700 >"$sized/model/tests/big_test.cpp"
expect_status 0 "e) check-size: model/ok.cpp of 600 lines, model/tests/big_test.cpp of 700" "$copy/scripts/check-size" "$sized"
lines 601 >"$sized/model/big.cpp"
expect_status 1 "e) check-size: model/big.cpp of 601 lines" "$copy/scripts/check-size" "$sized"
expect_output "model/big.cpp has 601 lines"
grep -qF "big_test" <<<"$out" && fail "check-size named model/tests/big_test.cpp, a test"
grep -qF "ok.cpp" <<<"$out" && fail "check-size named model/ok.cpp, which is at the limit, not over it"

# f) check-test-names: a ';' in a name split over two literals and lines is found, with its file and line.
expect_status 0 "f) check-test-names on the unchanged copy" "$copy/scripts/check-test-names" "$copy"
printf '%s\n' '#include <catch2/catch.hpp>' 'TEST_CASE("one half, "' '          "then; the other", "[x]") {}' \
  'TEST_CASE_METHOD(Fixture, "fine, no semicolon", "[x]") {}' >"$copy/model/tests/planted_name_test.cpp"
expect_status 1 "f) check-test-names: a planted name with a ';'" "$copy/scripts/check-test-names" "$copy"
expect_output "model/tests/planted_name_test.cpp:2" "one half, then; the other"
grep -qF "fine, no semicolon" <<<"$out" && fail "check-test-names named a test without a ';'"
rm "$copy/model/tests/planted_name_test.cpp"

echo "check_deps_test: all expectations met"
