#!/bin/bash
# The source connection drops after export data reached the source and before its snapshot's
# first run exports a row (listing the tables, beginning the snapshot): export data starts the
# run again by itself under the retry policy (a warning, no error line), as it does for a drop
# later in the snapshot, and ends with exit 0; the snapshot loaded into a copy equals the source.
# Snapshot-only and snapshot-and-changes. A schema that does not exist still fails at once
# (exit 4, not retried): only a broken connection is worth a new run.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/faultproxy.sh"
V=$VOYAGER
pg_start source sourcedb || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
copydb_create
proxy_start src "$SOURCE_PORT" || { not_ok "fault proxy"; done_testing; exit 1; }
PROXIED=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$SRC_PROXY_PORT"
    --source-db-user voyager --source-db-name sourcedb --source-db-schema public)
export YB_VOYAGER_RETRY_TIMEOUT=60

# drop_during NAME REGEX ARGS...: export data through the proxy in the background ($EXP_PID,
# output in $TEST_TMP/NAME.out), its statements matching REGEX held 3 s; while the first one is
# held, every connection is closed.
drop_during() {
    local name=$1 re=$2
    shift 2
    proxy_rule src "delay 3 match=$re"
    "$V" export data -e "$ED" "${PROXIED[@]}" --disable-pb true "$@" >"$TEST_TMP/$name.out" 2>&1 &
    EXP_PID=$!
    sleep 1.5
    proxy_rule src drop_all
    proxy_clear src
}
reset_copy() {
    psql_as source copydb -c "TRUNCATE public.items, public.\"Mixed Case\", public.pairs, public.parted" >/dev/null
}
loaded_equal() {
    snapshot_load_sql "$ED" >"$TEST_TMP/load.sql"
    check "$1: load the snapshot into the copy" psql_as source copydb -f "$TEST_TMP/load.sql"
    compare_databases source source sourcedb copydb
}

# started_again NAME DESC: export data said it starts the run again, as a warning only, and
# its snapshot loaded into the copy equals the source.
started_again() {
    assert_match "$2: it said it starts again (a warning)" \
        "^warning: source database: the snapshot export lost the source; starting it again" "$(cat "$TEST_TMP/$1.out")"
    assert_eq "$2: no error line" "" "$(grep '^error' "$TEST_TMP/$1.out")"
    loaded_equal "$2"
}

# snapshot_only NAME REGEX DESC: a snapshot-only export whose connections drop at REGEX ends
# by itself with exit 0.
snapshot_only() {
    reset_copy
    ED=$(new_export_dir)
    drop_during "$1" "$2"
    wait_exit "$EXP_PID" 120
    assert_eq "snapshot-only, $3: exit 0" 0 "$?"
    started_again "$1" "$3"
}

snapshot_only list 'pg_partition_tree' "dropped while listing the tables"
snapshot_only begin 'pg_export_snapshot' "dropped as the snapshot begins"

# --- snapshot-and-changes, the connection dropped while the tables are listed
reset_copy
ED=$(new_export_dir)
drop_during live 'pg_partition_tree' --export-type snapshot-and-changes
check "live: the snapshot is exported" status_wait "$ED" ExportDataDone 90
started_again live "live, dropped while listing"
kill "$EXP_PID" 2>/dev/null
wait_exit "$EXP_PID" 30 >/dev/null

# --- a schema that does not exist: the source answered, the failure stands (exit 4 at once)
ED=$(new_export_dir)
SECONDS=0
expect_fail "a missing schema is no connection fault: exit 4" 4 "schema 'nosuch' \(--source-db-schema\) does not exist" \
    "$V" export data -e "$ED" "${SRC_FLAGS[@]/public/nosuch}" --disable-pb true
[ "$SECONDS" -lt 20 ] && ok "and at once (${SECONDS}s)" || not_ok "and at once" "${SECONDS}s"
done_testing
