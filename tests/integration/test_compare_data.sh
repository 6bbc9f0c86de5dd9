#!/bin/bash
# compare data: equal databases (every type of all_types.sql, partitions, mixed-case names, a
# table without a primary key) compare equal at every level; a deleted row, a changed value in
# each type family, an extra row, a missing table and a changed row of a table without a primary
# key are each detected and named (source-replica as a pair of its own too); exit codes; the JSON
# report; a live migration is refused before cutover when no importer runs.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
snapshot_clusters || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
SRC=("${SRC_FLAGS[@]}")
SRC[${#SRC[@]}-1]=$ALL_SCHEMAS
ED=$(new_export_dir)

# expect_rc DESC RC cmd...: passes when cmd exits RC (output in LAST_OUT / LAST_ERR).
expect_rc() {
    local desc=$1 want=$2
    shift 2
    "$@" >"$LAST_OUT" 2>"$LAST_ERR"
    local rc=$?
    [ "$rc" = "$want" ] && ok "$desc" || not_ok "$desc" "exit $rc, wanted $want, from: $*" "$(tail -3 "$LAST_ERR")"
}

# A big table, so that key ranges run in parallel chunks.
psql_as source sourcedb -c "CREATE TABLE public.big (id bigint PRIMARY KEY, v text, f float8)
    ; INSERT INTO public.big SELECT g, md5(g::text), g / 3.0 FROM generate_series(1, 300000) g; ANALYZE public.big" >/dev/null
psql_as target yugabyte -c "CREATE TABLE public.big (id bigint PRIMARY KEY, v text, f float8)" >/dev/null
# Big tables whose keys are not integers (a text key; a composite key of text and numeric): split
# into key ranges by sampled boundaries, the same on both sides.
KEYED="CREATE TABLE public.text_keyed (k text PRIMARY KEY, v int);
    CREATE TABLE public.composite_keyed (region text, n numeric, v text, PRIMARY KEY (region, n))"
psql_as source sourcedb -c "$KEYED; INSERT INTO public.text_keyed SELECT 'k' || lpad(g::text, 7, '0'), g FROM generate_series(1, 250000) g
    ; INSERT INTO public.composite_keyed SELECT 'r' || (g % 4), g / 10.0, md5(g::text) FROM generate_series(1, 250000) g
    ; ANALYZE public.text_keyed; ANALYZE public.composite_keyed" >/dev/null
psql_as target yugabyte -c "$KEYED" >/dev/null

expect_fail "before any export: refused" 3 "no table was exported in this export dir yet" \
    "$V" compare data -e "$ED" "${SRC[@]}" "${TGT_FLAGS[@]}"
check "export data" "$V" export data -e "$ED" "${SRC[@]}" --parallel-jobs 2 --disable-pb
check "import data" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --parallel-jobs 2 --disable-pb

# Connection flags come from what export/import data recorded.
for level in count checksum rows; do
    check "equal databases: --level $level exits 0" "$V" compare data -e "$ED" --level $level --parallel-jobs 3
done
out=$(cat "$LAST_OUT")
assert_match "table header" "^TABLE +\| SOURCE ROWS \| TARGET ROWS \| STATUS +\| DETAIL" "$out"
assert_match "AllTypes equal" "^AllTypes +\| +3000 \| +3000 \| EQUAL" "$out"
assert_match "mixed-case schema and reserved name" "^Sales\.select +\| +500 \| +500 \| EQUAL" "$out"
assert_match "partitioned table" "^measurements +\| +800 \| +800 \| EQUAL" "$out"
assert_match "table without columns" "^no_columns +\| +2 \| +2 \| EQUAL" "$out"
assert_match "big table" "^big +\| +300000 \| +300000 \| EQUAL" "$out"
assert_match "text key" "^text_keyed +\| +250000 \| +250000 \| EQUAL" "$out"
assert_match "composite key" "^composite_keyed +\| +250000 \| +250000 \| EQUAL" "$out"
assert_match "summary" "15 of 15 tables equal on target" "$out"
json_check "$ED/reports/compare-data-report.json" \
    "d['equal'] and len(d['pairs']) == 1 and d['pairs'][0]['copy'] == 'target' and len(d['pairs'][0]['tables']) == 15 and all(t['status'] == 'EQUAL' for t in d['pairs'][0]['tables'])" &&
    ok "json report: every table equal" || not_ok "json report: every table equal" "$(head -c 600 "$ED/reports/compare-data-report.json")"
check "--parallel-jobs 65 (more than the 64 workers compare runs)" "$V" compare data -e "$ED" --level count --parallel-jobs 65
assert_match "lowered to 64 with a warning on stderr" \
    "^warning: --parallel-jobs 65 lowered to 64: compare data runs at most 64 workers" "$(cat "$LAST_ERR")"
grep -q "key ranges" "$ED/logs/yb-voyager-compare-data.log" && ok "logged" || not_ok "logged"

# Differences on the target, one per type family on its own row of "AllTypes".
T() { psql_as target yugabyte -c "$1" >/dev/null || not_ok "target change: $1"; }
T "DELETE FROM \"AllTypes\" WHERE id = 2"
T "UPDATE \"AllTypes\" SET c_numeric = c_numeric + 0.000001 WHERE id = 10"
T "UPDATE \"AllTypes\" SET c_double = 1.0000000000000002 WHERE id = 1"
T "UPDATE \"AllTypes\" SET c_tstz = c_tstz + interval '1 microsecond' WHERE id = 11"
T "UPDATE \"AllTypes\" SET c_jsonb = '{\"g\": \"12\"}' WHERE id = 12"
T "UPDATE \"AllTypes\" SET c_text_arr = ARRAY['13', 'NULL'] WHERE id = 13"
T "UPDATE \"AllTypes\" SET c_bytea = c_bytea || '\\x00'::bytea WHERE id = 14"
T "UPDATE \"AllTypes\" SET c_enum = 'ok' WHERE id = 15"
T "UPDATE \"AllTypes\" SET c_domain = 16 WHERE id = 16"
T "UPDATE \"AllTypes\" SET c_text = upper(c_text) WHERE id = 17"
T "UPDATE \"AllTypes\" SET c_int = NULL WHERE id = 18"
T "UPDATE \"AllTypes\" SET c_tstz = NULL, c_numeric = NULL WHERE id = 19"
T "UPDATE \"AllTypes\" SET c_real = -0 WHERE id = 3"
T "INSERT INTO \"Sales\".lower_case VALUES (101, 'extra')"
T "DROP TABLE \"Sales\".\"LOWER_CASE\""
T "DELETE FROM \"Sales\".\"select\" WHERE \"from\" = 7"
T "UPDATE measurements SET v = v + 1 WHERE id = 5"
T "UPDATE big SET f = f + 1e-6 WHERE id = 299999"
# in the middle of the key order (40%, 35% and 60% of it): inside a middle range of 4 (or 3)
T "UPDATE text_keyed SET v = -1 WHERE k = 'k0100000'"
T "DELETE FROM composite_keyed WHERE region = 'r2' AND n = 10000.2"
T "UPDATE composite_keyed SET v = 'changed' WHERE region = 'r1' AND n = 10000.1"

expect_rc "differences: exit 7" 7 "$V" compare data -e "$ED" --level checksum --parallel-jobs 4
out=$(cat "$LAST_OUT")
assert_match "AllTypes differs (count)" "^AllTypes +\| +3000 \| +2999 \| DIFFERENT \| row counts differ" "$out"
assert_match "extra row" "^Sales\.lower_case +\| +100 \| +101 \| DIFFERENT" "$out"
assert_match "missing table" "^Sales\.LOWER_CASE +\| +7 \| +- \| MISSING +\| missing on target" "$out"
assert_match "table without primary key" "^Sales\.select +\| +500 \| +499 \| DIFFERENT" "$out"
assert_match "partition change (checksum)" "^measurements +\| +800 \| +800 \| DIFFERENT \| checksums differ in 1 of 1 key ranges" "$out"
assert_match "big table: one key range of several" "^big +\| +300000 \| +300000 \| DIFFERENT \| checksums differ in 1 of [0-9]+ key ranges" "$out"
assert_match "equal tables stay equal" "^customers +\| +200 \| +200 \| EQUAL" "$out"
assert_match "text key: one key range of 4" "^text_keyed +\| +250000 \| +250000 \| DIFFERENT \| checksums differ in 1 of 4 key ranges" "$out"
assert_match "composite key: its rows differ" "^composite_keyed +\| +250000 \| +249999 \| DIFFERENT \| row counts differ" "$out"
log=$(cat "$ED/logs/yb-voyager-compare-data.log")
assert_match "text key: the middle range differs (sampled boundaries, row comparison)" \
    "public\.text_keyed: key range 2 of 4 differs on target \(\"k\" >= 'k[0-9]+' AND \"k\" < 'k[0-9]+'\)" "$log"
assert_match "composite key: two middle ranges differ" \
    "public\.composite_keyed: key range 2 of 4 differs on target \(\(\"region\", \"n\"\) >= \('r[01]', '[0-9.]+'\) AND \(\"region\", \"n\"\) < \('r[12]', '[0-9.]+'\)\)" "$log"
assert_match "composite key: the third range too" "public\.composite_keyed: key range 3 of 4 differs on target" "$log"

expect_rc "count level misses value changes but not counts" 7 "$V" compare data -e "$ED" --level count
out=$(cat "$LAST_OUT")
assert_match "count level: measurements equal" "^measurements +\| +800 \| +800 \| EQUAL" "$out"
assert_match "count level: AllTypes differs" "^AllTypes +\| +3000 \| +2999 \| DIFFERENT" "$out"

expect_rc "rows level: exit 7" 7 "$V" compare data -e "$ED" --level rows --output-format json --parallel-jobs 4
json_check "$LAST_OUT" "not d['equal']" && ok "json on stdout" || not_ok "json on stdout" "$(head -c 300 "$LAST_OUT")"
cp "$ED/reports/compare-data-report.json" "$TEST_TMP/rows.json"
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); t={x['table_name']: x for x in d['pairs'][0]['tables']}; print($1)" "$TEST_TMP/rows.json"; }
assert_eq "deleted row named" "(2)" "$(py "' '.join(k['key'] for k in t['AllTypes']['differing_keys'] if k['kind']=='missing')")"
assert_eq "a changed value in each type family named" "(1) (3) (10) (11) (12) (13) (14) (15) (16) (17) (18) (19)" \
    "$(py "' '.join(sorted((k['key'] for k in t['AllTypes']['differing_keys'] if k['kind']=='changed'), key=lambda s: int(s[1:-1])))")"
assert_eq "AllTypes counts" "1 0 12" "$(py "t['AllTypes']['missing_rows'], t['AllTypes']['extra_rows'], t['AllTypes']['changed_rows']" | tr -d '(),')"
assert_eq "extra row named" "extra (101)" "$(py "' '.join(k['kind'] + ' ' + k['key'] for k in t['Sales.lower_case']['differing_keys'])")"
assert_eq "missing table" "MISSING missing on target" "$(py "t['Sales.LOWER_CASE']['status'] + ' ' + t['Sales.LOWER_CASE']['detail']")"
assert_eq "no primary key: counted" "1 0 0" "$(py "t['Sales.select']['missing_rows'], t['Sales.select']['extra_rows'], len(t['Sales.select']['differing_keys'])" | tr -d '(),')"
assert_eq "partitioned table without a key: the changed row counted both ways" "1 1 0" \
    "$(py "t['measurements']['missing_rows'], t['measurements']['extra_rows'], len(t['measurements']['differing_keys'])" | tr -d '(),')"
assert_eq "big table: the changed key" "changed (299999)" "$(py "' '.join(k['kind'] + ' ' + k['key'] for k in t['big']['differing_keys'])")"
assert_eq "text key: the changed key" "changed (k0100000)" "$(py "' '.join(k['kind'] + ' ' + k['key'] for k in t['text_keyed']['differing_keys'])")"
assert_eq "composite key: the missing and the changed key" "missing (r2,10000.2) changed (r1,10000.1)" \
    "$(py "' '.join(k['kind'] + ' ' + k['key'] for k in sorted(t['composite_keyed']['differing_keys'], key=lambda k: k['kind'] != 'missing'))")"

# The text checksum (servers without hash_record_extended: PostgreSQL 13 and older, YugabyteDB on
# PostgreSQL 11) finds and names the same rows.
VOYAGER_COMPARE_ROW_HASH=text expect_rc "text row hashes: exit 7" 7 "$V" compare data -e "$ED" --level rows --output-format json --parallel-jobs 4
assert_match "text row hashes used" "row hash: hashtextextended of the row's text form" "$(tail -20 "$ED/logs/yb-voyager-compare-data.log")"
py2() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); t={x['table_name']: x for x in d['pairs'][0]['tables']}; print($1)" "$LAST_OUT"; }
assert_eq "text row hashes: every type family's change named" "(1) (3) (10) (11) (12) (13) (14) (15) (16) (17) (18) (19)" \
    "$(py2 "' '.join(sorted((k['key'] for k in t['AllTypes']['differing_keys'] if k['kind']=='changed'), key=lambda s: int(s[1:-1])))")"
