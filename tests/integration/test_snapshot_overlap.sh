#!/bin/bash
# import data started while export data runs loads the finished parts of a big table before the
# rest of it is exported. When export data dies mid-table and its restart exports the table
# again from a new snapshot (the source changed meanwhile), the import takes back what it loaded
# from the old files: while it keeps running, and when it is killed too and started again.
# Live migration too: export data dies in the snapshot, its restart makes a new replication slot
# and exports every table again; the import, never restarted, ends equal to the source and
# applies the changes that follow.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/e2e.sh"
V=$VOYAGER
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
psql_as source sourcedb -c "CREATE TABLE big (id bigint PRIMARY KEY, t text, n numeric)" \
    -c "INSERT INTO big SELECT g, md5(g::text) || E'\\t' || repeat('z', g % 20), g * 0.5 FROM generate_series(1, 400000) g" \
    -c "CREATE TABLE big_ref (id int PRIMARY KEY, big_id bigint REFERENCES big (id))" \
    -c "INSERT INTO big_ref SELECT g, g * 7 FROM generate_series(1, 500) g" \
    -c "ALTER TABLE big REPLICA IDENTITY FULL" -c "ALTER TABLE big_ref REPLICA IDENTITY FULL" \
    -c "ANALYZE" >/dev/null
copy_schema source target || { not_ok "schema"; done_testing; exit 1; }
conn_flags
# Many small parts, so that the export of big is caught with some parts done.
export VOYAGER_EXPORT_SPLIT_BYTES=$((256 * 1024))

# big_state: "attempt status parts" of big in the export's meta.db.
big_state() {
    python3 - "$ED/metainfo/meta.db" <<'PY'
import sqlite3, sys
try:
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
    a = db.execute("select attempt, status from snapshot_export_table where table_name = 'big'").fetchone()
    f = db.execute("select count(*) from snapshot_export_file where table_name = 'big'").fetchone()
    print("%s %s %s" % (a[0], a[1], f[0]) if a else "0 NONE 0")
except Exception:
    print("0 NONE 0")
PY
}
big_batches() {
    psql_as target yugabyte -c "SELECT count(*) FROM ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3
        WHERE table_name = 'big'" 2>/dev/null || echo 0
}
planned_big_batches() {
    python3 -c "
import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from snapshot_import_batch where importer_role='target_db_importer' and table_name='big'\").fetchone()[0])" "$ED/metainfo/meta.db"
}

# freeze_export_worker: as soon as meta.db of $ED has a finished part of big, freeze the server
# process that sends the export its rows (the exporter itself keeps running, as when a source
# is slow). Sets BACKEND.
freeze_export_worker() {
    local i
    BACKEND=""
    for ((i = 0; i < 300; i++)); do
        BACKEND=$(psql_as source postgres -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'yb-voyager export data worker'")
        [ -n "$BACKEND" ] && break
        sleep 0.02
    done
    python3 - "$ED/metainfo/meta.db" "$BACKEND" <<'PY'
import os, signal, sqlite3, sys, time
for _ in range(6000):
    try:
        db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=1)
        n = db.execute("select count(*) from snapshot_export_file where table_name = 'big'").fetchone()[0]
        db.close()
        if n > 0:
            break
    except Exception:
        pass
    time.sleep(0.003)
if sys.argv[2]:
    os.kill(int(sys.argv[2]), signal.SIGSTOP)
PY
}

# change_source: updates, deletes and inserts in big, so that a new snapshot differs.
change_source() {
    psql_as source sourcedb -c "UPDATE big SET t = t || ' changed' WHERE id % 5 = 0" \
        -c "DELETE FROM big WHERE id % 11 = 0 AND id NOT IN (SELECT big_id FROM big_ref)" \
        -c "INSERT INTO big SELECT g, 'new ' || g, g FROM generate_series((SELECT max(id) FROM big) + 1, (SELECT max(id) FROM big) + 500) g" >/dev/null
}

# wait_batches: until the target has committed batches of big (at most 30 s).
wait_batches() {
    local i
    for ((i = 0; i < 300; i++)); do
        [ "$(big_batches)" -gt 0 ] && return 0
        sleep 0.1
    done
    return 1
}

