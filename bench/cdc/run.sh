#!/bin/bash
# bench/cdc/run.sh WORKLOAD [ORDER]: live change replication, ours vs the peers, on equal
# footing, in one run on three throwaway PostgreSQL 15 clusters (source, our target, native
# subscriber) configured as in production: fsync=on, full_page_writes=on,
# synchronous_commit=on (our importer's writes and the workload's commits; the native
# subscription keeps its own default, synchronous_commit=off, unless NATIVE_SYNC=on).
#
# WORKLOAD: tpcb    pgbench tpcb-like (small transactions: 3 updates + 1 insert each)
#           wide    pgbench custom script on a wide mixed-type table (jsonb, numeric, text,
#                   bytea, arrays, timestamps): insert, updates of a few columns, delete
#           batched the old workload (inserts 100 a txn, updates 1000 a txn, single-row
#                   updates, deletes 1000 a txn)
# SIZE=quick (default; a few minutes a workload) or SIZE=full (issue 15's sizes).
# ORDER=0|1 rotates which method of each pair goes first (bench/cdc/all.sh alternates it).
#
# Every slot exists before the workload and nothing consumes while it runs; then, one method
# at a time (CHECKPOINT on every cluster before each), each consumer drains the same backlog:
#   capture  pg_recvlogical (pgoutput to /dev/null)  vs  our export data (into the queue)
#   apply    native subscription (enable -> marker row applied)  vs  our import data
#            (start -> marker row applied), from the backlog / the complete queue
#   e2e      then everything live (our export + import, the native subscription) while the
#            workload runs a second time: the lag left when the workload ends (from the
#            marker row's transaction on the source to the target's commit of the round's last
#            change) and CPU over the whole phase
#   e2e backlog  the workload a third time with nothing consuming, then each side drains it
#            with capture and apply together (our export + import data started at once vs the
#            subscription enabled), one after the other in ORDER: start to the last change applied
# Everything connects over TCP to 127.0.0.1 (ours as voyager, the peers as bench). The
# initial data reaches our target through our own snapshot (untimed: also the warm-up) and
# the native one through pg_dump. Completion: bench/cdc/poll.py, one psql session per
# cluster polled every 100 ms, until the native target has the round's marker row (the
# subscription applies in commit order) or our channels' progress counts every change of the
# round (channels apply in parallel: the marker can be applied before earlier changes of
# another channel); the end is then our target's commit timestamp of that last change
# (track_commit_timestamp) or the native target's clock_timestamp() stamp on the marker row
# as its apply worker inserted it, not the poll. CPU-seconds per method: the client process(es) and the
# whole clusters doing its work, from /proc (postmaster + reaped + live children): the
# source (walsender decoding), our target (backends running our statements), the native
# subscriber (apply worker); in e2e the source is shared, so its walsenders count by pid.
# SAVE_APPLY=DIR keeps the state apply starts from (our target cluster stopped and copied,
# the export dir) for bench/cdc/apply_replay.sh, a dev loop that reruns import data alone.
# SAVE_CAPTURE=DIR keeps the state capture starts from (the source cluster, stopped and
# copied with its round-1 backlog in our slot and rawslot, the export dir just after our
# snapshot, and DIR/env: port, end LSN, change count) for bench/cdc/capture_replay.sh, which
# drains it again with our export data and pg_recvlogical; the source restarts after the copy,
# so this run's capture reads a server with cold shared buffers. SAVE_ONLY=1 stops the run
# there (no timed phase, no verification: the saved backlog is the product).
# IMPORT_ARGS="--parallel-jobs N" passes flags to every import data (the snapshot's first run
# fixes the number of change channels; the report names them).
# VOYAGER=BIN measures another binary; the report names it (path, --version, sha256) next to
# the checkout's HEAD, which is not that binary's commit.
# Exact change counts
# come from pg_stat_user_tables (n_tup_ins+upd+del) and are compared with our queue's
# event count; after the run every table's rows and checksum are compared with the source.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
TEST_NAME=bench-cdc
WL=${1:?usage: bench/cdc/run.sh tpcb|wide|batched [ORDER]}
ORDER=${2:-0}
SIZE=${SIZE:-quick}
V=$VOYAGER
[ -x "$V" ] || { echo "bench: build first (make)" >&2; exit 1; }
export PATH="$PGBIN:$PATH"
POLL="python3 bench/cdc/poll.py"
say() { printf '# %s\n' "$*"; }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
load() { cut -d' ' -f1 /proc/loadavg; }
field() { awk -v k="$1" -v g="$2" '$1 == k && $2 == g { print $3 }' "$3"; }

