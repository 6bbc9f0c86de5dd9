#!/bin/bash
# bench/cdc/capture_replay.sh SAVED [RUNS]: the capture phase of a bench run again, RUNS times
# (default 2), from the state `SAVE_CAPTURE=SAVED bench/cdc/run.sh ...` saved (the source
# cluster holding the round-1 backlog in our slot, positioned after our snapshot, and in
# rawslot, a pgoutput slot created at the same point; the export dir after the snapshot).
# Each run drains the backlog once with our export data and once with pg_recvlogical
# (pgoutput, proto 1, to /dev/null, --endpos), the order alternating from run to run, each
# from a fresh copy of SAVED: the source started on its saved port, CHECKPOINT, then the
# drainer alone, timed as run.sh's round 1 (bench/cdc/poll.py every 100 ms; ours done when
# the queue holds every change, pg_recvlogical when it exits at the end LSN).
# Prints per drain: wall seconds, the client's CPU (from its start; pg_recvlogical's from
# /usr/bin/time, as run.sh does: a quick drain can end before the first poll), the
# walsender's CPU (the slot's active_pid, from its start; pg_recvlogical's exits with it, so
# it loses up to the last 100 ms poll, or all of it when the drain ends before the first
# poll: the cluster column holds the whole of it) and the whole
# source cluster's (from just before the start: walsender, checkpointer, WAL writer, the
# poller's own backend), load before / after, and whether it is verified: ours when the
# queue gained exactly the backlog's changes (pg_stat_user_tables), pg_recvlogical when it
# exited 0 with rawslot confirmed up to the end LSN.
# A capture-only dev loop (same backlog, many runs, other binaries: VOYAGER=...), not
# run.sh's side-by-side run: no workload runs, the source is otherwise idle.
set -u
cd "$(dirname "$0")/../.." || exit 1
SAVED=$(cd "${1:?usage: bench/cdc/capture_replay.sh SAVED [RUNS]}" && pwd)
RUNS=${2:-2}
. tests/lib/harness.sh
TEST_NAME=capture-replay
V=$VOYAGER
[ -x "$V" ] || { echo "capture_replay: build first (make)" >&2; exit 1; }
export PATH="$PGBIN:$PATH"
POLL="python3 bench/cdc/poll.py"
# shellcheck disable=SC1091 # written by run.sh: WL SIZE SOURCE_PORT END_LSN CHANGES Q0 SLOT
. "$SAVED/env"
now() { date +%s.%N; }
load() { cut -d' ' -f1 /proc/loadavg; }
field() { awk -v k="$1" -v g="$2" '$1 == k && $2 == g { print $3 }' "$3"; }
W=$TEST_TMP/w
META=$W/export/metainfo/meta.db
export PGPASSWORD=bench
wq() { "$PGBIN/psql" -h "$W/source" -p "$SOURCE_PORT" -U postgres -d sourcedb -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
qevents() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT coalesce(sum(total_events),0) FROM queue_segment WHERE exporter_role = 'source_db_exporter'\").fetchone()[0])" "$META"; }
restore() {
    _as_pg "$PGBIN/pg_ctl" -D "$W/source/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$W" && mkdir -p "$W" && cp -a "$SAVED/source" "$W/source" && cp -a "$SAVED/export" "$W/export" || exit 1
    [ "$(id -u)" = 0 ] && chown -R postgres: "$W/source"
    _port_in_use "$SOURCE_PORT" && { echo "capture_replay: port $SOURCE_PORT (the saved source's) is in use" >&2; exit 1; }
    _as_pg "$PGBIN/pg_ctl" -D "$W/source/data" -l "$W/source/server.log" -o "-k $W/source" -w -t 60 start >/dev/null || exit 1
    _CLUSTERS=(w/source)
    wq CHECKPOINT >/dev/null
}
conn_flags
PGS=(--pg "source=$W/source:$SOURCE_PORT:sourcedb")
WALQ() { echo "source:SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$1' AND active_pid IS NOT NULL"; }
# drain METHOD RUN: one timed drain of a fresh copy; prints its table row
drain() {
    local m=$1 r=$2 b l0 t0 t1 pid ok u s
    restore
    b=$($POLL --cluster-cpu "$W/source/data"); l0=$(load); t0=$(now)
    if [ "$m" = ours ]; then
        "$V" export data -e "$W/export" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >"$W/exp.out" 2>&1 &
        pid=$!
        $POLL "${PGS[@]}" --sqlite "q=$META:$((Q0 + CHANGES)):SELECT sum(total_events) FROM queue_segment WHERE exporter_role = 'source_db_exporter'" \
            --proc "client=$pid" --procq "wal=$(WALQ "$SLOT")" --cluster "src=$W/source/data@$b" --watch "$pid" >"$W/p.out"
        grep -q '^died' "$W/p.out" && { echo "# export data died"; tail -n 5 "$W/exp.out"; exit 1; }
        sleep 0.5
        ok=$([ "$(($(qevents) - Q0))" = "$CHANGES" ] && echo yes || echo "NO: queue gained $(($(qevents) - Q0)) events")
        kill -TERM $pid; wait $pid
    else
        /usr/bin/time -f "%e %U %S %M" -o "$W/raw.time" pg_recvlogical -n -h 127.0.0.1 -p "$SOURCE_PORT" -U bench -d sourcedb -S rawslot --start --endpos "$END_LSN" \
            -o proto_version=1 -o publication_names=rawpub -f /dev/null 2>"$W/raw.err" &
        pid=$!
        $POLL "${PGS[@]}" --exit "q=$pid" --procq "wal=$(WALQ rawslot)" --cluster "src=$W/source/data@$b" >"$W/p.out"
        if wait $pid && [ "$(wq "SELECT confirmed_flush_lsn >= '$END_LSN' FROM pg_replication_slots WHERE slot_name = 'rawslot'")" = t ]; then
            ok=yes
            read -r _ u s _ <"$W/raw.time"
            echo "cpu client $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')" >>"$W/p.out"
        else
            ok="NO: $(tail -n 1 "$W/raw.err")"
        fi
    fi
    t1=$(field cond q "$W/p.out")
    printf '| %d | %s | %s | %s | %s | %s | %s / %s | %s |\n' "$r" \
        "$([ "$m" = ours ] && echo "our export data" || echo pg_recvlogical)" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" \
        "$(field cpu client "$W/p.out")" "$(field cpu wal "$W/p.out")" "$(field cpu src "$W/p.out")" "$l0" "$(load)" "$ok"
}
echo "# backlog $WL (SIZE=$SIZE): $CHANGES changes, end LSN $END_LSN, from $SAVED"
echo "# binary $(bench/cdc/binary_id.sh "$V"), checkout $(git rev-parse --short HEAD), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "| run | drainer | wall (s) | client CPU (s) | walsender CPU (s) | source cluster CPU (s) | load before / after | verified |"
echo "|---|---|---|---|---|---|---|---|"
for r in $(seq 1 "$RUNS"); do
    if [ $((r % 2)) = 1 ]; then drain ours "$r"; drain raw "$r"; else drain raw "$r"; drain ours "$r"; fi
done
_as_pg "$PGBIN/pg_ctl" -D "$W/source/data" -m immediate -w stop >/dev/null 2>&1
_CLUSTERS=()
