#!/bin/bash
# The public Voyager pages' live-migration workflows, command line by command
# line as written (docs/voyager-docs: plain live, fall-forward, fall-back in its
# newer and older wording), against throwaway clusters, with the application
# writing during the migration; the databases are compared at the end of each.
#
# Placeholders are filled; beyond them the only additions are --*-db-port (the
# clusters run on free ports, the pages assume the default) and --disable-pb
# (no terminal). Left out, as the pages say: --target-db-schema and
# --source-replica-db-schema ("Oracle only" / not for a PostgreSQL source).
# The documented lines with passwords get only those (no environment twins);
# end migration names none, so it reads them from the environment.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/e2e.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
PW=$VOYAGER_PW
export VOYAGER_ARCHIVE_POLL_MS=300
pg_start source postgres && pg_start target postgres && pg_start source_replica postgres ||
    { not_ok "clusters"; done_testing; exit 1; }
trap 'proc_stop_all; harness_cleanup' EXIT

# doc CMD...: a documented command line, no password environment, no terminal.
doc() { env -u SOURCE_DB_PASSWORD -u TARGET_DB_PASSWORD -u SOURCE_REPLICA_DB_PASSWORD "$@" </dev/null; }
# doc_bg KEY CMD...: the same, in the background (e2e.sh's process tracking).
doc_bg() { local k=$1; shift; proc_start "$k" env -u SOURCE_DB_PASSWORD -u TARGET_DB_PASSWORD -u SOURCE_REPLICA_DB_PASSWORD "$@"; }

new_dbs() { # new_dbs W: databases src_W (sample schema), tgt_W, rep_W
    psql_as source postgres -c "CREATE DATABASE src_$1 OWNER voyager" >/dev/null
    psql_as source "src_$1" -f "$HARNESS_DIR/sample_schema.sql" >/dev/null
    psql_as target postgres -c "CREATE DATABASE tgt_$1 OWNER voyager" >/dev/null
    psql_as source_replica postgres -c "CREATE DATABASE rep_$1 OWNER voyager" >/dev/null
}

cutover_wait() { # cutover_wait ED KIND: until cutover status says KIND COMPLETED
    local i
    for i in $(seq 1 120); do
        "$V" cutover status --export-dir "$1" 2>/dev/null | grep -q "cutover to $2 status: COMPLETED" && return 0
        sleep 0.5
    done
    return 1
}

exits_ok() { # exits_ok KEY DESC: the background process ended with 0
    proc_wait "$1" 90
    assert_eq "$2" 0 "$PROC_RC"
}

schema_steps() { # schema_steps W ED: export schema, analyze-schema, import schema as documented
    local w=$1 ed=$2
    check "[$w] export schema" doc "$V" export schema --export-dir "$ed" \
        --source-db-type postgresql \
        --source-db-host 127.0.0.1 --source-db-port "$SOURCE_PORT" \
        --source-db-user voyager \
        --source-db-password "$PW" \
        --source-db-name "src_$w" \
        --source-db-schema public
    check "[$w] analyze-schema" doc "$V" analyze-schema --export-dir "$ed" --output-format txt
    assert_match "[$w] analyze-schema txt names the source's version" "Database version: +15\." \
        "$(cat "$ed/reports/schema_analysis_report.txt")"
    check "[$w] import schema" doc "$V" import schema --export-dir "$ed" \
        --target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" \
        --target-db-user voyager \
        --target-db-password "$PW" \
        --target-db-name "tgt_$w"
}

export_data_bg() { # export_data_bg W ED [from source]
    local w=$1 ed=$2
    shift 2
    doc_bg "exp_$w" "$V" export data "$@" --export-dir "$ed" \
        --source-db-type postgresql \
        --source-db-host 127.0.0.1 --source-db-port "$SOURCE_PORT" \
        --source-db-user voyager \
        --source-db-password "$PW" \
        --source-db-name "src_$w" \
        --source-db-schema public \
        --export-type snapshot-and-changes --disable-pb
}

import_data_bg() { # import_data_bg W ED [to target]: once export data has started, as the pages order it
    local w=$1 ed=$2 i
    shift 2
    for i in $(seq 1 150); do
        [ "$(status_get "$ed" ExportType 2>/dev/null)" = '"snapshot-and-changes"' ] && break
        sleep 0.2
    done
    local cmd=("$V" import data "$@" --export-dir "$ed"
        --target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT"
        --target-db-user voyager
        --target-db-password "$PW"
        --target-db-name "tgt_$w"
        --parallel-jobs 2)
    if [ "${ON_TTY:-0}" = 1 ]; then # on a terminal, as an operator runs it: metrics drawn in place
        doc_bg "imp_$w" script -qefc "$(printf '%q ' "${cmd[@]}")" /dev/null
    else
        doc_bg "imp_$w" "${cmd[@]}" --disable-pb
    fi
}

