#!/bin/bash
# A channel thread that cannot be started (pthread_create failing, as at the
# process's thread limit) makes the change importer stop at once with a clear,
# resumable error (exit 3), not hang; the same command afterwards applies
# everything, and the target equals a serially replayed reference.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
SHIM=$TEST_TMP/fail_pthread_create.so
cc -shared -fPIC -o "$SHIM" "$HARNESS_DIR/fail_pthread_create.c" -ldl || { not_ok "shim builds"; done_testing; exit 1; }
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
queue_schema_sql mixed | psql_as target yugabyte >/dev/null
queue_schema_sql mixed | psql_as ref ref >/dev/null
ED=$(new_export_dir)
next=$(queue_gen mixed 11 1500 1 "$TEST_TMP/w")
queue_append "$ED" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 300000
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
psql_as ref ref -f "$TEST_TMP/w.sql" >/dev/null || not_ok "reference workload applies"

# The third channel thread fails (the first two start and must be stopped cleanly).
apply_cmd "$ED" target target --parallel-jobs 4
VOYAGER_CDC_DRIVE=$APPLY_ENV LD_PRELOAD=$SHIM FAIL_PTHREAD_CREATE_AT=3 \
    "${APPLY_CMD[@]}" >"$TEST_TMP/apply.out" 2>"$TEST_TMP/apply.err" &
pid=$!
wait_exit "$pid" 30
rc=$?
[ "$rc" = 124 ] && kill -9 "$pid" 2>/dev/null
assert_eq "the importer exits 3 (resumable), without hanging" 3 "$rc"
assert_match "one clear error names the thread and what to do" \
    "cannot start channel thread 3 of 4: .*lower --parallel-jobs or raise the process's thread limit, then run the same command again" \
    "$(cat "$TEST_TMP/apply.err")"
check "the same command afterwards applies everything" run_apply "$ED" target target --parallel-jobs 4
compare_databases target ref yugabyte ref
done_testing
