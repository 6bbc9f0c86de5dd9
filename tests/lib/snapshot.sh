# Helpers for the snapshot (export data / import data) tests. Source after harness.sh.

# copy_schema FROM TO [FROM_DB TO_DB]: the source's schema (pg_dump --schema-only) applied
# with psql on another cluster, standing in for export/import schema.
copy_schema() {
    local from=$1 to=$2
    local fdb=${3:-$(eval "echo \${$(echo "$from" | tr 'a-z-' 'A-Z_')_DB}")}
    local tdb=${4:-$(eval "echo \${$(echo "$to" | tr 'a-z-' 'A-Z_')_DB}")}
    "$PGBIN/pg_dump" -h "$TEST_TMP/$from" -p "$(cluster_port "$from")" -U postgres -s -d "$fdb" \
        >"$TEST_TMP/schema-$from.sql" || return 1
    psql_as "$to" "$tdb" -f "$TEST_TMP/schema-$from.sql" >/dev/null 2>"$TEST_TMP/schema-$to.err" ||
        { echo "# schema copy failed:"; sed 's/^/#   /' "$TEST_TMP/schema-$to.err"; return 1; }
}

# snapshot_clusters: source (sample schema + all_types.sql) and target with the same schema.
snapshot_clusters() {
    start_clusters source target || return 1
    psql_as source sourcedb -f "$HARNESS_DIR/all_types.sql" >/dev/null || return 1
    psql_as source sourcedb -c "ANALYZE" >/dev/null
    copy_schema source target
}

# Every schema of the source: the export's --source-db-schema.
ALL_SCHEMAS='public,Sales'

# json_check FILE PYTHON_EXPR: exit 0 when FILE is JSON and the expression (on `d`) is true.
json_check() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}

# target_dupes NAME DB: batches recorded twice (should be impossible) + rows per table vs source.
metainfo_rows() {
    psql_as "$1" "$2" -c "SELECT count(*) FROM ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3"
}
