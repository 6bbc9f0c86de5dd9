#!/bin/bash
# Which importer applies what, and each one's end of stream:
#  fall-back:    target_db_importer applies source_db_exporter events up to cutover.target;
#                source_db_importer applies only target_db_exporter_fb events (it never opens
#                the source exporter's segments) up to cutover.source.
#  fall-forward: source_replica_db_importer applies source_db_exporter events, passes
#                cutover.target (restoring sequences), then target_db_exporter_ff events up to
#                cutover.source_replica.
# Each database is compared with a reference that got the same changes serially; sequences
# and cutover flags are checked; the per-table counts for the report are read back.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/queue.sh"
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null && pg_start src src >/dev/null ||
    { not_ok "clusters"; done_testing; exit 1; }
psql_as target postgres -c "CREATE DATABASE yugabyte2 OWNER voyager" >/dev/null
psql_as ref postgres -c "CREATE DATABASE ref1 OWNER voyager" >/dev/null
psql_as src postgres -c "CREATE DATABASE replicadb OWNER voyager" >/dev/null
for cd in target:yugabyte target:yugabyte2 ref:ref ref:ref1 src:src src:replicadb; do
    queue_schema_sql mixed | psql_as "${cd%%:*}" "${cd#*:}" >/dev/null
done
segcol() { python3 -c "import sqlite3,sys; print(' '.join(str(r[0]) for r in sqlite3.connect(sys.argv[1]).execute('select %s from queue_segment order by segment_no' % sys.argv[2])))" "$1/metainfo/meta.db" "$2"; }

# the changes: w1 from the source before cutover, w2 from the target after it
v=$(queue_gen mixed 21 1200 1 "$TEST_TMP/w" source_db_exporter)
mv "$TEST_TMP/w.ndjson" "$TEST_TMP/w1.ndjson"; mv "$TEST_TMP/w.sql" "$TEST_TMP/w1.sql"
v1=$v
v=$(queue_gen mixed 21 1200 $((v1 + 1)) "$TEST_TMP/w" PLACEHOLDER)
mv "$TEST_TMP/w.ndjson" "$TEST_TMP/w2.ndjson"; mv "$TEST_TMP/w.sql" "$TEST_TMP/w2.sql"
v2=$v
psql_as ref ref1 -f "$TEST_TMP/w1.sql" >/dev/null
psql_as ref ref -f "$TEST_TMP/w1.sql" -f "$TEST_TMP/w2.sql" >/dev/null
psql_as src src -f "$TEST_TMP/w1.sql" >/dev/null # the source made those changes itself

make_queue() { # make_queue DIR TARGET_EXPORTER_ROLE FINAL_OP
    queue_append "$1" source_db_exporter "$TEST_TMP/w1.ndjson" --max-bytes 100000
    queue_cutover_event "$v1" cutover.target source_db_exporter >"$TEST_TMP/c1.ndjson"
    queue_append "$1" source_db_exporter "$TEST_TMP/c1.ndjson" --close
    sed "s/PLACEHOLDER/$2/" "$TEST_TMP/w2.ndjson" >"$TEST_TMP/w2r.ndjson"
    queue_append "$1" "$2" "$TEST_TMP/w2r.ndjson" --max-bytes 100000
    queue_cutover_event "$v2" "$3" "$2" >"$TEST_TMP/c2.ndjson"
    queue_append "$1" "$2" "$TEST_TMP/c2.ndjson" --close
}

# ---- fall-back
FB=$(new_export_dir)
make_queue "$FB" target_db_exporter_fb cutover.source
seq_values "$FB" cutover.target public seq_a 500 1
seq_values "$FB" cutover.source public seq_a 900 1
check "target importer runs to cutover.target" run_apply "$FB" target target
compare_databases target ref yugabyte ref1
assert_eq "target importer recorded its cutover" true "$(status_get "$FB" CutoverProcessedByTargetImporter)"
assert_eq "target sequence from the cutover.target values" 500 "$(psql_as target yugabyte -c "SELECT last_value FROM seq_a")"
assert_eq "target importer marked only the source exporter's segments" \
    "$(segcol "$FB" "exporter_role = 'source_db_exporter'")" "$(segcol "$FB" imported_by_target_db_importer)"
# the source importer must not need the source exporter's segments: take them away
for s in $(python3 -c "import sqlite3,sys; print(' '.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute(\"select file_path from queue_segment where exporter_role = 'source_db_exporter'\")))" "$FB/metainfo/meta.db"); do
    rm "$FB/$s"
done
check "source importer applies the target's changes to cutover.source" run_apply "$FB" src source
compare_databases src ref src ref
assert_eq "source importer recorded its cutover" true "$(status_get "$FB" CutoverProcessedBySourceImporter)"
assert_eq "source sequence from the cutover.source values" 900 "$(psql_as src src -c "SELECT last_value FROM seq_a")"
n2=$(wc -l <"$TEST_TMP/w2.ndjson")
assert_eq "source importer counted only the target's events" "$n2" \
    "$(channel_counts src src | awk '{print $1 + $2 + $3}')"
VOYAGER_CDC_COUNTS=1 run_apply "$FB" src source >"$TEST_TMP/counts" 2>/dev/null
want=$(python3 - "$TEST_TMP/w2.ndjson" <<'PY'
import json, sys
c = {}
for l in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(l)
    k = (e["schema_name"], e["table_name"])
    c.setdefault(k, {"c": 0, "u": 0, "d": 0})[e["op"]] += 1
for (s, t), v in sorted(c.items()):
    print("%s|%s|%d|%d|%d" % (s, t, v["c"], v["u"], v["d"]))
PY
)
assert_eq "counts by table for the report" "$want" "$(sort "$TEST_TMP/counts")"

# ---- fall-forward
FF=$(new_export_dir)
make_queue "$FF" target_db_exporter_ff cutover.source_replica
seq_values "$FF" cutover.target public seq_a 500 1
seq_values "$FF" cutover.source_replica public seq_a 1500 0
APPLY_DB=yugabyte2 check "target importer stops at cutover.target" run_apply "$FF" target target
compare_databases target ref yugabyte2 ref1
APPLY_DB=replicadb check "source-replica importer runs through both phases" run_apply "$FF" src source-replica
compare_databases src ref replicadb ref
assert_eq "source-replica importer recorded its cutover" true "$(status_get "$FF" CutoverProcessedBySourceReplicaImporter)"
assert_eq "replica sequence from the cutover.source_replica values" "1500 false" \
    "$(psql_as src replicadb -c "SELECT last_value || ' ' || is_called FROM seq_a")"
assert_eq "replica counted both phases" "$(cat "$TEST_TMP/w1.ndjson" "$TEST_TMP/w2.ndjson" | wc -l)" \
    "$(channel_counts src replicadb | awk '{print $1 + $2 + $3}')"
assert_eq "replica marked every segment" "$(segcol "$FF" 1)" "$(segcol "$FF" imported_by_source_replica_db_importer)"
done_testing
