#!/bin/bash
# initiate cutover / cutover status on a seeded status record (no databases):
# refusals in the wrong state, idempotent requests, restart hints (in cutover
# status and in what initiate cutover says; after cutover to target with a way
# back, for each way-back process that is not running).
. "$(dirname "$0")/../lib/harness.sh"
V=$VOYAGER
ED=$(new_export_dir)

. "$HARNESS_DIR/status.sh"
set_status() { status_set "$ED" "$@"; }
get_status() { status_get "$ED" "$1"; }
# hold_lock DIR NAME: a process holding DIR's command lock NAME (as that command would), in $HELD
hold_lock() {
    bash -c 'exec 9>"$1"; flock 9; echo $$ >&9; exec sleep 30' _ "$1/.$2.lck" &
    HELD+=($!)
    sleep 0.3
}
release_locks() { kill "${HELD[@]}" 2>/dev/null; wait "${HELD[@]}" 2>/dev/null; HELD=(); }
HELD=()
trap 'release_locks; harness_cleanup' EXIT

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
assert_match "no process runs: initiate says the cutover waits for the processes it names" \
    "cutover to target initiated; it completes once each process below has done its part" "$(cat "$LAST_OUT")"
assert_match "initiate names the exporter to restart" \
    "'export data from source' is not running: restart it with the same arguments" "$(cat "$LAST_OUT")"
assert_match "initiate names the importer to restart" "'import data to target' is not running: restart it" \
    "$(cat "$LAST_OUT")"
assert_match "export data from target: the importer turns into it once restarted" \
    "'export data from target' is not running either: 'import data to target' turns into it once restarted" \
    "$(cat "$LAST_OUT")"
assert_eq "initiate does not say running processes will complete it" "" \
    "$(grep "running migration processes will complete it" "$LAST_OUT")"
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
assert_match "completed with fall-back: export data from target not running is named" \
    "'export data from target' is not running: restart it with the same arguments \(the way back to the source needs it\)" \
    "$(cat "$LAST_OUT")"
assert_match "completed with fall-back: import data to source not running is named" \
    "'import data to source' is not running: restart it" "$(cat "$LAST_OUT")"
hold_lock "$ED" export-data-from-target
hold_lock "$ED" import-data-to-source
"$V" cutover status -e "$ED" >"$LAST_OUT"
assert_eq "both way-back processes running: cutover status names neither" \
    "cutover to target status: COMPLETED|cutover to source status: NOT INITIATED" "$(paste -sd'|' "$LAST_OUT")"
release_locks
expect_fail "no source-replica, no cutover to it" 3 "no source-replica" "$V" initiate cutover to source-replica -e "$ED"
check "cutover to source after target completed" "$V" initiate cutover to source -e "$ED"
assert_eq "source request recorded" "true" "$(get_status CutoverToSourceRequested)"
assert_match "cutover to source: initiate names the processes to restart" \
    "'export data from target' is not running: restart it.*'import data to source' is not running: restart it" \
    "$(paste -sd' ' "$LAST_OUT")"

# initiate with every process running: they complete it
ED=$(new_export_dir)
status_new_migration "$ED"
set_status ExportType '"snapshot-and-changes"'
hold_lock "$ED" export-data-from-source
hold_lock "$ED" import-data-to-target
check "initiate cutover to target with its processes running" "$V" initiate cutover to target -e "$ED" \
    --prepare-for-fall-back true
assert_match "says the running processes will complete it" \
    "cutover to target initiated; the running migration processes will complete it" "$(cat "$LAST_OUT")"
assert_match "names the running exporter with its pid" "waiting for 'export data from source' \(pid ${HELD[0]}\)" \
    "$(cat "$LAST_OUT")"
assert_match "export data from target: started by the running target importer, not to restart" \
    "'export data from target' starts when 'import data to target' \(pid ${HELD[1]}\) has done its part" \
    "$(cat "$LAST_OUT")"
release_locks
done_testing
