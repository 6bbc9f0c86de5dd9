#!/bin/bash
# The first import data (no --start-clean) into target tables that already hold
# rows asks before loading: a table without a key would hold the rows twice. It
# is refused without a terminal (exit 3), loads nothing, and asks again on the
# next run until the tables are emptied or --yes is given. Once this importer
# has loaded, its reruns do not ask: neither after its own load nor when the
# live changes filled a table that was empty at the snapshot. A rerun's summary tells what it
# loaded itself apart from what earlier runs loaded.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/e2e.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
pg_start source sourcedb >/dev/null && pg_start target yugabyte >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
psql_as source sourcedb -c "CREATE TABLE public.nokey (v text);
    INSERT INTO public.nokey SELECT 'row ' || g FROM generate_series(1, 300) g;
    CREATE TABLE public.k (id int PRIMARY KEY, v text);
    INSERT INTO public.k SELECT g, 'k ' || g FROM generate_series(1, 200) g" >/dev/null
copy_schema source target || exit 1
psql_as target yugabyte -c "INSERT INTO public.nokey VALUES ('row 1')" >/dev/null

# --- offline: refused, asked again, then loaded once emptied ---
ED=$(new_export_dir)
check "export data" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --disable-pb true
expect_refusal "first import into a table holding rows is refused without a terminal" 3 \
    "tables (public\.)?nokey already hold rows on the target database that this import did not load.*empty the tables, or run with --start-clean true --truncate-tables true" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true </dev/null
assert_eq "nothing loaded into nokey" "1" "$(psql_as target yugabyte -c "SELECT count(*) FROM public.nokey")"
assert_eq "nothing loaded into k either" "0" "$(psql_as target yugabyte -c "SELECT count(*) FROM public.k")"
expect_refusal "the next run asks again" 3 "already hold rows" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true </dev/null
psql_as target yugabyte -c "DELETE FROM public.nokey" >/dev/null
check "emptied: the import runs" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true </dev/null
compare_databases source target
check "a rerun of the finished import does not ask" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true </dev/null
assert_match "the rerun says it loaded nothing itself (review-report F1)" \
    "imported 2 tables, 500 rows, into the target database: 0 of them by this run, 500 by earlier runs" \
    "$(cat "$LAST_OUT" "$LAST_ERR")"
assert_match "and per table" "nokey: 300 rows imported, all by an earlier run" "$(cat "$LAST_OUT" "$LAST_ERR")"
compare_databases source target

# --- --yes adds to the rows ---
psql_as target yugabyte -c "TRUNCATE public.nokey, public.k; INSERT INTO public.nokey VALUES ('extra')" >/dev/null
ED2=$(new_export_dir)
check "export data again (another dir)" "$V" export data -e "$ED2" "${SRC_FLAGS[@]}" --disable-pb true
check "--yes: import into the non-empty table" "$V" import data -e "$ED2" "${TGT_FLAGS[@]}" --disable-pb true --yes true </dev/null
assert_eq "nokey holds the source's rows and the extra one" "301" "$(psql_as target yugabyte -c "SELECT count(*) FROM public.nokey")"
assert_eq "k equal" "200" "$(psql_as target yugabyte -c "SELECT count(*) FROM public.k")"

# --- live: a table empty at the snapshot, filled by changes, is not asked about on a restart ---
psql_as target yugabyte -c "TRUNCATE public.nokey, public.k" >/dev/null
psql_as source sourcedb -c "CREATE TABLE public.later (id int PRIMARY KEY, v text)" >/dev/null
psql_as target yugabyte -c "CREATE TABLE public.later (id int PRIMARY KEY, v text)" >/dev/null
psql_as source sourcedb -c "ALTER TABLE public.k REPLICA IDENTITY FULL; ALTER TABLE public.later REPLICA IDENTITY FULL;
    ALTER TABLE public.nokey REPLICA IDENTITY FULL" >/dev/null
ED3=$(new_export_dir)
proc_start exp "$V" export data -e "$ED3" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true
wait_streaming || not_ok "live: export data streams"
proc_start imp "$V" import data -e "$ED3" "${TGT_FLAGS[@]}" --disable-pb true
if wait_equal source target 120; then ok "live: the snapshot loaded"; else not_ok "live: the snapshot loaded"; fi
psql_as source sourcedb -c "INSERT INTO public.later SELECT g, 'l ' || g FROM generate_series(1, 50) g" >/dev/null
if wait_equal source target 120; then ok "live changes applied"; else not_ok "live changes applied"; fi
proc_kill9 imp
proc_restart imp
sleep 3
if proc_alive imp; then ok "the restarted importer runs (not refused)"; else
    not_ok "the restarted importer runs (not refused)"; sed 's/^/#   /' "$TEST_TMP/imp.out" | tail -5; fi
psql_as source sourcedb -c "INSERT INTO public.later VALUES (51, 'after restart')" >/dev/null
if wait_equal source target 120; then ok "equal after the restart"; else not_ok "equal after the restart"; fi
assert_match "no question on the restart" '^$' "$(grep -c 'already hold rows' "$TEST_TMP/imp.out" | sed 's/^0$//')"
proc_stop_all
compare_databases source target
done_testing
