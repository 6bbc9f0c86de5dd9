#!/bin/bash
# A target table with a primary key or unique index the source table lacks: the queue
# carries the old values of the source's key and unique-index columns only, so such a
# table's updates cannot be applied (no value for the key column) and its deletes would not
# be ordered by the index. import data refuses the table before the first change of it is
# applied: exit 3, an error naming the table and the index, the fixes on a hint line, and
# nothing of the table applied. With the index dropped, the same command goes on and the
# databases agree after the cutover. Once for an extra unique index, once for a wider
# primary key.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
pg_start source sourcedb || exit 1
pg_start target yugabyte || exit 1
conn_flags
psql_as source sourcedb >/dev/null <<'SQL'
CREATE TABLE public.acct (id int PRIMARY KEY, email text NOT NULL, n int);
CREATE TABLE public.reg (id int PRIMARY KEY, region text NOT NULL, v int);
CREATE TABLE public.plain (id int PRIMARY KEY, v int);
ALTER TABLE public.acct REPLICA IDENTITY FULL;
ALTER TABLE public.reg REPLICA IDENTITY FULL;
ALTER TABLE public.plain REPLICA IDENTITY FULL;
INSERT INTO public.acct SELECT g, 'a' || g || '@x', g FROM generate_series(1, 50) g;
INSERT INTO public.reg SELECT g, 'r' || (g % 3), g FROM generate_series(1, 50) g;
INSERT INTO public.plain SELECT g, g FROM generate_series(1, 50) g;
SQL
copy_schema source target || exit 1
# What the target has and the source lacks.
psql_as target yugabyte -c "CREATE UNIQUE INDEX acct_email ON public.acct (email)" \
    -c "ALTER TABLE public.reg DROP CONSTRAINT reg_pkey, ADD PRIMARY KEY (id, region)" >/dev/null

ED=$(new_export_dir)
live_start_exporter
check "snapshot exported" status_wait "$ED" ExportDataDone 60
check "export data streams" wait_streaming

# run_import NAME: import data in the background ($IMP_PID, output in $TEST_TMP/NAME.out).
run_import() {
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true >"$TEST_TMP/$1.out" 2>&1 &
    IMP_PID=$!
}
# target_rows TABLE: the target table's rows, ordered.
target_rows() { psql_as target yugabyte -c "SELECT * FROM public.$1 ORDER BY 1, 2"; }

# refused NAME RUN TABLE INDEX COLUMNS SQL...: the SQL statements run on the source, then
# import data (output of run_import RUN) exits 3 with an error naming TABLE and its INDEX
# ("unique index") on COLUMNS ('"a", "b"'), what the queue carries (the source's key "id"), the
# fixes; TABLE's rows on the target are what they were before the statements.
refused() {
    local before stmt
    before=$(target_rows "$3")
    for stmt in "${@:6}"; do psql_as source sourcedb -c "$stmt" >/dev/null; done
    wait_exit "$IMP_PID" 120
    assert_eq "$1: import data refuses the table: exit 3" 3 "$?"
    local out
    out=$(cat "$TEST_TMP/$2.out")
    assert_match "$1: the error names the table and the index" \
        "^error: table \"public\".\"$3\" on the target database has a $4 on \\($5\\) that the table its changes come from lacks: its changes cannot be applied\$" "$out"
    assert_match "$1: the detail says what the queue carries and that nothing was applied" \
        '^detail: the change queue carries the old values of \("id"\) only.*Nothing was applied to the table$' "$out"
    assert_match "$1: the hint gives the fix" \
        "^hint: drop the $4 on the target database until cutover and create it again after; then run the same command again" "$out"
    assert_eq "$1: no 'no value for key column' failure" "" "$(grep 'no value for key column' <<<"$out")"
    assert_eq "$1: nothing of the table was applied" "$before" "$(target_rows "$3")"
}

# --- 1. an extra unique index
run_import uniq
check "snapshot imported" status_wait "$ED" ImportDataDone 60
refused uniq uniq acct "unique index" '"email"' \
    "UPDATE public.acct SET email = 'new' || id || '@x', n = n + 1000 WHERE id <= 10" \
    "UPDATE public.plain SET v = v + 1 WHERE id <= 5"

psql_as target yugabyte -c "DROP INDEX public.acct_email" >/dev/null
run_import uniq_fixed
for i in $(seq 1 300); do
    [ "$(psql_as target yugabyte -c "SELECT count(*) FROM public.acct WHERE email LIKE 'new%'")" = 10 ] && break
    sleep 0.2
done
assert_eq "uniq: with the index dropped, the same command applies the table's changes" 10 \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM public.acct WHERE email LIKE 'new%'")"
check "uniq: and keeps running" kill -0 "$IMP_PID"

# --- 2. a primary key wider than the source's
refused pk uniq_fixed reg "primary key" '"id", "region"' \
    "UPDATE public.reg SET v = v + 1000 WHERE id <= 10" "DELETE FROM public.reg WHERE id BETWEEN 11 AND 15"

psql_as target yugabyte -c "ALTER TABLE public.reg DROP CONSTRAINT reg_pkey, ADD PRIMARY KEY (id)" >/dev/null
run_import pk_fixed
psql_as source sourcedb -c "INSERT INTO public.acct VALUES (100, 'late@x', 1)" \
    -c "DELETE FROM public.acct WHERE id = 50" >/dev/null
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 90
assert_eq "export data exits 0 after the end of stream" 0 "$?"
wait_exit "$IMP_PID" 120
assert_eq "pk: with the key fixed, import data applies everything and exits 0 at cutover" 0 "$?"
compare_databases source target
done_testing
