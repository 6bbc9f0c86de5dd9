#!/bin/bash
# Live migration with fall-forward, end to end on three clusters with workloads, every
# process killed (-9) and restarted in every phase: snapshot + changes to target and
# source-replica -> cutover to target -> target changes flow to the source-replica ->
# cutover to source-replica. The steps and checks: tests/lib/live_suite.sh.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/live_suite.sh"
live_suite fall-forward || exit 1
done_testing
