#!/bin/bash
# bench/cdc: the same change backlog replicated by our export + import and by
# PostgreSQL's own publication/subscription, in one run, on throwaway clusters.
#
# Method (backlog drain): the slots (ours, a raw pgoutput slot for
# pg_recvlogical, the native subscription's) are created before the workload
# and nothing consumes them while it runs; then each consumer drains the same
# backlog alone and we time it:
#   decode: pg_recvlogical (raw pgoutput to /dev/null) vs our exporter (events
#           fsynced into the queue and recorded in meta.db)
#   apply:  native subscription (enable -> origin reaches the end LSN) vs our
#           importer (start -> end-of-stream applied)
# "lag" = the time to drain the backlog. Peak RSS from /usr/bin/time.
# Usage: bench/cdc/run.sh [SCALE]   (SCALE 1 = about 105k events)
. "$(dirname "$0")/../../tests/lib/harness.sh"
. "$HARNESS_DIR/status.sh"
SCALE=${1:-1}
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb >/dev/null || exit 1
pg_start target yugabyte >/dev/null || exit 1
pg_start native nativedb >/dev/null || exit 1
conn_flags
SCHEMA="CREATE TABLE public.bench (id bigint PRIMARY KEY, a int, b text, c timestamptz);
ALTER TABLE public.bench REPLICA IDENTITY FULL;"
for c in source:sourcedb target:yugabyte native:nativedb; do psql_as "${c%%:*}" "${c##*:}" -c "$SCHEMA" >/dev/null; done
now() { date +%s.%N; }
secs() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }

# Our slot: export data makes it (snapshot of the empty table) and streams; stop it for the backlog.
"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exp1.out" 2>&1 &
pid=$!
until [ "$(psql_as source sourcedb -c "SELECT count(*) FROM pg_replication_slots WHERE active")" = 1 ]; do sleep 0.2; done
kill -TERM $pid; wait $pid
psql_as source sourcedb -c "CREATE PUBLICATION rawpub FOR TABLE public.bench" -c "CREATE PUBLICATION nativepub FOR TABLE public.bench" \
    -c "SELECT pg_create_logical_replication_slot('rawslot', 'pgoutput')" \
    -c "SELECT pg_create_logical_replication_slot('nativeslot', 'pgoutput')" >/dev/null || exit 1
psql_as native nativedb -c "CREATE SUBSCRIPTION nsub CONNECTION 'host=$TEST_TMP/source port=$SOURCE_PORT user=postgres dbname=sourcedb'
  PUBLICATION nativepub WITH (create_slot = false, slot_name = 'nativeslot', copy_data = false, enabled = false)" >/dev/null

# The workload: big and small transactions, inserts, updates, deletes.
EVENTS=$((105000 * SCALE))
python3 - "$SCALE" >"$TEST_TMP/workload.sql" <<'PY'
import sys
# 40000s inserts (100 a transaction), 40000s updates (1000 a transaction),
# 5000s single-row update transactions, 20000s deletes (1000 a transaction)
s = int(sys.argv[1]); n = 40000 * s
out = []
for k in range(0, n, 100):
    out.append("INSERT INTO public.bench SELECT g, g %% 100, md5(g::text), now() FROM generate_series(%d, %d) g;" % (k + 1, k + 100))
for k in range(0, n, 1000):
    out.append("UPDATE public.bench SET a = a + 1, c = now() WHERE id BETWEEN %d AND %d;" % (k + 1, k + 1000))
for k in range(1, 5000 * s + 1):
    out.append("UPDATE public.bench SET b = 'x' || id WHERE id = %d;" % (k * 7 % n + 1))