case $SIZE:$WL in
quick:tpcb) PGB_SCALE=1 CLIENTS=4 TXNS=1500 ;;      # 6k txns, ~24k changes
full:tpcb) PGB_SCALE=10 CLIENTS=8 TXNS=16000 ;;     # 128k txns, ~512k changes
quick:wide) WIDE_ROWS=10000 CLIENTS=4 TXNS=2000 ;;  # 8k txns, ~26k changes
full:wide) WIDE_ROWS=50000 CLIENTS=8 TXNS=8000 ;;   # 64k txns, ~200k changes
quick:batched) BSCALE=1 ;;                          # 105k changes
full:batched) BSCALE=3 ;;                           # 315k changes
*) echo "bench: unknown workload/size $WL/$SIZE" >&2; exit 2 ;;
esac

say "clusters (fsync, full_page_writes, synchronous_commit on)"
for c in source:sourcedb target:yugabyte native:nativedb; do
    pg_start "${c%%:*}" "${c##*:}" >/dev/null || exit 1
    cat >>"$TEST_TMP/${c%%:*}/data/postgresql.conf" <<CONF
fsync = on
full_page_writes = on
synchronous_commit = on
shared_buffers = 128MB
CONF
    # both targets alike (ours reads it: ours_end)
    [ "${c%%:*}" = source ] || echo "track_commit_timestamp = on" >>"$TEST_TMP/${c%%:*}/data/postgresql.conf"
    pg_restart "${c%%:*}" || exit 1
done
conn_flags
psql_as source sourcedb -c "CREATE ROLE bench LOGIN SUPERUSER REPLICATION PASSWORD 'bench'" >/dev/null
psql_as native nativedb -c "CREATE ROLE bench LOGIN SUPERUSER PASSWORD 'bench'" >/dev/null
export PGPASSWORD=bench
SRCTCP=(-h 127.0.0.1 -p "$SOURCE_PORT" -U bench -d sourcedb)

# ---- schema and initial data (source), the same schema on both targets
case $WL in
tpcb)
    pgbench -q -i -s "$PGB_SCALE" "${SRCTCP[@]}" >"$TEST_TMP/pgbench-init.log" 2>&1 || { cat "$TEST_TMP/pgbench-init.log"; exit 1; }
    # pgbench_history has no key: give it one (pgbench names its columns on insert)
    psql_as source sourcedb -c "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY" >/dev/null
    WORKLOAD() { pgbench -n -c "$CLIENTS" -j 2 -t "$TXNS" -b tpcb-like "${SRCTCP[@]}" >"$TEST_TMP/pgbench.$1.log" 2>&1; } ;;
wide)
    psql_as source sourcedb >/dev/null <<SQL || exit 1
CREATE TABLE wide (id bigint PRIMARY KEY, j jsonb, n numeric(20,4), t text, b bytea, ia int[], ta text[],
    ts timestamptz, d date, f double precision, ok boolean, u uuid);
CREATE SEQUENCE wide_seq START $((WIDE_ROWS + 1));
INSERT INTO wide SELECT g, jsonb_build_object('k', g, 'path', '/p/' || g, 'tags', jsonb_build_array('a', g % 7)),
    g * 1.0001, repeat(md5(g::text), 8), decode(repeat(md5(g::text), 8), 'hex'), ARRAY[g, g + 1, g + 2],
    ARRAY['x' || g, 'y'], '2024-01-01'::timestamptz + g * interval '1 min', '2024-01-01'::date + g % 999,
    g / 3.0, g % 2 = 0, md5(g::text)::uuid FROM generate_series(1, $WIDE_ROWS) g;
SQL
    cat >"$TEST_TMP/wide.pgb" <<'PGB'
\set r random(1, 1000000000)
\set a random(1, 2000000)
\set c random(1, 2000000)
\set e random(1, 2000000)
BEGIN;
INSERT INTO wide SELECT nextval('wide_seq'), jsonb_build_object('k', :r, 'path', '/p/' || :r, 'tags', jsonb_build_array('a', :r % 7)),
    :r * 1.0001, repeat(md5(:r::text), 8), decode(repeat(md5(:r::text), 8), 'hex'), ARRAY[:r, :r + 1, :r + 2],
    ARRAY['x' || :r, 'y'], now(), current_date, :r / 3.0, :r % 2 = 0, md5(:r::text)::uuid;
UPDATE wide SET n = n + 1, ts = now() WHERE id = (SELECT max(id) FROM wide) - :a % 1000;
UPDATE wide SET j = jsonb_set(j, '{k}', to_jsonb(:c)), ta = ta || 'u'::text, f = f + 1 WHERE id = 1 + :c % (SELECT last_value FROM wide_seq);
DELETE FROM wide WHERE id = 1 + :e % (SELECT last_value FROM wide_seq) AND :e % 3 = 0;
END;
PGB
    WORKLOAD() { pgbench -n -c "$CLIENTS" -j 2 -t "$TXNS" -f "$TEST_TMP/wide.pgb" "${SRCTCP[@]}" >"$TEST_TMP/pgbench.$1.log" 2>&1; } ;;
