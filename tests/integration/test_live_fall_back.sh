#!/bin/bash
# Live migration with fall-back, end to end on two clusters with workloads, every
# process killed (-9) and restarted in every phase: snapshot + changes -> cutover to
# target prepared for fall-back -> target changes flow back to the source -> cutover
# to source. The steps and checks: tests/lib/live_suite.sh.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/live_suite.sh"
live_suite fall-back || exit 1
done_testing
