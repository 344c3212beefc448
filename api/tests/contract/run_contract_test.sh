#!/usr/bin/env bash
# The response contract test (api/README.md): runs a chosen set of integration test cases with FLEET_CONTRACT_LOG
# set, so that integration-tests/fleetd_process.cpp records every exchange with fleetd, then validates the log
# against api/openapi.yaml. Fails when a test case fails, on any violation, or when fewer than MIN_OPERATIONS
# distinct operations were exercised.
# Usage: run_contract_test.sh REPO_ROOT INTEGRATION_TEST_BINARY LOG MIN_OPERATIONS TEST_SPEC...
set -euo pipefail
root=$1 binary=$2 log=$3 min_operations=$4
shift 4
rm -f "$log"
mkdir -p "$(dirname "$log")"
start=$(date +%s)
FLEET_CONTRACT_LOG=$log "$binary" "$@"
echo "contract: integration test cases done in $(($(date +%s) - start)) s; validating $log"
exec python3 "$root/api/tests/contract/validate_responses.py" --spec "$root/api/openapi.yaml" --log "$log" \
  --min-operations "$min_operations" --list-uncovered