batched)
    psql_as source sourcedb -c "CREATE TABLE bench (id bigint PRIMARY KEY, a int, b text, c timestamptz)" >/dev/null
    WORKLOAD() {
        python3 - "$BSCALE" "$1" >"$TEST_TMP/workload.$1.sql" <<'PY'
import sys
# per scale unit: 40000 inserts (100 a txn), 40000 updates (1000 a txn),
# 5000 single-row update txns, 20000 deletes (1000 a txn); ids offset per round
s = int(sys.argv[1]); n = 40000 * s; o = (int(sys.argv[2]) - 1) * 10000000
out = []
for k in range(0, n, 100):
    out.append("INSERT INTO bench SELECT g, g %% 100, md5(g::text), now() FROM generate_series(%d, %d) g;" % (o + k + 1, o + k + 100))
for k in range(0, n, 1000):
    out.append("UPDATE bench SET a = a + 1, c = now() WHERE id BETWEEN %d AND %d;" % (o + k + 1, o + k + 1000))
for k in range(1, 5000 * s + 1):
    out.append("UPDATE bench SET b = 'x' || id WHERE id = %d;" % (o + k * 7 % n + 1))
for k in range(0, n // 2, 1000):
    out.append("DELETE FROM bench WHERE id BETWEEN %d AND %d;" % (o + 2 * k + 1, o + 2 * k + 1000))
print("\n".join(out))
PY
        psql -X -q -v ON_ERROR_STOP=1 "${SRCTCP[@]}" -f "$TEST_TMP/workload.$1.sql" >/dev/null
    } ;;
esac
psql_as source sourcedb -c "CREATE TABLE bench_end (id int PRIMARY KEY, at timestamptz)" >/dev/null
for t in $(psql_as source sourcedb -c "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"); do
    psql_as source sourcedb -c "ALTER TABLE public.\"$t\" REPLICA IDENTITY FULL" >/dev/null
done
psql_as source sourcedb -c "VACUUM ANALYZE" >/dev/null
pg_dump -h "$TEST_TMP/source" -p "$SOURCE_PORT" -U postgres -s -O -x sourcedb >"$TEST_TMP/schema.sql"
psql_as target yugabyte -f "$TEST_TMP/schema.sql" >/dev/null || exit 1
psql_as native nativedb -f "$TEST_TMP/schema.sql" >/dev/null || exit 1
# the native target stamps the marker rows as its apply worker inserts them (a replicated
# transaction commits with the origin's timestamp, so commit timestamps do not tell when it
# applied); dropped before verification
psql_as native nativedb -c "ALTER TABLE bench_end ADD COLUMN applied timestamptz DEFAULT clock_timestamp()" >/dev/null || exit 1

# ---- our snapshot (untimed; the warm-up): export data + import data until streaming, stopped
ED=$(new_export_dir)
META=$ED/metainfo/meta.db
say "our snapshot (untimed)"
"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exp0.out" 2>&1 &
EXP=$!
# import data refuses an export dir whose exporter has not yet recorded its export type (nor
# taken its lock): on a loaded machine the exporter can take longer than import's start
for i in $(seq 1 600); do
    python3 -c "import sqlite3,sys; r = sqlite3.connect('file:%s?mode=ro' % sys.argv[1], uri=True).execute('SELECT record FROM migration_status').fetchone(); sys.exit(0 if r and 'ExportType' in r[0] else 1)" \
        "$META" 2>/dev/null && break
    kill -0 $EXP 2>/dev/null || { say "export died"; tail -n 3 "$TEST_TMP"/exp0.out; exit 1; }
    sleep 0.1
done
"$V" import data -e "$ED" "${TGT_FLAGS[@]}" ${IMPORT_ARGS:-} --disable-pb true >"$TEST_TMP/imp0.out" 2>&1 &
IMP=$!
counts() { for t in $(psql_as source sourcedb -c "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 1"); do
    echo "$t $(psql_as "$1" "$2" -c "SELECT count(*) FROM public.\"$t\"")"; done; }
SRC_COUNTS=$(counts source sourcedb)
for i in $(seq 1 1200); do
    [ "$(psql_as source sourcedb -c "SELECT count(*) FROM pg_replication_slots WHERE active")" = 1 ] &&
        [ "$(counts target yugabyte)" = "$SRC_COUNTS" ] && break
    kill -0 $EXP 2>/dev/null && kill -0 $IMP 2>/dev/null || { say "export/import died"; tail -n 3 "$TEST_TMP"/exp0.out "$TEST_TMP"/imp0.out; exit 1; }
    sleep 0.5
done
sleep 1
kill -TERM $EXP $IMP; wait $EXP $IMP
SLOT=$(sqlite3 "$META" "SELECT slot_name FROM cdc_exporter_state WHERE exporter_role = 'source_db_exporter'" 2>/dev/null ||
    python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT slot_name FROM cdc_exporter_state WHERE exporter_role = 'source_db_exporter'\").fetchone()[0])" "$META")
qevents() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT coalesce(sum(total_events),0) FROM queue_segment WHERE exporter_role = 'source_db_exporter'\").fetchone()[0])" "$META"; }
Q0=$(qevents)
say "our slot $SLOT, queue events after the snapshot: $Q0"

