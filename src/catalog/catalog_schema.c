/*
 * Every table of meta.db, in one place, and how an export dir made by an
 * older build is brought up to date. catalog_open() calls
 * catalog_schema_ensure() once per process: a store already at
 * CATALOG_SCHEMA_VERSION costs one read; an older one is migrated in one
 * write transaction, so two processes opening it at once cannot both do it.
 *
 * To add a table or a column: add it below, bump CATALOG_SCHEMA_VERSION, and
 * (for a column of an existing table) list it in added_columns. Never edit a
 * statement in a way an existing store cannot reach by these two means.
 */
#include "catalog/catalog_int.h"

#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>

#define CATALOG_SCHEMA_VERSION 3

static const char *const tables_sql =
    /* the migration status record: one JSON object (catalog.h) */
    "CREATE TABLE IF NOT EXISTS migration_status ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " record TEXT NOT NULL);"

    /* snapshot export: one row per table, one per data file written */
    "CREATE TABLE IF NOT EXISTS snapshot_export_table ("
    " schema_name TEXT NOT NULL, table_name TEXT NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'NOT_STARTED',"
    " exported_rows INTEGER NOT NULL DEFAULT 0,"
    " estimated_rows INTEGER NOT NULL DEFAULT 0,"
    " attempt INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (schema_name, table_name));"
    "CREATE TABLE IF NOT EXISTS snapshot_export_file ("
    " schema_name TEXT NOT NULL, table_name TEXT NOT NULL, part INTEGER NOT NULL,"
    " file_path TEXT NOT NULL, row_count INTEGER NOT NULL, file_size INTEGER NOT NULL,"
    " columns TEXT NOT NULL,"
    " PRIMARY KEY (schema_name, table_name, part));"

    /* snapshot import, per importer role: tables, batches, which export it loads */
    "CREATE TABLE IF NOT EXISTS snapshot_import_table ("
    " importer_role TEXT NOT NULL, schema_name TEXT NOT NULL, table_name TEXT NOT NULL,"
    " status TEXT NOT NULL, imported_rows INTEGER NOT NULL DEFAULT 0,"
    " total_rows INTEGER NOT NULL DEFAULT 0,"
    " export_attempt INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (importer_role, schema_name, table_name));"
    "CREATE TABLE IF NOT EXISTS snapshot_import_batch ("
    " importer_role TEXT NOT NULL, file_path TEXT NOT NULL, batch_number INTEGER NOT NULL,"
    " schema_name TEXT NOT NULL, table_name TEXT NOT NULL,"
    " start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL, first_line INTEGER NOT NULL,"
    " row_count INTEGER NOT NULL,"
    " PRIMARY KEY (importer_role, file_path, batch_number));"
    "CREATE TABLE IF NOT EXISTS snapshot_import_generation ("
    " importer_role TEXT PRIMARY KEY, export_id TEXT NOT NULL);"

    /*
     * Sequence values handed from exporters to importers. phase: "snapshot"
     * (read in the snapshot) or the cutover op (final values read by the
     * exporter while draining for that cutover).
     */
    "CREATE TABLE IF NOT EXISTS sequence_last_values ("
    " phase TEXT NOT NULL, schema_name TEXT NOT NULL, sequence_name TEXT NOT NULL,"
    " last_value INTEGER NOT NULL, is_called INTEGER NOT NULL,"
    " PRIMARY KEY (phase, schema_name, sequence_name));"

    /*
     * The change queue. The exporter owns every column of queue_segment except
     * imported_by_*, which each importer sets once every event of the segment
     * is committed on its database; archive changes sets archived/deleted.
     * queue_table_counts: per exporter and table, events written so far
     * (updated in the transaction that moves the segment's committed size).
     */
    "CREATE TABLE IF NOT EXISTS queue_segment ("
    " segment_no INTEGER PRIMARY KEY,"
    " file_path TEXT NOT NULL,"
    " exporter_role TEXT NOT NULL,"
    " committed_size INTEGER NOT NULL DEFAULT 0,"
    " first_vsn INTEGER, last_vsn INTEGER,"
    " total_events INTEGER NOT NULL DEFAULT 0,"
    " is_closed INTEGER NOT NULL DEFAULT 0,"
    " is_last INTEGER NOT NULL DEFAULT 0,"
    " imported_by_target_db_importer INTEGER NOT NULL DEFAULT 0,"
    " imported_by_source_replica_db_importer INTEGER NOT NULL DEFAULT 0,"
    " imported_by_source_db_importer INTEGER NOT NULL DEFAULT 0,"
    " archived INTEGER NOT NULL DEFAULT 0,"
    " deleted INTEGER NOT NULL DEFAULT 0,"
    " archive_location TEXT);"
    "CREATE TABLE IF NOT EXISTS queue_table_counts ("
    " exporter_role TEXT NOT NULL, schema_name TEXT NOT NULL, table_name TEXT NOT NULL,"
    " num_inserts INTEGER NOT NULL DEFAULT 0, num_updates INTEGER NOT NULL DEFAULT 0,"
    " num_deletes INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (exporter_role, schema_name, table_name));"
    /*
     * the columns whose old values an exporter's events carry per table (JSON array):
     * what an importer may look rows up and follow unique values by (cdc/target_keys.h)
     */
    "CREATE TABLE IF NOT EXISTS queue_table_keys ("
    " exporter_role TEXT NOT NULL, schema_name TEXT NOT NULL, table_name TEXT NOT NULL,"
    " columns TEXT NOT NULL, PRIMARY KEY (exporter_role, schema_name, table_name));"

    /* each change exporter's durable position */
    "CREATE TABLE IF NOT EXISTS cdc_exporter_state ("
    " exporter_role TEXT PRIMARY KEY,"
    " slot_name TEXT, publication_name TEXT,"
    " snapshot_done INTEGER NOT NULL DEFAULT 0,"
    " last_commit_lsn INTEGER NOT NULL DEFAULT 0,"
    " last_vsn INTEGER NOT NULL DEFAULT 0,"
    " total_events INTEGER NOT NULL DEFAULT 0, tables TEXT,"
    " stream_done INTEGER NOT NULL DEFAULT 0,"
    /* the highest position confirmed to the feed beyond last_commit_lsn; -1: not known */
    " confirmed_lsn INTEGER NOT NULL DEFAULT -1);"

    /*
     * What each apply channel had committed when segments were last marked
     * imported: a database that later reports less lost acknowledged commits.
     */
    "CREATE TABLE IF NOT EXISTS importer_channel_committed ("
    " importer_role TEXT NOT NULL, channel_no INTEGER NOT NULL, vsn INTEGER NOT NULL,"
    " PRIMARY KEY (importer_role, channel_no));"
    /* how each table's changes are routed to channels, fixed for the migration ('' = by key) */
    "CREATE TABLE IF NOT EXISTS cdc_import_route ("
    " importer_role TEXT NOT NULL, schema_name TEXT NOT NULL, table_name TEXT NOT NULL,"
    " route_group TEXT NOT NULL, PRIMARY KEY (importer_role, schema_name, table_name));"
    /* the table list of a live import, fixed by its first run */
    "CREATE TABLE IF NOT EXISTS import_table_filter ("
    " importer_role TEXT PRIMARY KEY,"
    " include_list TEXT NOT NULL, exclude_list TEXT NOT NULL);"

    /*
     * compare data: compare_hold, one row per importer asked to hold
     * (hold_vsn -1: where it is; held_vsn: where it holds, -1 while not yet);
     * compare_point, one request to the source exporter, answered with vsn or retry.
     */
    "CREATE TABLE IF NOT EXISTS compare_hold ("
    " importer_role TEXT PRIMARY KEY,"
    " requester_pid INTEGER NOT NULL, hold_vsn INTEGER NOT NULL, held_vsn INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS compare_point ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " lsn INTEGER NOT NULL, snapshot TEXT NOT NULL, state TEXT NOT NULL, vsn INTEGER);"

    /* import schema: each statement's state, and statements postponed to the post-data run */
    "CREATE TABLE IF NOT EXISTS schema_import_progress ("
    " target TEXT NOT NULL, file TEXT NOT NULL, stmt_hash TEXT NOT NULL, nth INTEGER NOT NULL,"
    " stmt_index INTEGER NOT NULL, state TEXT NOT NULL, error TEXT,"
    " updated_ms INTEGER NOT NULL, PRIMARY KEY (target, file, stmt_hash, nth));"
    "CREATE TABLE IF NOT EXISTS schema_import_postponed ("
    " target TEXT NOT NULL, file TEXT NOT NULL, stmt_hash TEXT NOT NULL, nth INTEGER NOT NULL,"
    " PRIMARY KEY (target, file, stmt_hash, nth));";

