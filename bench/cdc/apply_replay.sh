#!/bin/bash
# bench/cdc/apply_replay.sh SAVED [RUNS] [-- PREFIX...]: the apply phase of a bench run again,
# RUNS times (default 3), from the state `SAVE_APPLY=SAVED bench/cdc/run.sh ...` saved (our
# target cluster and export directory just before apply). Each run restores a fresh copy,
# starts that target on its saved port, runs `import data` until the channels' progress counts
# every event of the saved queue (to the poll's 100 ms), and prints wall seconds, import data's CPU, the target cluster's CPU
# (bench/cdc/poll.py, as run.sh counts them) and import data's peak RSS. A dev loop for the
# importer (same backlog, many runs, other binaries: VOYAGER=...); PREFIX wraps the
# command (e.g. -- perf record -g -o /tmp/imp.data). Not a replacement for run.sh's
# side-by-side figures: there is no native peer here.
set -u
cd "$(dirname "$0")/../.."
SAVED=$(cd "${1:?usage: bench/cdc/apply_replay.sh SAVED [RUNS] [-- PREFIX...]}" && pwd)
RUNS=${2:-3}
shift $(($# < 2 ? $# : 2))
[ "${1:-}" = -- ] && shift
PREFIX=("$@")
. tests/lib/harness.sh
TEST_NAME=apply-replay
V=$VOYAGER
[ -x "$V" ] || { echo "apply_replay: build first (make)" >&2; exit 1; }
export PATH="$PGBIN:$PATH"
POLL="python3 bench/cdc/poll.py"
PORT=$(cat "$SAVED/port")
now() { date +%s.%N; }
field() { awk -v k="$1" -v g="$2" '$1 == k && $2 == g { print $3 }' "$3"; }
W=$TEST_TMP/w
NEVENTS=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT coalesce(sum(total_events),0) FROM queue_segment WHERE exporter_role = 'source_db_exporter'\").fetchone()[0])" "$SAVED/export/metainfo/meta.db")
echo "# binary $(bench/cdc/binary_id.sh "$V"), checkout $(git rev-parse --short HEAD)"
for r in $(seq 1 "$RUNS"); do
    _as_pg "$PGBIN/pg_ctl" -D "$W/target/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$W" && mkdir -p "$W" && cp -a "$SAVED/target" "$W/target" && cp -a "$SAVED/export" "$W/export" || exit 1
    [ "$(id -u)" = 0 ] && chown -R postgres: "$W/target"
    _as_pg "$PGBIN/pg_ctl" -D "$W/target/data" -l "$W/target/server.log" -o "-k $W/target ${PGOPTS:-}" -w -t 60 start >/dev/null || exit 1
    _CLUSTERS=(w/target)
    "$PGBIN/psql" -h "$W/target" -p "$PORT" -U postgres -d yugabyte -X -q -c CHECKPOINT >/dev/null
    b=$($POLL --cluster-cpu "$W/target/data"); l0=$(cut -d' ' -f1 /proc/loadavg); s0=$(cpu_mark); t0=$(now)
    "${PREFIX[@]}" "$V" import data -e "$W/export" --target-db-host 127.0.0.1 --target-db-port "$PORT" \
        --target-db-user voyager --target-db-name yugabyte --disable-pb true >"$W/imp.out" 2>&1 &
    IMP=$!
    # done once the channels' progress counts every event of the saved queue (as run.sh)
    $POLL --pg "target=$W/target:$PORT:yugabyte" --cond "a=target:SELECT coalesce(sum(num_inserts + num_updates + num_deletes), 0) >= $NEVENTS FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo" \
        --proc "client=$IMP" --cluster "tgt=$W/target/data@$b" --watch "$IMP" >"$W/p.imp"
    grep -q '^died' "$W/p.imp" && { echo "# importer died"; tail -n 5 "$W/imp.out"; exit 1; }
    t=$(awk -v a="$t0" -v b="$(field cond a "$W/p.imp")" 'BEGIN { printf "%.2f", b - a }')
    kill -TERM $IMP; wait $IMP
    # start-up: from the command line to the first queue segment opened (the importer's log)
    su=$(awk '/command line:/ { split($2, a, ":"); t0 = a[1] * 3600 + a[2] * 60 + a[3]; s = "-" }
        /queue: reading segment/ && s == "-" { split($2, a, ":"); s = sprintf("%.2f", a[1] * 3600 + a[2] * 60 + a[3] - t0) }
        END { print s }' \
        "$W"/export/logs/yb-voyager-import-data-to-target.log)
    printf 'run %d: %s s (start-up %s s), import data %s + target server %s CPU-s, peak RSS %d MB, load %s / %s, machine CPU-s %s\n' "$r" "$t" "$su" \
        "$(field cpu client "$W/p.imp")" "$(field cpu tgt "$W/p.imp")" "$(( $(field rss client "$W/p.imp") / 1024 ))" \
        "$l0" "$(cut -d' ' -f1 /proc/loadavg)" "$(cpu_since "$s0")"
done
_as_pg "$PGBIN/pg_ctl" -D "$W/target/data" -m immediate -w stop >/dev/null 2>&1
_CLUSTERS=()
