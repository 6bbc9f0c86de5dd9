#!/bin/bash
# Schema fidelity: a wide schema of the kind public sample databases have
# (tests/lib/wide_schema.sql) goes through export schema -> import schema ->
# finalize-schema-post-data-import, and the target's catalogues (one query per
# family: relations, columns, constraints, indexes, triggers, rules, views,
# policies, types, functions, sequences, collations, text search, operators,
# statistics, event triggers, extensions, comments) equal the source's.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/schema.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
pg_start source widedb || { not_ok "source cluster"; done_testing; exit 1; }
pg_start target widecopy || { not_ok "target cluster"; done_testing; exit 1; }
if psql_as source widedb -f "$HARNESS_DIR/wide_schema.sql" >"$TEST_TMP/fixture.log" 2>&1; then
    ok "fixture loads on PostgreSQL 15"
else
    not_ok "fixture loads on PostgreSQL 15" "$(tail -3 "$TEST_TMP/fixture.log")"
    done_testing
    exit 1
fi
SCHEMAS_RE='^(public|inventory|hr|CaseSensitiveSchema|select|audit)$'
T=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name widecopy)
ED=$(new_export_dir)
# unquoted mixed case on purpose: matched case-insensitively, as upstream does
check "export schema (unquoted mixed-case schema name)" "$V" export schema -e "$ED" --source-db-type postgresql \
    --source-db-host 127.0.0.1 --source-db-port "$SOURCE_PORT" --source-db-user voyager --source-db-name widedb \
    --source-db-schema 'public,inventory,hr,CaseSensitiveSchema,"select",AUDIT' --comments-on-objects true
check "import schema" "$V" import schema -e "$ED" "${T[@]}"
assert_match "foreign keys on unique indexes and comments on indexes and triggers wait for finalize" "6 statements wait for finalize" "$(cat "$LAST_OUT" "$LAST_ERR")"
assert_match "the NOT VALID check and FORCE ROW LEVEL SECURITY are left for after the data" \
    "2 statements are left for finalize-schema-post-data-import, which applies them after the data" "$(cat "$LAST_OUT")"
assert_eq "neither applied before the data" "0 false" "$(psql_as target widecopy -c "SELECT (SELECT count(*) FROM
    pg_constraint WHERE conname = 'qty_small') || ' ' || (SELECT relforcerowsecurity FROM pg_class
    WHERE oid = 'hr.employees'::regclass)")"
fk_count() { psql_as target widecopy -c "SELECT count(*) FROM pg_constraint WHERE conname IN ('products_wh_fk', 'stock_moves_warehouse_name_fkey')"; }
assert_eq "no foreign key on a unique index before finalize" "0" "$(fk_count)"
assert_eq "exported schemas recorded with the source's case" '["public", "inventory", "hr", "CaseSensitiveSchema", "select", "audit"]' \
    "$(status_get "$ED" ExportedSchemas)"
check "import schema again: nothing new, the postponed statements still wait" "$V" import schema -e "$ED" "${T[@]}"
assert_match "the re-run postpones them again" "6 statements wait for finalize" "$(cat "$LAST_OUT")"
check "post-data import of triggers only" "$V" import schema -e "$ED" "${T[@]}" --post-snapshot-import true --object-type-list trigger
assert_match "the postponed statements still wait for the indexes" "8 statement\(s\) left by import schema still wait for the indexes" \
    "$(cat "$LAST_OUT" "$LAST_ERR")"
assert_eq "no foreign key on a unique index without the indexes" "0" "$(fk_count)"
check "finalize-schema-post-data-import" "$V" finalize-schema-post-data-import -e "$ED" "${T[@]}"
assert_eq "foreign keys on unique indexes created by finalize" "2" "$(fk_count)"
check "finalize again applies nothing" "$V" finalize-schema-post-data-import -e "$ED" "${T[@]}"
assert_match "nothing applied twice" " 0 statements applied" "$(cat "$LAST_OUT")"
check "post-data import of triggers only, once all is applied" "$V" import schema -e "$ED" "${T[@]}" \
    --post-snapshot-import true --object-type-list trigger
grep -q "still wait for the indexes" "$LAST_OUT" "$LAST_ERR" && not_ok "nothing said to wait once applied" ||
    ok "nothing said to wait once applied"
psql_as target widecopy -c 'ALTER TABLE inventory.products DROP CONSTRAINT products_wh_fk' >/dev/null 2>&1
check "post-data import --start-clean" "$V" import schema -e "$ED" "${T[@]}" --post-snapshot-import true --start-clean true \
    --ignore-exist true
assert_eq "--start-clean applies the postponed statements again" "2" "$(fk_count)"
[ -e "$ED/schema/failed.sql" ] && not_ok "no failed.sql" "$(head -20 "$ED/schema/failed.sql")" || ok "no failed.sql"

catalogue source widedb "$SCHEMAS_RE" >"$TEST_TMP/source.cat"
catalogue target widecopy "$SCHEMAS_RE" >"$TEST_TMP/target.cat"
for family in schema class column constraint index trigger rule view policy type function sequence owned collation \
    tsconfig tsdict operator conversion opfamily statistics evtrigger comment extension; do
    n=$(grep -c "^$family " "$TEST_TMP/source.cat")
    [ "$n" -gt 0 ] || not_ok "the fixture has objects of family $family"
    d=$(diff <(grep "^$family " "$TEST_TMP/source.cat") <(grep "^$family " "$TEST_TMP/target.cat"))
    [ -z "$d" ] && ok "$family: $n objects equal on source and target" || not_ok "$family: target differs from source" "$d"
done
done_testing
