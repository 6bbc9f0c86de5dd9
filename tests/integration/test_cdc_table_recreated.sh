#!/bin/bash
# A captured table dropped and created again, renamed, or taken out of the publication while
# export data streams (PostgreSQL source). Such a table leaves the publication, or is announced
# under another name, and pgoutput sends no word of it: the new table's rows were lost and export
# data went on with exit 0. Now export data stops (exit 3) with one line naming the table, what
# became of it and the fix (--start-clean), exports nothing of it, and a rerun stops again.
#   F. DROP + CREATE while streaming; then the fix: --start-clean on both sides, source = target
#   G. RENAME while streaming: stops before any change under the new name reaches the queue
#   H. ALTER PUBLICATION ... DROP TABLE by hand
#   I. DROP + CREATE + ALTER PUBLICATION ... ADD TABLE by hand: caught by OID
#   J. DROP + CREATE while export data is down: caught when it starts again
#   K. export data run again after the snapshot with a table the first run did not select: the
#      table would be in no snapshot and no change; refused (exit 3) when --table-list names it,
#      left out with a warning when no list is given; the first list goes on
#   L. schema a table "b.c" and schema "a.b" table c (both a.b.c unquoted) stream side by side:
#      kept apart (quoted where needed), no false "renamed" stop
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
pg_start source sourcedb >/dev/null || exit 1
pg_start target yugabyte >/dev/null || exit 1
conn_flags
table_sql() { # NAME: the case's table, with rows
    echo "CREATE TABLE $1 (id int PRIMARY KEY, v text); ALTER TABLE $1 REPLICA IDENTITY FULL;
          INSERT INTO $1 SELECT g, 'v' || g FROM generate_series(1, 5) g;"
}
psql_as source sourcedb >/dev/null <<SQL || exit 1
CREATE TABLE keep_t (id int PRIMARY KEY, v text);
ALTER TABLE keep_t REPLICA IDENTITY FULL;
$(for t in f_t g_t h_t i_t j_t k_t extra_t; do table_sql $t; done)
SQL
copy_schema source target || exit 1
src() { psql_as source sourcedb -c "$1" >/dev/null; }
HINT="a live migration takes no DROP, RENAME or re-CREATE of its tables: start the migration again with --start-clean"
# stopped DESC REGEX: export data exits 3 (within the 10 s between publication checks and
# some), its error line matches REGEX, and its hint line gives the fix.
stopped() {
    wait_exit "$EXP_PID" 60
    assert_eq "$1: export data exits 3" 3 "$?"
    assert_match "$1: the error names the table and what became of it" "$2" \
        "$(grep '^error:' "$TEST_TMP/exporter.out" | tail -1)"
    assert_match "$1: and the fix" "$HINT" "$(grep '^hint:' "$TEST_TMP/exporter.out" | tail -1)"
}
# start_case TABLE: a new migration of TABLE and keep_t, streaming, keep_t's insert exported.
start_case() {
    ED=$(new_export_dir)
    : >"$TEST_TMP/exporter.out"
    live_start_exporter --table-list "$1,keep_t"
    check "$1: snapshot exported" status_wait "$ED" ExportDataDone 60
    check "$1: export data streams" wait_streaming
}
# F's tables on both sides: rows and checksum (the other cases' tables are not on the target).
f_tables() {
    local t
    for t in f_t keep_t; do
        psql_as "$1" "$2" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), '-') FROM $t x"
    done
}
f_equal() {
    local i
    for i in $(seq 60); do
        [ "$(f_tables source sourcedb)" = "$(f_tables target yugabyte)" ] && return 0
        sleep 1
    done
    return 1
}
# queue_names ED: the table names in the queue's change events.
queue_names() { cat "$1"/data/queue/segment.*.ndjson 2>/dev/null | grep -o '"table_name":"[^"]*"' | sort -u | tr '\n' ' '; }

echo "# F: dropped and created again while streaming"
start_case f_t
live_start_importer
check "F: import data applies the snapshot" f_equal
src "DROP TABLE f_t; $(table_sql f_t) INSERT INTO f_t VALUES (100, 'new table')"
stopped "F" "source database: table public.f_t was dropped and created again \(the new table is not in publication voyager_pub_[0-9a-f]+\) while export data streamed: its changes from then on are not captured"
live_start_exporter --table-list f_t,keep_t
stopped "F, run again" "table public.f_t was dropped and created again"
live_stop "$IMP_PID"
live_start_exporter --table-list f_t,keep_t --start-clean true
check "F: export data --start-clean exports the new table" status_wait "$ED" ExportDataDone 60
live_start_importer --start-clean true --truncate-tables true
check "F: after the fix, source = target" f_equal
src "INSERT INTO f_t VALUES (101, 'streamed'); UPDATE f_t SET v = 'upd' WHERE id = 100"
check "F: the new table's changes stream" f_equal
assert_eq "F: the new table's rows" "1-5,100 upd,101 streamed" \
    "$(psql_as target yugabyte -Atc "SELECT min(id) || '-' || max(id) FILTER (WHERE id < 100) || ',100 ' || max(v) FILTER (WHERE id = 100) || ',101 ' || max(v) FILTER (WHERE id = 101) FROM f_t")"
live_stop "$EXP_PID"
live_stop "$IMP_PID"

