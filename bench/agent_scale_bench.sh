#!/usr/bin/env bash
# Agent scale benchmark (issue #3): N simulated clusters × M nodes heartbeating every I seconds against one fleetd
# on its embedded PostgreSQL, all on this machine. After registration and a warm-up (every agent has sent its
# full inventory) it measures a window of D seconds and prints:
#   - heartbeat round trip p50/p90/p99/max and errors (from fleet-sim's histogram, whole run and window),
#   - fleetd's and PostgreSQL's CPU (cores used) and memory (fleetd RSS, PostgreSQL PSS summed over its processes),
#   - rows written per second (inserts + updates + deletes over all tables, from pg_stat_user_tables), WAL bytes
#     per second and transactions per second, next to heartbeats per second.
# With --restart-at S, fleetd is stopped (SIGTERM) S seconds into the window and started again at once on the
# same port and data directory: the agents' errors, resyncs and the lowest count of ready clusters show what a
# restart costs the fleet.
# Usage: bench/agent_scale_bench.sh [--clusters N] [--nodes M] [--interval I] [--duration D] [--warmup W]
#                                  [--ramp R] [--restart-at S] [--out FILE.md]
set -euo pipefail
cd "$(dirname "$0")/.."
clusters=10000 nodes=20 interval=10 duration=300 warmup="" ramp=50 restart_at="" out=""
while (($#)); do
  case $1 in
    --clusters) clusters=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --ramp) ramp=$2; shift 2 ;;
    --restart-at) restart_at=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
# The first heartbeats carry full inventories (the expensive writes): they ramp up at $ramp a second, and the
# measured window starts 60 s after the last of them.
[[ -n $warmup ]] || warmup=$((clusters / ramp + 60))
source bench/lib.sh
sim=build/agents/fleet-sim
[[ -x $fleetd && -x $sim ]] || scripts/build
ulimit -n "$(ulimit -Hn)"