assert_eq "text row hashes: the same differences everywhere" \
    "$(py "sorted((n, k['kind'], k['key']) for n, x in t.items() for k in x.get('differing_keys', []))")" \
    "$(py2 "sorted((n, k['kind'], k['key']) for n, x in t.items() for k in x.get('differing_keys', []))")"

expect_rc "rows level as a table" 7 "$V" compare data -e "$ED" --level rows --max-diff-rows 3
out=$(cat "$LAST_OUT")
assert_match "keys listed under the table" "differing rows of AllTypes \(primary key\):" "$out"
assert_match "max-diff-rows caps the list" "keys listed up to --max-diff-rows" "$out"
[ "$(grep -c '^  changed' <<<"$out")" -le 6 ] && ok "at most 3 keys per table" || not_ok "at most 3 keys per table" "$out"

# Bad input: one line, exit 2, nothing written.
expect_fail "bad level" 2 "level" "$V" compare data -e "$ED" --level everything
expect_fail "negative max-diff-rows" 2 "max-diff-rows" "$V" compare data -e "$ED" --max-diff-rows -1
expect_refusal "--max-diff-rows without --level rows is refused" 2 \
    "^error: --max-diff-rows is used only with --level rows detail: only --level rows lists differing keys hint: add --level rows" \
    "$V" compare data -e "$ED" --level checksum --max-diff-rows 5
