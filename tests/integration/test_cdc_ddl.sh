#!/bin/bash
# DDL on the PostgreSQL source while export data streams (review finding 3): a column's type,
# typmod or the column list changing stops export data (exit 3) ahead of the first change made
# with the new columns, with one line naming the table, the column, both types and the fix; the
# target keeps its correct rows and gets nothing rounded or NULLed. The fix (the same DDL on the
# target, then export data again) continues, and source equals target at the cutover.
#   A. ALTER COLUMN TYPE numeric(10,2) -> (12,4) and timestamp(0) -> (6) while streaming
#   B. real -> double precision while export data was down: caught after its restart (the
#      columns kept in meta.db, not only the ones announced in this run)
#   C. DROP COLUMN while streaming
#   D. a partition with rows ATTACHed (on both sides): its rows from before the attach were in no
#      snapshot and no change; the stop says so, the operator copies them, export data continues
#   E. DETACH PARTITION (the root is announced again at its next change): the target's root would
#      keep the detached rows; stops, the operator detaches on the target too
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/e2e.sh"
ED=$(new_export_dir)
pg_start source sourcedb >/dev/null || exit 1
pg_start target yugabyte >/dev/null || exit 1
conn_flags
psql_as source sourcedb >/dev/null <<'SQL' || exit 1
CREATE TABLE dd_num (id int PRIMARY KEY, amt numeric(10,2), ts timestamp(0));
CREATE TABLE dd_real (id int PRIMARY KEY, r real);
CREATE TABLE dd_drop (id int PRIMARY KEY, a text, b text);
ALTER TABLE dd_num REPLICA IDENTITY FULL;
ALTER TABLE dd_real REPLICA IDENTITY FULL;
ALTER TABLE dd_drop REPLICA IDENTITY FULL;
INSERT INTO dd_num SELECT g, g + 0.25, '2024-01-01 10:00:00' FROM generate_series(1, 5) g;
INSERT INTO dd_real SELECT g, g + 0.5 FROM generate_series(1, 5) g;
INSERT INTO dd_drop SELECT g, 'a' || g, 'b' || g FROM generate_series(1, 5) g;
CREATE TABLE parted (id int, k int, v text, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (100) TO (200);
ALTER TABLE parted_1 REPLICA IDENTITY FULL;
ALTER TABLE parted_2 REPLICA IDENTITY FULL;
INSERT INTO parted SELECT g, g * 3, 'v' || g FROM generate_series(1, 60) g;
SQL
copy_schema source target || exit 1
tgt() { psql_as target yugabyte -Atc "$1"; }
# stopped DESC REGEX: export data exits 3, and its one error line matches REGEX.
stopped() {
    wait_exit "$EXP_PID" 60
    assert_eq "$1: export data exits 3" 3 "$?"
    assert_match "$1: the error names table, column, both types and the fix" "$2" \
        "$(grep -E 'ERROR|error' "$TEST_TMP/exporter.out" | tail -1)"
}
FIX="apply the same change to the target .*then run export data again"

live_start_exporter
check "snapshot exported" status_wait "$ED" ExportDataDone 60
check "export data streams" wait_streaming
live_start_importer
check "import data applies the snapshot" wait_equal source target 60

echo "# A: typmods widened while streaming"
psql_as source sourcedb -c "ALTER TABLE dd_num ALTER COLUMN amt TYPE numeric(12,4), ALTER COLUMN ts TYPE timestamp(6)" \
    -c "INSERT INTO dd_num VALUES (10, 1.2345, '2024-01-01 10:00:00.654321')" \
    -c "UPDATE dd_num SET amt = 99.9999 WHERE id = 1" >/dev/null
stopped "A" "table public.dd_num changed while export data streamed \(column amt numeric\(10,2\) -> numeric\(12,4\), column ts timestamp\(0\) without time zone -> timestamp\(6\) without time zone\).*$FIX"
sleep 3
assert_eq "A: nothing rounded reached the target" "0|1.25" \
    "$(tgt "SELECT (SELECT count(*) FROM dd_num WHERE id = 10) || '|' || (SELECT amt FROM dd_num WHERE id = 1)")"
# Rerun without the fix on the target is what the stop asks not to do; the fix first.
psql_as target yugabyte -c "ALTER TABLE dd_num ALTER COLUMN amt TYPE numeric(12,4), ALTER COLUMN ts TYPE timestamp(6)" >/dev/null
live_start_exporter
check "A: export data run again takes the new columns" wait_log "$TEST_TMP/exporter.out" "taking its new columns" "$EXP_PID"
check "A: the changes made after the DDL arrive whole" wait_equal source target 60
assert_eq "A: 1.2345 and 99.9999 kept" "1.2345|99.9999|2024-01-01 10:00:00.654321" \
    "$(tgt "SELECT (SELECT amt FROM dd_num WHERE id = 10) || '|' || (SELECT amt FROM dd_num WHERE id = 1) || '|' || (SELECT ts FROM dd_num WHERE id = 10)")"

echo "# B: real -> double precision while export data is down"
live_stop "$EXP_PID"
psql_as source sourcedb -c "ALTER TABLE dd_real ALTER COLUMN r TYPE double precision" \
    -c "INSERT INTO dd_real VALUES (10, 0.123456789012345)" -c "UPDATE dd_real SET r = 1234567.891 WHERE id = 1" >/dev/null
live_start_exporter
stopped "B" "table public.dd_real changed while export data streamed \(column r real -> double precision\).*$FIX"
sleep 3
assert_eq "B: nothing cut to real reached the target" "0|1.5" \
    "$(tgt "SELECT (SELECT count(*) FROM dd_real WHERE id = 10) || '|' || (SELECT r FROM dd_real WHERE id = 1)")"
psql_as target yugabyte -c "ALTER TABLE dd_real ALTER COLUMN r TYPE double precision" >/dev/null
live_start_exporter
check "B: the changes arrive after the fix" wait_equal source target 60

echo "# C: a column dropped while streaming"
psql_as source sourcedb -c "ALTER TABLE dd_drop DROP COLUMN b" -c "INSERT INTO dd_drop VALUES (10, 'a10')" \
    -c "UPDATE dd_drop SET a = 'a1 changed' WHERE id = 1" >/dev/null
stopped "C" "table public.dd_drop changed while export data streamed \(column b text dropped\).*$FIX"
sleep 3
assert_eq "C: no row with a NULL b reached the target" "0" "$(tgt "SELECT count(*) FROM dd_drop WHERE id = 10 OR b IS NULL")"
psql_as target yugabyte -c "ALTER TABLE dd_drop DROP COLUMN b" >/dev/null
live_start_exporter
check "C: the changes arrive after the fix" wait_equal source target 60

echo "# D: a partition with rows attached while streaming"
for side in "source sourcedb" "target yugabyte"; do
    psql_as $side -c "CREATE TABLE parted_3 (id int, k int, v text, PRIMARY KEY (id, k))" \
        -c "ALTER TABLE parted_3 REPLICA IDENTITY FULL" >/dev/null
done
psql_as source sourcedb -c "INSERT INTO parted_3 SELECT g, 200 + g, 'pre-attach' FROM generate_series(1, 10) g" >/dev/null
for side in "source sourcedb" "target yugabyte"; do
    psql_as $side -c "ALTER TABLE parted ATTACH PARTITION parted_3 FOR VALUES FROM (200) TO (300)" >/dev/null
done
psql_as source sourcedb -c "INSERT INTO parted VALUES (100, 250, 'post-attach')" \
    -c "UPDATE parted SET v = 'upd' WHERE id = 1 AND k = 201" >/dev/null
stopped "D" "the partitions of public.parted changed while export data streamed \(attached: public.parted_3\).*the rows of an attached partition from before the attach were never exported"
sleep 3
assert_eq "D: nothing of parted_3 reached the target" "0" "$(tgt "SELECT count(*) FROM parted_3")"
# The fix: the partition's rows as they were at the attach, copied by hand.
psql_as target yugabyte -c "INSERT INTO parted_3 SELECT g, 200 + g, 'pre-attach' FROM generate_series(1, 10) g" >/dev/null
live_start_exporter
check "D: export data run again takes the new partitions" wait_log "$TEST_TMP/exporter.out" "taking its new partitions" "$EXP_PID"
check "D: the changes made after the attach arrive" wait_equal source target 60

echo "# E: a partition detached while streaming"
psql_as source sourcedb -c "ALTER TABLE parted DETACH PARTITION parted_2" \
    -c "INSERT INTO parted VALUES (200, 7, 'after detach')" >/dev/null
stopped "E" "the partitions of public.parted changed while export data streamed \(detached: public.parted_2\).*a detached partition's rows are still in the target's table"
sleep 3
assert_eq "E: the change after the detach did not reach the target" "0" "$(tgt "SELECT count(*) FROM parted WHERE id = 200")"
psql_as target yugabyte -c "ALTER TABLE parted DETACH PARTITION parted_2" >/dev/null
live_start_exporter
check "E: the changes made after the detach arrive" wait_equal source target 60

check "import data still runs" kill -0 "$IMP_PID"
live_cutover_to_target
done_testing
