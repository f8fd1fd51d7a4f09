#!/usr/bin/env bash
# Runs the marketplace_p2p benchmark suite (real libp2p swarms in one process).
#
#   scripts/run-p2p-benchmarks.sh [--quick] [--baseline NAME] [--compare NAME] [--strict] [--filter REGEX]
#
#   --quick          reduced sizes and samples (CI); the full run covers up to 1000 peers
#   --baseline NAME  save this run as Criterion baseline NAME
#   --compare NAME   compare against saved baseline NAME (default: the previous run)
#   --strict         exit 1 when a benchmark regressed: mean slower by more than 5% and the
#                    95% confidence interval of the change above zero (p < 0.05)
#   --filter REGEX   only the benchmarks whose id matches, e.g. p2p_sla or dht_lookup
#
# Flags combine. The SLA group (p2p_sla) fails the run by itself when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 strict=0 baseline="" compare="" filter=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --strict) strict=1 ;;
        --baseline) baseline="${2:?--baseline needs a name}"; shift ;;
        --compare) compare="${2:?--compare needs a name}"; shift ;;
        --filter) filter="${2:?--filter needs a regex}"; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

criterion_args=()
[ -n "$baseline" ] && criterion_args+=(--save-baseline "$baseline")
[ -n "$compare" ] && criterion_args+=(--baseline "$compare")
[ -n "$filter" ] && criterion_args+=("$filter")

# The process-memory cases run the real p2p-node binary.
cargo build --release --bin p2p-node
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
criterion_dir="$target_dir/criterion"
mkdir -p "$criterion_dir"
marker=$(mktemp)
trap 'rm -f "$marker"' EXIT

status=0
P2P_BENCH_QUICK=$quick cargo bench --bench marketplace_p2p -- "${criterion_args[@]}" || status=$?

echo
echo "HTML report: $criterion_dir/report/index.html"
echo "Percentiles: $criterion_dir/p2p-summary.json"

python3 - "$criterion_dir/p2p-summary.json" <<'PY'
import json, sys
try:
    summary = json.load(open(sys.argv[1]))
except OSError:
    sys.exit(0)
checks = summary.get("sla", [])
if checks:
    print("\nSLA group:")
    print(f"  {'check':<32} {'statistic':<9} {'measured':>12} {'target':>12}  result")
    for c in checks:
        fmt = lambda s: f"{s*1e6:.1f} µs" if s < 1e-3 else (f"{s*1e3:.2f} ms" if s < 1 else f"{s:.3f} s")
        print(f"  {c['name']:<32} {c['statistic']:<9} {fmt(c['measured_s']):>12} {fmt(c['target_s']):>12}  {'PASS' if c['pass'] else 'FAIL'}")
PY

if [ "$strict" = 1 ]; then
    # Changes written by this run only (Criterion keeps older ones).
    if ! find "$criterion_dir" -path '*/change/estimates.json' -newer "$marker" -print0 \
        | xargs -0 -r python3 scripts/bench-regressions.py --threshold 0.05; then
        status=1
    fi
fi
exit "$status"
