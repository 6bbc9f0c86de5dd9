#!/bin/bash
# archive changes on a seeded queue (no databases): only segments every needed
# importer applied leave the export dir; moves are whole and crash-safe; delete
# waits for the disk-use threshold; the command ends with the migration.
# Archived segments go to DIR/migration-<uuid>/queue-<generation>/: two
# migrations, or two queues of one, sharing DIR keep every segment, and a file
# already there is never replaced. With a database: a reader refuses an
# archived file that is not the segment meta.db recorded, and an importer that
# stopped between its cutover and its last marks records them when run again,
# so archive changes moves them.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/queue.sh"
V=$VOYAGER
ED=$(new_export_dir)
ARCH=$TEST_TMP/archive
mkdir -p "$ARCH"
export VOYAGER_ARCHIVE_POLL_MS=100

status_new_migration "$ED"
status_set "$ED" ExportType '"snapshot-and-changes"'

# seed_segment NO ROLE CLOSED IMP_TARGET IMP_REPLICA IMP_SOURCE
seed_segment() {
    mkdir -p "$ED/data/queue"
    printf '{"vsn":%d,"op":"c","schema_name":"public","table_name":"t","key":{"id":"%d"},"fields":{"id":"%d"},"exporter_role":"%s"}\n\\.\n' \
        "$1" "$1" "$1" "$2" >"$ED/data/queue/segment.$1.ndjson"
    python3 - "$ED/metainfo/meta.db" "$@" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
no, role, closed, t, r, s = sys.argv[2:8]
db.execute("""CREATE TABLE IF NOT EXISTS queue_segment (segment_no INTEGER PRIMARY KEY,
 file_path TEXT NOT NULL, exporter_role TEXT NOT NULL, committed_size INTEGER NOT NULL DEFAULT 0,
 first_vsn INTEGER, last_vsn INTEGER, total_events INTEGER NOT NULL DEFAULT 0,
 is_closed INTEGER NOT NULL DEFAULT 0, is_last INTEGER NOT NULL DEFAULT 0,
 imported_by_target_db_importer INTEGER NOT NULL DEFAULT 0,
 imported_by_source_replica_db_importer INTEGER NOT NULL DEFAULT 0,
 imported_by_source_db_importer INTEGER NOT NULL DEFAULT 0,
 archived INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, archive_location TEXT)""")
db.execute("INSERT OR REPLACE INTO queue_segment (segment_no, file_path, exporter_role, is_closed,"
           " imported_by_target_db_importer, imported_by_source_replica_db_importer,"
           " imported_by_source_db_importer) VALUES (?, ?, ?, ?, ?, ?, ?)",
           (int(no), "data/queue/segment.%s.ndjson" % no, role, int(closed), int(t), int(r), int(s)))
db.commit()
PY
}
seg_col() {
    python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select %s from queue_segment where segment_no=?' % sys.argv[3], (int(sys.argv[2]),)).fetchone()[0])" \
        "$ED/metainfo/meta.db" "$1" "$2"
}
set_seg() { python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute('update queue_segment set %s=1 where segment_no=?' % sys.argv[3], (int(sys.argv[2]),)); db.commit()" "$ED/metainfo/meta.db" "$1" "$2"; }
# queue_dir ED [ARCHIVE]: where archive changes puts ED's current queue
queue_dir() {
    echo "${2:-$ARCH}/migration-$(status_get "$1" MigrationUUID | tr -d '"')/queue-$(status_get "$1" QueueGeneration | tr -d '"')"
}

seed_segment 0 source_db_exporter 1 1 0 0 # applied by the target: may go
seed_segment 1 source_db_exporter 1 0 0 0 # not applied yet
seed_segment 2 source_db_exporter 0 1 0 0 # still being written
seed_segment 3 target_db_exporter_fb 1 1 0 0 # fall-back stream: the source importer has not applied it
cp "$ED/data/queue/segment.0.ndjson" "$TEST_TMP/seg0.orig"

# Bad input first: each a one-line error and nothing touched.
expect_fail "neither --move-to nor --delete" 2 "say what to do with applied changes" "$V" archive changes -e "$ED"
expect_refusal "missing archive dir" 2 "no such directory hint: create it first" "$V" archive changes -e "$ED" --move-to "$TEST_TMP/none"
expect_fail "archive dir inside the export dir" 2 "inside the export dir" "$V" archive changes -e "$ED" --move-to "$ED/temp"
expect_fail "threshold out of range" 2 "between 0 and 100" "$V" archive changes -e "$ED" --delete --fs-utilization-threshold 101
# --policy delete means no archive: a directory with it contradicts it (unlike --move-to DIR --delete)
expect_refusal "--policy delete with --archive-dir is refused" 2 \
    "^error: --policy delete cannot be used with --archive-dir detail: .* hint: give --policy archive to archive them there, or leave the directory out" \
    "$V" archive changes -e "$ED" --policy delete --archive-dir "$ARCH"
expect_fail "--policy delete with --move-to is refused" 2 "--policy delete cannot be used with --move-to" \
    "$V" archive changes -e "$ED" --policy delete --move-to "$ARCH"
# the threshold only holds back deleting: with an archive it would be ignored
expect_refusal "--fs-utilization-threshold with --move-to is refused" 2 \
    "^error: --fs-utilization-threshold is used only when applied changes are deleted without archiving detail: .* hint: remove it, or delete without archiving" \
    "$V" archive changes -e "$ED" --move-to "$ARCH" --fs-utilization-threshold 50
expect_fail "--fs-utilization-threshold with --policy archive is refused" 2 "fs-utilization-threshold is used only when" \
    "$V" archive changes -e "$ED" --policy archive --archive-dir "$ARCH" --fs-utilization-threshold 50
expect_fail "--fs-utilization-threshold with the documented --move-to --delete (a move) is refused" 2 \
    "fs-utilization-threshold is used only when" \
    "$V" archive changes -e "$ED" --move-to "$ARCH" --delete --fs-utilization-threshold 50
printf 'archive-changes:\n  fs-utilization-threshold: 50\n' >"$TEST_TMP/thr.yaml"
expect_fail "--fs-utilization-threshold from the config file with --move-to is refused" 2 "fs-utilization-threshold is used only when" \
    "$V" archive changes -e "$ED" --move-to "$ARCH" --config-file "$TEST_TMP/thr.yaml"
[ -e "$ED/data/queue/segment.0.ndjson" ] && ok "bad flags touch no segment" || not_ok "bad flags touch no segment"

"$V" archive changes -e "$ED" --move-to "$ARCH" >"$TEST_TMP/arch.out" 2>&1 &
pid=$!
wait_for() { for _ in $(seq 1 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }
wait_for '[ ! -e "$ED/data/queue/segment.0.ndjson" ] && [ -e "$(queue_dir "$ED")/segment.0.ndjson" ]' &&
    ok "applied segment moved out of the export dir" || not_ok "applied segment moved out of the export dir"
QD=$(queue_dir "$ED")
assert_match "the archive's directory is the migration's, then the queue's" \
    "^$ARCH/migration-[0-9a-f-]{36}/queue-[0-9a-f-]{36}\$" "$QD"
cmp -s "$TEST_TMP/seg0.orig" "$QD/segment.0.ndjson" && ok "moved segment is byte-identical" || not_ok "moved segment is byte-identical"
assert_eq "meta.db records the move" "1" "$(seg_col 0 archived)"
assert_eq "meta.db records where" "$QD/segment.0.ndjson" "$(seg_col 0 archive_location)"
assert_match "it says where this migration's segments go" \
    "archiving applied changes to $(dirname "$QD")/" "$(cat "$TEST_TMP/arch.out")"
sleep 0.5
[ -e "$ED/data/queue/segment.1.ndjson" ] && ok "unapplied segment kept" || not_ok "unapplied segment kept"
[ -e "$ED/data/queue/segment.2.ndjson" ] && ok "open segment kept" || not_ok "open segment kept"
[ -e "$ED/data/queue/segment.3.ndjson" ] && ok "fall-back segment waits for the source importer" || not_ok "fall-back segment waits for the source importer"
[ -z "$(find "$ARCH" -name '*tmp*')" ] && ok "no temporary file left in the archive" || not_ok "no temporary file left in the archive"

# Fall-forward: a source segment also needs the source-replica importer.
status_set "$ED" FallForwardEnabled true
set_seg 1 imported_by_target_db_importer
sleep 0.6
[ -e "$ED/data/queue/segment.1.ndjson" ] && ok "fall-forward: waits for the source-replica importer" || not_ok "fall-forward: waits for the source-replica importer"
set_seg 1 imported_by_source_replica_db_importer
set_seg 3 imported_by_source_db_importer
wait_for '[ ! -e "$ED/data/queue/segment.1.ndjson" ] && [ ! -e "$ED/data/queue/segment.3.ndjson" ]' &&
    ok "segments go once every importer applied them" || not_ok "segments go once every importer applied them"
kill -0 $pid 2>/dev/null && ok "runs continuously while the migration is live" || not_ok "runs continuously while the migration is live"

# The migration ends: the command finishes by itself.
status_set "$ED" CutoverToTargetRequested true CutoverProcessedBySourceExporter true CutoverProcessedByTargetImporter true ExportFromTargetStarted true \
    CutoverToSourceReplicaRequested true CutoverProcessedByTargetExporter true CutoverProcessedBySourceReplicaImporter true
wait_for '! kill -0 $pid 2>/dev/null' && ok "stops when the last stream is complete" || { not_ok "stops when the last stream is complete"; kill $pid; }
wait $pid
assert_eq "exit status" 0 "$?"
assert_match "summary printed" "3 segment\(s\) moved" "$(cat "$TEST_TMP/arch.out")"

# Crash between recording and removing: the next run removes the leftover.
seed_segment 4 source_db_exporter 1 1 1 0
set_seg 4 archived
check "a marked leftover is removed on the next run" "$V" archive changes -e "$ED" --move-to "$ARCH"
[ ! -e "$ED/data/queue/segment.4.ndjson" ] && ok "leftover removed" || not_ok "leftover removed"

# Delete policy: nothing goes while disk use is under the threshold.
seed_segment 5 source_db_exporter 1 1 1 0
check "delete under the threshold" "$V" archive changes -e "$ED" --delete --fs-utilization-threshold 100
[ -e "$ED/data/queue/segment.5.ndjson" ] && ok "kept under the threshold" || not_ok "kept under the threshold"
check "delete over the threshold" "$V" archive changes -e "$ED" --delete-changes-without-archiving --fs-utilization-threshold 0
[ ! -e "$ED/data/queue/segment.5.ndjson" ] && ok "deleted over the threshold" || not_ok "deleted over the threshold"
assert_eq "meta.db records the deletion" "1" "$(seg_col 5 deleted)"
[ ! -e "$QD/segment.5.ndjson" ] && ok "deleted, not archived" || not_ok "deleted, not archived"

# The documented --move-to DIR --delete: archived to DIR, then gone from the export dir.
seed_segment 6 source_db_exporter 1 1 1 0
check "--move-to with --delete (as documented)" "$V" archive changes -e "$ED" --move-to "$ARCH" --delete
[ -e "$QD/segment.6.ndjson" ] && [ ! -e "$ED/data/queue/segment.6.ndjson" ] &&
    ok "--move-to --delete: archived, then deleted from the export dir" ||
    not_ok "--move-to --delete: archived, then deleted from the export dir"
seed_segment 7 source_db_exporter 1 1 1 0
check "--archive-dir (the newer name of --move-to) with --delete" "$V" archive changes -e "$ED" --archive-dir "$ARCH" --delete
[ -e "$QD/segment.7.ndjson" ] && [ ! -e "$ED/data/queue/segment.7.ndjson" ] &&
    ok "--archive-dir --delete: moved as --move-to --delete" || not_ok "--archive-dir --delete: moved as --move-to --delete"
seed_segment 8 source_db_exporter 1 1 1 0
check "--policy archive --archive-dir" "$V" archive changes -e "$ED" --policy archive --archive-dir "$ARCH"
[ -e "$QD/segment.8.ndjson" ] && [ ! -e "$ED/data/queue/segment.8.ndjson" ] &&
    ok "--policy archive: moved" || not_ok "--policy archive: moved"

# ---- Two migrations sharing one archive directory, and two queues of one migration ----
# Segment numbers (and a queue's first vsns) restart in every migration and after a live
# export data --start-clean: each queue archives into its own directory, and a file already
# at a segment's place is never replaced.
SHARED=$TEST_TMP/shared
mkdir -p "$SHARED"
# seed_in ED NO VSN TEXT: ED's closed source segment NO, one event VSN, applied by the target
seed_in() {
    mkdir -p "$1/data/queue"
    printf '{"vsn":%d,"op":"c","schema_name":"public","table_name":"t","key":{"id":"%d"},"fields":{"v":"%s"},"exporter_role":"source_db_exporter"}\n\\.\n' \
        "$3" "$3" "$4" >"$1/data/queue/segment.$2.ndjson"
    python3 - "$1/metainfo/meta.db" "$2" "$3" "$(stat -c %s "$1/data/queue/segment.$2.ndjson")" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
no, vsn, size = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
db.execute("INSERT OR REPLACE INTO queue_segment (segment_no, file_path, exporter_role, committed_size, first_vsn,"
           " last_vsn, total_events, is_closed, imported_by_target_db_importer)"
           " VALUES (?, ?, 'source_db_exporter', ?, ?, ?, 1, 1, 1)",
           (no, "data/queue/segment.%d.ndjson" % no, size, vsn, vsn))
db.commit()
PY
}
# a live migration whose cutover to target completed: archive changes makes one pass and ends
new_finished_dir() {
    local ed
    ed=$(new_export_dir)
    status_new_migration "$ed"
    status_set "$ed" ExportType '"snapshot-and-changes"' CutoverToTargetRequested true \
        CutoverProcessedBySourceExporter true CutoverProcessedByTargetImporter true
    echo "$ed"
}
# loc_of ED NO: where ED's meta.db says segment NO was archived
loc_of() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select archive_location from queue_segment where segment_no=?', (int(sys.argv[2]),)).fetchone()[0])" "$1/metainfo/meta.db" "$2"; }
EA=$(new_finished_dir)
EB=$(new_finished_dir)
for no in 0 1; do
    seed_in "$EA" $no $((no + 1)) "migration A"
    seed_in "$EB" $no $((no + 1)) "migration B"
    cp "$EA/data/queue/segment.$no.ndjson" "$TEST_TMP/a$no.orig"
    cp "$EB/data/queue/segment.$no.ndjson" "$TEST_TMP/b$no.orig"
done
check "migration A archives into the shared directory" "$V" archive changes -e "$EA" --move-to "$SHARED"
check "migration B archives into the same directory" "$V" archive changes -e "$EB" --move-to "$SHARED"
for m in a b; do
    ed=$EA
    [ $m = b ] && ed=$EB
    for no in 0 1; do
        loc=$(loc_of "$ed" $no)
        assert_eq "$m: segment $no is archived in its own migration's queue directory" \
            "$(queue_dir "$ed" "$SHARED")/segment.$no.ndjson" "$loc"
        cmp -s "$TEST_TMP/$m$no.orig" "$loc" && ok "$m: archived segment $no keeps its bytes" ||
            not_ok "$m: archived segment $no keeps its bytes"
        [ ! -e "$ed/data/queue/segment.$no.ndjson" ] && ok "$m: segment $no left the export dir" ||
            not_ok "$m: segment $no left the export dir"
    done
done
[ "$(ls "$SHARED" | wc -l)" = 2 ] && ok "one directory per migration in the shared directory" ||
    not_ok "one directory per migration in the shared directory" "$(ls "$SHARED")"

# A's queue starts over (export data --start-clean: a new generation, segments from 0 again)
QA1=$(queue_dir "$EA" "$SHARED")
status_set "$EA" QueueGeneration '"0b9f3c1e-5d2a-4e8b-9c7d-3a1f2e4b5c6d"'
python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('delete from queue_segment'); d.commit()" "$EA/metainfo/meta.db"
seed_in "$EA" 0 1 "migration A, second queue"
cp "$EA/data/queue/segment.0.ndjson" "$TEST_TMP/a0.second"
check "A's second queue archives into the shared directory" "$V" archive changes -e "$EA" --move-to "$SHARED"
assert_eq "the second queue's segment 0 has a directory of its own" \
    "$(dirname "$QA1")/queue-0b9f3c1e-5d2a-4e8b-9c7d-3a1f2e4b5c6d/segment.0.ndjson" "$(loc_of "$EA" 0)"
cmp -s "$TEST_TMP/a0.second" "$(loc_of "$EA" 0)" && ok "the second queue's segment 0 keeps its bytes" ||
    not_ok "the second queue's segment 0 keeps its bytes"
cmp -s "$TEST_TMP/a0.orig" "$QA1/segment.0.ndjson" && cmp -s "$TEST_TMP/a1.orig" "$QA1/segment.1.ndjson" &&
    ok "the first queue's archived segments are untouched" || not_ok "the first queue's archived segments are untouched"

# A file already where a segment goes that is not the segment: never replaced, the command stops.
seed_in "$EB" 2 3 "migration B"
cp "$EB/data/queue/segment.2.ndjson" "$TEST_TMP/b2.orig"
QB=$(queue_dir "$EB" "$SHARED")
echo '{"vsn":3,"op":"c","note":"restored from somewhere else"}' >"$QB/segment.2.ndjson"
cp "$QB/segment.2.ndjson" "$TEST_TMP/stranger"
expect_refusal "a different file at the segment's place stops archive changes" 3 \
    "^error: archive changes: $QB/segment\.2\.ndjson already exists and is not segment 2 of this queue \($EB/data/queue/segment\.2\.ndjson\) hint: archive changes never replaces a file" \
    "$V" archive changes -e "$EB" --move-to "$SHARED"
cmp -s "$TEST_TMP/stranger" "$QB/segment.2.ndjson" && ok "the file there is not replaced" || not_ok "the file there is not replaced"
[ -e "$EB/data/queue/segment.2.ndjson" ] && ok "the segment stays in the export dir" || not_ok "the segment stays in the export dir"
assert_eq "meta.db does not record it as archived" "0" \
    "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select archived from queue_segment where segment_no=2').fetchone()[0])" "$EB/metainfo/meta.db")"
[ -z "$(find "$SHARED" -name '*tmp*')" ] && ok "no temporary file left after the refusal" || not_ok "no temporary file left after the refusal"
# the same bytes there (a run that died between its rename and its record): accepted
cp "$TEST_TMP/b2.orig" "$QB/segment.2.ndjson"
check "a copy of the segment itself at its place is accepted" "$V" archive changes -e "$EB" --move-to "$SHARED"
assert_eq "meta.db records it there" "$QB/segment.2.ndjson" "$(loc_of "$EB" 2)"
[ ! -e "$EB/data/queue/segment.2.ndjson" ] && cmp -s "$TEST_TMP/b2.orig" "$QB/segment.2.ndjson" &&
    ok "the segment left the export dir, its copy intact" || not_ok "the segment left the export dir, its copy intact"

# No live migration: an offline one is refused; none yet says what it waits for.
ED2=$(new_export_dir)
status_new_migration "$ED2"
status_set "$ED2" ExportType '"snapshot-only"'
expect_fail "offline migration: nothing to archive" 3 "offline migration" "$V" archive changes -e "$ED2" --delete
ED3=$(new_export_dir)
status_new_migration "$ED3"
"$V" archive changes -e "$ED3" --delete >"$TEST_TMP/wait.out" 2>&1 &
wpid=$!
sleep 1
kill $wpid 2>/dev/null; wait $wpid 2>/dev/null
assert_match "no live migration yet: says what it waits for" \
    "no live migration has started in this export dir yet: waiting for 'export data --export-type snapshot-and-changes'" \
    "$(cat "$TEST_TMP/wait.out")"

# ---- With a database: reading archived segments ----
pg_start target yugabyte >/dev/null || { not_ok "cluster"; done_testing; exit 1; }
# make_db DB: DB and its reference DB_ref, with the counters tables
make_db() {
    local d
    for d in "$1" "$1_ref"; do
        psql_as target postgres -c "CREATE DATABASE $d OWNER voyager" >/dev/null
        queue_schema_sql counters | psql_as target "$d" >/dev/null
    done
}
# seg_sql ED SQL: run SQL on ED's meta.db
seg_sql() { python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); r=d.execute(sys.argv[2]).fetchall(); d.commit(); print('\n'.join(' '.join(str(c) for c in x) for x in r))" "$1/metainfo/meta.db" "$2"; }

# A reader of an archived segment refuses a file that is not the segment meta.db recorded.
make_db rd
ER=$(new_export_dir)
v=$(queue_gen counters 7 600 1 "$TEST_TMP/rq")
queue_append "$ER" source_db_exporter "$TEST_TMP/rq.ndjson" --max-bytes 20000
queue_cutover_event "$v" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ER" source_db_exporter "$TEST_TMP/c.ndjson" --close
psql_as target rd_ref -f "$TEST_TMP/rq.sql" >/dev/null
# other queues: another migration's, from vsn 1 like every first queue, and one further on
EO=$(new_export_dir)
queue_gen counters 8 600 1 "$TEST_TMP/oq" >/dev/null
sed -i 's/"table_name":"ctr"/"table_name":"counters"/' "$TEST_TMP/oq.ndjson" # another database's table
queue_append "$EO" source_db_exporter "$TEST_TMP/oq.ndjson" --max-bytes 20000
EF=$(new_export_dir)
queue_gen counters 9 600 100000 "$TEST_TMP/fq" >/dev/null
queue_append "$EF" source_db_exporter "$TEST_TMP/fq.ndjson" --max-bytes 20000
# segments 0 and 1 were archived (as for a late source-replica, which still needs them)
RA=$TEST_TMP/read_archive
mkdir -p "$RA"
for no in 0 1; do
    mv "$ER/data/queue/segment.$no.ndjson" "$RA/good.$no"
    seg_sql "$ER" "update queue_segment set archived = 1, archive_location = '$RA/segment.$no.ndjson' where segment_no = $no" >/dev/null
done
assert_eq "the other migration's segment 0 starts at vsn 1 too" "1 1" \
    "$(seg_sql "$ER" 'select first_vsn from queue_segment where segment_no = 0') $(seg_sql "$EO" 'select first_vsn from queue_segment where segment_no = 0')"
cp "$EO/data/queue/segment.0.ndjson" "$RA/segment.0.ndjson"
cp "$RA/good.1" "$RA/segment.1.ndjson"
APPLY_DB=rd expect_refusal "another migration's segment 0 in the archive (same first vsn): refused" 3 \
    "^error: queue segment 0 \($RA/segment\.0\.ndjson\) is not this queue's segment: it has [0-9]+ bytes detail: meta\.db records the segment's first event as vsn 1 and its size as [0-9]+ bytes: the file holds another queue's events .* hint: put this migration's segment 0 at $RA/segment\.0\.ndjson" \
    run_apply "$ER" target target
assert_eq "nothing of it was applied" "0" "$(psql_as target rd -c 'SELECT count(*) FROM public.ctr')"
cp "$RA/good.0" "$RA/segment.0.ndjson"
cp "$EF/data/queue/segment.1.ndjson" "$RA/segment.1.ndjson"
APPLY_DB=rd expect_refusal "a segment 1 of another queue in the archive: refused" 3 \
    "^error: queue segment 1 \($RA/segment\.1\.ndjson\) is not this queue's segment: its first event has vsn 1[0-9]{5} " \
    run_apply "$ER" target target
cp "$RA/good.1" "$RA/segment.1.ndjson"
APPLY_DB=rd check "the right files in the archive: applied" run_apply "$ER" target target
compare_databases target target rd rd_ref

# ---- An importer that stopped between recording its cutover and marking its last segments ----
# (cdc_import.c on_cutover records the flag first.) Run again, it records them; archive changes,
# which ends with the migration, waits a little for marks that land just after the flag, and
# otherwise says which importer to run again (exit 3) instead of ending with them left behind.
for kind in target source-replica source; do
    case $kind in
    target) erole=source_db_exporter op=cutover.target col=imported_by_target_db_importer
        cmd="import data to target"
        flags=(CutoverToTargetRequested true CutoverProcessedBySourceExporter true) ;;
    source-replica) erole=source_db_exporter op=cutover.target col=imported_by_source_replica_db_importer
        cmd="import data to source-replica"
        flags=(FallForwardEnabled true CutoverToTargetRequested true CutoverProcessedBySourceExporter true
            CutoverProcessedByTargetImporter true ExportFromTargetStarted true CutoverToSourceReplicaRequested true
            CutoverProcessedByTargetExporter true) ;;
    source) erole=target_db_exporter_fb op=cutover.source col=imported_by_source_db_importer
        cmd="import data to source"
        flags=(FallbackEnabled true CutoverToTargetRequested true CutoverProcessedBySourceExporter true
            CutoverProcessedByTargetImporter true ExportFromTargetStarted true CutoverToSourceRequested true
            CutoverProcessedByTargetExporter true) ;;
    esac
    db=mk_${kind/-/_}
    make_db "$db"
    EK=$(new_export_dir)
    v=$(queue_gen counters 5 600 1 "$TEST_TMP/$db" "$erole")
    queue_append "$EK" "$erole" "$TEST_TMP/$db.ndjson" --max-bytes 20000
    psql_as target "${db}_ref" -f "$TEST_TMP/$db.sql" >/dev/null
    queue_cutover_event "$v" "$op" "$erole" >"$TEST_TMP/c.ndjson"
    queue_append "$EK" "$erole" "$TEST_TMP/c.ndjson" --close
    if [ "$kind" = source-replica ]; then
        # the source-replica reads the source's stream, then the target's (fall-forward)
        v=$(queue_gen counters 5 400 $((v + 1)) "$TEST_TMP/$db" target_db_exporter_ff)
        queue_append "$EK" target_db_exporter_ff "$TEST_TMP/$db.ndjson" --max-bytes 20000
        psql_as target "${db}_ref" -f "$TEST_TMP/$db.sql" >/dev/null
        queue_cutover_event "$v" cutover.source_replica target_db_exporter_ff >"$TEST_TMP/c.ndjson"
        queue_append "$EK" target_db_exporter_ff "$TEST_TMP/c.ndjson" --close
        seg_sql "$EK" "update queue_segment set imported_by_target_db_importer = 1 where exporter_role = 'source_db_exporter'" >/dev/null
    fi
    APPLY_DB=$db check "$kind: applied up to its cutover" run_apply "$EK" target "$kind"
    status_set "$EK" ExportType '"snapshot-and-changes"' "${flags[@]}"
    nseg=$(seg_sql "$EK" "select count(*) from queue_segment")
    # as a crash between the flag and the marks leaves it: the last segments unmarked (for the
    # source-replica, the source's last one and all of the target's)
    if [ "$kind" = source-replica ]; then
        from=$(seg_sql "$EK" "select max(segment_no) from queue_segment where exporter_role = 'source_db_exporter'")
    else
        from=$(($(seg_sql "$EK" "select max(segment_no) from queue_segment") - 1))
    fi
    seg_sql "$EK" "update queue_segment set $col = 0 where segment_no >= $from" >/dev/null
    unmarked=$(seg_sql "$EK" "select count(*) from queue_segment where $col = 0")
    [ "$unmarked" -ge 2 ] && ok "$kind: $unmarked segments unmarked" || not_ok "$kind: $unmarked segments unmarked"
    AK=$TEST_TMP/archive_$db
    mkdir -p "$AK"
    case $kind in
    target)
        # nobody runs the importer again: archive changes ends, saying what to do
        expect_refusal "$kind: archive changes does not end as if every segment were archived" 3 \
            "^error: the migration's change streams are complete, but $unmarked closed queue segment\(s\) \($from\.\.[0-9]+\) are not recorded as applied by 'import data to target' .* hint: run 'import data to target' again" \
            timeout 60 "$V" archive changes -e "$EK" --move-to "$AK"
        APPLY_DB=$db check "$kind: the importer run again" run_apply "$EK" target "$kind"
        check "$kind: archive changes run again" timeout 60 "$V" archive changes -e "$EK" --move-to "$AK"
        ;;
    source-replica)
        # archive changes already runs when the marks land (just after the flag, as in a live run)
        timeout 60 "$V" archive changes -e "$EK" --move-to "$AK" >"$TEST_TMP/arch_$db.out" 2>&1 &
        apid=$!
        sleep 1
        APPLY_DB=$db check "$kind: the importer run again" run_apply "$EK" target "$kind"
        wait $apid
        assert_eq "$kind: archive changes, running meanwhile, ends with exit 0" 0 "$?"
        ;;
    source)
        APPLY_DB=$db check "$kind: the importer run again" run_apply "$EK" target "$kind"
        check "$kind: archive changes" timeout 60 "$V" archive changes -e "$EK" --move-to "$AK"
        ;;
    esac
    assert_match "$kind: the importer says it recorded them" \
        "recorded $unmarked queue segment\(s\) as applied: an earlier run stopped after its cutover" \
        "$(cat "$TEST_TMP/apply.out")"
    assert_eq "$kind: every segment it reads is recorded as applied" 0 \
        "$(seg_sql "$EK" "select count(*) from queue_segment where $col = 0")"
    assert_eq "$kind: archive changes moved every segment" "$nseg" \
        "$(seg_sql "$EK" "select count(*) from queue_segment where archived = 1")"
    assert_eq "$kind: none is left in the export dir" "" "$(ls "$EK/data/queue")"
    compare_databases target target "$db" "${db}_ref"
done

done_testing
