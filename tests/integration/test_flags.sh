#!/bin/bash
# Every flag a command declares is honoured, refused with a clear message, or marked in --help
# as having no effect (issue 12). First the rule itself: a table names, for every command and
# flag that --help-all lists (the hidden ones too), the test that uses it; a flag missing from
# the table fails here.
# Then the flags that used to be accepted and ignored, each against real clusters.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/queue.sh"
V=$VOYAGER

# command | flag | covered by: a file under tests/ that uses --flag, or "noeffect" (--help says so).
# "*" as command: every command that declares the flag (shared groups, one code path).
COVERAGE=$(
    cat <<'TABLE'
* | export-dir | integration/test_cli.sh
* | log-level | integration/test_flags.sh
* | send-diagnostics | noeffect
* | yes | integration/test_flags.sh
* | config-file | integration/test_cli.sh
* | source-db-type | integration/test_flags.sh
* | source-db-host | unit/test_cli.c
* | source-db-port | unit/test_cli.c
* | source-db-user | unit/test_cli.c
* | source-db-password | unit/test_cli.c
* | source-db-name | unit/test_cli.c
* | source-db-schema | integration/test_snapshot_filters.sh
* | source-ssl-mode | unit/test_cli.c
* | source-ssl-cert | unit/test_cli.c
* | source-ssl-key | unit/test_cli.c
* | source-ssl-root-cert | unit/test_cli.c
* | source-ssl-crl | unit/test_cli.c
* | oracle-db-sid | integration/test_flags.sh
* | oracle-tns-alias | integration/test_flags.sh
* | oracle-home | integration/test_flags.sh
* | target-db-host | unit/test_cli.c
* | target-db-port | integration/test_flags.sh
* | target-db-user | unit/test_cli.c
* | target-db-password | unit/test_cli.c
* | target-db-name | integration/test_flags.sh
* | target-db-schema | integration/test_flags.sh
* | target-ssl-mode | unit/test_cli.c
* | target-ssl-cert | unit/test_cli.c
* | target-ssl-key | unit/test_cli.c
* | target-ssl-root-cert | unit/test_cli.c
* | target-ssl-crl | unit/test_cli.c
* | source-replica-db-host | unit/test_cli.c
* | source-replica-db-port | unit/test_cli.c
* | source-replica-db-user | unit/test_cli.c
* | source-replica-db-password | unit/test_cli.c
* | source-replica-db-name | unit/test_cli.c
* | source-replica-db-schema | integration/test_flags.sh
* | source-replica-ssl-mode | unit/test_cli.c
* | source-replica-ssl-cert | unit/test_cli.c
* | source-replica-ssl-key | unit/test_cli.c
* | source-replica-ssl-root-cert | unit/test_cli.c
* | source-replica-ssl-crl | unit/test_cli.c
* | source-replica-db-sid | integration/test_flags.sh
* | table-list | integration/test_snapshot_filters.sh
* | exclude-table-list | integration/test_snapshot_filters.sh
* | table-list-file-path | integration/test_snapshot_filters.sh
* | exclude-table-list-file-path | integration/test_snapshot_filters.sh
* | disable-pb | integration/test_snapshot_roundtrip.sh
export schema | start-clean | integration/test_schema.sh
export schema | object-type-list | integration/test_schema.sh
export schema | exclude-object-type-list | integration/test_schema.sh
export schema | comments-on-objects | integration/test_schema.sh
export data | parallel-jobs | integration/test_snapshot_roundtrip.sh
export data | export-type | integration/test_cdc_export_source.sh
export data | start-clean | integration/test_cdc_export_restart.sh
export data from source | parallel-jobs | integration/test_snapshot_roundtrip.sh
export data from source | export-type | integration/test_cdc_export_source.sh
export data from source | start-clean | integration/test_cdc_export_restart.sh
export data status | output-format | integration/test_snapshot_roundtrip.sh
analyze-schema | output-format | integration/test_analyze_schema.sh
analyze-schema | target-db-version | integration/test_analyze_schema.sh
import schema | start-clean | integration/test_schema.sh
import schema | object-type-list | integration/test_schema.sh
import schema | exclude-object-type-list | integration/test_schema.sh
import schema | ignore-exist | integration/test_schema.sh
import schema | continue-on-error | integration/test_schema.sh
import schema | straight-order | integration/test_schema.sh
import schema | post-snapshot-import | integration/test_schema.sh
import schema | refresh-mviews | integration/test_schema.sh
import schema | post-import-data | integration/test_schema.sh
import data | parallel-jobs | integration/test_snapshot_roundtrip.sh
import data | batch-size | integration/test_flags.sh
import data | enable-upsert | noeffect
import data | target-endpoints | integration/test_snapshot_filters.sh
import data | use-public-ip | integration/test_snapshot_filters.sh
import data | truncate-tables | integration/test_snapshot_filters.sh
import data | skip-replication-checks | integration/test_flags.sh
import data | start-clean | integration/test_snapshot_filters.sh
import data to target | parallel-jobs | integration/test_snapshot_roundtrip.sh
import data to target | batch-size | integration/test_flags.sh
import data to target | enable-upsert | noeffect
import data to target | target-endpoints | integration/test_snapshot_filters.sh
import data to target | use-public-ip | integration/test_snapshot_filters.sh
import data to target | truncate-tables | integration/test_snapshot_filters.sh
import data to target | skip-replication-checks | integration/test_flags.sh
import data to target | start-clean | integration/test_snapshot_filters.sh
import data to source | source-db-schema | integration/test_flags.sh
import data to source | parallel-jobs | integration/test_cdc_import.sh
import data to source | start-clean | integration/test_flags.sh
import data to source-replica | parallel-jobs | integration/test_snapshot_roundtrip.sh
import data to source-replica | batch-size | integration/test_snapshot_roundtrip.sh
import data to source-replica | truncate-tables | integration/test_snapshot_filters.sh
import data to source-replica | start-clean | integration/test_snapshot_filters.sh
import data status | output-format | integration/test_snapshot_roundtrip.sh
finalize-schema-post-data-import | ignore-exist | integration/test_schema.sh
finalize-schema-post-data-import | continue-on-error | integration/test_schema.sh
finalize-schema-post-data-import | refresh-mviews | integration/test_schema.sh
initiate cutover to target | prepare-for-fall-back | integration/test_cutover_cli.sh
initiate cutover to target | use-yb-grpc-connector | integration/test_cutover_cli.sh
archive changes | move-to | integration/test_archive_changes.sh
archive changes | delete | integration/test_archive_changes.sh
archive changes | delete-changes-without-archiving | integration/test_archive_changes.sh
archive changes | policy | integration/test_flags.sh
archive changes | archive-dir | integration/test_flags.sh
archive changes | fs-utilization-threshold | integration/test_archive_changes.sh
get data-migration-report | output-format | lib/live_suite.sh
end migration | backup-schema-files | integration/test_end_migration.sh
end migration | backup-data-files | integration/test_end_migration.sh
end migration | backup-log-files | integration/test_end_migration.sh
end migration | save-migration-reports | integration/test_end_migration.sh
end migration | backup-dir | integration/test_end_migration.sh
compare data | source-db-schema | integration/test_compare_data.sh
compare data | parallel-jobs | integration/test_compare_data.sh
compare data | level | integration/test_compare_data.sh
compare data | max-diff-rows | integration/test_compare_data.sh
compare data | output-format | integration/test_compare_data.sh
compare data | statement-timeout | integration/test_compare_data.sh
TABLE
)
TESTS_DIR=$REPO_ROOT/tests

