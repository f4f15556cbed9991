#!/usr/bin/env bash
# End-to-end flow figures of one `vigil serve`: NetFlow v9 from `vigil-flowgen` at a steady
# rate over loopback UDP, then: records decoded, kernel drops, time until every record is
# archived and searchable, server CPU.
#
#   benches/flow_e2e.sh [RATE] [DURATION_SECS]      # default 100000 flows/s for 60 s
#
# Environment:
#   RECORDS=30          flow records per datagram
#   INDEX_DEADLINE=300  seconds to wait, after the send, for everything to be searchable
#   PIN=1               server on CPU 0, flowgen on CPU 1 (taskset)
#   NO_BUILD=1          skip `cargo build --release`
#   KEEP=1              keep the temp dir
#   VIGIL=PATH          run this vigil binary instead of target/release/vigil
#
# Loopback only; the server listens on 127.0.0.1:0 and everything is under a temp dir.
set -euo pipefail

RATE=${1:-${RATE:-100000}}
DURATION=${2:-${DURATION:-60}}
RECORDS=${RECORDS:-30}
INDEX_DEADLINE=${INDEX_DEADLINE:-300}
PIN=${PIN:-0}
KEEP=${KEEP:-0}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [[ ${NO_BUILD:-0} != 1 ]]; then
    echo "flow_e2e: building (release)..." >&2
    timeout 1800 cargo build --release -p vigil -p vigil-benches --bins >&2
fi
vigil=${VIGIL:-$root/target/release/vigil}
flowgen=$root/target/release/vigil-flowgen
[[ -x $vigil && -x $flowgen ]] || { echo "flow_e2e: missing $vigil or $flowgen" >&2; exit 1; }

server_pin=()
flowgen_pin=()
if [[ $PIN == 1 ]]; then
    server_pin=(taskset -c 0)
    flowgen_pin=(taskset -c 1)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-flow-e2e.XXXXXX")
data=$work/data
server_pid=
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ $KEEP == 1 ]]; then echo "flow_e2e: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

mkdir -p "$data"
cat >"$work/vigil.toml" <<TOML
data_dir = "$data"

[api]
listen = "127.0.0.1:0"

[[listeners]]
type = "flow"
name = "netflow"
address = "127.0.0.1:0"

[index]
commit_interval = "5s"
TOML

"${server_pin[@]}" "$vigil" serve --config "$work/vigil.toml" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
    [[ -s $data/listening.json && -s $data/secrets/api-token ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done
read -r flow_address api_address < <(python3 -c '
import json, sys
listening = json.load(open(sys.argv[1]))
print(listening["netflow"], listening["api"])' "$data/listening.json")
token=$(tr -d '[:space:]' <"$data/secrets/api-token")
cpu_before=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
echo "flow_e2e: sending $RATE flows/s for ${DURATION}s to $flow_address" >&2
flowgen_json=$("${flowgen_pin[@]}" "$flowgen" --target "$flow_address" \
    --flows-per-sec "$RATE" --duration-secs "$DURATION" --records "$RECORDS")
echo "flow_e2e: flowgen: $flowgen_json" >&2

python3 - "$api_address" "$token" "$flowgen_json" "$INDEX_DEADLINE" "$data/tls/ca.crt" "$server_pid" "$cpu_before" <<'PY'
import json, os, ssl, sys, time, urllib.request

api, token, sent_json, deadline_secs, ca, pid, cpu_before = sys.argv[1:8]
sent = json.loads(sent_json)
tls = ssl.create_default_context(cafile=ca)
headers = {"Authorization": f"Bearer {token}"}
ticks = os.sysconf("SC_CLK_TCK")

def get(path):
    request = urllib.request.Request(f"https://{api}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=60, context=tls) as response:
        return response.read().decode()

def metric(name):
    total = 0
    for line in get("/metrics").splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += int(float(line.split()[-1]))
    return total

def indexed():
    query = urllib.parse.quote('event.dataset:"netflow.v9" AND event.category:network')
    return int(json.loads(get(f"/api/v1/search?q={query}&from=7d&limit=1"))["total"])

import urllib.parse
send_end = time.time()
deadline = send_end + float(deadline_secs)
decoded = searchable = None
# Polled through /metrics; the search (which reads archive blocks to confirm what the index
# cannot vouch for) runs only once the counters say everything is committed. Searching every
# half second instead cost a core while the index caught up, and after a lossy run until the
# deadline, which then counted in the server's CPU per flow.
settled_since = None
while time.time() < deadline:
    records = metric("vigil_flow_records_total")
    if decoded is None and records >= sent["records"]:
        decoded = time.time() - send_end
    committed = (metric("vigil_index_events_total") >= records
                 and metric("vigil_index_lag_events") == 0)
    if committed and records >= sent["records"] and indexed() >= sent["records"]:
        searchable = time.time() - send_end
        break
    # Records lost to the kernel never come: stop once everything received is committed.
    settled_since = (settled_since or time.time()) if committed else None
    if settled_since is not None and time.time() - settled_since > 5:
        break
    time.sleep(0.5)
cpu = (sum(int(x) for x in open(f"/proc/{pid}/stat").read().split()[13:15]) - int(float(cpu_before))) / ticks
print(json.dumps({
    "rate_asked": int(sent["records"] / max(sent["elapsed_secs"], 1e-9)),
    "sent": sent["records"],
    "decoded": metric("vigil_flow_records_total"),
    "kernel_drops": metric("vigil_collect_socket_drops_total"),
    "flow_errors": metric("vigil_flow_errors_total"),
    "archived": metric("vigil_archive_events_total"),
    "indexed": indexed(),
    "decoded_after_send_s": decoded,
    "searchable_after_send_s": searchable,
    "server_cpu_s": round(cpu, 1),
    "server_cpu_us_per_flow": round(cpu / max(sent["records"], 1) * 1e6, 2),
}))
PY
