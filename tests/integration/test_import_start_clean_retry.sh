#!/bin/bash
# import data --start-clean --truncate-tables: the reset (truncation and the
# forgetting of the batches, one transaction on the target) is retried under
# the retry policy like every other step of the import. Here its connection is
# terminated while the TRUNCATE waits for a lock another session holds: the
# import reconnects, runs the reset again once the lock is free, and the
# target ends equal to the source (it used to stop with exit 5).
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
pg_start source sourcedb >/dev/null && pg_start target yugabyte >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
psql_as source sourcedb -c "CREATE TABLE public.t (id int PRIMARY KEY, v text);
    INSERT INTO public.t SELECT g, 'row ' || g FROM generate_series(1, 500) g" >/dev/null
copy_schema source target || exit 1
ED=$(new_export_dir)
check "export data" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --disable-pb true
check "import data" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
psql_as target yugabyte -c "INSERT INTO public.t VALUES (100000, 'not from the source')" >/dev/null

# a session holding the table for a while: the reset's TRUNCATE waits for it
psql_as target yugabyte -c "BEGIN; LOCK TABLE public.t IN ACCESS SHARE MODE; SELECT pg_sleep(6); COMMIT" \
    >/dev/null 2>&1 &
LOCKER=$!
sleep 0.5
"$V" import data -e "$ED" "${TGT_FLAGS[@]}" --start-clean true --truncate-tables true --disable-pb true \
    </dev/null >"$TEST_TMP/clean.out" 2>"$TEST_TMP/clean.err" &
IMP=$!
killed=0
for _ in $(seq 1 100); do
    killed=$(psql_as target yugabyte -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
        WHERE query ILIKE 'TRUNCATE TABLE%' AND wait_event_type = 'Lock'")
    [ "$killed" -gt 0 ] && break
    sleep 0.1
done
assert_eq "the reset's connection was terminated while it waited for the lock" 1 "$killed"
wait_exit "$IMP" 120
assert_eq "import data --start-clean went on after the lost connection (exit 0)" 0 "$?"
wait "$LOCKER"
assert_match "the lost connection was retried (a warning, not an error)" "^warning: " "$(cat "$TEST_TMP/clean.err")"
compare_databases source target
done_testing
