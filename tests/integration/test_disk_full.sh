#!/bin/bash
# A full disk under export data (the export dir's data/ on a small tmpfs):
# the snapshot export and the change queue each stop with exit 3 and "No space
# left on device" naming the path and saying to free space and run again;
# meta.db and the queue stay consistent, and the rerun after space was freed
# ends equal to the source (snapshot loaded + queue replayed into a copy).
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
MOUNTS=()
cleanup_mounts() {
    local m
    for m in "${MOUNTS[@]:-}"; do [ -n "$m" ] && umount "$m" 2>/dev/null; done
    harness_cleanup
}
trap cleanup_mounts EXIT
# small_disk DIR SIZE: a tmpfs of SIZE on DIR (created).
small_disk() {
    mkdir -p "$1"
    mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" 2>/dev/null || return 1
    MOUNTS+=("$1")
}
probe=$TEST_TMP/probe
if ! small_disk "$probe" 1m; then
    echo "# skip: cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): no disk-full test"
    done_testing
    exit 0
fi
pg_start source sourcedb || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
# About 11 MB of data: more than the 8 MB disk.
psql_as source sourcedb -c "CREATE TABLE public.big (id int PRIMARY KEY, pad text); ALTER TABLE public.big REPLICA IDENTITY FULL;
    INSERT INTO public.big SELECT g, repeat(md5(g::text), 2) FROM generate_series(1, 150000) g" >/dev/null
copydb_create
export VOYAGER_EXPORT_SPLIT_BYTES=$((1024 * 1024))
reset_copy() {
    psql_as source copydb -c "TRUNCATE public.items, public.\"Mixed Case\", public.pairs, public.parted, public.big" >/dev/null
}

# --- 1. the snapshot export fills the disk
ED=$(new_export_dir)
small_disk "$ED/data" 8m
expect_fail "snapshot export on a full disk: exit 3" 3 "No space left on device" \
    "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --parallel-jobs 2 --disable-pb true
err=$(tr '\n' ' ' <"$LAST_ERR")
assert_match "the error names the file under data/ and says to free space and rerun" \
    "cannot write $ED/data/[^ ]+: No space left on device hint: free space on that file system and run the same command again" "$err"
assert_eq "no message says 'Success'" "" "$(grep -i 'success' "$LAST_ERR")"
check "export data status still reads meta.db" "$V" export data status -e "$ED"
assert_eq "no partial .tmp file is left holding space" "" "$(find "$ED/data" -name '*.tmp')"
mount -o remount,size=64m "$ED/data"
check "the rerun after space was freed completes" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --parallel-jobs 2 --disable-pb true
snapshot_load_sql "$ED" >"$TEST_TMP/load1.sql"
check "load the snapshot into the copy" psql_as source copydb -f "$TEST_TMP/load1.sql"
compare_databases source source sourcedb copydb

# --- 2. the change queue fills the disk
reset_copy
ED=$(new_export_dir)
small_disk "$ED/data" 24m
EXP=("$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true)
"${EXP[@]}" >"$TEST_TMP/exp1.out" 2>&1 &
pid=$!
for i in $(seq 1 300); do
    [ -n "$(psql_as source postgres -c "SELECT pid FROM pg_stat_replication WHERE application_name = 'yb-voyager-cdc'")" ] && break
    sleep 0.2
done
# Fill what is left of the disk, then change the source.
dd if=/dev/zero of="$ED/data/filler" bs=64k >/dev/null 2>&1
live_workload_sql 600 41 | psql_as source sourcedb >/dev/null
wait_exit "$pid" 60
assert_eq "change queue on a full disk: exit 3" 3 "$?"
assert_match "the error names the queue segment and says to free space and rerun" \
    "error: cannot write queue segment $ED/data/queue/segment\.[0-9]+\.ndjson: No space left on device hint: free space on that file system and run the same command again" \
    "$(tr '\n' ' ' <"$TEST_TMP/exp1.out")"
rm -f "$ED/data/filler"
"${EXP[@]}" >"$TEST_TMP/exp2.out" 2>&1 &
pid=$!
live_workload_sql 300 42 | psql_as source sourcedb >/dev/null
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$pid" 90
assert_eq "the rerun after space was freed drains and exits 0" 0 "$?"
assert_eq "vsn strictly increasing, markers in place" ok "$(queue_vsn_check "$ED" 2>&1)"
snapshot_load_sql "$ED" >"$TEST_TMP/load2.sql"
check "load the snapshot into the copy" psql_as source copydb -f "$TEST_TMP/load2.sql"
queue_replay_sql "$ED" source_db_exporter >"$TEST_TMP/replay.sql"
check "replay the queue: each update/delete hits one row, no duplicate insert" psql_as source copydb -f "$TEST_TMP/replay.sql"
compare_databases source source sourcedb copydb
done_testing
