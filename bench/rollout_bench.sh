#!/usr/bin/env bash
# Staged-upgrade benchmarks (issue #12, "Benchmarks"): fleetd on its embedded PostgreSQL and fleet-sim on this
# machine, driven through the API as an operator would (create the run with an inline strategy, :start, poll GET).
#   (a) a 3-stage run over 100 sim clusters (update groups of 20 / 30 / 50, maxConcurrency "50%" in each stage, no
#       waits, no gates), sim step times near zero (timeScale 1e6) and no faults, from :start to Completed, N runs
#       (each a new run to the next patch version); median and p90 seconds. KubeFleet: p90 96 s; goal p90 < 5 s.
#   (b) 1,000 sim clusters (3 stages of 100 / 300 / 600 at 50%) with the sim's real step durations scaled by
#       --b-scale: wall time from :start to Completed against the lower bound the strategy and the sim's durations
#       imply, and fleetd's, PostgreSQL's and fleet-sim's CPU seconds over the run. Goal: under 5% over the bound.
#   (c) the same 1,000 clusters, 10 runs in flight (each a one-stage run over its own 100 clusters, chosen by the
#       label shard=c0…c9, so no two runs share a cluster), fleetd kill -9, restarted at once on the same port and
#       data directory: time from the restart (process start) to the first transition any run records after it
#       (rollout_events.at, read from PostgreSQL, which outlives fleetd), and to the API answering again.
#       KubeFleet: p90 11 min 15 s; goal under 5 s.
# The lower bound of (b): every member of the fleet has the same shape (a control plane, a 3-node CPU pool and a
# 2-node GPU pool, upgraded one node at a time: maxSurge 1), so one member takes
#   controlPlaneUpgradeSeconds + Σ pools nodes × (drainSeconds + nodeUpgradeSeconds [+ probeSeconds on GPU nodes])
# simulated seconds, and a stage of n members at concurrency c takes ceil(n / c) such rounds; the bound is the sum
# over the stages (computed from the frozen plan's members, steps, node counts and concurrencies, by the run
# machine's own scheduling: a member starts when a slot frees) divided by the timeScale.
# Usage: bench/rollout_bench.sh [--quick] [--parts abc] [--runs N] [--b-scale S] [--c-scale S] [--out FILE.md]
#                               [--pg-stats N]
#   --quick: 3 runs for (a), (b) and (c) at a doubled timeScale (about half the time).
#   ROLLOUT_BENCH_DUMP=PREFIX in the environment writes (b)'s events and its commands' times to PREFIX.*.
#   --pg-stats N: load pg_stat_statements into the embedded PostgreSQL (ALTER SYSTEM and a restart of fleetd before
#     the fleet starts) and print the N statements that took the most time during (b).
set -euo pipefail
cd "$(dirname "$0")/.."
parts=abc runs=5 b_scale=150 c_scale="" out="" quick="" pg_stats=0
while (($#)); do
  case $1 in
    --quick) quick=1; shift ;;
    --parts) parts=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --b-scale) b_scale=$2; shift 2 ;;
    --c-scale) c_scale=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --pg-stats) pg_stats=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -n $quick ]]; then runs=3; b_scale=300; fi
[[ -n $c_scale ]] || c_scale=$b_scale
source bench/lib.sh
sim=build/agents/fleet-sim
[[ -x $fleetd && -x $sim ]] || scripts/build
ulimit -n "$(ulimit -Hn)"
hz=$(getconf CLK_TCK)