echo "# G: renamed while streaming"
start_case g_t
src "INSERT INTO keep_t VALUES (1, 'before the rename')"
src "ALTER TABLE g_t RENAME TO g_t2; INSERT INTO g_t2 VALUES (100, 'renamed')"
stopped "G" "table public.g_t was renamed to public.g_t2 while export data streamed"
assert_match "G: the change before the rename was exported" '"table_name":"keep_t"' "$(queue_names "$ED")"
check "G: no change under the new name reached the queue" bash -c "! cat '$ED'/data/queue/segment.*.ndjson | grep -q g_t2"

echo "# H: taken out of the publication by hand"
start_case h_t
PUB=$(psql_as source sourcedb -Atc "SELECT pubname FROM pg_publication_tables WHERE tablename = 'h_t'")
src "ALTER PUBLICATION $PUB DROP TABLE h_t; INSERT INTO h_t VALUES (100, 'unpublished')"
stopped "H" "table public.h_t was removed from publication $PUB while export data streamed"

echo "# I: dropped, created again and put back in the publication by hand"
start_case i_t
PUB=$(psql_as source sourcedb -Atc "SELECT pubname FROM pg_publication_tables WHERE tablename = 'i_t'")
src "DROP TABLE i_t; $(table_sql i_t) INSERT INTO i_t VALUES (100, 'lost'); ALTER PUBLICATION $PUB ADD TABLE i_t;
     INSERT INTO i_t VALUES (101, 'published')"
stopped "I" "table public.i_t was dropped and created again"
check "I: no change of the new table reached the queue" bash -c "! cat '$ED'/data/queue/segment.*.ndjson | grep -q i_t"

echo "# J: dropped and created again while export data is down"
start_case j_t
live_stop "$EXP_PID"
src "DROP TABLE j_t; $(table_sql j_t)"
live_start_exporter --table-list j_t,keep_t
stopped "J" "table public.j_t was dropped and created again"

echo "# K: a table added to the list of a live migration after its snapshot"
start_case k_t
live_stop "$EXP_PID"
live_start_exporter --table-list k_t,keep_t,extra_t
wait_exit "$EXP_PID" 60
assert_eq "K: export data with one more table exits 3" 3 "$?"
assert_match "K: the error names the table and why" \
    "table public.extra_t was not part of this live migration when its snapshot was taken: it is in no snapshot and its changes are not captured" \
    "$(grep '^error:' "$TEST_TMP/exporter.out" | tail -1)"
assert_match "K: and the fix" "run with the table list of the first run, or start the migration again with --start-clean" \
    "$(grep '^hint:' "$TEST_TMP/exporter.out" | tail -1)"
live_start_exporter --table-list k_t,keep_t
src "INSERT INTO k_t VALUES (100, 'streamed')"
check "K: with the first list, export data streams on" wait_log "$ED/logs/yb-voyager-export-data-from-source.log" "changes continue from" "$EXP_PID"
live_stop "$EXP_PID"
# Without a table list (every table of the schema), the tables the snapshot did not take are left
# out with a warning: a table created since, or a partition detached since, stops nothing.
: >"$TEST_TMP/exporter.out"
live_start_exporter
streams_again() { # the second "changes continue" of K's log, export data still running
    local i
    for i in $(seq 150); do
        [ "$(grep -c 'changes continue from' "$ED/logs/yb-voyager-export-data-from-source.log")" -ge 2 ] && return 0
        kill -0 "$EXP_PID" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}
check "K: without a table list, export data streams on" streams_again
assert_match "K: and warns about the table it leaves out" \
    "warning: table public.extra_t is not migrated: it was not part of this live migration when its snapshot was taken" \
    "$(cat "$TEST_TMP/exporter.out")"
live_stop "$EXP_PID"

echo "# L: two tables whose unquoted names are the same"
psql_as source sourcedb >/dev/null <<'SQL'
CREATE SCHEMA a; CREATE SCHEMA "a.b";
CREATE TABLE a."b.c" (id int PRIMARY KEY, v text);
CREATE TABLE "a.b".c (id int PRIMARY KEY, w text, extra int);
ALTER TABLE a."b.c" REPLICA IDENTITY FULL; ALTER TABLE "a.b".c REPLICA IDENTITY FULL;
INSERT INTO a."b.c" VALUES (1, 'abc');
SQL
ED=$(new_export_dir)
: >"$TEST_TMP/exporter.out"
"$V" export data -e "$ED" "${SRC_FLAGS[@]:0:10}" --source-db-schema 'a,"a.b"' --export-type snapshot-and-changes --disable-pb true \
    >>"$TEST_TMP/exporter.out" 2>&1 &
EXP_PID=$!
check "L: snapshot exported" status_wait "$ED" ExportDataDone 60
check "L: export data streams" wait_streaming
src 'INSERT INTO a."b.c" VALUES (2, $$x$$); INSERT INTO "a.b".c VALUES (2, $$y$$, 1); UPDATE a."b.c" SET v = $$u$$ WHERE id = 1'
sleep 12
check "L: export data still streams" kill -0 "$EXP_PID"
assert_eq "L: both tables' changes in the queue" "3" "$(queue_events "$ED" source_db_exporter)"
live_stop "$EXP_PID"
done_testing
