#!/bin/bash
# Several voyager processes opening one new meta.db at once (export data and
# import data started together): none may fail with "database is locked".
# Switching a new store to WAL reads then rewrites its header, and SQLite
# fails that upgrade with SQLITE_BUSY at once, without the busy timeout, when
# another process is writing the store. First made certain: a write
# transaction held on a new meta.db (by python3's sqlite3, as another process
# switching it would) for 1.5 s; a command started meanwhile waits for it.
# Then the race itself, for a few seconds: rounds of four commands started at
# the same instant on a new export dir. Each store ends in WAL, at the catalog
# version, with one status record (one migration UUID).
. "$(dirname "$0")/../lib/harness.sh"
V=$VOYAGER

# store_state DIR: journal mode, catalog version and status records of DIR's meta.db
store_state() {
    python3 - "$1/metainfo/meta.db" 2>/dev/null <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("PRAGMA journal_mode").fetchone()[0],
      "versioned" if c.execute("PRAGMA user_version").fetchone()[0] > 0 else "unversioned",
      c.execute("SELECT count(*) FROM migration_status").fetchone()[0])
PY
}

ED=$(new_export_dir)
mkdir -p "$ED/metainfo"
python3 - "$ED/metainfo/meta.db" >"$TEST_TMP/hold.out" 2>&1 <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(1.5)
c.execute("COMMIT")
PY
HOLD_PID=$!
for i in $(seq 1 50); do
    grep -q held "$TEST_TMP/hold.out" && break
    sleep 0.1
done
assert_eq "a write transaction is held on the new meta.db" held "$(cat "$TEST_TMP/hold.out")"
check "export data status waits for the other writer, not 'database is locked'" \
    "$V" export data status --export-dir "$ED"
wait "$HOLD_PID"
assert_eq "the store is in WAL, at the catalog version, with one status record" "wal versioned 1" "$(store_state "$ED")"

cmds=("export data status" "import data status" "cutover status" "export data status")
rounds=0 bad=0 badstate=0
end=$((SECONDS + 4))
while [ "$SECONDS" -lt "$end" ] || [ "$rounds" -lt 10 ]; do
    ED=$(new_export_dir)
    # an empty meta.db (as a first command leaves it before it writes): the status commands
    # refuse a dir without one, and here they race to set it up
    mkdir -p "$ED/metainfo"
    : >"$ED/metainfo/meta.db"
    pids=()
    for i in "${!cmds[@]}"; do
        # shellcheck disable=SC2086 # each entry is a command path of words
        "$V" ${cmds[$i]} --export-dir "$ED" >"$ED/out.$i" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        if ! wait "${pids[$i]}" || grep -q "locked" "$ED/out.$i"; then
            bad=$((bad + 1))
            echo "# round $rounds, ${cmds[$i]}: $(tr '\n' ' ' <"$ED/out.$i")"
        fi
    done
    [ "$(store_state "$ED")" = "wal versioned 1" ] || badstate=$((badstate + 1))
    rounds=$((rounds + 1))
    rm -rf "$ED"
done
assert_eq "$rounds rounds of ${#cmds[@]} commands at once on a new export dir: none failed" 0 "$bad"
assert_eq "every store in WAL, at the catalog version, with one status record" 0 "$badstate"

done_testing