# covered_by COMMAND FLAG: the table's entry (exact command first, then "*").
covered_by() {
    local cmd=$1 flag=$2 line
    line=$(echo "$COVERAGE" | awk -F' *[|] *' -v c="$cmd" -v f="$flag" '$1 == c && $2 == f {print $3; exit}')
    [ -n "$line" ] || line=$(echo "$COVERAGE" | awk -F' *[|] *' -v f="$flag" '$1 == "*" && $2 == f {print $3; exit}')
    echo "$line"
}

commands=$("$V" --help | sed -n '/^All Commands:/,/^$/p' | sed -n 's/^  \(.*[^ ]\)  \+.*/\1/p')
[ "$(echo "$commands" | wc -l)" -ge 19 ] && ok "--help lists the commands ($(echo "$commands" | wc -l))" ||
    not_ok "--help lists the commands" "$commands"
missing=() bad=() declared=""
while IFS= read -r cmd; do
    # shellcheck disable=SC2086
    help=$("$V" $cmd --help-all)
    for flag in $(echo "$help" | grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9-]+' | sed 's/.*--//' | grep -vxE 'help|help-all'); do
        declared+="$cmd|$flag"$'\n'
        how=$(covered_by "$cmd" "$flag")
        if [ -z "$how" ]; then
            missing+=("$cmd --$flag")
        elif [ "$how" = noeffect ]; then
            echo "$help" | grep -E -- "--$flag( |$)" | grep -q "no effect" || bad+=("$cmd --$flag: --help does not say 'no effect'")
        elif [ ! -f "$TESTS_DIR/$how" ]; then
            bad+=("$cmd --$flag: $how does not exist")
        elif ! grep -qE -- "--$flag([^a-z-]|$)" "$TESTS_DIR/$how"; then
            bad+=("$cmd --$flag: $how never uses --$flag")
        fi
    done
