#!/bin/bash
# An importer running alongside export data takes a table back when its export
# restarts, and loads the new files with the columns they were written with:
# between the attempts the table lost column b and gained c (same count and
# type), and the old COPY column list put c's values into b, with exit 0.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
pg_start source sourcedb >/dev/null && pg_start target yugabyte >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
for c in source:sourcedb target:yugabyte; do
    psql_as "${c%%:*}" "${c#*:}" -c "CREATE TABLE t(id int PRIMARY KEY, a int, b int)" >/dev/null || not_ok "schema on ${c%%:*}"
done
psql_as source sourcedb -c "INSERT INTO t SELECT g, g, g + 1000 FROM generate_series(1, 10) g" >/dev/null
ED=$(new_export_dir)
check "export data" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --disable-pb
# As if export data was killed while exporting t after its file was recorded.
sqlite3 "$ED/metainfo/meta.db" "UPDATE snapshot_export_table SET status = 'EXPORTING' WHERE table_name = 't'"
"$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb >"$TEST_TMP/import.out" 2>&1 &
IMP=$!
for i in $(seq 1 150); do
    [ "$(psql_as target yugabyte -c "SELECT count(*) FROM t")" = 10 ] && break
    sleep 0.2
done
assert_eq "the importer loaded the first attempt's file and waits" "10 running" \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM t") $(kill -0 $IMP 2>/dev/null && echo running)"
for c in source:sourcedb target:yugabyte; do
    psql_as "${c%%:*}" "${c#*:}" -c "ALTER TABLE t ADD COLUMN c int" >/dev/null
done
psql_as source sourcedb -c "ALTER TABLE t DROP COLUMN b" -c "UPDATE t SET c = id + 2000" >/dev/null
check "export data again: t from a new snapshot" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --disable-pb
wait_exit "$IMP" 60
assert_eq "import data exits 0" 0 "$?"
assert_match "it took t back" "restarted it from a new snapshot" "$(cat "$TEST_TMP/import.out" "$ED"/logs/*import*.log 2>/dev/null)"
assert_eq "the new file's columns are loaded into their own columns" "10 0 10" \
    "$(psql_as target yugabyte -c "SELECT count(*), count(b), count(*) FILTER (WHERE c = id + 2000) FROM t" | tr '|' ' ')"
done_testing
