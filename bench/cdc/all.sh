#!/bin/bash
# bench/cdc/all.sh [RUNS] [WORKLOADS...]: bench/cdc/run.sh for each workload, RUNS times,
# the method order rotated from one run to the next (and between workloads). Each report
# is appended to $BENCH_OUT (default bench/cdc/last-run.txt, not committed).
# Quick: bench/cdc/all.sh 1          (SIZE=quick, ~2-3 min a workload on a quiet 2-core machine)
# Full:  SIZE=full bench/cdc/all.sh 2
set -u
cd "$(dirname "$0")/../.."
RUNS=${1:-1}
shift 2>/dev/null
WLS=${*:-tpcb wide batched}
export BENCH_OUT=${BENCH_OUT:-$PWD/bench/cdc/last-run.txt}
k=0
for r in $(seq 1 "$RUNS"); do
    for wl in $WLS; do
        echo "## run $r, $wl, order $((k % 2))" >>"$BENCH_OUT"
        bench/cdc/run.sh "$wl" $((k % 2)) | grep -v '^ok '
        k=$((k + 1))
    done
done
