#!/usr/bin/env bash
# End-to-end figures of one `vigil serve`: sustained ingest over TCP, time until everything is
# archived and searchable, zero loss, bytes on disk per raw byte, peak RSS and CPU.
#
#   benches/e2e.sh [DURATION_SECS]          # default 60
#
# Environment:
#   DURATION=60       seconds of load (the first argument wins)
#   CONNECTIONS=4     loadgen TCP connections
#   SIZE=250          bytes per message
#   RATE_PER_CONN=0   messages/s per connection, 0 = as fast as the server takes them
#   COUNT=0           stop after this many messages (or DURATION, whichever is first): the same
#                     work for two runs whatever buffers it (compare CHANNEL=1 with plain TCP)
#   INDEX_DEADLINE=300  seconds to wait, after the send, for everything to be searchable
#   PIN=1             server on CPU 0, loadgen (and the agent) on CPU 1 (taskset)
#   KEEP=1            keep the temp dir (data, config, server log)
#   NO_BUILD=1        skip `cargo build --release`
#   TLS=1             send over syslog/TLS (RFC 5425, TLS 1.3, the local CA made on first start)
#   LOGGEN=PATH       send with loggen (syslog-ng's generator, as ../shared/peers runs it:
#                     LD_LIBRARY_PATH and SYSLOGNG_PREFIX as there) instead of vigil-loadgen;
#                     raw bytes are then counted as SIZE per line
#   WRITER_THREADS=N  tantivy indexing threads per writer (the config's index.writer_threads)
#   DECODERS=0        run without the body decoders ([normalize] decoders = false), to see what
#                     normalisation costs
#   VIGIL=PATH        run this vigil binary instead of target/release/vigil (to compare two
#                     builds back to back, alternating, on a machine whose speed drifts)
#   CHANNEL=1         send to a `vigil agent` (syslog TCP) that forwards over the Vigil channel
#                     (TLS 1.3, mTLS, zstd); also reports wire bytes per event and agent CPU
#
# Loopback only; the server listens on 127.0.0.1:0 and everything is under a temp dir.
set -euo pipefail

DURATION=${1:-${DURATION:-60}}
CONNECTIONS=${CONNECTIONS:-4}
SIZE=${SIZE:-250}
RATE_PER_CONN=${RATE_PER_CONN:-0}
COUNT=${COUNT:-0}
INDEX_DEADLINE=${INDEX_DEADLINE:-300}
PIN=${PIN:-0}
KEEP=${KEEP:-0}
export TLS=${TLS:-0}
export CHANNEL=${CHANNEL:-0}
TAG=loadgen

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [[ ${NO_BUILD:-0} != 1 ]]; then
    echo "e2e: building (release)..." >&2
    timeout 1800 cargo build --release -p vigil -p vigil-benches --bins >&2
fi
vigil=${VIGIL:-$root/target/release/vigil}
loadgen=$root/target/release/vigil-loadgen
[[ -x $vigil && -x $loadgen ]] || { echo "e2e: missing $vigil or $loadgen" >&2; exit 1; }

server_pin=()
loadgen_pin=()
if [[ $PIN == 1 ]]; then
    server_pin=(taskset -c 0)
    loadgen_pin=(taskset -c 1)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-e2e.XXXXXX")
data=$work/data
server_pid=
agent_pid=
cleanup() {
    for pid in $server_pid $agent_pid; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ $KEEP == 1 ]]; then
        echo "e2e: kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

mkdir -p "$data"
cat >"$work/vigil.toml" <<TOML
data_dir = "$data"

[api]
listen = "127.0.0.1:0"

[[listeners]]
type = "syslog_tcp"
name = "syslog-tcp"
address = "127.0.0.1:0"

[[listeners]]
type = "syslog_tls"
name = "syslog-tls"
address = "127.0.0.1:0"
client_auth = "none"

[index]
commit_interval = "5s"
TOML
if [[ -n ${WRITER_THREADS:-} ]]; then
    printf 'writer_threads = %s\n' "$WRITER_THREADS" >>"$work/vigil.toml"
fi
if [[ ${DECODERS:-1} == 0 ]]; then
    printf '\n[normalize]\ndecoders = false\n' >>"$work/vigil.toml"
fi
if [[ $CHANNEL == 1 ]]; then
    "$vigil" certs init "$work/pki" --client bench-agent >/dev/null
    cat >>"$work/vigil.toml" <<TOML