# ---- the peers' slots at the same point (the source is idle), the native target's data
NSYNC=${NATIVE_SYNC:-off}
psql_as source sourcedb -c "CREATE PUBLICATION rawpub FOR ALL TABLES" -c "CREATE PUBLICATION nativepub FOR ALL TABLES" \
    -c "SELECT pg_create_logical_replication_slot('rawslot', 'pgoutput')" \
    -c "SELECT pg_create_logical_replication_slot('nativeslot', 'pgoutput')" >/dev/null || exit 1
pg_dump -h "$TEST_TMP/source" -p "$SOURCE_PORT" -U postgres -a sourcedb | psql_as native nativedb >/dev/null 2>&1
psql_as native nativedb -c "CREATE SUBSCRIPTION nsub CONNECTION 'host=127.0.0.1 port=$SOURCE_PORT user=bench password=bench dbname=sourcedb'
  PUBLICATION nativepub WITH (create_slot = false, slot_name = 'nativeslot', copy_data = false, enabled = false, synchronous_commit = '$NSYNC')" >/dev/null || exit 1

changes() { psql_as source sourcedb -c "SELECT pg_stat_clear_snapshot(); SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables" | tail -1; }
run_workload() { # ROUND: the workload, then the end marker; sets CHANGES, END_LSN, T_WL0, T_WL1
    local c0 c1
    sleep 1; c0=$(changes)
    T_WL0=$(now)
    WORKLOAD "$1" || { say "workload failed"; cat "$TEST_TMP/pgbench.$1.log" 2>/dev/null | tail -5; exit 1; }
    END_LSN=$(psql_as source sourcedb -c "SELECT pg_logical_emit_message(false, 'bench-end', '')")
    psql_as source sourcedb -c "INSERT INTO bench_end VALUES ($1, now())"
    T_WL1=$(now)
    sleep 1.5; c1=$(changes)
    CHANGES=$((c1 - c0))
}
checkpoint() { for c in source:sourcedb target:yugabyte native:nativedb; do psql_as "${c%%:*}" "${c##*:}" -c CHECKPOINT >/dev/null; done; }
# When is an apply done? The native subscription applies in commit order: its marker row is
# its last change. Ours applies through channels in parallel: the marker's channel can commit
# it while another still applies earlier changes, so ours is done once the channels' progress
# counts every event (OURS_DONE N), at the latest commit of any channel's batch (ours_end: our
# target's commit timestamps of the per-table counts, which only batches write: an idle
# channel's progress record, a second after its last batch, writes the channel table alone);
# native_end: when the native apply worker inserted the marker row (its clock_timestamp()
# default). Epoch seconds, not the poller's 100 ms.
CHAN_TABLE=ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo
COUNTS_TABLE=ybvoyager_metadata.ybvoyager_imported_event_count_by_table
OURS_DONE() { echo "SELECT coalesce(sum(num_inserts + num_updates + num_deletes), 0) >= $1 FROM $CHAN_TABLE"; }
ours_end() { psql_as target yugabyte -c "SELECT extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) FROM $COUNTS_TABLE"; }
native_end() { psql_as native nativedb -c "SELECT extract(epoch FROM applied) FROM bench_end WHERE id = $1"; }
marker_at() { psql_as source sourcedb -c "SELECT extract(epoch FROM at) FROM bench_end WHERE id = $1"; }
PGS=(--pg "source=$TEST_TMP/source:$SOURCE_PORT:sourcedb" --pg "target=$TEST_TMP/target:$TARGET_PORT:yugabyte"
    --pg "native=$TEST_TMP/native:$NATIVE_PORT:nativedb")
WALQ() { echo "source:SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$1' AND active_pid IS NOT NULL"; }
SRCDATA=$TEST_TMP/source/data TGTDATA=$TEST_TMP/target/data NATDATA=$TEST_TMP/native/data
TGTQ="target:SELECT pid FROM pg_stat_activity WHERE usename = 'voyager' AND backend_type = 'client backend'"
APPQ="native:SELECT pid FROM pg_stat_subscription WHERE subname = 'nsub' AND pid IS NOT NULL"