sim_pid=""
# Stops fleet-sim and fleetd; the part's logs stay in /tmp/rollout-bench-last (the work directory goes).
stop_all() {
  if [[ -n $sim_pid ]]; then
    kill -TERM $sim_pid 2>/dev/null || true
    wait $sim_pid 2>/dev/null || true
  fi
  sim_pid=""
  if [[ -n ${work:-} && -d $work ]]; then
    rm -rf /tmp/rollout-bench-last && mkdir -p /tmp/rollout-bench-last && cp "$work"/*.log "$work"/*.json /tmp/rollout-bench-last/ 2>/dev/null || true
  fi
  bench_stop_fleetd
}
trap stop_all EXIT

# The API client and the arithmetic, in Python: `drive COMMAND ARGS…` with ADDR and TOKEN in the environment.
drive() {
  EVENTS_OUT=${ROLLOUT_BENCH_DUMP:+$ROLLOUT_BENCH_DUMP.events.json} ADDR=$addr TOKEN=$token FLEETD_PID=$fleetd_pid PG_PID=$pg_pid HZ=$hz python3 - "$@" <<'PY'
import json, math, os, statistics, sys, time
import requests

cmd, args = sys.argv[1], sys.argv[2:]
base = "http://" + os.environ.get("ADDR", "")
s = requests.Session()
s.headers["Authorization"] = "Bearer " + os.environ.get("TOKEN", "")

def call(method, path, body=None, ok=(200, 201)):
    r = s.request(method, base + path, data=None if body is None else json.dumps(body), timeout=120,
                  headers={"Content-Type": "application/json"})
    if r.status_code not in ok:
        sys.exit(f"{method} {path}: {r.status_code} {r.text[:500]}")
    return r.json() if r.text else None

def ts(text):  # RFC 3339 → epoch seconds (fractions kept)
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

def pct(xs, q):
    xs = sorted(xs)
    return xs[max(0, math.ceil(q * len(xs)) - 1)]

def cpu(pids):
    t = 0
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            t += int(f[11]) + int(f[12])
        except OSError:
            pass
    return t / int(os.environ["HZ"])

def pg_pids():
    pg = int(os.environ["PG_PID"])
    out = [pg]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1]) == pg:
                    out.append(int(d))
            except OSError:
                pass
    return out

def wait_ready(n, version, timeout):
    deadline = time.time() + timeout
    while True:
        ready, cont = 0, ""
        while True:
            page = call("GET", "/v1/clusters?limit=1000" + (f"&continue={cont}" if cont else ""))
            ready += sum(c["state"] == "ready" and c.get("kubernetesVersion") == version for c in page["items"])
            cont = page.get("continue", "")
            if not cont:
                break
        if ready >= n:
            return
        if time.time() > deadline:
            sys.exit(f"only {ready}/{n} clusters ready at {version} after {timeout} s")
        time.sleep(0.5)

def run_to_completion(body, poll=0.1, timeout=1800):
    call("POST", "/v1/rollouts", body)
    t0 = time.time()
    call("POST", f"/v1/rollouts/{body['name']}:start", {})
    while True:
        ro = call("GET", f"/v1/rollouts/{body['name']}")
        if ro["state"] in ("Completed", "Failed", "Aborted", "Paused"):
            break
        if time.time() - t0 > timeout:
            sys.exit(f"{body['name']}: still {ro['state']} after {timeout} s")
        time.sleep(poll)
    wall = time.time() - t0
    if ro["state"] != "Completed":
        sys.exit(f"{body['name']} ended {ro['state']}: {ro.get('message')} {ro['counts']}")
    return ro, wall, ts(ro["finishedAt"]) - ts(ro["startedAt"])

def flights(name):
    """Each member's time in flight (first Upgrading → Succeeded), its Probing → Succeeded, and stage durations."""
    events, cont = [], ""
    while True:
        page = call("GET", f"/v1/rollouts/{name}/events?limit=5000" + (f"&continue={cont}" if cont else ""))
        events += page["items"]
        cont = page.get("continue", "")
        if not cont:
            break
    if os.environ.get("EVENTS_OUT"):
        json.dump(events, open(os.environ["EVENTS_OUT"], "w"))
    start, probing, flight, probe, stage_from, stages = {}, {}, [], [], {}, []
    for e in events:
        if e["scope"] == "stage" and e["to"] == "Running":
            stage_from[e["name"]] = ts(e["at"])
        if e["scope"] == "stage" and e["to"] == "Completed" and e["name"] in stage_from:
            stages.append(ts(e["at"]) - stage_from[e["name"]])
        if e["scope"] != "member":
            continue
        if e["to"] == "Upgrading" and e["name"] not in start:
            start[e["name"]] = ts(e["at"])
        if e["to"] == "Probing":
            probing[e["name"]] = ts(e["at"])
        if e["to"] == "Succeeded":
            flight.append(ts(e["at"]) - start[e["name"]])
            if e["name"] in probing:
                probe.append(ts(e["at"]) - probing[e["name"]])
    return flight, probe, stages

def histograms():
    """fleetd's /metrics histograms: {(name, labels): {le: cumulative count}}."""
    r = s.get(base + "/metrics", timeout=30)
    out = {}
    for line in r.text.splitlines():
        if "_bucket{" not in line:
            continue
        name, rest = line.split("{", 1)
        labels, value = rest.rsplit("} ", 1)
        le = labels.rsplit('le="', 1)[1].rstrip('"')
        key = (name[:-len("_bucket")], labels.rsplit(',le="', 1)[0] if ',le="' in labels else "")
        out.setdefault(key, {})[float("inf") if le == "+Inf" else float(le)] = float(value)
    return out

def explain_histograms(before, after):
    """Where fleetd's time went during the run: quantiles (bucket upper bounds) of the histograms that moved."""
    for key in sorted(after):
        b = before.get(key, {})
        d = sorted((le, n - b.get(le, 0)) for le, n in after[key].items())
        total = d[-1][1] if d else 0
        if total < 100:
            continue
        q = lambda p: next(le for le, n in d if n >= p * total)
        print(f"  {key[0]}{{{key[1]}}}: n {int(total)}, p50 <= {q(.5):g} s, p90 <= {q(.9):g} s, p99 <= {q(.99):g} s",
              file=sys.stderr)

if cmd == "spec":
    # spec OUT N TIMESCALE GROUPS("name:count,…"): one shape for every cluster (see the header), 1 in 4 Arc.
    path, n, scale, groups = args[0], int(args[1]), float(args[2]), args[3]
    names = [g for g, k in (x.split(":") for x in groups.split(",")) for _ in range(int(k))]
    assert len(names) == n, (len(names), n)
    aks = ["westeurope", "northeurope", "eastus", "eastus2", "westus3", "southeastasia", "uksouth"]
    arc = ["eastus", "westeurope", "centralus"]
    clusters = []
    for i in range(n):
        is_arc = i % 4 == 3
        region = arc[i % 3] if is_arc else aks[i % 7]
        c = {"name": f"{'arc' if is_arc else 'aks'}-{region}-{i}", "provider": "arc" if is_arc else "aks",
             "region": region, "updateGroup": names[i], "labels": {"shard": f"c{i % 10}"},
             "kubernetesVersion": "1.31.4",
             "pools": [{"name": "system", "count": 3, "cpu": 8, "memoryGiB": 32},
                       {"name": "gpu", "count": 2, "cpu": 96, "memoryGiB": 1024,
                        "gpu": {"model": "h100", "count": 8, "memoryGiB": 80}}]}
        if is_arc:
            c["nodeImageVersion"] = "AKSArc-AzureLinux-3.0-202510.01.0"
        clusters.append(c)
    spec = {"seed": 7, "timeScale": scale,
            "durations": {"controlPlaneUpgradeSeconds": 600, "nodeUpgradeSeconds": 240, "drainSeconds": 60,
                          "probeSeconds": 15},
            "faults": {"nodeUpgradeFailure": 0, "probeFailure": 0, "drainTimeout": 0, "agentDisconnect": 0},
            "clusters": clusters}
    text = json.dumps(spec, separators=(",", ":"))
    assert len(text) < 1 << 20, len(text)
    open(path, "w").write(text)

elif cmd == "wait-ready":
    wait_ready(int(args[0]), args[1], float(args[2]))

elif cmd == "part-a":
    runs = int(args[0])
    stages = [{"name": f"s{k}", "updateGroups": [g], "maxConcurrency": "50%", "afterStageWait": "0s"}
              for k, g in enumerate(["g20", "g30", "g50"], 1)]
    server, client, member, probing_share = [], [], [], []
    version = "1.31.4"
    for r in range(runs):
        target = f"1.31.{5 + r}"
        body = {"name": f"bench-a-{r + 1}", "target": {"type": "Full", "kubernetesVersion": target,
                "nodeImageSelection": "Latest", "allowUnsupported": True}, "strategy": {"stages": stages}}
        ro, wall, srv = run_to_completion(body, poll=0.05)
        assert ro["counts"]["succeeded"] == 100, ro["counts"]
        server.append(srv)
        # Where the time goes: each member's time in flight, split at its last Probing.
        flight, probe, _ = flights(body["name"])
        member.append(statistics.median(flight))
        probing_share.append(statistics.median(probe) if probe else 0)
        client.append(wall)
        print(f"run {r + 1}: {version} → {target} in {srv:.2f} s (client {wall:.2f} s); member in flight median "
              f"{member[-1]:.2f} s, of which Probing → Succeeded {probing_share[-1]:.2f} s", file=sys.stderr)
        version = target
        wait_ready(100, version, 60)  # the next plan starts from the inventories at the new version
    print(json.dumps({"server": server, "client": client, "member": member, "probing": probing_share}))

elif cmd == "part-b":
    scale = float(args[0])
    stages = [{"name": f"s{k}", "updateGroups": [g], "maxConcurrency": "50%", "afterStageWait": "0s"}
              for k, g in enumerate(["b100", "b300", "b600"], 1)]
    body = {"name": "bench-b", "target": {"type": "Full", "kubernetesVersion": "1.32.7",
            "nodeImageSelection": "Latest", "allowUnsupported": True}, "strategy": {"stages": stages}}
    fleetd_pid = int(os.environ["FLEETD_PID"])
    f0, p0 = cpu([fleetd_pid]), cpu(pg_pids())
    m0 = histograms()
    ro, wall, srv = run_to_completion(body, poll=0.5)
    f1, p1 = cpu([fleetd_pid]), cpu(pg_pids())
    explain_histograms(m0, histograms())
    plan = call("POST", "/v1/rollouts/bench-b:plan", {})
    flight, probe, stage_secs = flights("bench-b")
    # The lower bound: the sim's durations per member, the run machine's scheduling (a member starts when a slot
    # of its stage frees), in the plan's order.
    d = {"cp": 600, "drain": 60, "upgrade": 240, "probe": 15}
    batch = 1  # nodeUpgrade defaults: maxSurge 1, maxUnavailable 0
    bound = 0.0
    members = {}
    for m in plan["members"]:
        if "skipReason" in m:
            continue
        t = 0
        for st in m["steps"]:
            if st["kind"] == "ControlPlane":
                t += d["cp"]
            else:
                cpu_nodes, gpu_nodes = st["nodes"] - st.get("gpuNodes", 0), st.get("gpuNodes", 0)
                # One node at a time (batch 1): CPU nodes drain + upgrade, GPU nodes also wait for their probe.
                t += math.ceil(cpu_nodes / batch) * (d["drain"] + d["upgrade"])
                t += math.ceil(gpu_nodes / batch) * (d["drain"] + d["upgrade"] + d["probe"])
        members.setdefault(m["stage"], []).append(t)
    shapes = sorted({t for ts_ in members.values() for t in ts_})
    for sp in plan["stages"]:
        c = sp.get("concurrency") or min(g["concurrency"] for g in sp["groups"])
        slots = [0.0] * c
        for t in members.get(sp["name"], []):
            i = slots.index(min(slots))
            slots[i] += t
        bound += max(slots) if slots else 0
    print(json.dumps({"server": srv, "client": wall, "bound_sim": bound, "bound": bound / scale,
                      "member_sim": shapes, "estimate": plan["estimateSeconds"],
                      "flight_median": statistics.median(flight), "flight_p90": pct(flight, .9),
                      "stage_secs": stage_secs,
                      "fleetd_cpu": f1 - f0, "pg_cpu": p1 - p0, "succeeded": ro["counts"]["succeeded"],
                      "stages": [(sp["name"], len(members.get(sp["name"], [])),
                                  sp.get("concurrency") or min(g["concurrency"] for g in sp["groups"]))
                                 for sp in plan["stages"]]}))

elif cmd == "part-c-start":
    # 10 runs over disjoint label shards, started, until every one has members upgrading.
    for k in range(10):
        body = {"name": f"bench-c-{k}", "target": {"type": "Full", "kubernetesVersion": "1.33.6",
                "nodeImageSelection": "Latest", "allowUnsupported": True},
                "strategy": {"stages": [{"name": "all", "labelSelector": f"shard=c{k}", "maxConcurrency": "10%"}]}}
        call("POST", "/v1/rollouts", body)
        call("POST", f"/v1/rollouts/bench-c-{k}:start", {})
    deadline = time.time() + 60
    while True:
        states = [call("GET", f"/v1/rollouts/bench-c-{k}") for k in range(10)]
        flying = [r["counts"]["upgrading"] + r["counts"]["probing"] for r in states]
        if all(r["state"] == "Running" for r in states) and all(f > 0 for f in flying):
            break
        if time.time() > deadline:
            sys.exit(f"runs not all in flight: {[(r['state'], r['counts']) for r in states]}")
        time.sleep(0.2)
    print(sum(flying))

elif cmd == "part-c-after":
    # After the restart: every run still going, and how far they got.
    states = [call("GET", f"/v1/rollouts/bench-c-{k}") for k in range(10)]
    print(json.dumps({"states": sorted({r["state"] for r in states}),
                      "succeeded": sum(r["counts"]["succeeded"] for r in states),
                      "flying": sum(r["counts"]["upgrading"] + r["counts"]["probing"] for r in states)}))
else:
    sys.exit("unknown command " + cmd)
PY
}

cpu_seconds() { local t=0; for p in "$@"; do [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }

start_sim() {  # start_sim SPEC HEARTBEAT: one fleet-sim, niced like agent_scale_bench (the system under test first)
  nice -n 19 "$sim" --server "http://$addr" --token "$token" --spec "$1" --heartbeat-interval "$2" \
    --state-file "$work/sim-state.json" --stats-interval 0 --log-level warn >"$work/sim.out" 2>"$work/sim.log" &
  sim_pid=$!
}
table="| staged upgrades, fleetd + fleet-sim on this machine | value | goal / baseline |"$'\n'"| --- | ---: | --- |"
row() { table+=$'\n'"| $1 | $2 | $3 |"; echo "| $1 | $2 | $3 |" >&2; }

if [[ $parts == *a* ]]; then
  echo "(a) 100 clusters, timeScale 1e6, $runs runs …" >&2
  bench_start_fleetd --heartbeat-interval 1 --unreachable-after 30
  drive spec "$work/fleet-a.json" 100 1000000 "g20:20,g30:30,g50:50"
  start_sim "$work/fleet-a.json" 1
  drive wait-ready 100 1.31.4 120
  res=$(drive part-a "$runs")
  read -r med p90 mx cmed cp90 mmed pmed < <(python3 -c '
import json, math, statistics, sys
r = json.loads(sys.argv[1]); s, c = sorted(r["server"]), sorted(r["client"])
q = lambda xs, p: xs[max(0, math.ceil(p * len(xs)) - 1)]
vals = [statistics.median(s), q(s, .9), max(s), statistics.median(c), q(c, .9), statistics.median(r["member"]),
        statistics.median(r["probing"])]
print(" ".join("%.2f" % v for v in vals))' "$res")
  row "(a) 100 clusters, 3 stages 20/30/50 at 50%, :start → Completed, $runs runs: median / p90 / max s" \
      "$med / $p90 / $mx" "p90 < 5 s; KubeFleet p90 96 s ($(awk -v p="$p90" 'BEGIN {printf "%.0f", 96 / p}')× faster)"
  row "(a) the same seen by the polling client (POST :start → GET shows Completed): median / p90 s" "$cmed / $cp90" ""
  row "(a) one member in flight (Upgrading → Succeeded), median of the runs' medians s; of it Probing → Succeeded" \
      "$mmed; $pmed" "6 rounds of members in a run"
  stop_all
fi

if [[ $parts == *b* || $parts == *c* ]]; then
  echo "(b/c) 1,000 clusters, timeScale $b_scale …" >&2
  bench_start_fleetd --heartbeat-interval 5 --unreachable-after 120
  if ((pg_stats > 0)); then
    psql_fleet -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
    bench_restart_fleetd
    psql_fleet -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
  fi
  drive spec "$work/fleet-b.json" 1000 "$b_scale" "b100:100,b300:300,b600:600"
  t0=$(now)
  start_sim "$work/fleet-b.json" 5
  drive wait-ready 1000 1.31.4 600
  echo "1,000 clusters ready in $(sub "$t0" "$(now)") s" >&2
fi

if [[ $parts == *b* ]]; then
  ((pg_stats > 0)) && psql_fleet -c "SELECT pg_stat_statements_reset()" >/dev/null
  s0=$(cpu_seconds $sim_pid)
  res=$(drive part-b "$b_scale")
  s1=$(cpu_seconds $sim_pid)
  echo "$res" >"$work/part-b.json"
  eval "$(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print("srv=%.1f bound=%.1f bound_sim=%.0f over=%.1f" % (r["server"], r["bound"], r["bound_sim"], 100 * (r["server"] / r["bound"] - 1)))
print("fcpu=%.1f pcpu=%.1f ok=%d member=\"%s\"" % (r["fleetd_cpu"], r["pg_cpu"], r["succeeded"], " ".join(map(str, r["member_sim"]))))
print("stages=\"" + ", ".join("%s %d at %d" % tuple(x) for x in r["stages"]) + "\"")
print("flight=\"%.1f / %.1f\" stage_secs=\"%s\"" % (r["flight_median"], r["flight_p90"], " / ".join("%.1f" % x for x in r["stage_secs"])))' "$res")"
  scpu=$(awk -v a="$s0" -v b="$s1" -v hz="$hz" 'BEGIN {printf "%.1f", (b - a) / hz}')
  row "(b) 1,000 clusters ($stages), sim timeScale $b_scale: wall s, :start → Completed" "$srv" "≤ 5% over the bound"
  row "(b) lower bound: ${bound_sim} sim s (member ${member} sim s) / $b_scale" "$bound" ""
  row "(b) over the lower bound" "${over}%" ""
  row "(b) one member in flight, median / p90 s (ideal: member sim s / timeScale); stages s" "$flight; $stage_secs" \
      "$(awk -v m="${member%% *}" -v s="$b_scale" 'BEGIN {printf "%.1f", m / s}') s a member"
  row "(b) CPU seconds during the run: fleetd / PostgreSQL / fleet-sim (nice 19)" "$fcpu / $pcpu / $scpu" \
      "$(awk -v f="$fcpu" -v p="$pcpu" -v s="$srv" 'BEGIN {printf "%.2f / %.2f cores", f / s, p / s}')"
  # Where a member's time goes, from the commands' own times (ids "ro.<run>.<member>.<step>.<attempt>"): each
  # step queued → finished (the sim's work plus delivery and reports), and the gap from a step finishing to the
  # next step being queued (the executor's turn).
  row "(b) per step, queued → finished, median / p90 s: control plane; CPU pool; GPU pool (ideal $(awk -v s="$b_scale" 'BEGIN {printf "%.1f; %.1f; %.1f", 600 / s, 900 / s, 630 / s}'))" \
      "$(psql_fleet -F' ' -c "
        SELECT string_agg(format('%s / %s', round(p50::numeric, 2), round(p90::numeric, 2)), '; ' ORDER BY kind, pool <> 'system')
        FROM (SELECT kind, coalesce(payload->>'pool', '') AS pool,
                     percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at)) AS p50,
                     percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at)) AS p90
              FROM agent_commands WHERE id LIKE 'ro.%' AND finished_at IS NOT NULL GROUP BY 1, 2) s")" ""
  row "(b) step finished → the member's next step queued, median / p90 / max s" \
      "$(psql_fleet -c "
        WITH c AS (SELECT split_part(id, '.', 3) AS m, split_part(id, '.', 4)::int AS step, created_at,
                          lag(finished_at) OVER (PARTITION BY split_part(id, '.', 3)
                                                 ORDER BY split_part(id, '.', 4)::int) AS prev
                   FROM agent_commands WHERE id LIKE 'ro.%')
        SELECT format('%s / %s / %s', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY g)::numeric, 3),
                      round(percentile_cont(0.9) WITHIN GROUP (ORDER BY g)::numeric, 3), round(max(g)::numeric, 3))
        FROM (SELECT extract(epoch FROM created_at - prev) AS g FROM c WHERE prev IS NOT NULL) s")" ""
  if [[ -n ${ROLLOUT_BENCH_DUMP:-} ]]; then  # for a closer look: the run's events (above) and its commands' times
    psql_fleet -c "COPY (SELECT id, extract(epoch FROM created_at), extract(epoch FROM finished_at),
                                progress->>'startedAt', progress->>'finishedAt'
                         FROM agent_commands WHERE id LIKE 'ro.%' ORDER BY seq) TO STDOUT" >"$ROLLOUT_BENCH_DUMP.commands.tsv"
  fi
  if ((pg_stats > 0)); then
    echo "(b) the $pg_stats statements that took PostgreSQL the most time during the run:" >&2
    psql_fleet -F $'\t' -c "
      SELECT round(total_exec_time::numeric / 1000, 2) AS s, calls, round(mean_exec_time::numeric, 3) AS ms,
             left(regexp_replace(query, '\s+', ' ', 'g'), 160)
      FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $pg_stats" >&2
  fi
fi

if [[ $parts == *c* ]]; then
  # After (b), the plan of (c) starts from inventories at (b)'s target.
  [[ $parts == *b* ]] && drive wait-ready 1000 1.32.7 120
  flying=$(drive part-c-start)
  sleep 3
  last=$(psql_fleet -c "SELECT coalesce(max(seq), 0) FROM rollout_events")
  kill -KILL "$fleetd_pid"
  wait "$fleetd_pid" 2>/dev/null || true
  rm -f "$work/port"
  t_restart=$(now)
  bench_launch_fleetd "$addr"
  t_api=$(now)
  first=""
  for _ in $(seq 1 600); do
    first=$(psql_fleet -c "SELECT extract(epoch FROM min(at)) FROM rollout_events WHERE seq > $last AND rollout LIKE 'bench-c-%'" 2>/dev/null || true)
    [[ -n $first ]] && break
    sleep 0.05
  done
  [[ -n $first ]] || { echo "no rollout event within 30 s of the restart" >&2; exit 1; }
  sleep 2
  after=$(drive part-c-after)
  resumed=$(sub "$t_restart" "$first")
  row "(c) 1,000 clusters, 10 runs in flight ($flying members upgrading), kill -9: restart → API answering s" \
      "$(sub "$t_restart" "$t_api")" ""
  row "(c) restart (process start) → first resumed transition s" "$resumed" \
      "< 5 s; KubeFleet p90 675 s ($(awk -v r="$resumed" 'BEGIN {printf "%.0f", 675 / r}')× faster)"
  row "(c) 2 s after the first transition" "$after" ""
fi
stop_all

echo "$table"
if [[ -n $out ]]; then
  {
    echo "## $(date -u +%Y-%m-%d) staged upgrades on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, fleetd $(git rev-parse --short HEAD)"
    echo
    echo "$table"
    echo
  } >>"$out"
fi