done <<<"$commands"
assert_eq "every declared flag of every command is in the coverage table" "" "${missing[*]:-}"
assert_eq "every table entry points to a test that uses the flag (or a 'no effect' help line)" "" \
    "$(printf '%s\n' "${bad[@]:-}")"
# and the table names no command+flag that is not declared (it would prove nothing)
stale=$(echo "$COVERAGE" | awk -F' *[|] *' '$1 != "*" {print $1 "|" $2}' | while IFS= read -r e; do
    grep -qxF "$e" <<<"$declared" || echo "$e"
done)
assert_eq "no table entry for a flag the command does not declare" "" "$stale"
# the hidden flags are in that walk (--help-all), and only there
hidden=$(grep -c '\[hidden\]$' <<<"$("$V" initiate cutover to target --help-all)")
assert_eq "--help-all lists the hidden flag of initiate cutover to target" "1" "$hidden"
if grep -q -- "--use-yb-grpc-connector" <<<"$("$V" initiate cutover to target --help)"; then
    not_ok "--help leaves the hidden flags out"
else ok "--help leaves the hidden flags out"; fi

# ---- help claims only what works; messages without stray spaces
root_help=$("$V" --help)
if grep -q "Oracle and MySQL databases" <<<"$root_help"; then not_ok "root help claims only PostgreSQL"; else ok "root help claims only PostgreSQL"; fi
assert_match "root help says Oracle is not built" "Oracle sources are.not built yet" "$(tr '\n' ' ' <<<"$root_help")"
assert_match "root help says MySQL migrates the same way, offline or live, the way back included" \
    "MySQL/MariaDB sources .--source-db-type mysql. migrate the same way, offline or live, the way back included .fall-back into the MySQL source, fall-forward into a MySQL/MariaDB source-replica.\\. Oracle sources are not built yet" \
    "$(tr '\n' ' ' <<<"$root_help")"
assert_match "--source-db-type help says which values are built" \
    "postgresql; mysql \\(MySQL/MariaDB\\), offline or live \\(snapshot-and-changes\\), fall-back and fall-forward into MySQL included; oracle answers \"not built yet\"" \
    "$("$V" export data --help)"
if grep -q "offline only" <<<"$("$V" export data --help)"; then not_ok "--source-db-type help no longer says mysql is offline only"; else ok "--source-db-type help no longer says mysql is offline only"; fi
expect_fail "yb-voyager -x: no stray space" 2 "^error: unknown flag: -x for 'yb-voyager'$" "$V" -x
expect_fail "yb-voyager stray word: no stray space" 2 "for 'yb-voyager'$" "$V" --log-level

# ---- ports and batch sizes are refused, not replaced by a default (no cluster needed)
ED0=$(new_export_dir)
expect_fail "--target-db-port 0 refused" 2 'invalid value "0" for --target-db-port: expected a whole number from 1 to 65535' \
    "$V" import data -e "$ED0" --target-db-user u --target-db-port 0
