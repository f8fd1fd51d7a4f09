#!/usr/bin/env bash
# The nightly testbed run, the same here as in CI (.github/workflows/nightly.yml):
#   1. build everything (one static release build);
#   2. `orchestrator up` with the main job's settings;
#   3. compare with the last completed run in the history (`orchestrator compare`, which also
#      says when the two ran different configurations);
#   4. a completed run (targets met or not) joins the history, which keeps the last
#      NIGHTLY_KEEP runs; `orchestrator trend` draws every phase's p50/p95 over them;
#   5. the summary, the comparison and the trend go to $GITHUB_STEP_SUMMARY when it is set.
#
#   scripts/nightly.sh [--history DIR] [--results DIR]
#
# NIGHTLY_PEERS (50), NIGHTLY_LATENCY (20ms one way), NIGHTLY_RUNTIME (auto),
# NIGHTLY_TRANSPORT (tcp) and NIGHTLY_KEEP (30) set the run; NIGHTLY_THRESHOLD (5%) is the
# worsening of a median that counts as a regression. A missed target and a
# regression are each reported and each fail the job: exit 3 when the run itself failed,
# otherwise 1 when a target was missed or a phase regressed, 0 when neither.
set -uo pipefail
cd "$(dirname "$0")/.."
history=history results=results
while [ $# -gt 0 ]; do
    case "$1" in
        --history) history="$2"; shift ;;
        --results) results="$2"; shift ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
keep=${NIGHTLY_KEEP:-30}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}

cargo build --release --workspace --bins || exit 3
orchestrator=target/x86_64-unknown-linux-gnu/release/orchestrator

mkdir -p "$history" "$results"
before=$(ls -d "$results"/*/ 2>/dev/null | sort)
"$orchestrator" up --peers "${NIGHTLY_PEERS:-50}" --latency "${NIGHTLY_LATENCY:-20ms}" \
    --runtime "${NIGHTLY_RUNTIME:-auto}" --transport "${NIGHTLY_TRANSPORT:-tcp}" \
    --results-dir "$results"
run_status=$?
run_dir=$(comm -13 <(echo "$before") <(ls -d "$results"/*/ 2>/dev/null | sort) \
    | grep -v -e '/targets/$' -e '/sweep-' | tail -1)
run_dir=${run_dir%/}
if [ -z "$run_dir" ] || [ ! -f "$run_dir/results.json" ]; then
    echo "nightly: the run left no results.json" | tee -a "$summary" >&2
    exit 3
fi
echo "nightly: run results in $run_dir (exit $run_status)"
{
    echo "# Nightly testbed run"
    echo
    case "$run_status" in
        0) echo "Every target met." ;;
        1) echo "**A target was missed** (see the table below)." ;;
        *) echo "**The run failed** (exit $run_status)." ;;
    esac
    echo
    cat "$run_dir/summary.md"
} >>"$summary"

# The last completed run in the history is the reference, whether or not it met its targets.
last=$(ls -d "$history"/*/ 2>/dev/null | sort | tail -1)
last=${last%/}
compare_status=0
if [ -n "$last" ] && [ -f "$last/results.json" ]; then
    "$orchestrator" compare --threshold "${NIGHTLY_THRESHOLD:-5%}" "$last" "$run_dir" \
        | tee "$run_dir/compare.txt"
    compare_status=${PIPESTATUS[0]}
    [ "$compare_status" -gt 1 ] && echo "nightly: compare failed (exit $compare_status)" >&2
else
    echo "nightly: no earlier completed run in $history; the next run compares with this one" \
        | tee "$run_dir/compare.txt"
fi
{
    echo
    echo "## Compared with the last completed run"
    echo
    echo '```'
    cat "$run_dir/compare.txt"
    echo '```'
} >>"$summary"

# A run that completed (every phase ran; targets met or not) joins the history.
if [ "$run_status" = 0 ] || [ "$run_status" = 1 ]; then
    name=$(basename "$run_dir")
    mkdir -p "$history/$name"
    cp "$run_dir/results.json" "$run_dir/summary.md" "$history/$name/"
    ls -d "$history"/*/ | sort | head -n "-$keep" | xargs -r rm -rf
    echo "nightly: $run_dir joined the history ($(ls -d "$history"/*/ | wc -l) runs)"
fi
runs=$(ls -d "$history"/*/ 2>/dev/null | sort)
if [ "$(echo "$runs" | grep -c .)" -ge 2 ]; then
    # shellcheck disable=SC2086
    "$orchestrator" trend $runs --out "$run_dir/trend" \
        && {
            echo
            echo "## Trend over the history"
            echo
            echo "Every phase's p50 and p95 per nightly run: \`$run_dir/trend/\` (plots in the artifacts)."
            sed -n '3,/^## /p' "$run_dir/trend/summary.md" | sed '$d'
        } >>"$summary"
fi

status=0
if [ "$run_status" != 0 ] && [ "$run_status" != 1 ]; then
    status=$run_status
else
    [ "$run_status" = 1 ] && { echo "nightly: a target was missed" >&2; status=1; }
    [ "$compare_status" != 0 ] && { echo "nightly: a phase regressed against $last" >&2; status=1; }
fi
exit "$status"