expect_fail "--max-diff-rows with the default level (checksum) is refused" 2 "--max-diff-rows is used only with --level rows" \
    "$V" compare data -e "$ED" --max-diff-rows 5
expect_fail "a source-replica flag without a source-replica in the migration is refused" 2 \
    "--source-replica-db-host is not used: no source-replica is compared" \
    "$V" compare data -e "$ED" --source-replica-db-host 127.0.0.1
psql_as target yugabyte -c "ALTER USER voyager PASSWORD 'other'" >/dev/null
expect_fail "target refuses the password: exit 5" 5 "target" "$V" compare data -e "$ED"
psql_as target yugabyte -c "ALTER USER voyager PASSWORD '$(printf "%s" "$VOYAGER_PW" | sed "s/'/''/g")'" >/dev/null

# Schema flags narrow the comparison; Oracle flags are refused.
expect_rc "--source-db-schema narrows to one schema" 7 "$V" compare data -e "$ED" --source-db-schema '"Sales"'
out=$(cat "$LAST_OUT")
assert_match "only Sales tables" "0 of 3 tables equal on target" "$out"
expect_fail "a schema with no migrated table" 2 "--source-db-schema nosuch: no migrated table is in that schema" \
    "$V" compare data -e "$ED" --source-db-schema nosuch
