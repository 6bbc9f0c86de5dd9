#!/bin/bash
# A worker thread that cannot be started (pthread_create failing, as at the
# process's thread limit) stops the command at once with a clear, resumable
# error (exit 3), never a hang: the change importer's channels (the same
# command afterwards applies everything, and the target equals a serially
# replayed reference), and the snapshot export and import (rerun, the target
# equals the source).
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
SHIM=$TEST_TMP/fail_pthread_create.so
cc -shared -fPIC -o "$SHIM" "$HARNESS_DIR/fail_pthread_create.c" -ldl || { not_ok "shim builds"; done_testing; exit 1; }
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null && pg_start source sourcedb >/dev/null ||
    { not_ok "clusters"; done_testing; exit 1; }
queue_schema_sql mixed | psql_as target yugabyte >/dev/null
queue_schema_sql mixed | psql_as ref ref >/dev/null
ED=$(new_export_dir)
next=$(queue_gen mixed 11 1500 1 "$TEST_TMP/w")
queue_append "$ED" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 300000
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
psql_as ref ref -f "$TEST_TMP/w.sql" >/dev/null || not_ok "reference workload applies"

# The third channel thread fails (the first two start and must be stopped cleanly). The four
# channels' connections are made on four threads first (cdc_import.c connect_channels): the
# seventh thread of the process is the third channel's.
apply_cmd "$ED" target target --parallel-jobs 4
VOYAGER_CDC_DRIVE=$APPLY_ENV LD_PRELOAD=$SHIM FAIL_PTHREAD_CREATE_AT=7 \
    "${APPLY_CMD[@]}" >"$TEST_TMP/apply.out" 2>"$TEST_TMP/apply.err" &
pid=$!
wait_exit "$pid" 30
rc=$?
[ "$rc" = 124 ] && kill -9 "$pid" 2>/dev/null
assert_eq "the importer exits 3 (resumable), without hanging" 3 "$rc"
assert_match "one clear error names the thread and what to do" \
    "cannot start channel thread 3 of 4: .* hint: lower --parallel-jobs or raise the process's thread limit, then run the same command again" \
    "$(tr '\n' ' ' <"$TEST_TMP/apply.err")"
check "the same command afterwards applies everything" run_apply "$ED" target target --parallel-jobs 4
compare_databases target ref yugabyte ref

# Snapshot export and import, into a database of their own on the target cluster.
. "$HARNESS_DIR/snapshot.sh"
conn_flags
psql_as source sourcedb -c "CREATE TABLE public.a (id int PRIMARY KEY, v text); CREATE TABLE public.b (id int PRIMARY KEY);
    INSERT INTO public.a SELECT g, 'a' || g FROM generate_series(1, 3000) g; INSERT INTO public.b SELECT generate_series(1, 2000)" >/dev/null
psql_as target postgres -c "CREATE DATABASE snap OWNER voyager" >/dev/null
copy_schema source target sourcedb snap || exit 1
ED=$(new_export_dir)
SNAP_TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name snap)
with_failing_thread() { LD_PRELOAD=$SHIM FAIL_PTHREAD_CREATE_AT=2 timeout 60 "$@"; }
expect_refusal "export data: a worker thread that cannot start is a resumable error" 3 \
    "cannot start export worker thread 2 of 2: .* hint: lower --parallel-jobs.*run the same command again" \
    with_failing_thread "$VOYAGER" export data -e "$ED" "${SRC_FLAGS[@]}" --parallel-jobs 2 --disable-pb true
check "export data run again" "$VOYAGER" export data -e "$ED" "${SRC_FLAGS[@]}" --parallel-jobs 2 --disable-pb true
expect_refusal "import data: a worker thread that cannot start is a resumable error" 3 \
    "cannot start import worker thread 2 of 2: .* hint: lower --parallel-jobs" \
    with_failing_thread "$VOYAGER" import data -e "$ED" "${SNAP_TGT[@]}" --parallel-jobs 2 --disable-pb true
check "import data run again" "$VOYAGER" import data -e "$ED" "${SNAP_TGT[@]}" --parallel-jobs 2 --disable-pb true
compare_databases source target sourcedb snap
done_testing
