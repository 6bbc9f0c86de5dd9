#include "catalog/migration_state.h"
#include "catalog/catalog_int.h"

#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* A text column as an owned string; NULL for SQL NULL. */
static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? xstrdup((const char *)t) : NULL;
}

/* ---- sequence_last_values ---- */

bool sequence_values_save(catalog *m, const char *phase, const sequence_value *values, size_t n)
{
    if (!catalog_begin(m))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = catalog_run(m, NULL,
                         "INSERT OR REPLACE INTO sequence_last_values(phase, schema_name, "
                         "sequence_name, last_value, is_called) VALUES (?1, ?2, ?3, ?4, ?5)",
                         "sssii", phase, values[i].schema, values[i].name, values[i].last_value,
                         (long long)values[i].is_called);
    if (!ok) {
        catalog_rollback(m);
        return false;
    }
    return catalog_commit(m);
}

static void fill_sequence(sqlite3_stmt *st, void *row)
{
    *(sequence_value *)row = (sequence_value){
        .schema = column_dup(st, 0),
        .name = column_dup(st, 1),
        .last_value = sqlite3_column_int64(st, 2),
        .is_called = sqlite3_column_int(st, 3) != 0,
    };
}

static void dispose_sequences(void *rows, size_t n) { sequence_values_free(rows, n); }

bool sequence_values_load(catalog *m, const char *phase, sequence_value **out, size_t *n)
{
    void *rows;
    bool ok = catalog_load_rows(m,
                        "SELECT schema_name, sequence_name, last_value, is_called "
                        "FROM sequence_last_values WHERE phase = ?1 "
                        "ORDER BY schema_name, sequence_name",
                        phase, "the sequence values", sizeof **out, fill_sequence, dispose_sequences,
                        &rows, n);
    *out = rows;
    return ok;
}

void sequence_values_free(sequence_value *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(values[i].schema);
        free(values[i].name);
    }
    free(values);
}

/* ---- queue_segment ---- */

static void fill_segment(sqlite3_stmt *st, void *row)
{
    *(queue_segment_state *)row = (queue_segment_state){
        .segment_no = sqlite3_column_int64(st, 0),
        .file_path = column_dup(st, 1),
        .exporter_role = column_dup(st, 2),
        .closed = sqlite3_column_int(st, 3) != 0,
        .imported_by_target = sqlite3_column_int(st, 4) != 0,
        .imported_by_source_replica = sqlite3_column_int(st, 5) != 0,
        .imported_by_source = sqlite3_column_int(st, 6) != 0,
        .archived = sqlite3_column_int(st, 7) != 0,
        .deleted = sqlite3_column_int(st, 8) != 0,
    };
}

static void dispose_segments(void *rows, size_t n) { queue_segment_states_free(rows, n); }

bool queue_segment_states_load(catalog *m, queue_segment_state **out, size_t *n)
{
    void *rows;
    bool ok = catalog_load_rows(m,
                        "SELECT segment_no, file_path, exporter_role, is_closed, "
                        "imported_by_target_db_importer, imported_by_source_replica_db_importer, "
                        "imported_by_source_db_importer, archived, deleted"
                        " FROM queue_segment ORDER BY segment_no",
                        NULL, "the queue", sizeof **out, fill_segment, dispose_segments, &rows, n);
    *out = rows;
    return ok;
}

void queue_segment_states_free(queue_segment_state *segs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(segs[i].file_path);
        free(segs[i].exporter_role);
    }
    free(segs);
}

bool queue_segment_mark_gone(catalog *m, long long no, bool archived, const char *location,
                             bool *kept)
{
    *kept = false;
    if (!catalog_begin(m))
        return false;
    cJSON *rec = catalog_status_load(m);
    bool ff = rec && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallForwardEnabled"));
    /*
     * Eligible again, in this transaction (migration/archive.c's
     * archive_segment_eligible, in SQL): the pass chose from a list loaded
     * earlier, and since then an importer may have started over (--start-clean
     * forgets what it applied) or the source-replica may have joined.
     */
    long long eligible = 0;
    bool ok = rec && catalog_run(m, &eligible,
                                 "SELECT count(*) FROM queue_segment WHERE segment_no = ?1 AND "
                                 "is_closed <> 0 AND ((exporter_role = 'source_db_exporter' AND "
                                 "imported_by_target_db_importer <> 0 AND (?2 = 0 OR "
                                 "imported_by_source_replica_db_importer <> 0)) OR "
                                 "(exporter_role = 'target_db_exporter_fb' AND "
                                 "imported_by_source_db_importer <> 0) OR "
                                 "(exporter_role = 'target_db_exporter_ff' AND "
                                 "imported_by_source_replica_db_importer <> 0))",
                                 "ii", no, ff ? 1LL : 0LL);
    cJSON_Delete(rec);
    if (ok && !eligible) {
        catalog_rollback(m);
        *kept = true;
        return true;
    }
    ok = ok && catalog_run(m, NULL,
                           archived ? "UPDATE queue_segment SET archived = 1, archive_location = ?1 "
                                      "WHERE segment_no = ?2"
                                    : "UPDATE queue_segment SET deleted = 1, archive_location = ?1 "
                                      "WHERE segment_no = ?2",
                           "si", location, no) &&
         catalog_commit(m);
    if (!ok)
        catalog_rollback(m);
    return ok;
}