end_migration() { # end_migration W ED: as documented, with every report saved to a backup dir
    local w=$1 ed=$2 bk="$TEST_TMP/backup_$1"
    mkdir -p "$bk"
    check "[$w] end migration" "$V" end migration --export-dir "$ed" \
        --backup-log-files true \
        --backup-data-files false \
        --backup-schema-files false \
        --save-migration-reports true \
        --backup-dir "$bk" --yes
    [ -s "$bk/reports/data-migration-report.json" ] && ok "[$w] the backup has the data-migration report" ||
        not_ok "[$w] the backup has the data-migration report" "$(ls "$bk/reports" 2>&1)"
    assert_eq "[$w] no replication slot left" "0 0" \
        "$(psql_as source postgres -c "SELECT count(*) FROM pg_replication_slots WHERE database = 'src_$w'") $(psql_as target postgres -c "SELECT count(*) FROM pg_replication_slots WHERE database = 'tgt_$w'")"
    # every bookkeeping table held only this migration's rows: the schema goes on both sides
    assert_eq "[$w] no ybvoyager_metadata left" "0 0" \
        "$(psql_as source "src_$w" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'ybvoyager_metadata'") $(psql_as target "tgt_$w" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'ybvoyager_metadata'")"
}

# ---------------------------------------------------------------- plain live migration
w=live
new_dbs $w
ED=$(new_export_dir)
schema_steps $w "$ED"
export_data_bg $w "$ED"
ON_TTY=1 import_data_bg $w "$ED"
workload_start source "src_$w" 6 $w
check "[$w] export data status" doc "$V" export data status --export-dir "$ED"
workload_wait
wait_equal source target 90 "src_$w" "tgt_$w" && ok "[$w] target caught up" || not_ok "[$w] target caught up"
check "[$w] initiate cutover to target" doc "$V" initiate cutover to target --export-dir "$ED"
cutover_wait "$ED" target && ok "[$w] cutover status: COMPLETED" || not_ok "[$w] cutover status: COMPLETED"
exits_ok "exp_$w" "[$w] export data ends after the cutover"
exits_ok "imp_$w" "[$w] import data ends after the cutover (no way back)"
assert_match "[$w] import data shows its metrics as the documented grid on a terminal" \
    "\| Metric +\| +Value \|" "$(cat "$TEST_TMP/imp_$w.out")"
assert_match "[$w] ... with the documented rows" "\| Remaining Events +\| +[0-9]+ \|" "$(cat "$TEST_TMP/imp_$w.out")"
check "[$w] import schema --post-snapshot-import --refresh-mviews" doc "$V" import schema --export-dir "$ED" \
    --target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" \
    --target-db-user voyager \
    --target-db-password "$PW" \
    --target-db-name "tgt_$w" \
    --post-snapshot-import true \
    --refresh-mviews true
compare_databases source target "src_$w" "tgt_$w"
end_migration $w "$ED"

# ---------------------------------------------------------------- fall-forward (newer page)
w=ff
new_dbs $w
ED=$(new_export_dir)
ARCH="$TEST_TMP/archive_$w"
mkdir -p "$ARCH"
schema_steps $w "$ED"
# The source-replica's schema is the operator's (the page: no indexes and triggers yet).
"$PGBIN/pg_dump" -h "$TEST_TMP/source" -p "$SOURCE_PORT" -U postgres --schema-only --no-owner "src_$w" |
    psql_as source_replica "rep_$w" >/dev/null 2>&1
export_data_bg $w "$ED" from source
import_data_bg $w "$ED" to target
doc_bg "rep_$w" "$V" import data to source-replica --export-dir "$ED" \
    --source-replica-db-host 127.0.0.1 --source-replica-db-port "$SOURCE_REPLICA_PORT" \
    --source-replica-db-user voyager \
    --source-replica-db-password "$PW" \
    --source-replica-db-name "rep_$w" \
    --parallel-jobs 2 --disable-pb