expect_refusal "the list is read as export data reads it: an unterminated quote is refused" 2 \
    "^error: --source-db-schema \"Sales,public: .*quote a name with" \
    "$V" compare data -e "$ED" --source-db-schema '"Sales,public'
expect_fail "oracle flags refused" 2 "--oracle-db-sid is not applicable for a PostgreSQL source" "$V" compare data -e "$ED" --oracle-db-sid X
expect_fail "the target's schema flag refused" 2 "--target-db-schema is not applicable for a PostgreSQL source" \
    "$V" compare data -e "$ED" --target-db-schema Sales
expect_fail "another source type is not built" 6 "source-db-type oracle is not built yet" \
    "$V" compare data -e "$ED" --source-db-type oracle

# The statement timeout applies: a query waiting on a lock held on the target is cancelled.
psql_as target yugabyte -c "BEGIN; LOCK TABLE empty_table IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT" >/dev/null &
LOCK_PID=$!
sleep 1
expect_fail "--statement-timeout 1: the locked table fails on the target, exit 5" 5 "statement timeout" \
    "$V" compare data -e "$ED" --level count --statement-timeout 1
assert_match "the table's status says why" "^empty_table +\| +0 \| +- \| ERROR +\| target: ERROR: +canceling statement due to statement timeout" "$(cat "$LAST_OUT")"
wait "$LOCK_PID"
expect_fail "a negative statement timeout" 2 "statement-timeout" "$V" compare data -e "$ED" --statement-timeout -1