/* ---- get data-migration-report ---- */

static void fill_table(sqlite3_stmt *st, void *row)
{
    *(exported_table *)row = (exported_table){
        .schema = column_dup(st, 0),
        .table = column_dup(st, 1),
        .status = column_dup(st, 2),
        .rows = sqlite3_column_int64(st, 3),
    };
}

static void dispose_tables(void *rows, size_t n) { exported_tables_free(rows, n); }

bool exported_tables_load(catalog *m, exported_table **out, size_t *n)
{
    void *rows;
    bool ok = catalog_load_rows(m,
                        "SELECT schema_name, table_name, status, exported_rows "
                        "FROM snapshot_export_table ORDER BY schema_name, table_name",
                        NULL, "the exported tables", sizeof **out, fill_table, dispose_tables,
                        &rows, n);
    *out = rows;
    return ok;
}

void exported_tables_free(exported_table *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].schema);
        free(t[i].table);
        free(t[i].status);
    }
    free(t);
}

static void fill_count(sqlite3_stmt *st, void *row)
{
    *(queue_table_count *)row = (queue_table_count){
        .exporter_role = column_dup(st, 0),
        .schema = column_dup(st, 1),
        .table = column_dup(st, 2),
        .inserts = sqlite3_column_int64(st, 3),
        .updates = sqlite3_column_int64(st, 4),
        .deletes = sqlite3_column_int64(st, 5),
    };
}

static void dispose_counts(void *rows, size_t n) { queue_table_counts_free(rows, n); }

bool queue_table_counts_load(catalog *m, queue_table_count **out, size_t *n)
{
    void *rows;
    bool ok = catalog_load_rows(m,
                        "SELECT exporter_role, schema_name, table_name, num_inserts, "
                        "num_updates, num_deletes FROM queue_table_counts",
                        NULL, "the exported event counts", sizeof **out, fill_count, dispose_counts,
                        &rows, n);
    *out = rows;
    return ok;
}

void queue_table_counts_free(queue_table_count *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].exporter_role);
        free(c[i].schema);
        free(c[i].table);
    }
    free(c);
}

/* ---- the export dir guard's check ---- */

/* 1: the statement returns a row, 0: no row or no such table, -1: another error. */
static int has_row(sqlite3 *db, const char *sql, long long arg)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return strstr(sqlite3_errmsg(db), "no such table") ? 0 : -1;
    sqlite3_bind_int64(st, 1, arg);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

catalog_records catalog_check_records(const char *path, const long long *segments,
                                      size_t nsegments, bool has_data_files, long long *missing,
                                      char **detail)
{
    *detail = NULL;
    sqlite3 *db = NULL;
    /* read-write without create: a read-only open could not read a WAL it must recover */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        *detail = xstrdup(db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return CATALOG_RECORDS_CANNOT_OPEN;
    }
    sqlite3_busy_timeout(db, 30000);
    catalog_records res = CATALOG_RECORDS_OK;
    for (size_t i = 0; res == CATALOG_RECORDS_OK && i < nsegments; i++) {
        int r = has_row(db, "SELECT 1 FROM queue_segment WHERE segment_no = ?1", segments[i]);
        if (r == 0) {
            *missing = segments[i];
            res = CATALOG_RECORDS_NO_SEGMENT;
        } else if (r < 0) {
            res = CATALOG_RECORDS_UNREADABLE;
        }
    }
    if (res == CATALOG_RECORDS_OK && has_data_files) {
        int r = has_row(db, "SELECT 1 FROM snapshot_export_table LIMIT 1", 0);
        if (r == 0)
            res = CATALOG_RECORDS_NO_TABLES;
        else if (r < 0)
            res = CATALOG_RECORDS_UNREADABLE;
    }
    if (res == CATALOG_RECORDS_UNREADABLE)
        *detail = xstrdup(sqlite3_errmsg(db));
    sqlite3_close(db);
    return res;
}
