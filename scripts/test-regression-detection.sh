#!/usr/bin/env bash
# Proves that `run-p2p-benchmarks.sh --strict` fails on a real regression and passes without
# one: a baseline of local_cache_hit, then a run doing 50% more real searches per iteration
# (P2P_BENCH_INJECT_REGRESSION=1.5), then a run without the injection.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=(--quick --filter p2p_package_search/local_cache_hit)

scripts/run-p2p-benchmarks.sh "${bench[@]}" --baseline regression-check >/dev/null

if P2P_BENCH_INJECT_REGRESSION=1.5 scripts/run-p2p-benchmarks.sh "${bench[@]}" --compare regression-check --strict | tail -4; then
    echo "FAIL: --strict passed although every iteration did 50% more work" >&2
    exit 1
fi
echo "ok: --strict failed on the injected regression"

scripts/run-p2p-benchmarks.sh "${bench[@]}" --compare regression-check --strict | tail -4
echo "ok: --strict passed without a regression"
