#!/bin/bash
# export data, rerun after a table was left unfinished, deletes that table's
# files only. public.t's files begin "t_data." as does the file of t_data.x
# ("t_data.x_data.sql"): deleting by that prefix removed x's finished file, x was
# not exported again (DONE), export data exited 0 and import data found the file
# missing (exit 3) until both ran with --start-clean. Names too long for a file name get a cut
# name with a hash.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
pg_start source sourcedb >/dev/null && pg_start target yugabyte >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
SCHEMA_SQL="
CREATE TABLE t(id int PRIMARY KEY);
CREATE SCHEMA t_data;
CREATE TABLE t_data.x(id int PRIMARY KEY);
"
for c in source:sourcedb target:yugabyte; do
    psql_as "${c%%:*}" "${c#*:}" -c "$SCHEMA_SQL" >/dev/null || not_ok "schema on ${c%%:*}"
done
psql_as source sourcedb -c "INSERT INTO t SELECT generate_series(1, 10)" \
    -c "INSERT INTO t_data.x SELECT generate_series(1, 10)" >/dev/null
SRC=("${SRC_FLAGS[@]}")
SRC[${#SRC[@]}-1]="public,t_data"
ED=$(new_export_dir)
check "export data" "$V" export data -e "$ED" "${SRC[@]}" --disable-pb
# As if export data was killed while exporting public.t, after t_data.x was DONE:
# the state, and leftovers of t (a part of an earlier split, a temporary file).
sqlite3 "$ED/metainfo/meta.db" "UPDATE snapshot_export_table SET status = 'EXPORTING' WHERE schema_name = 'public' AND table_name = 't'"
echo stale >"$ED/data/t_data.part7.sql"
echo stale >"$ED/data/t_data.sql.tmp"
check "export data rerun" "$V" export data -e "$ED" "${SRC[@]}" --disable-pb
[ -f "$ED/data/t_data.x_data.sql" ] && ok "t_data.x's file is kept" || not_ok "t_data.x's file is kept" "$(ls "$ED/data")"
[ ! -e "$ED/data/t_data.part7.sql" ] && [ ! -e "$ED/data/t_data.sql.tmp" ] &&
    ok "public.t's leftovers are deleted" || not_ok "public.t's leftovers are deleted" "$(ls "$ED/data")"
check "import data" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb
compare_databases source target

# Names full of '.' (escaped as %2E: 379 bytes of file name for two 63-byte names) get a cut
# name with a hash: export and import work (it failed with "File name too long").
D63=$(printf '.%.0s' $(seq 63))
D63X="$(printf '.%.0s' $(seq 62))x"
LONG_SQL="CREATE SCHEMA \"$D63\"; CREATE TABLE \"$D63\".\"$D63\"(id int PRIMARY KEY);
    CREATE TABLE \"$D63\".\"$D63X\"(id int PRIMARY KEY)"
for c in source:sourcedb target:yugabyte; do
    psql_as "${c%%:*}" "${c#*:}" -c "$LONG_SQL" >/dev/null || not_ok "long names on ${c%%:*}"
done
psql_as source sourcedb -c "INSERT INTO \"$D63\".\"$D63\" SELECT generate_series(1, 10)" \
    -c "INSERT INTO \"$D63\".\"$D63X\" SELECT generate_series(1, 20)" >/dev/null
SRC[${#SRC[@]}-1]="\"$D63\""
ED2=$(new_export_dir)
check "export data of two tables whose file names would be 379 bytes" "$V" export data -e "$ED2" "${SRC[@]}" --disable-pb
assert_eq "two files, each name at most 255 bytes" "2 0" \
    "$(ls "$ED2/data" | grep -c '_data.sql$') $(ls "$ED2/data" | awk 'length($0) > 255' | wc -l)"
# (after a failed export, import data would wait for export data to finish)
if [ "$(status_get "$ED2" ExportDataDone)" = true ]; then
    check "import data" "$V" import data -e "$ED2" "${TGT_FLAGS[@]}" --disable-pb
    compare_databases source target
else
    not_ok "import data: export data did not finish"
fi
done_testing
