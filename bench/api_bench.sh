#!/usr/bin/env bash
# API benchmark: fleetd on its embedded PostgreSQL with N clusters stored (default 10,000). Measures with wrk
#   - GET /v1/clusters/{name} (random names), and
#   - GET /v1/clusters?limit=500 (a list page of 500),
# and PostgreSQL's own select-only ceiling on the same server in the same run (pgbench -S), then prints a table.
# Usage: bench/api_bench.sh [--clusters N] [--connections C] [--duration S] [--runs R] [--out FILE.md]
set -euo pipefail
cd "$(dirname "$0")/.."
clusters=10000 connections=64 duration=20 runs=3 out=""
while (($#)); do
  case $1 in
    --clusters) clusters=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk missing: run scripts/setup" >&2; exit 1; }
source bench/lib.sh
[[ -x $fleetd ]] || scripts/build

trap bench_stop_fleetd EXIT
bench_start_fleetd

# Seeding goes straight to SQL (10,000 POSTs would measure the seeding, not the reads).
psql_fleet -c "INSERT INTO clusters (name, provider, region, labels, update_group)
  SELECT format('bench-%s', lpad(i::text, 6, '0')), CASE WHEN i % 3 = 0 THEN 'arc' ELSE 'aks' END,
         (ARRAY['westeurope','eastus','japaneast'])[1 + i % 3],
         jsonb_build_object('env', CASE WHEN i % 2 = 0 THEN 'prod' ELSE 'dev' END, 'idx', i::text),
         (ARRAY['canary','wave1','wave2'])[1 + i % 3]
  FROM generate_series(1, $clusters) AS i ON CONFLICT DO NOTHING; ANALYZE clusters;"

cat >"$work/get.lua" <<LUA
math.randomseed(42)
wrk.headers["Authorization"] = "Bearer $token"
request = function()
  return wrk.format("GET", string.format("/v1/clusters/bench-%06d", math.random(1, $clusters)))
end
LUA
cat >"$work/list.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA

# wrk --latency prints "Requests/sec:" and the 50%/99% latency lines; convert to ms.
parse_wrk() {
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec:/ { rps=$2 }
    /^ +50%/ { p50=ms($2) }
    /^ +99%/ { p99=ms($2) }
    /Non-2xx/ { errs+=$NF }
    /Socket errors/ { errs+=1 }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, errs }'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# pgbench's select-only ceiling on the same server, in its own database.
"$pgbin/psql" -h "$sock" -p "$pgport" -U fleet -d postgres -qAt -c "CREATE DATABASE pgbench" >/dev/null
"$pgbin/pgbench" -h "$sock" -p "$pgport" -U fleet -i -s 10 -q pgbench >/dev/null 2>&1

declare -a get_rps get_p50 get_p99 list_rps list_p50 list_p99 pg_tps ratios
errors=0
for r in $(seq 1 "$runs"); do
  read -r rps p50 p99 e < <(wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/get.lua" "http://$addr" | parse_wrk)
  get_rps+=("$rps"); get_p50+=("$p50"); get_p99+=("$p99"); errors=$((errors + e))
  read -r rps p50 p99 e < <(wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/list.lua" \
    "http://$addr/v1/clusters?limit=500" | parse_wrk)
  list_rps+=("$rps"); list_p50+=("$p50"); list_p99+=("$p99"); errors=$((errors + e))
  tps=$("$pgbin/pgbench" -h "$sock" -p "$pgport" -U fleet -S -c "$connections" -j 2 -T "$duration" pgbench 2>/dev/null |
        awk '/^tps/ {print int($3); exit}')
  pg_tps+=("$tps")
  # The machine's speed drifts between runs: the ratio within one run is the figure that compares.
  ratios+=("$(awk -v a="${get_rps[-1]}" -v b="$tps" 'BEGIN { printf "%.2f", a / b }')")
  echo "run $r: get ${get_rps[-1]} req/s p99 ${get_p99[-1]} ms; list ${list_rps[-1]} req/s; pgbench -S $tps tps;" \
       "ratio ${ratios[-1]}" >&2
done

m() { printf '%s\n' "$@" | median; }
g_rps=$(m "${get_rps[@]}"); l_rps=$(m "${list_rps[@]}"); p_tps=$(m "${pg_tps[@]}")
ratio=$(m "${ratios[@]}")
table=$(cat <<TABLE
| workload ($connections connections, ${duration}s × $runs runs, medians) | requests/s | p50 ms | p99 ms |
| --- | ---: | ---: | ---: |
| GET /v1/clusters/{name} (random of $clusters) | $g_rps | $(m "${get_p50[@]}") | $(m "${get_p99[@]}") |
| GET /v1/clusters?limit=500 | $l_rps | $(m "${list_p50[@]}") | $(m "${list_p99[@]}") |
| pgbench -S (same server, select-only ceiling) | $p_tps | | |

GET / pgbench ratio, median of the per-run ratios: $ratio (per run: ${ratios[*]}; goal ≥ 0.5).
Non-2xx responses or socket errors: $errors
TABLE
)
echo "$table"
if [[ -n $out ]]; then
  {
    echo "## $(date -u +%Y-%m-%d) on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB ($(uname -m)), fleetd $(git rev-parse --short HEAD)"
    echo
    echo "$table"
    echo
  } >>"$out"
fi