expect_fail "--source-db-port 65536 refused" 2 'invalid value "65536" for --source-db-port' \
    "$V" export schema -e "$ED0" --source-db-user u --source-db-port 65536
expect_fail "--batch-size 0 refused" 2 'invalid value "0" for --batch-size: expected a whole number >= 1' \
    "$V" import data -e "$ED0" --target-db-user u --batch-size 0
printf 'export-dir: %s\ntarget:\n  db-port: 0\n' "$ED0" >"$TEST_TMP/port.yaml"
expect_fail "a port 0 from the config file refused, naming the key" 2 "key 'db-port' in section 'target'" \
    "$V" import data --config-file "$TEST_TMP/port.yaml"

# ---- config file keys that are no flag of any command (issue 11 defect 9)
printf 'export-dir: %s\nsource:\n  sslmode: verify-full\n' "$ED0" >"$TEST_TMP/ssl.yaml"
expect_fail "source: sslmode (misspelt ssl-mode) is an error, not a silent prefer" 2 \
    "key 'sslmode' in section 'source' is not a flag of any command" "$V" export schema --config-file "$TEST_TMP/ssl.yaml"
printf 'export-dir: %s\ntarget:\n  db-pasword: x\n' "$ED0" >"$TEST_TMP/pw.yaml"
expect_fail "target: db-pasword is an error" 2 "key 'db-pasword' in section 'target'" \
    "$V" export schema --config-file "$TEST_TMP/pw.yaml"
printf 'export-dir: %s\nimport-data:\n  batch-sise: 5\n' "$ED0" >"$TEST_TMP/other.yaml"
expect_refusal "a misspelt key in another command's section is an error, with the fix on a hint line" 2 \
    "key 'batch-sise' in section 'import-data' is not a flag of that command hint: remove it or fix the name \(see --help of that command\)" \
    "$V" export schema --config-file "$TEST_TMP/other.yaml"
printf 'export-dir: %s\nexport-dat:\n  parallel-jobs: 2\n' "$ED0" >"$TEST_TMP/section.yaml"
expect_refusal "a section no command has is an error, the sections on a detail line, the fix on a hint line" 2 \
    "section 'export-dat' is no command's section detail: the sections are source, target, source-replica, and one per command such as export-data hint: remove it or fix the name" \
    "$V" export schema --config-file "$TEST_TMP/section.yaml"
printf 'export-dir: %s\nconfig-file: /nonexistent/other.yaml\n' "$ED0" >"$TEST_TMP/nested.yaml"
expect_refusal "a config-file key inside a config file is refused (it would be ignored)" 2 \
    "key 'config-file': a config file cannot name another one hint: remove it; give --config-file on the command line" \
    "$V" export data status --config-file "$TEST_TMP/nested.yaml"
status_new_migration "$ED0" # export data status reads a migration
printf 'export-dir: %s\nsource:\n  ssl-mode: require\ntarget:\n  ssl-mode: require\nimport-data:\n  batch-size: 7\n' "$ED0" >"$TEST_TMP/shared.yaml"
check "one file for every command: keys of other commands are fine" "$V" export data status --config-file "$TEST_TMP/shared.yaml"

# ---- flags removed where they had no effect, refused where they cannot apply
expect_fail "export data from target takes no --parallel-jobs (one stream)" 2 "unknown flag: --parallel-jobs" \
    "$V" export data from target -e "$ED0" --parallel-jobs 2
rhelp=$("$V" import data to source-replica --help)
for f in enable-upsert target-endpoints use-public-ip skip-replication-checks; do
    if grep -q -- "--$f" <<<"$rhelp"; then not_ok "import data to source-replica does not list --$f"; else ok "import data to source-replica does not list --$f"; fi
done
expect_fail "import data to source-replica --enable-upsert refused" 2 "unknown flag: --enable-upsert" \
    "$V" import data to source-replica -e "$ED0" --enable-upsert true
expect_fail "import data to source --source-db-type oracle: not built yet" 6 "not built yet" \
    "$V" import data to source -e "$ED0" --source-db-type oracle
expect_fail "import data --use-public-ip with --target-endpoints is refused (the endpoints are used as given)" 2 \
    "--use-public-ip cannot be used with --target-endpoints" \
    "$V" import data -e "$ED0" --target-db-user u --target-endpoints 127.0.0.1:1 --use-public-ip true