# round MODE: MODE keep (the import runs throughout) or kill (killed with the exporter, started again).
round() {

    local mode=$1 epid ipid i st
    ED=$(new_export_dir)
    local EXP=("$V" export data -e "$ED" "${SRC_FLAGS[@]}" --parallel-jobs 1 --disable-pb)
    local IMP=("$V" import data -e "$ED" "${TGT_FLAGS[@]}" --parallel-jobs 2 --batch-size 2000 --disable-pb)
    "${EXP[@]}" >"$TEST_TMP/exp-$mode.out" 2>&1 &
    epid=$!
    freeze_export_worker
    local backend=$BACKEND
    sleep 0.3 # the exporter records the parts it finished
    st=$(big_state)
    local files=${st##* }
    case $st in
    "1 DONE "*) not_ok "$mode: export data frozen in the middle of big" "it had finished big: $st" ;;
    "1 "*) [ "$files" -gt 0 ] && ok "$mode: export data frozen in the middle of big ($files parts done)" ||
        not_ok "$mode: export data frozen in the middle of big" "$st" ;;
    *) not_ok "$mode: export data frozen in the middle of big" "$st" ;;
    esac
    "${IMP[@]}" >"$TEST_TMP/imp-$mode.out" 2>&1 &
    ipid=$!
    wait_batches
    local loaded
    loaded=$(big_batches)
    [ "$loaded" -gt 0 ] && ok "$mode: the import loaded parts of big while its export was unfinished ($loaded batches)" ||
        not_ok "$mode: the import loaded parts of big while its export was unfinished" "$(tail -3 "$TEST_TMP/imp-$mode.out")"
    # The exporter dies mid-table; its frozen server process is let go before the source moves
    # on (stopped, it may hold a buffer's content lock that the source's UPDATE would wait on
    # for ever), and the restarted export takes a new snapshot of big.
    kill -9 "$epid"
    wait "$epid" 2>/dev/null
    [ -n "$backend" ] && kill -CONT "$backend"
    change_source
    if [ "$mode" = kill ]; then
        kill -9 "$ipid"
        wait "$ipid" 2>/dev/null
    fi
    check "$mode: export data completes after its restart" "${EXP[@]}"
    st=$(big_state)
    assert_eq "$mode: big was exported again under a new attempt" "2 DONE" "${st% *}"
    local rc
    if [ "$mode" = kill ]; then
        cat "$TEST_TMP/imp-$mode.out" >>"$TEST_TMP/imp-killed.out"
        "${IMP[@]}" >"$TEST_TMP/imp-$mode.out" 2>&1
        rc=$?
    else
        wait "$ipid"
        rc=$?
    fi
    assert_eq "$mode: import data completes" "0" "$rc"
    grep -q "big: export data restarted it from a new snapshot" "$TEST_TMP/imp-$mode.out" &&
        ok "$mode: the import said it took big back" ||
        not_ok "$mode: the import said it took big back" "$(tail -5 "$TEST_TMP/imp-$mode.out")"
    compare_databases source target
    assert_eq "$mode: one metainfo row per planned batch of big" "$(planned_big_batches)" "$(big_batches)"
    psql_as target yugabyte -c "SET client_min_messages = warning" \
        -c "TRUNCATE big, big_ref, customers, \"Order\", \"MixedCase\" CASCADE" \
        -c "DROP SCHEMA ybvoyager_metadata CASCADE" >/dev/null
}

# live_round: snapshot-and-changes; export data killed in the snapshot, import data never restarted.
live_round() {
    ED=$(new_export_dir)
    proc_start lexp "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes \
        --parallel-jobs 1 --disable-pb
    freeze_export_worker
    proc_start limp "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --parallel-jobs 2 --batch-size 2000 --disable-pb
    wait_batches && ok "live: the import loaded parts of big while its snapshot export was unfinished" ||
        not_ok "live: the import loaded parts of big while its snapshot export was unfinished" "$(tail -3 "$TEST_TMP/limp.out")"
    proc_kill9 lexp
    [ -n "$BACKEND" ] && kill -CONT "$BACKEND" # before the source moves on: see round()
    change_source
    proc_restart lexp
    wait_equal source target 120 && ok "live: the target caught up after the snapshot was exported again" ||
        not_ok "live: the target caught up after the snapshot was exported again" "$(tail -3 "$TEST_TMP/lexp.out" "$TEST_TMP/limp.out")"
    grep -q "big: export data restarted it from a new snapshot" "$TEST_TMP/limp.out" &&
        ok "live: the import said it took big back" || not_ok "live: the import said it took big back" "$(tail -5 "$TEST_TMP/limp.out")"
    change_source
    wait_equal source target 120
    compare_databases source target
    proc_alive limp && ok "live: the import kept running throughout" || not_ok "live: the import kept running throughout" "$(tail -3 "$TEST_TMP/limp.out")"
    proc_stop_all
}

for r in ${ROUNDS:-keep kill live}; do
    if [ "$r" = live ]; then live_round; else round "$r"; fi
done
[ -n "${KEEP_LOGS:-}" ] && cp "$TEST_TMP"/*.out /tmp/
done_testing
