#!/bin/bash
# import data (to target) and import data to source-replica given the SOURCE database's
# coordinates (flags copied from the source's) are refused, exit 3, before anything is written:
# with --start-clean --truncate-tables the source's tables would be truncated and the older
# snapshot loaded (the rows written since lost), without it a table with no key doubled. The
# source's identity is recorded by export data (system identifier, timeline, database OID,
# port); the same database reached another way (a Unix socket) is refused too, and so it is for
# a user who may not read pg_control_system() (address, port and name compared). The refusal
# records nothing: the rerun with the real target needs no --yes.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
start_clusters source target >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
psql_as source sourcedb -c "CREATE TABLE public.nopk (v int); INSERT INTO public.nopk VALUES (1), (2)" >/dev/null
copy_schema source target || exit 1
ED=$(new_export_dir)
check "export data" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --disable-pb true
# the application keeps writing to the source
psql_as source sourcedb -c "INSERT INTO public.\"MixedCase\"(k) SELECT g FROM generate_series(1001, 1010) g" >/dev/null
SAVE=$(table_fingerprints source sourcedb)
AS_TARGET=(--target-db-host 127.0.0.1 --target-db-port "$SOURCE_PORT" --target-db-user voyager --target-db-name sourcedb)
REFUSED="the target database given \(127\.0\.0\.1:$SOURCE_PORT/sourcedb\) is this migration's source database \(127\.0\.0\.1:$SOURCE_PORT/sourcedb\).*hint: give the target database's --target-db-host"

expect_refusal "import data --start-clean --truncate-tables into the source: refused" 3 "$REFUSED" \
    "$V" import data -e "$ED" "${AS_TARGET[@]}" --start-clean true --truncate-tables true \
    --table-list MixedCase,nopk --disable-pb true </dev/null
assert_eq "the source is unchanged" "$SAVE" "$(table_fingerprints source sourcedb)"
expect_refusal "import data into the source without --start-clean: refused" 3 "$REFUSED" \
    "$V" import data -e "$ED" "${AS_TARGET[@]}" --disable-pb true </dev/null
assert_eq "the source is still unchanged (no-PK table not doubled)" "$SAVE" "$(table_fingerprints source sourcedb)"
assert_eq "no bookkeeping schema on the source" "0" \
    "$(psql_as source sourcedb -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'ybvoyager_metadata'")"

# the same database through its Unix socket: another address, the same cluster and database
expect_refusal "the source reached through its Unix socket: refused" 3 \
    "the target database given \($SOURCE_DIR:$SOURCE_PORT/sourcedb\) is this migration's source database" \
    "$V" import data -e "$ED" --target-db-host "$SOURCE_DIR" --target-db-port "$SOURCE_PORT" \
    --target-db-user voyager --target-db-name sourcedb --disable-pb true </dev/null

# a user who may not call pg_control_system(): compared by address, port and name
pwlit=${VOYAGER_PW//\'/\'\'}
psql_as source sourcedb -c "CREATE ROLE plain LOGIN PASSWORD '$pwlit';
    REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC" >/dev/null
expect_refusal "a user without pg_control_system(): refused by address, port and name" 3 "$REFUSED" \
    "$V" import data -e "$ED" --target-db-host 127.0.0.1 --target-db-port "$SOURCE_PORT" \
    --target-db-user plain --target-db-name sourcedb --disable-pb true </dev/null
assert_eq "the source is unchanged after every refusal" "$SAVE" "$(table_fingerprints source sourcedb)"

expect_refusal "import data to source-replica into the source: refused" 3 \
    "the source-replica database given \(127\.0\.0\.1:$SOURCE_PORT/sourcedb\) is this migration's source database.*--source-replica-db-host" \
    "$V" import data to source-replica -e "$ED" --source-replica-db-host 127.0.0.1 \
    --source-replica-db-port "$SOURCE_PORT" --source-replica-db-user voyager \
    --source-replica-db-name sourcedb --start-clean true --truncate-tables true --disable-pb true </dev/null
assert_eq "the source is unchanged by the source-replica refusal" "$SAVE" "$(table_fingerprints source sourcedb)"

# the refusals recorded no target: the right flags are no switch of database (no --yes)
check "import data into the real target" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true </dev/null
assert_eq "the target got the snapshot's no-PK rows once" "2" "$(psql_as target yugabyte -c "SELECT count(*) FROM public.nopk")"
assert_eq "the target got the snapshot of MixedCase (without the later rows)" \
    "0" "$(psql_as target yugabyte -c "SELECT count(*) FROM public.\"MixedCase\" WHERE k > 1000")"
# live: the same refusal while export data streams; and for an export dir that has no recorded
# identity (made before this check), the replication check names the migration's own slot and
# publication without telling to drop them
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/status.sh"
psql_as source sourcedb -c "ALTER TABLE public.nopk REPLICA IDENTITY FULL" >/dev/null
ED=$(new_export_dir)
live_start_exporter
check "live: snapshot exported" status_wait "$ED" ExportDataDone 60
check "live: export data streams" wait_streaming
SAVE=$(table_fingerprints source sourcedb)
expect_refusal "live: import data --start-clean --truncate-tables into the source: refused" 3 "$REFUSED" \
    "$V" import data -e "$ED" "${AS_TARGET[@]}" --start-clean true --truncate-tables true --disable-pb true </dev/null
sqlite3 "$ED/metainfo/meta.db" ".timeout 10000" \
    "UPDATE migration_status SET record = json_remove(record, '$.SourceDBIdentity')" >/dev/null
expect_refusal "live, no identity recorded: the replication check refuses, not telling to drop our slot" 3 \
    "replication slot voyager_slot_[0-9a-f]+.*hint: they are export data's own, for this migration's source: do not drop them" \
    "$V" import data -e "$ED" "${AS_TARGET[@]}" --disable-pb true </dev/null
assert_eq "live: nothing tells to drop them" "0" "$(grep -c 'drop it' "$LAST_ERR")"
live_stop "$EXP_PID"
assert_eq "live: the source is unchanged" "$SAVE" "$(table_fingerprints source sourcedb)"
done_testing