say "workload $WL ($SIZE), round 1, nothing consuming"
run_workload 1
WL1_S=$(sub "$T_WL0" "$T_WL1")
say "round 1: $CHANGES changes (pg_stat_user_tables) in $WL1_S s; end LSN $END_LSN"
CHANGES1=$CHANGES
ROWS=()

# ---- capture
ccpu() { $POLL --cluster-cpu "$1"; } # a cluster's CPU-seconds before a method starts
cap_raw() {
    checkpoint; local l0 s0 t0 l1 b; b=$(ccpu "$SRCDATA"); l0=$(load); s0=$(cpu_mark); t0=$(now)
    /usr/bin/time -f "%e %U %S %M" -o "$TEST_TMP/raw.time" pg_recvlogical -n "${SRCTCP[@]}" -S rawslot --start --endpos "$END_LSN" \
        -o proto_version=1 -o publication_names=rawpub -f /dev/null &
    local pid=$!
    $POLL "${PGS[@]}" --exit "x=$pid" --cluster "src=$SRCDATA@$b" >"$TEST_TMP/p.raw"
    wait $pid || { say "pg_recvlogical failed"; exit 1; }
    local w; w=$(field cpu src "$TEST_TMP/p.raw")
    read -r _ u s _ <"$TEST_TMP/raw.time"
    R_CAP_RAW=$(sub "$t0" "$(field cond x "$TEST_TMP/p.raw")"); R_CAP_RAW_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    R_CAP_RAW_ALL=$(awk -v a="$R_CAP_RAW_CPU" -v b="$w" 'BEGIN { printf "%.2f", a + b }')
    ROWS+=("| capture | pg_recvlogical (pgoutput to /dev/null) | $R_CAP_RAW | pg_recvlogical $R_CAP_RAW_CPU + source server $w = $R_CAP_RAW_ALL | - | $l0 / $(load) | $(cpu_since "$s0") |")
}
cap_ours() {
    checkpoint; local l0 s0 t0 b; b=$(ccpu "$SRCDATA"); l0=$(load); s0=$(cpu_mark); t0=$(now)
    "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exp1.out" 2>&1 &
    EXP=$!
    $POLL "${PGS[@]}" --sqlite "q=$META:$((Q0 + CHANGES1)):SELECT sum(total_events) FROM queue_segment WHERE exporter_role = 'source_db_exporter'" \
        --proc "client=$EXP" --cluster "src=$SRCDATA@$b" --watch "$EXP" >"$TEST_TMP/p.exp"
    grep -q '^died' "$TEST_TMP/p.exp" && { say "exporter died"; tail -n 5 "$TEST_TMP/exp1.out"; exit 1; }
    R_CAP_OURS=$(sub "$t0" "$(field cond q "$TEST_TMP/p.exp")")
    C_CLI=$(field cpu client "$TEST_TMP/p.exp"); C_WAL=$(field cpu src "$TEST_TMP/p.exp")
    R_CAP_OURS_CPU=$(awk -v a="$C_CLI" -v b="$C_WAL" 'BEGIN { printf "%.2f", a + b }')
    ROWS+=("| capture | our export data (queue) | $R_CAP_OURS | export data $C_CLI + source server $C_WAL = $R_CAP_OURS_CPU | $(( $(field rss client "$TEST_TMP/p.exp") / 1024 )) | $l0 / $(load) | $(cpu_since "$s0") |")
    sleep 0.5; Q1=$(qevents)
    kill -TERM $EXP; wait $EXP
}
# native_drain ROUND STAGE: enable the subscription until round ROUND's marker row is applied;
# sets NAT_S and NAT_CPU and adds the report's row for STAGE
native_drain() {
    checkpoint; local l0 s0 t0 b1 b2; b1=$(ccpu "$NATDATA"); b2=$(ccpu "$SRCDATA"); l0=$(load); s0=$(cpu_mark); t0=$(now)
    psql_as native nativedb -c "ALTER SUBSCRIPTION nsub ENABLE" >/dev/null
    $POLL "${PGS[@]}" --cond "a=native:SELECT count(*) > 0 FROM bench_end WHERE id = $1" --cluster "apply=$NATDATA@$b1" --cluster "wal=$SRCDATA@$b2" >"$TEST_TMP/p.nat$1"
    NAT_S=$(sub "$t0" "$(native_end "$1")")
    local a w; a=$(field cpu apply "$TEST_TMP/p.nat$1"); w=$(field cpu wal "$TEST_TMP/p.nat$1")
    NAT_CPU=$(awk -v a="$a" -v b="$w" 'BEGIN { printf "%.2f", a + b }')
    ROWS+=("| $2 | native subscription (synchronous_commit=$NSYNC) | $NAT_S | native server (apply worker) $a + source server (decoding) $w = $NAT_CPU | - | $l0 / $(load) | $(cpu_since "$s0") |")
}
app_native() { native_drain 1 apply; R_APP_NAT=$NAT_S R_APP_NAT_CPU=$NAT_CPU; }
app_ours() {
    checkpoint; local l0 s0 t0 b; b=$(ccpu "$TGTDATA"); l0=$(load); s0=$(cpu_mark); t0=$(now)
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" ${IMPORT_ARGS:-} --disable-pb true >"$TEST_TMP/imp1.out" 2>&1 &
    IMP=$!
    $POLL "${PGS[@]}" --cond "a=target:$(OURS_DONE $((Q0 + CHANGES1)))" --proc "client=$IMP" --cluster "tgt=$TGTDATA@$b" --watch "$IMP" >"$TEST_TMP/p.imp"
    grep -q '^died' "$TEST_TMP/p.imp" && { say "importer died"; tail -n 5 "$TEST_TMP/imp1.out"; exit 1; }
    R_APP_OURS=$(sub "$t0" "$(ours_end)")
    local a w; a=$(field cpu client "$TEST_TMP/p.imp"); w=$(field cpu tgt "$TEST_TMP/p.imp")
    R_APP_OURS_CPU=$(awk -v a="$a" -v b="$w" 'BEGIN { printf "%.2f", a + b }')
    RSS_IMP=$(( $(field rss client "$TEST_TMP/p.imp") / 1024 ))
    ROWS+=("| apply | our import data | $R_APP_OURS | import data $a + target server $w = $R_APP_OURS_CPU | $RSS_IMP | $l0 / $(load) | $(cpu_since "$s0") |")
    kill -TERM $IMP; wait $IMP
}
if [ -n "${SAVE_CAPTURE:-}" ]; then # the state capture starts from, for bench/cdc/capture_replay.sh
    pg_stop source && rm -rf "$SAVE_CAPTURE" && mkdir -p "$SAVE_CAPTURE" &&
        cp -a "$TEST_TMP/source" "$SAVE_CAPTURE/source" && cp -a "$ED" "$SAVE_CAPTURE/export" &&
        printf 'WL=%q\nSIZE=%q\nSOURCE_PORT=%q\nEND_LSN=%q\nCHANGES=%q\nQ0=%q\nSLOT=%q\n' \
            "$WL" "$SIZE" "$SOURCE_PORT" "$END_LSN" "$CHANGES1" "$Q0" "$SLOT" >"$SAVE_CAPTURE/env" || exit 1
    say "capture start state saved in $SAVE_CAPTURE"
    [ "${SAVE_ONLY:-0}" = 1 ] && exit 0
    _as_pg "$PGBIN/pg_ctl" -D "$TEST_TMP/source/data" -l "$TEST_TMP/source/server.log" -w -t 60 start >/dev/null || exit 1
