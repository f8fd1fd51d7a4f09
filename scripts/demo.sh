#!/usr/bin/env bash
# Three p2p-node processes on loopback: publish on one, search and install from the others,
# all through the CLI. Every process is stopped on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --bin p2p-node
bin=target/x86_64-unknown-linux-gnu/release/p2p-node
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

start_node() { # index, extra args...
    local i=$1; shift
    # Nodes on one host need distinct ports: libp2p dials from its listen port.
    "$bin" run --data-dir "$work/node$i" --listen "/ip4/127.0.0.1/tcp/400$i" \
        --api-addr "127.0.0.1:808$i" "$@" >"$work/node$i.out" 2>"$work/node$i.log" &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q '^api ' "$work/node$i.out" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "node $i did not start:" >&2; cat "$work/node$i.log" >&2; exit 1
}

start_node 1
seed=$(awk '/^listening /{print $2; exit}' "$work/node1.out")
start_node 2 --bootstrap "$seed"
start_node 3 --bootstrap "$seed"
sleep 2

echo "== node 1 publishes"
printf 'echo "hello from the marketplace"\n' >"$work/hello.sh"
"$bin" publish "$work/hello.sh" --name hello-script --version 1.0.0 \
    --description "Greets from a shell script" --tag shell --tag demo --node http://127.0.0.1:8081
sleep 1
echo "== node 3 searches its local index (filled by gossip)"
"$bin" search greets --node http://127.0.0.1:8083
echo "== node 2 searches the network"
"$bin" search shell --network --node http://127.0.0.1:8082
echo "== node 3 installs"
"$bin" install hello-script --node http://127.0.0.1:8083
echo "== node 3 status"
"$bin" status --node http://127.0.0.1:8083