for k in range(0, n // 2, 1000):
    out.append("DELETE FROM public.bench WHERE id BETWEEN %d AND %d;" % (2 * k + 1, 2 * k + 1000))
print("\n".join(out))
PY
t0=$(now)
psql_as source sourcedb -f "$TEST_TMP/workload.sql" >/dev/null
t1=$(now)
END_LSN=$(psql_as source sourcedb -c "SELECT pg_logical_emit_message(false, 'bench-end', '')")
echo "# workload generated in $(secs "$t0" "$t1") s; end LSN $END_LSN"

# 1. decode: pg_recvlogical
t0=$(now)
"$PGBIN/pg_recvlogical" -n -h "$TEST_TMP/source" -p "$SOURCE_PORT" -U postgres -d sourcedb -S rawslot --start \
    --endpos "$END_LSN" -o proto_version=1 -o publication_names=rawpub -f /dev/null
t1=$(now)
T_RAW=$(secs "$t0" "$t1")

# 2. decode: our exporter, until every event is durable in the queue
q() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0] or 0)" "$ED/metainfo/meta.db" "$1"; }
t0=$(now)
/usr/bin/time -f "%U %S %e %M" -o "$TEST_TMP/exp.rss" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exp2.out" 2>&1 &
EXP=$!
# one poller process (spawning one per poll would steal the exporter's CPU)
t1=$(python3 - "$ED/metainfo/meta.db" "$EVENTS" "$EXP" <<'PY'
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
while True:
    n = db.execute("SELECT sum(total_events) FROM queue_segment WHERE exporter_role = 'source_db_exporter'").fetchone()[0] or 0
    if n >= int(sys.argv[2]):
        print("%.6f" % time.time()); break
    try:
        os.kill(int(sys.argv[3]), 0)
    except OSError:
        print("died"); break
    time.sleep(0.01)
PY
)
[ "$t1" = died ] && { echo "# exporter died:"; cat "$TEST_TMP/exp2.out"; exit 1; }
T_EXP=$(secs "$t0" "$t1")
LAST_END=$(q "SELECT last_commit_lsn FROM cdc_exporter_state WHERE exporter_role = 'source_db_exporter'")
"$V" initiate cutover to target -e "$ED" >/dev/null
wait $EXP
read EXP_USR EXP_SYS EXP_WALL RSS_EXP < <(tail -1 "$TEST_TMP/exp.rss")
echo "# exporter cpu: user $EXP_USR s, sys $EXP_SYS s, process wall $EXP_WALL s (includes the wait for cutover)"

# 3. apply: native subscription
lsn_num() { python3 -c "import sys; h, l = sys.argv[1].split('/'); print(int(h, 16) << 32 | int(l, 16))" "$1"; }
t0=$(now)
psql_as native nativedb -c "ALTER SUBSCRIPTION nsub ENABLE" >/dev/null
while :; do
    r=$(psql_as native nativedb -c "SELECT remote_lsn FROM pg_replication_origin_status")
    [ -n "$r" ] && [ "$(lsn_num "$r")" -ge "$LAST_END" ] && break
    sleep 0.05
done
t1=$(now)
T_NATIVE=$(secs "$t0" "$t1")

# 4. apply: our importer (snapshot of the empty table, then the backlog up to the end of stream)
t0=$(now)
/usr/bin/time -f %M -o "$TEST_TMP/imp.rss" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true >"$TEST_TMP/imp.out" 2>&1
rc=$?
t1=$(now)
T_IMP=$(secs "$t0" "$t1")
RSS_IMP=$(tail -1 "$TEST_TMP/imp.rss")
[ $rc = 0 ] || { echo "# importer failed ($rc):"; tail -5 "$TEST_TMP/imp.out"; }

compare_databases source target
compare_databases source native
rate() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$EVENTS" "$1"; }
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
REPORT=$(cat <<TXT
events: $EVENTS (scale $SCALE), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)
| stage | tool | drain time (s) = lag | events/s | peak RSS (MB) |
|---|---|---|---|---|
| decode | pg_recvlogical (pgoutput to /dev/null) | $T_RAW | $(rate "$T_RAW") | - |
| decode | our exporter (queue, fsync, meta.db) | $T_EXP | $(rate "$T_EXP") | $((RSS_EXP / 1024)) |
| apply | native subscription | $T_NATIVE | $(rate "$T_NATIVE") | - |
| apply | our importer | $T_IMP | $(rate "$T_IMP") | $((RSS_IMP / 1024)) |
exporter vs pg_recvlogical rate: $(ratio "$T_RAW" "$T_EXP")x; our apply vs native apply rate: $(ratio "$T_NATIVE" "$T_IMP")x
TXT
)
echo "$REPORT"
echo "$REPORT" >"$TEST_TMP/report.txt"
[ -n "${BENCH_OUT:-}" ] && cp "$TEST_TMP/report.txt" "$BENCH_OUT"
done_testing