sim_pid=""
cleanup() {
  # Only the simulators' pids: a bare `wait` would wait for fleetd too, for ever.
  if [[ -n $sim_pid ]]; then
    kill -TERM $sim_pid 2>/dev/null || true
    wait $sim_pid 2>/dev/null || true
  fi
  # The logs of the last run outlive it, for a look at what went wrong.
  if [[ -n ${work:-} && -d $work ]]; then
    rm -rf /tmp/agent-scale-last && mkdir -p /tmp/agent-scale-last && cp "$work"/*.log /tmp/agent-scale-last/ 2>/dev/null || true
  fi
  bench_stop_fleetd
}
trap cleanup EXIT
# Every simulated agent connects from 127.0.0.1: lift the per-address cap and the total, which a real fleet spreads
# over many addresses.
bench_start_fleetd --heartbeat-interval "$interval" --max-connections 30000 --max-connections-per-source 0

# CPU seconds (utime + stime) of a set of pids; memory of fleetd (RSS) and of PostgreSQL (PSS, which counts
# shared buffers once rather than once per backend).
cpu_seconds() { local t=0; for p in "$@"; do [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
pg_pids() { echo "$pg_pid"; pgrep -P "$pg_pid" || true; }
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
pss_mib() { local t=0; for p in $(pg_pids); do t=$((t + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0))); done; echo $((t / 1024)); }
db_counters() {
  psql_fleet -c "SELECT (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables),
                        pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
                        (SELECT xact_commit FROM pg_stat_database WHERE datname = 'fleet')" | tr '|' ' '
}
hz=$(getconf CLK_TCK)

echo "registering $clusters clusters × $nodes nodes …" >&2
t0=$(date +%s)
# One fleet-sim holds about 4,500 agents under a 20,000 open-file limit (4 descriptors each): run shards.
shards=$(((clusters + 3332) / 3333))
sim_pids=()
for ((i = 0; i < shards; i++)); do
  # nice 19: the Linux scheduler shares CPU per thread, and fleet-sim's thousands of agent threads would otherwise
  # starve fleetd's handful (the system under test) on a small machine.
  nice -n 19 "$sim" --server "http://$addr" --token "$token" --clusters "$clusters" --nodes-per-cluster "$nodes" --seed 1 \
    --shard "$i/$shards" --ramp "$ramp" --heartbeat-interval "$interval" --state-file "$work/sim-state-$i.json" --stats-interval 30 \
    --log-level warn --report-file "$work/report-$i.json" --duration $((warmup + duration + 3600)) \
    --measure-after "$warmup" >"$work/sim-$i.out" 2>"$work/sim-$i.log" &
  sim_pids+=($!)
done
sim_pid="${sim_pids[*]}"
# Registration is done when every fleet-sim prints its start line.
for _ in $(seq 1 3600); do
  n=$(cat "$work"/sim-*.out 2>/dev/null | grep -c "simulated clusters running" || true)
  ((n == shards)) && break
  sleep 1
done
t1=$(date +%s)
echo "registered in $((t1 - t0)) s ($shards fleet-sim processes); warming up ${warmup} s" >&2
sleep "$warmup"
ready=$(psql_fleet -c "SELECT count(*) FROM clusters WHERE state = 'ready'")
echo "ready clusters after warm-up: $ready / $clusters; measuring ${duration} s" >&2

read -r rows0 wal0 xact0 < <(db_counters)
f_cpu0=$(cpu_seconds $fleetd_pid); p_cpu0=$(cpu_seconds $(pg_pids)); s_cpu0=$(cpu_seconds "${sim_pids[@]}")
start=$(date +%s.%N)
f_rss_max=0 p_pss_max=0 ready_min=$ready restart_note=""
# CPU of processes that exit during the window (a restarted fleetd and its PostgreSQL) is added up here.
f_cpu_done=0 p_cpu_done=0
end_at=$(($(date +%s) + duration))
restart_when=$((${restart_at:-$((duration + 1))} + $(date +%s)))
while (($(date +%s) < end_at)); do
  if (($(date +%s) >= restart_when)); then
    f_cpu_done=$((f_cpu_done + $(cpu_seconds $fleetd_pid) - f_cpu0)); p_cpu_done=$((p_cpu_done + $(cpu_seconds $(pg_pids)) - p_cpu0))
    r0=$(date +%s.%N)
    bench_restart_fleetd
    f_cpu0=0 p_cpu0=0
    restart_when=$((end_at + 1))
    restart_note="fleetd restarted at ${restart_at} s, answering again after $(awk -v s="$r0" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}') s"
    echo "$restart_note" >&2
  fi
  sleep 5
  r=$(rss_mib $fleetd_pid); ((r > f_rss_max)) && f_rss_max=$r
  p=$(pss_mib); ((p > p_pss_max)) && p_pss_max=$p
  n=$(psql_fleet -c "SELECT count(*) FROM clusters WHERE state = 'ready'" 2>/dev/null || echo "$ready_min")
  ((n < ready_min)) && ready_min=$n
done
read -r rows1 wal1 xact1 < <(db_counters)
f_cpu1=$((f_cpu_done + $(cpu_seconds $fleetd_pid))); p_cpu1=$((p_cpu_done + $(cpu_seconds $(pg_pids)))); s_cpu1=$(cpu_seconds "${sim_pids[@]}")
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {print e - s}')
kill -TERM "${sim_pids[@]}"
wait "${sim_pids[@]}" || true
sim_pid=""
ready_end=$(psql_fleet -c "SELECT count(*) FROM clusters WHERE state = 'ready'")
nodes_stored=$(psql_fleet -c "SELECT count(*) FROM nodes")
rate() { awk -v a="$1" -v b="$2" -v s="$secs" 'BEGIN { printf "%.1f", (b - a) / s }'; }
cores() { awk -v a="$1" -v b="$2" -v s="$secs" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz / s }'; }
# The shards' reports merged: counts add up, latency histograms (same buckets) add up before the percentiles.
read -r hb_rate p50 p90 p99 pmax hb_err failed resyncs < <(python3 - "$work"/report-*.json <<'PY'
import json, math, sys
reports = [json.load(open(p)) for p in sys.argv[1:]]
hist = [sum(col) for col in zip(*(r["latencyHistogram"] for r in reports))]
total = sum(hist)
def q(x):
    rank, seen = math.ceil(x * total), 0
    for i, n in enumerate(hist):
        seen += n
        if seen >= rank and total:
            return 10.0 * 1.05 ** i / 1000.0
    return 0.0
print(f"{sum(r['heartbeatsPerSecond'] for r in reports):.1f} {q(.5):.1f} {q(.9):.1f} {q(.99):.1f} {q(1):.0f}",
      sum(r["heartbeatErrors"] for r in reports), sum(r["failedCalls"] for r in reports),
      sum(r["resyncs"] for r in reports))
PY
)
table=$(cat <<TABLE
| $clusters clusters × $nodes nodes, heartbeat every ${interval} s, ${duration} s measured | value |
| --- | ---: |
| heartbeats/s (measured window) | $hb_rate |
| heartbeat p50 / p90 / p99 / max ms (measured window) | $p50 / $p90 / $p99 / $pmax |
| heartbeat errors (failed calls) | $hb_err ($failed) |
| resyncs asked by fleetd | $resyncs |
| clusters ready (after warm-up / lowest in the window / at the end) | $ready / $ready_min / $ready_end |
| nodes stored | $nodes_stored |
| fleetd CPU (cores) / RSS max MiB | $(cores "$f_cpu0" "$f_cpu1") / $f_rss_max |
| PostgreSQL CPU (cores) / PSS max MiB | $(cores "$p_cpu0" "$p_cpu1") / $p_pss_max |
| fleet-sim CPU (cores, same machine, $shards processes) | $(cores "$s_cpu0" "$s_cpu1") |
| rows written/s (ins+upd+del) | $(rate "$rows0" "$rows1") |
| WAL bytes/s | $(rate "$wal0" "$wal1") |
| transactions/s | $(rate "$xact0" "$xact1") |
TABLE
)
[[ -n $restart_note ]] && table+=$'\n'"| restart | $restart_note |"
echo "$table"
if [[ -n $out ]]; then
  {
    echo "## $(date -u +%Y-%m-%d) on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, fleetd $(git rev-parse --short HEAD)"
    echo
    echo "$table"
    echo
  } >>"$out"
fi