fi
if [ "$ORDER" = 0 ]; then cap_raw; cap_ours; else cap_ours; cap_raw; fi
if [ -n "${SAVE_APPLY:-}" ]; then # the state apply starts from, for bench/cdc/apply_replay.sh
    pg_stop target && rm -rf "$SAVE_APPLY" && mkdir -p "$SAVE_APPLY" &&
        cp -a "$TEST_TMP/target" "$SAVE_APPLY/target" && cp -a "$ED" "$SAVE_APPLY/export" &&
        printf '%s\n' "$TARGET_PORT" >"$SAVE_APPLY/port" || exit 1
    _as_pg "$PGBIN/pg_ctl" -D "$TEST_TMP/target/data" -l "$TEST_TMP/target/server.log" -w -t 60 start >/dev/null || exit 1
    say "apply start state saved in $SAVE_APPLY"
fi
if [ "$ORDER" = 0 ]; then app_native; app_ours; else app_ours; app_native; fi
QC1=$((Q1 - Q0))

# ---- end to end: everything live while the workload runs again
say "end to end: our export + import and the native subscription live, workload round 2"
checkpoint
"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exp2.out" 2>&1 &
EXP=$!
"$V" import data -e "$ED" "${TGT_FLAGS[@]}" ${IMPORT_ARGS:-} --disable-pb true >"$TEST_TMP/imp2.out" 2>&1 &
IMP=$!
for i in $(seq 1 100); do [ "$(psql_as source sourcedb -c "SELECT count(*) FROM pg_replication_slots WHERE active")" = 2 ] && break; sleep 0.2; done
sleep 2
L0=$(load); S0=$(cpu_mark)
$POLL "${PGS[@]}" --cond "ours=target:SELECT count(*) > 0 FROM bench_end WHERE id = 2" --cond "native=native:SELECT count(*) > 0 FROM bench_end WHERE id = 2" \
    --pid "ours_client=$EXP" --pid "ours_client=$IMP" --pidq "ours_wal=$(WALQ "$SLOT")" --cluster "ours_tgt=$TGTDATA" \
    --cluster "native_apply=$NATDATA" --pidq "native_wal=$(WALQ nativeslot)" --watch "$EXP" --watch "$IMP" >"$TEST_TMP/p.e2e" &
