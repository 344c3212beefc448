# Sourced by the benchmark scripts: what every one of them needs to start fleetd on its embedded PostgreSQL in a
# fresh work directory and to reach both. Run from the repository root.
#   bench_start_fleetd [FLEETD_ARGS…]  sets work, fleetd_pid, addr, token, sock, pgport, pg_pid
#   psql_fleet ARGS…                   psql as the fleet user on fleetd's database (-qAt, stop on error)
#   bench_restart_fleetd               SIGTERM, then the same fleetd again on the same port and data directory
#                                      (sets fleetd_pid, pg_pid again)
#   bench_stop_fleetd                  stops fleetd and removes the work directory
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fleetd=build/fleetd/fleetd

bench_start_fleetd() {
  work=$(mktemp -d /tmp/fleet-bench-XXXXXX)
  chmod 755 "$work"  # the embedded PostgreSQL runs as another user when the benchmark runs as root
  fleetd_args=("$@")
  bench_launch_fleetd 127.0.0.1:0
}

bench_restart_fleetd() {
  kill -TERM "$fleetd_pid"
  wait "$fleetd_pid" 2>/dev/null || true
  rm -f "$work/port"
  bench_launch_fleetd "$addr"
}

bench_launch_fleetd() {
  "$fleetd" --listen "$1" --data-dir "$work/data" --port-file "$work/port" --log-level warn "${fleetd_args[@]}" \
    >>"$work/fleetd.out" 2>>"$work/fleetd.log" &
  fleetd_pid=$!
  for _ in $(seq 1 600); do [[ -s $work/port && -s $work/data/pg/postmaster.pid && -s $work/data/admin-token ]] && break; sleep 0.1; done
  if [[ ! -s $work/port ]]; then
    echo "fleetd did not start:" >&2
    tail -5 "$work/fleetd.log" >&2
    bench_stop_fleetd
    return 1
  fi
  addr=$(cat "$work/port")
  token=$(cat "$work/data/admin-token")
  pg_pid=$(sed -n 1p "$work/data/pg/postmaster.pid")
  pgport=$(sed -n 4p "$work/data/pg/postmaster.pid")
  sock=$(sed -n 5p "$work/data/pg/postmaster.pid")
}

bench_stop_fleetd() {
  [[ -n ${fleetd_pid:-} ]] && kill -TERM "$fleetd_pid" 2>/dev/null || true
  [[ -n ${fleetd_pid:-} ]] && wait "$fleetd_pid" 2>/dev/null || true
  fleetd_pid=""
  [[ -n ${work:-} ]] && rm -rf "$work"
  work=""
}

psql_fleet() { "$pgbin/psql" -h "$sock" -p "$pgport" -U fleet -d fleet -v ON_ERROR_STOP=1 -qAt "$@"; }
