#!/usr/bin/env bash
# Lints api/openapi.yaml with Redocly CLI (api/redocly.yaml) and fails on any error or warning. scripts/setup
# installs the CLI into .tools/npm; without npm at all the test is skipped (exit 77), and with npm but no CLI it
# fails, naming the cause, rather than pass without linting.
set -uo pipefail
root=${1:?usage: lint_openapi.sh REPO_ROOT}
redocly="$root/.tools/npm/node_modules/.bin/redocly"
if [[ ! -x "$redocly" ]]; then
  if ! command -v npm >/dev/null; then
    echo "lint_openapi: SKIPPED: npm is not installed, so Redocly CLI cannot be (scripts/setup installs both)"
    exit 77
  fi
  echo "lint_openapi: FAIL: $redocly is missing; scripts/setup installs it with npm (did npm fail? run it again)"
  exit 1
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
out=$("$redocly" lint --config "$root/api/redocly.yaml" --format=stylish "$root/api/openapi.yaml" 2>&1)
rc=$?
echo "$out"
if ((rc != 0)); then
  echo "lint_openapi: FAIL: redocly lint found errors (exit $rc)"
  exit 1
fi
if grep -qE '^[[:space:]]+[0-9]+:[0-9]+[[:space:]]+warning' <<<"$out"; then
  echo "lint_openapi: FAIL: redocly lint warnings; fix them in api/openapi.yaml (api/README.md)"
  exit 1
fi
echo "lint_openapi: OK, 0 errors and 0 warnings"
