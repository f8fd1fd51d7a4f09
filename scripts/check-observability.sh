#!/usr/bin/env bash
# Checks the observability stack against the real thing:
#  - a real Prometheus (Debian's package) scrapes a live orchestrator run of 5 peers through
#    the run's file-based service discovery targets;
#  - every PromQL expression of every dashboard (and the `run` variable) is evaluated through
#    Prometheus' HTTP API and must return data;
#  - `promtool check metrics` passes on every node's /metrics;
#  - the compose file validates with docker-compose.
# Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v prometheus >/dev/null && command -v promtool >/dev/null || {
    echo "prometheus and promtool are needed: apt-get install prometheus" >&2
    exit 1
}

work=$(mktemp -d)
orch_pid="" prom_pid=""
cleanup() {
    [ -n "$orch_pid" ] && kill -TERM "$orch_pid" 2>/dev/null && wait "$orch_pid" 2>/dev/null || true
    [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

cargo build --release --bins
orchestrator=target/x86_64-unknown-linux-gnu/release/orchestrator

echo "== compose file"
if command -v docker-compose >/dev/null; then
    P2P_NODE_API_TOKEN=check docker-compose -f compose/docker-compose.yml config -q && echo "docker-compose config: valid"
elif docker compose version >/dev/null 2>&1; then
    P2P_NODE_API_TOKEN=check docker compose -f compose/docker-compose.yml config -q && echo "docker compose config: valid"
else
    echo "neither docker-compose nor docker compose is installed" >&2
    exit 1
fi

echo "== Prometheus"
port=19090
mkdir -p "$work/results"
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: testbed-runs
    file_sd_configs:
      - files: ["$work/results/targets/*.json"]
        refresh_interval: 1s
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address=127.0.0.1:$port >"$work/prometheus.log" 2>&1 &
prom_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null || { cat "$work/prometheus.log" >&2; exit 1; }

echo "== a live run of 5 peers"
cat >"$work/scenario.yaml" <<YAML
name: observability
phases:
  - bootstrap: {}
  - publish: { packages: 20, publishers: 3 }
  - dht_lookup: { peers: 5, lookups_per_peer: 10 }
  - search: { scope: local, peers: 5, queries_per_peer: 20 }
  - search: { scope: network, peers: 5, queries_per_peer: 5 }
  - gossip: { messages: 10, interval: 200ms, settle: 3s }
  - install: { installs: 6 }
YAML
"$orchestrator" up --runtime local --peers 5 --keep --scenario "$work/scenario.yaml" \
    --prometheus "http://127.0.0.1:$port" --results-dir "$work/results" >"$work/orchestrator.out" 2>"$work/orchestrator.err" &
orch_pid=$!
for _ in $(seq 600); do
    grep -q "network kept running" "$work/orchestrator.err" 2>/dev/null && break
    kill -0 "$orch_pid" 2>/dev/null || { cat "$work/orchestrator.err" >&2; exit 1; }
    sleep 0.2
done
grep -q "network kept running" "$work/orchestrator.err" || {
    echo "the run never finished its phases in 2 minutes; its console so far:" >&2
    cat "$work/orchestrator.err" >&2
    exit 1
}
run=$(basename "$(ls "$work"/results/targets/*.json)" .json)
echo "run $run is up; letting Prometheus scrape"
sleep 3

echo "== promtool check metrics"
python3 - "$work/results/$run/prometheus-targets.json" >"$work/targets.txt" <<'PY'
import json, sys
for group in json.load(open(sys.argv[1])):
    for target in group["targets"]:
        print(target)
PY
while read -r target; do
    curl -sf "http://$target/metrics" | promtool check metrics
    echo "$target: ok"
done <"$work/targets.txt"

echo "== every dashboard expression"
python3 - "$port" "$run" dashboards/*.json <<'PY'
import json, math, sys, urllib.parse, urllib.request

port, run, files = sys.argv[1], sys.argv[2], sys.argv[3:]
base = f"http://127.0.0.1:{port}/api/v1"

def get(path, **params):
    with urllib.request.urlopen(f"{base}/{path}?{urllib.parse.urlencode(params, doseq=True)}", timeout=10) as r:
        return json.load(r)

failures, checked = [], 0
for name in files:
    dashboard = json.load(open(name))
    for var in dashboard["templating"]["list"]:
        metric = var["definition"].split("(")[1].split(",")[0].strip()
        values = get("label/run/values", **{"match[]": metric})["data"]
        checked += 1
        if run not in values:
            failures.append(f"{name}: variable {var['name']} ({var['definition']}) lacks run {run}: {values}")
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$run", run).replace("$__rate_interval", "5m")
            checked += 1
            answer = get("query", query=expr)
            if answer.get("status") != "success":
                failures.append(f"{name} / {panel['title']}: {expr}: {answer}")
                continue
            values = [float(s["value"][1]) for s in answer["data"]["result"]]
            if not any(not math.isnan(v) for v in values):
                failures.append(f"{name} / {panel['title']}: no data for {expr}")
for f in failures:
    print("FAIL", f)
if failures:
    # What Prometheus holds of the histograms, to tell a scrape problem from a query problem.
    for metric in ("p2p_search_seconds_count", "p2p_dht_lookup_seconds_count"):
        series = get("query", query=f'{metric}{{run="{run}"}}')["data"]["result"]
        print(metric, [(s["metric"].get("peer"), s["metric"].get("scope"), s["value"][1]) for s in series])
        ranged = get("query", query=f'increase({metric}{{run="{run}"}}[5m])')["data"]["result"]
        print("increase", metric, [(s["metric"].get("peer"), s["metric"].get("scope"), s["value"][1]) for s in ranged])
print(f"{checked} dashboard queries checked, {len(failures)} failed")
sys.exit(1 if failures else 0)
PY
echo "observability: ok"
