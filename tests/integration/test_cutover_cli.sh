#!/bin/bash
# initiate cutover / cutover status on a seeded status record (no databases):
# refusals in the wrong state, idempotent requests, restart hints.
. "$(dirname "$0")/../lib/harness.sh"
V=$VOYAGER
ED=$(new_export_dir)

. "$HARNESS_DIR/status.sh"
set_status() { status_set "$ED" "$@"; }
get_status() { status_get "$ED" "$1"; }

status_new_migration "$ED"
check "cutover status on a new migration" "$V" cutover status -e "$ED"
assert_eq "nothing initiated" "cutover to target status: NOT INITIATED" "$(cat "$LAST_OUT")"
expect_fail "offline migration refuses cutover" 3 "cutover is for live migrations" "$V" initiate cutover to target -e "$ED"
set_status ExportType '"snapshot-and-changes"'
expect_fail "cutover to source before cutover to target" 3 "has not completed yet" "$V" initiate cutover to source -e "$ED"
# the gRPC connector (upstream's default) is not built: true is refused, false is the only way
expect_refusal "--use-yb-grpc-connector true is refused: not built" 6 \
    "^error: --use-yb-grpc-connector true is not built yet .*detail: .*logical replication over the PostgreSQL protocol.* hint: leave the flag out, or give --use-yb-grpc-connector false" \
    "$V" initiate cutover to target -e "$ED" --use-yb-grpc-connector true
expect_fail "--use-yb-grpc-connector true is refused under the older name too" 6 "use-yb-grpc-connector true is not built" \
    "$V" cutover initiate -e "$ED" --use-yb-grpc-connector
printf 'initiate-cutover-to-target:\n  use-yb-grpc-connector: true\n' >"$TEST_TMP/grpc.yaml"
expect_fail "--use-yb-grpc-connector true from the config file is refused" 6 "use-yb-grpc-connector true is not built" \
    "$V" initiate cutover to target -e "$ED" --config-file "$TEST_TMP/grpc.yaml"
assert_eq "the refusals requested nothing" "null" "$(get_status CutoverToTargetRequested)"
check "initiate cutover to target (--use-yb-grpc-connector false: the PostgreSQL protocol)" \
    "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back true --use-yb-grpc-connector false
assert_eq "request recorded" "true" "$(get_status CutoverToTargetRequested)"
assert_eq "fall-back recorded" "true" "$(get_status FallbackEnabled)"
expect_fail "export data --start-clean after cutover to target was initiated" 3 \
    "cutover to target was initiated for this migration, so export data cannot start it over" \
    "$V" export data -e "$ED" --source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port 1 \
    --source-db-user voyager --source-db-name sourcedb --export-type snapshot-and-changes --start-clean
assert_eq "the refusal left the request in place" "true" "$(get_status CutoverToTargetRequested)"
check "initiating twice is harmless" "$V" initiate cutover to target -e "$ED"
assert_match "twice says so" "already initiated" "$(cat "$LAST_OUT")"
check "status while processes are missing" "$V" cutover status -e "$ED"
assert_match "status: initiated" "cutover to target status: INITIATED" "$(cat "$LAST_OUT")"
assert_match "names the exporter to restart" "'export data from source' is not running: restart it" "$(cat "$LAST_OUT")"
assert_match "fall-back cutover listed" "cutover to source status: NOT INITIATED" "$(cat "$LAST_OUT")"
bash -c 'exec 9>"$1"; flock 9; echo $$ >&9; exec sleep 20' _ "$ED/.import-data-to-target.lck" &
holder=$!
sleep 0.3
"$V" cutover status -e "$ED" >"$LAST_OUT"
assert_match "a running importer is named with its pid" "waiting for 'import data to target' \(pid $holder\)" "$(cat "$LAST_OUT")"
kill $holder; wait $holder 2>/dev/null
set_status CutoverProcessedBySourceExporter true CutoverProcessedByTargetImporter true
"$V" cutover status -e "$ED" >"$LAST_OUT"
assert_match "with fall-back, not complete before the target's changes are captured" \
    "cutover to target status: INITIATED" "$(cat "$LAST_OUT")"
assert_match "names export data from target" "'export data from target' is not running" "$(cat "$LAST_OUT")"
set_status ExportFromTargetStarted true
"$V" cutover status -e "$ED" >"$LAST_OUT"
assert_match "completed" "cutover to target status: COMPLETED" "$(cat "$LAST_OUT")"
expect_fail "no source-replica, no cutover to it" 3 "no source-replica" "$V" initiate cutover to source-replica -e "$ED"
check "cutover to source after target completed" "$V" initiate cutover to source -e "$ED"
assert_eq "source request recorded" "true" "$(get_status CutoverToSourceRequested)"
done_testing