# Read only: nothing on either side changed (count of the target's rows, no new objects).
assert_eq "no write on the target" "0" "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 AND relname NOT IN ('AllTypes','lower_case','select','measurements_2023','measurements_2024','big','text_keyed','composite_keyed') AND schemaname <> 'ybvoyager_metadata' AND n_tup_upd + n_tup_del > 0")"

# Fall-forward: the source-replica is compared with the source too, as a pair of its own.
pg_start source_replica replicadb >/dev/null && copy_schema source source_replica || not_ok "source-replica cluster"
conn_flags
check "import data to source-replica" "$V" import data to source-replica -e "$ED" "${REPLICA_FLAGS[@]}" --disable-pb
expect_rc "two pairs: target differs, source-replica equal" 7 "$V" compare data -e "$ED" --output-format json
json_check "$LAST_OUT" "[p['copy'] for p in d['pairs']] == ['target', 'source-replica'] and all(t['status'] == 'EQUAL' for t in d['pairs'][1]['tables']) and any(t['status'] != 'EQUAL' for t in d['pairs'][0]['tables'])" &&
    ok "source-replica pair equal, target pair not" || not_ok "source-replica pair equal, target pair not" "$(head -c 400 "$LAST_OUT")"
psql_as source_replica replicadb -c "UPDATE \"Sales\".\"LOWER_CASE\" SET v = 'changed' WHERE id = 3" >/dev/null
expect_rc "a change on the source-replica" 7 "$V" compare data -e "$ED" --level rows
assert_match "named under its own pair" "source vs source-replica" "$(cat "$LAST_OUT")"
assert_match "the source-replica's changed key" "changed +\(3\)" "$(sed -n '/source vs source-replica/,$p' "$LAST_OUT")"

# A live migration before cutover with no importer running: refused, nothing compared
# (test_compare_data_live.sh compares one at its consistent point).
status_set "$ED" ExportType '"snapshot-and-changes"'
VOYAGER_COMPARE_POINT_TIMEOUT_S=2 expect_fail "live migration before cutover, no importer: refused" 3 \
    "the migration is live and import data \(to target\) did not answer within 2 s" "$V" compare data -e "$ED"
status_set "$ED" CutoverToTargetRequested true CutoverProcessedBySourceExporter true CutoverProcessedByTargetImporter true \
    ExportFromTargetStarted true
expect_rc "after cutover: compared directly" 7 "$V" compare data -e "$ED" --level count
done_testing