[[listeners]]
type = "channel"
name = "channel"
address = "127.0.0.1:0"
cert = "$work/pki/server.crt"
key = "$work/pki/server.key"
client_ca = "$work/pki/ca.crt"
TOML
fi

now() { date +%s.%N; }

echo "e2e: starting vigil serve (data in $data)" >&2
"${server_pin[@]}" "$vigil" serve --config "$work/vigil.toml" >"$work/server.log" 2>&1 &
server_pid=$!

# Wait for the listeners (listening.json is written once every listener and the API are bound).
for _ in $(seq 1 300); do
    [[ -s $data/listening.json && -s $data/secrets/api-token ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "e2e: vigil serve exited early:" >&2
        cat "$work/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
[[ -s $data/listening.json ]] || { echo "e2e: no listening.json after 30 s" >&2; cat "$work/server.log" >&2; exit 1; }
read -r tcp_address api_address < <(python3 -c '
import json, sys
listening = json.load(open(sys.argv[1]))
print(listening["syslog-tls" if sys.argv[2] == "1" else "syslog-tcp"], listening["api"])' "$data/listening.json" "$TLS")
tls_args=()
[[ $TLS == 1 ]] && tls_args=(--tls-ca "$data/tls/ca.crt")
agent_metrics=
if [[ $CHANNEL == 1 ]]; then
    channel_address=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["channel"])' "$data/listening.json")
    "${loadgen_pin[@]}" "$vigil" agent --server "$channel_address" --server-name localhost \
        --ca "$work/pki/ca.crt" --cert "$work/pki/client-bench-agent.crt" --key "$work/pki/client-bench-agent.key" \
        --syslog-tcp 127.0.0.1:0 --data-dir "$work/agent" --metrics 127.0.0.1:0 --name bench-agent \
        >"$work/agent.log" 2>&1 &
    agent_pid=$!
    for _ in $(seq 1 300); do
        [[ -s $work/agent/listening.json ]] && break
        sleep 0.1
    done
    [[ -s $work/agent/listening.json ]] || { echo "e2e: agent not ready" >&2; cat "$work/agent.log" >&2; exit 1; }
    read -r tcp_address agent_metrics < <(python3 -c '
import json, sys
listening = json.load(open(sys.argv[1]))
print(listening["syslog-tcp"], listening["metrics"])' "$work/agent/listening.json")
    echo "e2e: agent takes syslog at $tcp_address and forwards to $channel_address" >&2
fi
token=$(tr -d '[:space:]' <"$data/secrets/api-token")
echo "e2e: syslog tcp $tcp_address, api $api_address; sending for ${DURATION}s over $CONNECTIONS connections" >&2

start=$(now)
if [[ -n ${LOGGEN:-} ]]; then
    # The peers' generator with the peers' flags (../shared/peers/bench.py), for a ratio against
    # them on the same lines; its RFC 5424 lines carry the app-name prg00000.
    TAG=prg00000
    loggen_out=$(timeout $((${DURATION%.*} + 60)) "${loadgen_pin[@]}" "$LOGGEN" --inet --stream --syslog-proto \
        --size "$SIZE" --rate 100000000 --interval "$DURATION" --active-connections "$CONNECTIONS" \
        "${tcp_address%:*}" "${tcp_address##*:}" 2>&1 | tail -n 5)
    send_end=$(now)
    loadgen_json=$(python3 - "$loggen_out" "$start" "$send_end" "$SIZE" "$CONNECTIONS" <<'PY'
import json, re, sys
text, start, end, size, connections = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
found = re.findall(r"count ?= ?(\d+)", text)
if not found:
    sys.exit(f"e2e: no count in loggen's output: {text!r}")
count = int(found[-1])
elapsed = end - start
print(json.dumps({"sent": count, "bytes": count * size, "elapsed_secs": elapsed,
                  "events_per_sec": count / elapsed, "connections": connections}))
PY
)
else
loadgen_json=$(timeout $((${DURATION%.*} + 120)) "${loadgen_pin[@]}" "$loadgen" --target "$tcp_address" \
    --connections "$CONNECTIONS" --duration-secs "$DURATION" --size "$SIZE" \
    --rate-per-conn "$RATE_PER_CONN" --count "$COUNT" --tag "$TAG" "${tls_args[@]}")
send_end=$(now)
fi
echo "e2e: loadgen: $loadgen_json" >&2

# Poll until everything sent is archived (metrics) and searchable (search total), or the deadline.
poll_json=$(python3 - "$api_address" "$token" "$loadgen_json" "$INDEX_DEADLINE" "$TAG" "$data/tls/ca.crt" <<'PY'
import json, ssl, sys, time, urllib.request

api, token, loadgen, deadline_secs, tag = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
# The API is HTTPS with the local CA serve made on first start.
tls = ssl.create_default_context(cafile=sys.argv[6])
sent = loadgen["sent"]
headers = {"Authorization": f"Bearer {token}"}

def get(path):
    request = urllib.request.Request(f"https://{api}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=30, context=tls) as response:
        return response.read().decode()

def archived():
    for line in get("/metrics").splitlines():
        if line.startswith("vigil_archive_events_total"):
            return int(float(line.split()[-1]))
    return 0

def indexed():
    # Count only: reading an event back decodes its whole archive batch, work the ingest
    # figures should not include.
    body = json.loads(get(f"/api/v1/search?q=process.name:{tag}&from=7d&limit=0"))
    return int(body["total"])

deadline = time.time() + deadline_secs
archived_at = indexed_at = None
last_archived = last_indexed = 0
next_search = 0.0
while time.time() < deadline:
    try:
        if archived_at is None:
            last_archived = archived()
            if last_archived >= sent:
                archived_at = time.time()
        if time.time() >= next_search:
            last_indexed = indexed()
            next_search = time.time() + 0.5
            if last_indexed >= sent:
                indexed_at = time.time()
                if archived_at is None:
                    last_archived = archived()
                    archived_at = indexed_at
                break
    except Exception as error:  # a slow API under load is not fatal: poll again
        print(f"e2e: poll failed: {error}", file=sys.stderr)
    time.sleep(0.1)
print(json.dumps({"archived": last_archived, "indexed": last_indexed,
                  "archived_at": archived_at, "indexed_at": indexed_at}))
PY
)
echo "e2e: poll: $poll_json" >&2

# The agent's wire figures and CPU, before stopping it.
agent_json='{}'
if [[ $CHANNEL == 1 ]]; then
    agent_cpu_ticks=$(sed 's/.*) //' "/proc/$agent_pid/stat" | awk '{ print $12 + $13 }')
    agent_json=$(python3 - "$agent_metrics" "$agent_cpu_ticks" "$(getconf CLK_TCK)" <<'PY'
import json, sys, urllib.request
text = urllib.request.urlopen(f"http://{sys.argv[1]}/metrics", timeout=30).read().decode()
values = {}
for line in text.splitlines():
    if line and not line.startswith("#"):
        name = line.split("{")[0].split()[0]
        values[name] = values.get(name, 0) + float(line.split()[-1])
print(json.dumps({
    "wire_bytes": values.get("vigil_channel_bytes_sent_total", 0),
    "batch_raw_bytes": values.get("vigil_channel_raw_bytes_total", 0),
    "events_acked": values.get("vigil_channel_events_acked_total", 0),
    "batches_sent": values.get("vigil_channel_batches_sent_total", 0),
    "agent_cpu_secs": float(sys.argv[2]) / int(sys.argv[3]),
}))
PY
)
    kill -TERM "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
    agent_pid=
fi

# Server resources before stopping it.
vm_hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
clock_ticks=$(getconf CLK_TCK)
# Fields after the ")" of comm: utime and stime are the 12th and 13th.
cpu_ticks=$(sed 's/.*) //' "/proc/$server_pid/stat" | awk '{ print $12 + $13 }')

stop_start=$(now)
kill -TERM "$server_pid"
exited=no
for _ in $(seq 1 600); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        exited=yes
        break
    fi
    sleep 0.1
done
server_status=0
if [[ $exited == yes ]]; then
    wait "$server_pid" || server_status=$?
else
    echo "e2e: vigil serve did not stop within 60 s of SIGTERM; killing it" >&2
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || server_status=$?
fi
stop_secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$stop_start" "$(now)")
server_pid=

du_sum() {
    local total=0 dir
    for dir in "$@"; do
        [[ -d $dir ]] && total=$((total + $(du -sb "$dir" | cut -f1)))
    done
    echo "$total"
}
shopt -s nullglob
archive_bytes=$(du_sum "$data"/partitions/level-*/*/archive)
index_bytes=$(du_sum "$data"/partitions/level-*/*/index)
shopt -u nullglob

python3 - "$loadgen_json" "$poll_json" "$start" "$send_end" "$archive_bytes" "$index_bytes" \
    "$vm_hwm_kb" "$cpu_ticks" "$clock_ticks" "$stop_secs" "$server_status" "$PIN" "$agent_json" <<'PY'
import json, os, sys

loadgen, poll = json.loads(sys.argv[1]), json.loads(sys.argv[2])
start, send_end = float(sys.argv[3]), float(sys.argv[4])
archive_bytes, index_bytes = int(sys.argv[5]), int(sys.argv[6])
vm_hwm_kb, cpu_ticks, clock_ticks = int(sys.argv[7]), float(sys.argv[8]), int(sys.argv[9])
stop_secs, server_status, pin = float(sys.argv[10]), int(sys.argv[11]), sys.argv[12] == "1"
agent = json.loads(sys.argv[13])
sent, raw = loadgen["sent"], loadgen["bytes"]

def rate(at):
    return None if at is None else sent / (at - start)

summary = {
    "sent": sent,
    "raw_bytes": raw,
    "connections": loadgen["connections"],
    "send_secs": loadgen["elapsed_secs"],
    "events_per_sec_during_send": loadgen["events_per_sec"],
    "secs_until_archived": None if poll["archived_at"] is None else round(poll["archived_at"] - start, 2),
    "events_per_sec_until_archived": rate(poll["archived_at"]),
    "secs_until_indexed": None if poll["indexed_at"] is None else round(poll["indexed_at"] - start, 2),
    "events_per_sec_until_indexed": rate(poll["indexed_at"]),
    "archived": poll["archived"],
    "indexed": poll["indexed"],
    "zero_loss": poll["indexed"] == sent,
    "archive_bytes": archive_bytes,
    "index_bytes": index_bytes,
    "archive_per_raw": archive_bytes / raw if raw else None,
    "index_per_raw": index_bytes / raw if raw else None,
    "total_per_raw": (archive_bytes + index_bytes) / raw if raw else None,
    "server_peak_rss_mib": vm_hwm_kb / 1024,
    "server_cpu_secs": cpu_ticks / clock_ticks,
    "server_stop_secs": stop_secs,
    "server_exit_status": server_status,
    "pinned": pin,
    "tls": os.environ.get("TLS") == "1",
    "channel": os.environ.get("CHANNEL") == "1",
}
if summary["channel"]:
    summary.update(agent)
    summary["wire_bytes_per_event"] = agent["wire_bytes"] / sent if sent else None
    summary["wire_per_raw"] = agent["wire_bytes"] / raw if raw else None

def fmt(value, spec):
    return "n/a" if value is None else format(value, spec)

print(f"""
Vigil end-to-end ({'pinned: server CPU 0, loadgen CPU 1' if pin else 'unpinned'}, {'agent → channel (TLS 1.3, zstd) → server' if summary['channel'] else 'syslog over TLS 1.3' if summary['tls'] else 'plain TCP'})
  sent                         {sent:,} events, {raw / 1e6:,.1f} MB raw, {loadgen['connections']} connections, {loadgen['elapsed_secs']:.1f} s
  sustained during send        {loadgen['events_per_sec']:,.0f} events/s ({raw / loadgen['elapsed_secs'] / 1e6:,.1f} MB/s raw)
  until all archived           {fmt(rate(poll['archived_at']), ',.0f')} events/s ({fmt(summary['secs_until_archived'], '.1f')} s)
  until all indexed            {fmt(rate(poll['indexed_at']), ',.0f')} events/s ({fmt(summary['secs_until_indexed'], '.1f')} s)
  zero loss                    {'yes' if summary['zero_loss'] else 'NO'} (indexed {poll['indexed']:,}, archived {poll['archived']:,}, sent {sent:,})
  archive bytes / raw byte     {fmt(summary['archive_per_raw'], '.3f')} ({archive_bytes / 1e6:,.1f} MB)
  index bytes / raw byte       {fmt(summary['index_per_raw'], '.3f')} ({index_bytes / 1e6:,.1f} MB)
  total bytes / raw byte       {fmt(summary['total_per_raw'], '.3f')}
  server peak RSS              {summary['server_peak_rss_mib']:,.0f} MiB
  server CPU                   {summary['server_cpu_secs']:,.1f} s (user + system)
  server stop after SIGTERM    {stop_secs:.1f} s, exit status {server_status}
""")
if summary["channel"]:
    print(f"""  channel wire bytes           {agent['wire_bytes'] / 1e6:,.1f} MB: {summary['wire_bytes_per_event']:.1f} B/event, {summary['wire_per_raw']:.3f} of raw
  agent CPU                    {agent['agent_cpu_secs']:,.1f} s (user + system)
""")
print(json.dumps(summary))
sys.exit(0 if summary["zero_loss"] and server_status == 0 else 1)
PY
