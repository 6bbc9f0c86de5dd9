# Read and edit the migration status record of an export dir (as the data commands would).
# status_get ED KEY            -> JSON value
# status_set ED KEY JSON ...   -> sets keys
# status_wait ED KEY SECONDS   -> 0 once KEY is true, 1 after SECONDS
# status_new_migration ED      -> ED holds a migration without any database: the layout and a
#                                 meta.db with an empty status record (the status, report and
#                                 cutover commands refuse a dir without meta.db, and make none)
status_new_migration() {
    mkdir -p "$1/metainfo"
    python3 -c "import sqlite3,sys; db = sqlite3.connect(sys.argv[1]); db.execute('CREATE TABLE IF NOT EXISTS migration_status (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL)'); db.execute(\"INSERT OR IGNORE INTO migration_status VALUES (1, '{}')\"); db.commit()" "$1/metainfo/meta.db"
    "$VOYAGER" cutover status -e "$1" >/dev/null # the rest of the layout, meta.db's tables, a migration UUID
}
status_get() {
    python3 -c "import json,sqlite3,sys; print(json.dumps(json.loads(sqlite3.connect(sys.argv[1]).execute('select record from migration_status').fetchone()[0]).get(sys.argv[2])))" "$1/metainfo/meta.db" "$2"
}
status_set() {
    local ed=$1
    shift
    python3 - "$ed/metainfo/meta.db" "$@" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rec = json.loads(db.execute("select record from migration_status where id = 1").fetchone()[0])
args = sys.argv[2:]
for k, v in zip(args[0::2], args[1::2]):
    rec[k] = json.loads(v)
db.execute("update migration_status set record = ? where id = 1", (json.dumps(rec),))
db.commit()
PY
}
status_wait() {
    local i
    for i in $(seq 1 $(($3 * 5))); do
        [ "$(status_get "$1" "$2")" = true ] && return 0
        sleep 0.2
    done
    return 1
}
# lock_pid_wait ED LOCK PID SECONDS -> 0 once process PID holds the command lock LOCK
# (e.g. import-data-to-source: a process that turned into that command), 1 after SECONDS
lock_pid_wait() {
    local i
    for i in $(seq 1 $(($4 * 5))); do
        [ "$(cat "$1/.$2.lck" 2>/dev/null)" = "$3" ] && kill -0 "$3" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}
# status_cut_over_to_target ED: record in ED (made with e.g. cutover status) a live migration
# cut over to target with fall-back prepared, so that export data from target runs alone; and
# status_source_exporter_tables ED: what export data from source leaves for it (its captured
# tables: those of live_schema_sql).
status_cut_over_to_target() {
    status_set "$1" ExportType '"snapshot-and-changes"' FallbackEnabled true CutoverToTargetRequested true \
        CutoverProcessedBySourceExporter true CutoverProcessedByTargetImporter true
}
status_source_exporter_tables() {
    python3 - "$1/metainfo/meta.db" <<'PY'
import sqlite3, sys, json
db = sqlite3.connect(sys.argv[1])
db.execute("""CREATE TABLE IF NOT EXISTS cdc_exporter_state (exporter_role TEXT PRIMARY KEY,
 slot_name TEXT, publication_name TEXT, snapshot_done INTEGER NOT NULL DEFAULT 0,
 last_commit_lsn INTEGER NOT NULL DEFAULT 0, last_vsn INTEGER NOT NULL DEFAULT 0,
 total_events INTEGER NOT NULL DEFAULT 0, tables TEXT, stream_done INTEGER NOT NULL DEFAULT 0)""")
db.execute("INSERT INTO cdc_exporter_state(exporter_role, snapshot_done, stream_done, tables) VALUES (?, 1, 1, ?)",
           ("source_db_exporter", json.dumps([["public", "items"], ["public", "Mixed Case"], ["public", "pairs"], ["public", "parted"]])))
db.commit()
PY
}