doc_bg "arch_$w" "$V" archive changes --export-dir "$ED" --move-to "$ARCH"
workload_start source "src_$w" 6 $w
status_wait "$ED" ImportDataDone 60
check "[$w] get data-migration-report (target password only)" doc "$V" get data-migration-report --export-dir "$ED" \
    --target-db-password "$PW"
assert_match "[$w] without the source-replica password its numbers are left out, with a note" \
    "source-replica database's .* are shown as '-'.*--source-replica-db-password" "$(cat "$LAST_ERR")"
check "[$w] get data-migration-report (target and source-replica passwords)" doc "$V" get data-migration-report \
    --export-dir "$ED" \
    --target-db-password "$PW" \
    --source-replica-db-password "$PW"
assert_match "[$w] the report covers the source-replica" "customers +\| source-replica" "$(cat "$LAST_OUT")"
assert_match "[$w] without the source password the note says which numbers need it" \
    "FINAL ROW COUNT are shown as '-'.*--source-db-password" "$(cat "$LAST_ERR")"
[ -s "$ED/reports/data-migration-report.json" ] && ok "[$w] report saved under upstream's name" ||
    not_ok "[$w] report saved under upstream's name"
workload_wait
wait_equal source target 90 "src_$w" "tgt_$w" && ok "[$w] target caught up" || not_ok "[$w] target caught up"
wait_equal source source_replica 90 "src_$w" "rep_$w" && ok "[$w] source-replica caught up" ||
    not_ok "[$w] source-replica caught up"
check "[$w] initiate cutover to target" doc "$V" initiate cutover to target --export-dir "$ED"
cutover_wait "$ED" target && ok "[$w] cutover to target COMPLETED" || not_ok "[$w] cutover to target COMPLETED"
exits_ok "exp_$w" "[$w] export data from source ends after the cutover"
check "[$w] import schema --post-snapshot-import --refresh-mviews" doc "$V" import schema --export-dir "$ED" \
    --target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" \
    --target-db-user voyager \
    --target-db-password "$PW" \
    --target-db-name "tgt_$w" \
    --post-snapshot-import true \
    --refresh-mviews true
compare_databases source target "src_$w" "tgt_$w"
# The application now writes to the target; import data to target became export data from target.
check "[$w] import data to target turned into export data from target" \
    lock_pid_wait "$ED" export-data-from-target "${_PROC_PID[imp_$w]}" 30
workload_start target "tgt_$w" 6 ${w}t
workload_wait
wait_equal target source_replica 90 "tgt_$w" "rep_$w" && ok "[$w] source-replica follows the target" ||
    not_ok "[$w] source-replica follows the target"
check "[$w] initiate cutover to source-replica" doc "$V" initiate cutover to source-replica --export-dir "$ED"
cutover_wait "$ED" source-replica && ok "[$w] cutover to source-replica COMPLETED" ||
    not_ok "[$w] cutover to source-replica COMPLETED"
exits_ok "imp_$w" "[$w] export data from target ends after the cutover to source-replica"
exits_ok "rep_$w" "[$w] import data to source-replica ends after the cutover"
exits_ok "arch_$w" "[$w] archive changes ends with the migration"
[ -n "$(ls "$ARCH")" ] && ok "[$w] archive changes moved applied segments" || not_ok "[$w] archive changes moved applied segments"
compare_databases target source_replica "tgt_$w" "rep_$w"
end_migration $w "$ED"