PP=$!
run_workload 2
CHANGES2=$CHANGES
wait $PP
grep -q '^died' "$TEST_TMP/p.e2e" && { say "export/import died"; tail -n 3 "$TEST_TMP/exp2.out" "$TEST_TMP/imp2.out"; exit 1; }
L1=$(load); ST2=$(cpu_since "$S0")
E=$TEST_TMP/p.e2e
# ours: every event of the round applied (the marker's channel may have been first)
$POLL "${PGS[@]}" --cond "a=target:$(OURS_DONE $((Q0 + CHANGES1 + CHANGES2)))" --timeout 600 >/dev/null
M2=$(marker_at 2); END2_OURS=$(ours_end); END2_NAT=$(native_end 2)
E_OURS=$(awk -v a="$M2" -v b="$END2_OURS" 'BEGIN { printf "%.3f", b - a }'); E_NAT=$(awk -v a="$M2" -v b="$END2_NAT" 'BEGIN { printf "%.3f", b - a }')
EC_OURS=$(awk -v a="$(field cpu ours_client "$E")" -v b="$(field cpu ours_wal "$E")" -v c="$(field cpu ours_tgt "$E")" 'BEGIN { printf "%.2f", a + b + c }')
EC_NAT=$(awk -v a="$(field cpu native_apply "$E")" -v b="$(field cpu native_wal "$E")" 'BEGIN { printf "%.2f", a + b }')
ROWS+=("| e2e | our export + import data, live | lag at workload end: $E_OURS (total $(sub "$T_WL0" "$END2_OURS")) | export+import $(field cpu ours_client "$E") + walsender $(field cpu ours_wal "$E") + target server $(field cpu ours_tgt "$E") = $EC_OURS | $(( $(field rss ours_client "$E") / 1024 )) | $L0 / $L1 | $ST2 |")
ROWS+=("| e2e | native subscription, live | lag at workload end: $E_NAT (total $(sub "$T_WL0" "$END2_NAT")) | native server $(field cpu native_apply "$E") + walsender $(field cpu native_wal "$E") = $EC_NAT | - | $L0 / $L1 | $ST2 |")
sleep 1; Q2=$(qevents); QC2=$((Q2 - Q1))

