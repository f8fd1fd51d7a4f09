#!/usr/bin/env bash
# The nightly testbed run, the same here as in CI (.github/workflows/nightly.yml):
#   1. build everything (one static release build);
#   2. `orchestrator up` with the main job's settings;
#   3. compare with the baseline run (if there is one) with `orchestrator compare`;
#   4. when the run met its targets and did not regress, it becomes the new baseline.
#
#   scripts/nightly.sh [--baseline DIR] [--results DIR]
#
# NIGHTLY_PEERS (50), NIGHTLY_LATENCY (20ms one way) and
# NIGHTLY_RUNTIME (auto) set the run. Exits with the run's code (1 missed target, 3 failed
# run), or 1 when the comparison finds a significant regression.
set -uo pipefail
cd "$(dirname "$0")/.."
baseline=baseline results=results
while [ $# -gt 0 ]; do
    case "$1" in
        --baseline) baseline="$2"; shift ;;
        --results) results="$2"; shift ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

cargo build --release --workspace --bins || exit 3
orchestrator=target/x86_64-unknown-linux-gnu/release/orchestrator

before=$(ls -d "$results"/*/ 2>/dev/null | sort)
"$orchestrator" up --peers "${NIGHTLY_PEERS:-50}" --latency "${NIGHTLY_LATENCY:-20ms}" \
    --runtime "${NIGHTLY_RUNTIME:-auto}" --results-dir "$results"
run_status=$?
run_dir=$(comm -13 <(echo "$before") <(ls -d "$results"/*/ 2>/dev/null | sort) | grep -v '/targets/$' | tail -1)
if [ -z "$run_dir" ] || [ ! -f "$run_dir/results.json" ]; then
    echo "nightly: the run left no results.json" >&2
    exit 3
fi
echo "nightly: run results in $run_dir (exit $run_status)"

compare_status=0
if [ -f "$baseline/results.json" ]; then
    "$orchestrator" compare "$baseline" "$run_dir" | tee "$run_dir/compare.txt"
    compare_status=${PIPESTATUS[0]}
else
    echo "nightly: no baseline in $baseline yet; this run will become it" | tee "$run_dir/compare.txt"
fi

if [ "$run_status" = 0 ] && [ "$compare_status" = 0 ]; then
    rm -rf "$baseline" && mkdir -p "$baseline" && cp -r "$run_dir"/. "$baseline"/
    echo "nightly: $run_dir is the new baseline"
fi
[ "$run_status" != 0 ] && exit "$run_status"
exit "$compare_status"
