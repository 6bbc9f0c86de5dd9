#!/bin/bash
# export data --export-type snapshot-and-changes on a source with an open prepared (two-phase)
# transaction: the replication slot can only be made once it ends, so export data names it
# (gid, database, since when) and what ends it, instead of waiting without a word; once it is
# committed, the export goes on and its row is in the snapshot.
. "$(dirname "$0")/../lib/harness.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb || exit 1
echo "max_prepared_transactions = 5" >>"$SOURCE_DIR/data/postgresql.conf"
pg_restart source || { not_ok "restart the source with max_prepared_transactions"; done_testing; exit 1; }
conn_flags
psql_as source sourcedb -c "CREATE TABLE public.t (id int PRIMARY KEY, v text);
    ALTER TABLE public.t REPLICA IDENTITY FULL; INSERT INTO public.t SELECT g, 'row' FROM generate_series(1, 10) g" >/dev/null
psql_as source sourcedb -c "BEGIN; INSERT INTO public.t VALUES (100, 'prepared'); PREPARE TRANSACTION 'xa-dangling'"

"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true \
    >"$TEST_TMP/exporter.out" 2>&1 &
EXP_PID=$!
trap 'kill -KILL $EXP_PID 2>/dev/null; harness_cleanup' EXIT
for _ in $(seq 1 100); do grep -q "xa-dangling" "$TEST_TMP/exporter.out" && break; sleep 0.2; done
assert_match "export data names the prepared transaction the slot waits for, and its fix" \
    "warning: source database: prepared transaction 'xa-dangling' \(database sourcedb, prepared [0-9-]+ [0-9:]+\) is open: creating the replication slot waits for it.*hint: end it \(COMMIT PREPARED or ROLLBACK PREPARED" \
    "$(tr '\n' ' ' <"$TEST_TMP/exporter.out")"
check "export data still waits (it was not stopped)" kill -0 "$EXP_PID"

psql_as source sourcedb -c "COMMIT PREPARED 'xa-dangling'"
for _ in $(seq 1 150); do grep -q "streaming changes from" "$TEST_TMP/exporter.out" "$ED"/logs/*.log 2>/dev/null && break; sleep 0.2; done
assert_match "after COMMIT PREPARED the export goes on to stream changes" "streaming changes from" \
    "$(cat "$TEST_TMP/exporter.out" "$ED"/logs/*.log 2>/dev/null)"
assert_eq "the prepared transaction's row is in the snapshot" 1 \
    "$(grep -rh "prepared" "$ED/data" --include='*.sql' 2>/dev/null | grep -c '^100	prepared$')"
kill -TERM "$EXP_PID" 2>/dev/null
wait "$EXP_PID" 2>/dev/null
done_testing