# ---- the Oracle-only flags are refused for a MySQL source as for PostgreSQL, before any connection
MY=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port 1 --source-db-user u --source-db-name d)
for f in oracle-db-sid oracle-tns-alias oracle-home; do
    expect_refusal "export schema --$f with a MySQL source is refused" 2 \
        "^error: --$f is not applicable for a MySQL source detail: it is for Oracle sources hint: remove it" \
        "$V" export schema -e "$(new_export_dir)" "${MY[@]}" --$f X
done
expect_fail "export data --oracle-db-sid with a MySQL source is refused" 2 "--oracle-db-sid is not applicable for a MySQL source" \
    "$V" export data -e "$(new_export_dir)" "${MY[@]}" --oracle-db-sid X
EDM=$(new_export_dir)
status_new_migration "$EDM" # then a recorded MySQL source
status_set "$EDM" SourceDBConf '{"DBType": "mysql", "Host": "127.0.0.1", "Port": 1, "User": "u", "DBName": "d"}'
expect_refusal "import data to source-replica --source-replica-db-schema (recorded MySQL source) is refused" 2 \
    "^error: --source-replica-db-schema is not applicable for a MySQL source .*hint: remove it; a MySQL source-replica's database \(--source-replica-db-name\) is its schema" \
    "$V" import data to source-replica -e "$EDM" --source-replica-db-host 127.0.0.1 --source-replica-db-port 1 \
    --source-replica-db-user u --source-replica-db-name r --source-replica-db-schema s
expect_fail "import data to source-replica --source-replica-db-sid (recorded MySQL source) is refused" 2 \
    "--source-replica-db-sid is not applicable for a MySQL source" \
    "$V" import data to source-replica -e "$EDM" --source-replica-db-host 127.0.0.1 --source-replica-db-port 1 \
    --source-replica-db-user u --source-replica-db-name r --source-replica-db-sid ORCL
expect_fail "import data to source --oracle-home (recorded MySQL source) is refused" 2 \
    "--oracle-home is not applicable for a MySQL source" "$V" import data to source -e "$EDM" --oracle-home /opt/oracle
# ---- a --source-db-type other than the recorded one is refused, naming both
expect_refusal "import data to source --source-db-type postgresql on a MySQL migration is refused, naming both" 2 \
    "^error: --source-db-type postgresql: this migration's source is mysql detail: .* hint: leave --source-db-type out \(or give mysql\), or use a new export dir" \
    "$V" import data to source -e "$EDM" --source-db-type postgresql
expect_fail "export data --source-db-type postgresql on a MySQL migration is refused" 2 \
    "--source-db-type postgresql: this migration's source is mysql" \
    "$V" export data -e "$EDM" --source-db-type postgresql --source-db-user u --source-db-port 1
assert_match "the recorded type is kept" '"DBType": "mysql"' "$(status_get "$EDM" SourceDBConf)"

# ---- --log-level is honoured
EDL=$(new_export_dir)
status_new_migration "$EDL"
"$V" export data status -e "$EDL" >/dev/null 2>&1
"$V" export data status -e "$EDL" --log-level error >/dev/null 2>&1
assert_eq "--log-level error keeps info lines out of the log" "1" \
    "$(grep -c 'command line:' "$EDL/logs/yb-voyager-export-data-status.log")"

# ---- archive changes: --policy and --archive-dir are read
# (without a policy archive changes refuses to guess; it waits for a live migration: stop it)
out=$(timeout 3 "$V" archive changes -e "$ED0" --policy delete 2>&1)
assert_match "--policy delete is read: it deletes" "deleting applied changes" "$out"
expect_fail "--archive-dir is checked like --move-to" 2 "$TEST_TMP/nodir: no such directory" \
    "$V" archive changes -e "$ED0" --archive-dir "$TEST_TMP/nodir"

# ---- the Makefile on a machine without the -dev packages (parse-time checks; CI also builds)
mk=$(bash "$TESTS_DIR/check_makefile.sh" 2>&1)
while IFS= read -r l; do
    case $l in
    "ok - "*) ok "${l#ok - }" ;;
    "not ok - "*) not_ok "${l#not ok - }" ;;
    esac
