# Helpers for the schema tests (export schema / import schema).
# Needs harness.sh sourced first.

RICH_SCHEMAS='public,sales,"MixedCase"'

# rich_source: the source cluster with tests/lib/rich_schema.sql in database sourcedb.
rich_source() {
    pg_start source sourcedb && psql_as source sourcedb -f "$HARNESS_DIR/rich_schema.sql" >/dev/null
}

# schema_src_flags SCHEMAS: source connection flags for export schema, in SCHEMA_SRC.
schema_src_flags() {
    SCHEMA_SRC=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$SOURCE_PORT"
        --source-db-user voyager --source-db-name sourcedb --source-db-schema "$1")
}

# normalized_schema NAME DB: pg_dump --schema-only of the rich schemas, without what
# legitimately differs between two databases: comment lines, SET lines, blank lines,
# and pg_dump's per-run \restrict key. Statements keep pg_dump's (deterministic,
# dependency-sorted) order, so no sorting is needed.
normalized_schema() {
    "$PGBIN/pg_dump" -h "$TEST_TMP/$1" -p "$(cluster_port "$1")" -U postgres --schema-only \
        --no-owner --no-privileges -n public -n sales -n '"MixedCase"' "$2" |
        grep -v -e '^--' -e '^SET ' -e '^SELECT pg_catalog.set_config' -e '^\\restrict ' -e '^\\unrestrict ' -e '^$'
}
