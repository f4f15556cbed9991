#!/usr/bin/env bash
# End-to-end alert latency of one `vigil serve` with the shipped rule pack loaded: probe lines
# over syslog TCP, each raising an alert, timed from send to arrival on the live alert stream
# (curl on GET /api/v1/alerts/stream), while vigil-loadgen keeps a background load on the node.
#
#   benches/alert_latency.sh
#
# Environment:
#   COUNT=3000        probe lines (each must raise exactly one alert)
#   RATE=100          probe lines per second
#   LOAD_RATE=5000    background messages/s per loadgen connection (2 connections); 0 = none
#   KEEP=1            keep the temp dir; NO_BUILD=1 skip `cargo build --release`
#
# Loopback only; everything is under a temp dir.
set -euo pipefail

COUNT=${COUNT:-3000}
RATE=${RATE:-100}
LOAD_RATE=${LOAD_RATE:-5000}
KEEP=${KEEP:-0}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [[ ${NO_BUILD:-0} != 1 ]]; then
    echo "alert_latency: building (release)..." >&2
    timeout 1800 cargo build --release -p vigil -p vigil-benches --bins >&2
fi
vigil=$root/target/release/vigil
loadgen=$root/target/release/vigil-loadgen
alertlat=$root/target/release/vigil-alertlat

work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-alertlat.XXXXXX")
data=$work/data
server_pid=
load_pid=
cleanup() {
    for pid in $load_pid $server_pid; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ $KEEP == 1 ]]; then echo "alert_latency: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

mkdir -p "$data" "$work/rules"
cp -r "$root/rules/." "$work/rules/"
cat >"$work/rules/probe.rhai" <<'RHAI'
#{
    id: "bench.probe", title: "Latency probe", severity: "info",
    description: "Fires on every probe line; its summary carries the send time.",
    select: #{ "process.name": "probe" },
    summary: "{message}",
}
RHAI
cat >"$work/vigil.toml" <<TOML
data_dir = "$data"
[api]
listen = "127.0.0.1:0"
[[listeners]]
type = "syslog_tcp"
name = "syslog-tcp"
address = "127.0.0.1:0"
[rules]
dir = "$work/rules"
TOML

"$vigil" serve --config "$work/vigil.toml" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
    [[ -s $data/listening.json && -s $data/secrets/api-token ]] && break
    sleep 0.1
done
read -r tcp_address api_address < <(python3 -c '
import json, sys
listening = json.load(open(sys.argv[1]))
print(listening["syslog-tcp"], listening["api"])' "$data/listening.json")
rules=$(grep -o 'rules=[0-9]*' "$work/server.log" | head -1)
echo "alert_latency: vigil serve up ($rules), syslog $tcp_address, API $api_address" >&2

if [[ $LOAD_RATE != 0 ]]; then
    duration=$(( COUNT / RATE + 20 ))
    "$loadgen" --target "$tcp_address" --connections 2 --rate-per-conn "$LOAD_RATE" \
        --duration-secs "$duration" >"$work/loadgen.log" 2>&1 &
    load_pid=$!
    sleep 5
fi
result=$("$alertlat" --syslog "$tcp_address" --api "$api_address" --data "$data" --count "$COUNT" --rate "$RATE")
echo "$result"
cpu=$(ps -o times= -p "$server_pid" | tr -d ' ')
echo "alert_latency: background load $(( LOAD_RATE * 2 )) msg/s; server CPU so far ${cpu}s" >&2