done <<<"$mk"

# ---- against real clusters
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
psql_as target postgres -c "CREATE DATABASE otherdb OWNER voyager" >/dev/null
tcount() { psql_as target "${2:-yugabyte}" -c "SELECT count(*) FROM pg_tables WHERE schemaname = '${1:-public}'"; }

ED=$(new_export_dir)
check "export schema" "$V" export schema -e "$ED" "${SRC_FLAGS[@]}"
expect_fail "--oracle-db-sid with a PostgreSQL source is refused" 2 "--oracle-db-sid is not applicable for a PostgreSQL source" \
    "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --oracle-db-sid X
expect_fail "--oracle-tns-alias with a PostgreSQL source is refused" 2 "--oracle-tns-alias is not applicable" \
    "$V" export schema -e "$(new_export_dir)" "${SRC_FLAGS[@]}" --oracle-tns-alias X
expect_fail "--oracle-home (recorded PostgreSQL source) is refused" 2 "--oracle-home is not applicable" \
    "$V" import data to source -e "$ED" --oracle-home /opt/oracle
expect_fail "import data to source --source-db-type mysql on a PostgreSQL migration is refused" 2 \
    "--source-db-type mysql: this migration's source is postgresql" \
    "$V" import data to source -e "$ED" --source-db-type mysql
check "import schema" "$V" import schema -e "$ED" "${TGT_FLAGS[@]}"
expect_fail "import schema --target-db-schema: not applicable for a PostgreSQL source" 2 \
    "--target-db-schema is not applicable for a PostgreSQL source" \
    "$V" import schema -e "$ED" "${TGT_FLAGS[@]}" --target-db-schema sales
check "--target-db-schema public (the default) is accepted" "$V" import schema -e "$ED" "${TGT_FLAGS[@]}" --target-db-schema public
check "export data" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --disable-pb
expect_fail "import data --target-db-schema: not applicable" 2 "--target-db-schema is not applicable for a PostgreSQL source" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --target-db-schema sales
expect_fail "--source-replica-db-schema: not applicable" 2 "--source-replica-db-schema is not applicable for a PostgreSQL source" \
    "$V" import data to source-replica -e "$ED" --source-replica-db-user voyager --source-replica-db-name r \
    --source-replica-db-schema s
expect_fail "--source-replica-db-sid: not applicable" 2 "--source-replica-db-sid is not applicable for a PostgreSQL source" \
    "$V" import data to source-replica -e "$ED" --source-replica-db-user voyager --source-replica-db-name r \
    --source-replica-db-sid ORCL

# --skip-replication-checks: replication of the target's own aborts the import, with the list
psql_as target yugabyte -c "CREATE PUBLICATION extpub FOR ALL TABLES" >/dev/null
psql_as target yugabyte -c "SELECT pg_create_logical_replication_slot('ext_slot', 'pgoutput')" >/dev/null
expect_refusal "import data aborts on the target's replication, naming it and the flag" 3 \
    "publication extpub, replication slot ext_slot\) hint: drop it, or pass --skip-replication-checks" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb
assert_eq "nothing imported when aborted" "0" "$(psql_as target yugabyte -c 'SELECT count(*) FROM public.customers')"

# a different database without --target-db-user: refused, never the recorded one silently
expect_refusal "import data --target-db-name otherdb without --target-db-user: refused without --yes" 2 \
    "not the one this migration recorded.*hint: pass --yes" \
    "$V" import data -e "$ED" --target-db-name otherdb --target-db-port "$TARGET_PORT" --skip-replication-checks true --disable-pb
assert_eq "the recorded database got nothing" "0" "$(psql_as target yugabyte -c 'SELECT count(*) FROM public.customers')"
assert_eq "the named database got nothing" "0" "$(tcount public otherdb)"

check "import data --skip-replication-checks true --batch-size 3 (flags omitted: the recorded target)" \
    "$V" import data -e "$ED" --skip-replication-checks true --batch-size 3 --disable-pb