# ---- end to end from a backlog: the workload runs a third time with nothing consuming, then
# each side drains it whole, capture and apply together (ours: export + import data started at
# once; native: the subscription enabled), one after the other in ORDER: how fast the target's
# lag drains once the source is ahead. Round 2 cannot tell that when both keep up.
kill -TERM $EXP $IMP; wait $EXP $IMP 2>/dev/null
psql_as native nativedb -c "ALTER SUBSCRIPTION nsub DISABLE" >/dev/null
for i in $(seq 1 100); do [ "$(psql_as source sourcedb -c "SELECT count(*) FROM pg_replication_slots WHERE active")" = 0 ] && break; sleep 0.2; done
say "end to end from a backlog: workload round 3, nothing consuming"
T2_WL0=$T_WL0 T2_WL1=$T_WL1
run_workload 3
CHANGES3=$CHANGES
drain_ours() {
    checkpoint; local l0 s0 t0 b1 b2; b1=$(ccpu "$SRCDATA"); b2=$(ccpu "$TGTDATA"); l0=$(load); s0=$(cpu_mark); t0=$(now)
    "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exp3.out" 2>&1 &
    EXP=$!
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" ${IMPORT_ARGS:-} --disable-pb true >"$TEST_TMP/imp3.out" 2>&1 &
    IMP=$!
    $POLL "${PGS[@]}" --cond "a=target:$(OURS_DONE $((Q0 + CHANGES1 + CHANGES2 + CHANGES3)))" --proc "exp=$EXP" --proc "imp=$IMP" \
        --cluster "src=$SRCDATA@$b1" --cluster "tgt=$TGTDATA@$b2" --watch "$EXP" --watch "$IMP" >"$TEST_TMP/p.d3o"
    grep -q '^died' "$TEST_TMP/p.d3o" && { say "export/import died"; tail -n 3 "$TEST_TMP/exp3.out" "$TEST_TMP/imp3.out"; exit 1; }
    R_D3_OURS=$(sub "$t0" "$(ours_end)")
    local e i s t rss; e=$(field cpu exp "$TEST_TMP/p.d3o"); i=$(field cpu imp "$TEST_TMP/p.d3o")
    s=$(field cpu src "$TEST_TMP/p.d3o"); t=$(field cpu tgt "$TEST_TMP/p.d3o")
    R_D3_OURS_CPU=$(awk -v a="$e" -v c="$i" -v b="$s" -v d="$t" 'BEGIN { printf "%.2f", a + c + b + d }')
    rss=$(field rss exp "$TEST_TMP/p.d3o"); [ "$(field rss imp "$TEST_TMP/p.d3o")" -gt "$rss" ] && rss=$(field rss imp "$TEST_TMP/p.d3o")
    ROWS+=("| e2e backlog | our export + import data, started together | $R_D3_OURS | export data $e + import data $i + source server $s + target server $t = $R_D3_OURS_CPU | $((rss / 1024)) | $l0 / $(load) | $(cpu_since "$s0") |")
    sleep 0.5; Q3=$(qevents)
    kill -TERM $EXP $IMP; wait $EXP $IMP 2>/dev/null
}
drain_native() { native_drain 3 "e2e backlog"; R_D3_NAT=$NAT_S R_D3_NAT_CPU=$NAT_CPU; }
if [ "$ORDER" = 0 ]; then drain_native; drain_ours; else drain_ours; drain_native; fi
QC3=$((Q3 - Q2))
"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exp4.out" 2>&1 &
EXP=$!
"$V" import data -e "$ED" "${TGT_FLAGS[@]}" ${IMPORT_ARGS:-} --disable-pb true >"$TEST_TMP/imp4.out" 2>&1 &
IMP=$!
for i in $(seq 1 100); do [ "$(psql_as source sourcedb -c "SELECT count(*) FROM pg_replication_slots WHERE active")" = 2 ] && break; sleep 0.2; done
"$V" initiate cutover to target -e "$ED" >"$TEST_TMP/cutover.out" 2>&1
wait_exit $EXP 120 >/dev/null; wait_exit $IMP 120 >/dev/null
kill -TERM $EXP $IMP 2>/dev/null; wait $EXP $IMP 2>/dev/null

# ---- verification
psql_as native nativedb -c "ALTER TABLE bench_end DROP COLUMN applied" >/dev/null
assert_eq "round 1: our queue holds exactly the source's changes" "$CHANGES1" "$QC1"
assert_eq "round 2: our queue holds exactly the source's changes" "$CHANGES2" "$QC2"
assert_eq "round 3: our queue holds exactly the source's changes" "$CHANGES3" "$QC3"
compare_databases source target
compare_databases source native
REPORT=$(cat <<TXT
workload $WL (SIZE=$SIZE, ORDER=$ORDER: $([ "$ORDER" = 0 ] && echo "peers first" || echo "ours first")), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), checkout $(git rev-parse --short HEAD)
binary $(bench/cdc/binary_id.sh "$V")${IMPORT_ARGS:+, import data $IMPORT_ARGS}
round 1: $CHANGES1 changes in $WL1_S s (queue: $QC1 events); round 2 (e2e): $CHANGES2 changes in $(sub "$T2_WL0" "$T2_WL1") s (queue: $QC2 events); round 3 (e2e backlog): $CHANGES3 changes (queue: $QC3 events)
| stage | method | time (s) | CPU-seconds | peak RSS (MB) | load before / after | machine CPU-s |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")
capture ours vs pg_recvlogical: wall $(ratio "$R_CAP_RAW" "$R_CAP_OURS")x, CPU incl. walsender $(ratio "$R_CAP_RAW_ALL" "$R_CAP_OURS_CPU")x (client alone: pg_recvlogical $R_CAP_RAW_CPU vs exporter $C_CLI)
apply ours vs native: wall $(ratio "$R_APP_NAT" "$R_APP_OURS")x, CPU $(ratio "$R_APP_NAT_CPU" "$R_APP_OURS_CPU")x
e2e ours vs native: lag at workload end $(ratio "$E_NAT" "$E_OURS")x, workload start to applied $(ratio "$(sub "$T2_WL0" "$END2_NAT")" "$(sub "$T2_WL0" "$END2_OURS")")x, CPU $(ratio "$EC_NAT" "$EC_OURS")x
e2e from a backlog ours vs native: drain wall $(ratio "$R_D3_NAT" "$R_D3_OURS")x, CPU $(ratio "$R_D3_NAT_CPU" "$R_D3_OURS_CPU")x
TXT
)
echo "$REPORT"
[ -n "${BENCH_OUT:-}" ] && echo "$REPORT" >>"$BENCH_OUT"
done_testing