/* Columns added after the first release of a table: stores made by an older build gain them. */
static const char *const added_columns[][3] = {
    {"snapshot_export_table", "attempt", "INTEGER NOT NULL DEFAULT 0"},
    {"snapshot_import_table", "export_attempt", "INTEGER NOT NULL DEFAULT 0"},
    {"snapshot_import_batch", "schema_name", "TEXT NOT NULL DEFAULT ''"},
    {"snapshot_import_batch", "table_name", "TEXT NOT NULL DEFAULT ''"},
    {"cdc_exporter_state", "confirmed_lsn", "INTEGER NOT NULL DEFAULT -1"},
};

static bool add_missing_columns(catalog *m)
{
    for (size_t i = 0; i < sizeof added_columns / sizeof added_columns[0]; i++) {
        long long have = 0;
        if (!catalog_run(m, &have, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
                         "ss", added_columns[i][0], added_columns[i][1]))
            return false;
        if (have)
            continue;
        /* identifiers and types are the constants above, never user text */
        char *sql = xasprintf("ALTER TABLE %s ADD COLUMN %s %s", added_columns[i][0],
                              added_columns[i][1], added_columns[i][2]);
        bool ok = catalog_exec(m, sql);
        free(sql);
        if (!ok)
            return false;
    }
    return true;
}

bool catalog_schema_ensure(catalog *m)
{
    long long version = 0;
    if (!catalog_run(m, &version, "PRAGMA user_version", ""))
        return false;
    if (version == CATALOG_SCHEMA_VERSION)
        return true;
    if (version > CATALOG_SCHEMA_VERSION) {
        log_report(LOG_ERROR, NULL, "run the newer build on this export dir",
                   "the export dir's meta.db was written by a newer yb-voyager (catalog version "
                   "%lld, this build knows %d)",
                   version, CATALOG_SCHEMA_VERSION);
        return false;
    }
    if (!catalog_begin(m))
        return false;
    bool ok = catalog_run(m, &version, "PRAGMA user_version", "");
    if (ok && version < CATALOG_SCHEMA_VERSION) {
        char *set = xasprintf("PRAGMA user_version = %d", CATALOG_SCHEMA_VERSION);
        ok = catalog_exec(m, tables_sql) && add_missing_columns(m) && catalog_exec(m, set);
        free(set);
    }
    if (!ok) {
        catalog_rollback(m);
        return false;
    }
    return catalog_commit(m);
}