compare_databases source target
rows=$(psql_as source sourcedb -c 'SELECT (SELECT count(*) FROM public.customers) + (SELECT count(*) FROM public."Order") + (SELECT count(*) FROM public."MixedCase")')
nb=$(psql_as target yugabyte -c "SELECT count(*) FROM ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3")
[ "$nb" -ge $((rows / 3)) ] && ok "--batch-size 3 is honoured ($nb batches for $rows rows)" ||
    not_ok "--batch-size 3 is honoured" "$nb batches for $rows rows"
psql_as target yugabyte -c "DROP PUBLICATION extpub; SELECT pg_drop_replication_slot('ext_slot')" >/dev/null
# a file's batches are fixed when it is first planned: another --batch-size on a rerun says so
check "import data again with --batch-size 5" "$V" import data -e "$ED" --batch-size 5 --disable-pb
assert_match "a warning names how many files keep their batches, and their size" \
    "^warning: --batch-size 5: [1-9][0-9]* data file\(s\) keep the batches an earlier run planned for them \(up to 3 rows a batch\)" \
    "$(cat "$LAST_ERR")"
check "import data again with --batch-size 3 (the planned size)" "$V" import data -e "$ED" --batch-size 3 --disable-pb
assert_eq "no warning when the given size is the planned one" "" "$(grep -- "--batch-size" "$LAST_ERR")"

# import data to source: refusals before it touches anything
expect_fail "import data to source --start-clean refused" 2 "--start-clean is refused for import data to source" \
    "$V" import data to source -e "$ED" --start-clean true
expect_fail "import data to source --source-db-schema other than export data's: refused" 2 \
    "--source-db-schema sales has no effect on import data to source" \
    "$V" import data to source -e "$ED" --source-db-schema sales

# import schema into another database: refused without --yes; with it, applied there and recorded
expect_fail "import schema --target-db-name otherdb (no user): refused without --yes" 2 \
    "not the one this migration recorded" "$V" import schema -e "$ED" --target-db-name otherdb
assert_eq "otherdb untouched" "0" "$(tcount public otherdb)"
check "import schema --target-db-name otherdb --yes" "$V" import schema -e "$ED" --target-db-name otherdb --yes
assert_eq "otherdb got the schema" "$(tcount public yugabyte)" "$(tcount public otherdb)"
assert_match "the switch is a warning in the log" "target database changed from 127.0.0.1:$TARGET_PORT/yugabyte to 127.0.0.1:$TARGET_PORT/otherdb" \
    "$(cat "$ED/logs/yb-voyager-import-schema.log")"
expect_fail "from then on the recorded target is otherdb: yugabyte needs --yes again" 2 "not the one this migration recorded" \
    "$V" import schema -e "$ED" --target-db-name yugabyte

# An error the tool recovers from is no "error:" line: a target user that may not set
# session_replication_role gets a warning, and the changes are applied all the same.
pwlit=${VOYAGER_PW//\'/\'\'}
psql_as target postgres -c "CREATE ROLE lowly LOGIN PASSWORD '$pwlit'" >/dev/null
for db in lowdb refdb; do
    psql_as target postgres -c "CREATE DATABASE $db OWNER lowly" >/dev/null
    { echo "SET ROLE lowly;"; queue_schema_sql counters; } | psql_as target "$db" >/dev/null
done
EDQ=$(new_export_dir)
v=$(queue_gen counters 5 600 1 "$TEST_TMP/q")
queue_append "$EDQ" source_db_exporter "$TEST_TMP/q.ndjson"
queue_cutover_event "$v" cutover.target source_db_exporter >"$TEST_TMP/qc.ndjson"
queue_append "$EDQ" source_db_exporter "$TEST_TMP/qc.ndjson" --close
psql_as target refdb -f "$TEST_TMP/q.sql" >/dev/null || not_ok "reference workload applies"
APPLY_DB=lowdb check "apply as a user without superuser rights" run_apply "$EDQ" target target --target-db-user lowly
assert_match "session_replication_role refused: a warning" "warn.*may not set session_replication_role" \
    "$(cat "$TEST_TMP/apply.err" "$EDQ"/logs/*.log)"
assert_eq "and no error: line for it" "" "$(grep -i 'error' "$TEST_TMP/apply.err")"
compare_databases target target lowdb refdb

done_testing