# ---------------------------------------------------------------- fall-back, newer and older wording
# fall_back W NEW|OLD: the same workflow with the page's command names of that release.
fall_back() {
    local w=$1 wording=$2 ed arch
    ed=$(new_export_dir)
    arch="$TEST_TMP/archive_$w"
    mkdir -p "$arch"
    new_dbs "$w"
    schema_steps "$w" "$ed"
    export_data_bg "$w" "$ed"
    import_data_bg "$w" "$ed"
    doc_bg "arch_$w" "$V" archive changes --export-dir "$ed" --move-to "$arch" --delete
    workload_start source "src_$w" 5 "$w"
    status_wait "$ed" ImportDataDone 60
    if [ "$wording" = NEW ]; then
        check "[$w] get data-migration-report" doc "$V" get data-migration-report --export-dir "$ed" \
            --target-db-password "$PW" \
            --source-db-password "$PW"
    else
        check "[$w] export data status" doc "$V" export data status --export-dir "$ed"
        check "[$w] import data status" doc "$V" import data status --export-dir "$ed"
        check "[$w] export data status --output-format json" doc "$V" export data status --export-dir "$ed" --output-format json
        check "[$w] import data status --output-format json" doc "$V" import data status --export-dir "$ed" --output-format json
        python3 - "$ed/reports" <<'PY' && ok "[$w] status reports as upstream's files" || not_ok "[$w] status reports as upstream's files"
import json, sys
e = json.load(open(sys.argv[1] + "/export-data-status-report.json"))
i = json.load(open(sys.argv[1] + "/import-data-status-report.json"))
assert {r["table_name"] for r in e} == {"public.customers", 'public."Order"', 'public."MixedCase"'}, e
assert all(set(r) == {"table_name", "status", "exported_count"} for r in e), e
assert all(set(r) == {"table_name", "status", "total_count", "imported_count", "errored_count", "percentage_complete"} for r in i), i
PY
    fi
    workload_wait
    wait_equal source target 90 "src_$w" "tgt_$w" && ok "[$w] target caught up" || not_ok "[$w] target caught up"
    if [ "$wording" = NEW ]; then
        check "[$w] initiate cutover to target --prepare-for-fall-back true" \
            doc "$V" initiate cutover to target --export-dir "$ed" --prepare-for-fall-back true
    else
        check "[$w] cutover initiate --prepare-for-fall-back true" \
            doc "$V" cutover initiate --export-dir "$ed" --prepare-for-fall-back true
    fi
    cutover_wait "$ed" target && ok "[$w] cutover to target COMPLETED" || not_ok "[$w] cutover to target COMPLETED"
    # The page: export data becomes import data to source, import data becomes export data from target.
    check "[$w] export data turned into import data to source" \
        lock_pid_wait "$ed" import-data-to-source "${_PROC_PID[exp_$w]}" 30
    check "[$w] import data turned into export data from target" \
        lock_pid_wait "$ed" export-data-from-target "${_PROC_PID[imp_$w]}" 30
    assert_match "[$w] export data's output says how to restart it" \
        "restart it with: yb-voyager import data to source --export-dir" "$(cat "$TEST_TMP/exp_$w.out")"
    assert_match "[$w] ... and by the older page's name" "older name: yb-voyager fall-back setup" \
        "$(cat "$TEST_TMP/exp_$w.out")"
    assert_match "[$w] import data's output names export data from target (older: fall-back synchronize)" \
        "restart it with: yb-voyager export data from target --export-dir .*older name: yb-voyager fall-back synchronize" \
        "$(cat "$TEST_TMP/imp_$w.out")"
    check "[$w] import schema --post-import-data" doc "$V" import schema --export-dir "$ed" \
        --target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" \
        --target-db-user voyager \
        --target-db-password "$PW" \
        --target-db-name "tgt_$w" \
        --target-db-user voyager \
        --post-import-data true
    compare_databases source target "src_$w" "tgt_$w"
    workload_start target "tgt_$w" 5 "${w}t"
    if [ "$wording" = OLD ]; then
        # It dies: restarted by the older name, as the page's export data output suggests.
        proc_kill9 "exp_$w"
        doc_bg "exp_$w" "$V" fall-back setup --export-dir "$ed" --source-db-password "$PW" --disable-pb
    fi
    workload_wait
    wait_equal target source 90 "tgt_$w" "src_$w" && ok "[$w] source follows the target" ||
        not_ok "[$w] source follows the target"
    if [ "$wording" = NEW ]; then
        check "[$w] initiate cutover to source" doc "$V" initiate cutover to source --export-dir "$ed"
        cutover_wait "$ed" source && ok "[$w] cutover to source COMPLETED" || not_ok "[$w] cutover to source COMPLETED"
    else
        check "[$w] fall-back switchover" doc "$V" fall-back switchover --export-dir "$ed"
        cutover_wait "$ed" source && ok "[$w] switchover COMPLETED" || not_ok "[$w] switchover COMPLETED"
        check "[$w] fall-back status" doc "$V" fall-back status --export-dir "$ed"
        assert_match "[$w] fall-back status shows the switchover" "cutover to source status: COMPLETED" "$(cat "$LAST_OUT")"
    fi
    exits_ok "exp_$w" "[$w] import data to source (was export data) ends after the cutover to source"
    exits_ok "imp_$w" "[$w] export data from target (was import data) ends after the cutover to source"
    exits_ok "arch_$w" "[$w] archive changes ends with the migration"
    compare_databases target source "tgt_$w" "src_$w"
    end_migration "$w" "$ed"
}
fall_back fb NEW
fall_back fbold OLD
done_testing
