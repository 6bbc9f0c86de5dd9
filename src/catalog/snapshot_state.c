#include "catalog/snapshot_state.h"
#include "catalog/catalog_int.h"

#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

bool snapshot_export_table_ensure(catalog *m, const char *schema, const char *table,
                                  int64_t estimated_rows)
{
    return catalog_run(m, NULL,
               "INSERT INTO snapshot_export_table(schema_name, table_name, estimated_rows) "
               "VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET estimated_rows = excluded.estimated_rows",
               "ssi", schema, table, (long long)estimated_rows);
}

bool snapshot_export_table_set(catalog *m, const char *schema, const char *table,
                               const char *status, int64_t rows)
{
    return catalog_run(m, NULL,
               "UPDATE snapshot_export_table SET status = ?3, exported_rows = ?4 "
               "WHERE schema_name = ?1 AND table_name = ?2",
               "sssi", schema, table, status, (long long)rows);
}

char *snapshot_export_table_status(catalog *m, const char *schema, const char *table)
{
    sqlite3 *db = catalog_sqlite(m);
    sqlite3_stmt *st;
    char *out = xstrdup("");
    if (sqlite3_prepare_v2(db,
                           "SELECT status FROM snapshot_export_table WHERE schema_name = ?1 AND "
                           "table_name = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return out;
    sqlite3_bind_text(st, 1, schema, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, table, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        free(out);
        out = xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
}

bool snapshot_export_table_restart(catalog *m, const char *schema, const char *table)
{
    if (!catalog_begin(m))
        return false;
    bool ok = snapshot_export_files_clear(m, schema, table) &&
              catalog_run(m, NULL,
                         "UPDATE snapshot_export_table SET status = 'NOT_STARTED', exported_rows = 0, "
                         "attempt = attempt + 1 WHERE schema_name = ?1 AND table_name = ?2",
                         "ss", schema, table);
    if (!ok) {
        catalog_rollback(m);
        return false;
    }
    return catalog_commit(m);
}

bool snapshot_export_files_clear(catalog *m, const char *schema, const char *table)
{
    return catalog_run(m, NULL,
                      "DELETE FROM snapshot_export_file WHERE schema_name = ?1 AND table_name = ?2",
                      "ss", schema, table);
}

bool snapshot_export_file_add(catalog *m, const char *schema, const char *table, int part,
                              const char *rel_path, int64_t rows, int64_t size,
                              const char *columns_json)
{
    return catalog_run(m, NULL,
               "INSERT OR REPLACE INTO snapshot_export_file(schema_name, table_name, part, "
               "file_path, row_count, file_size, columns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
               "ssisiis", schema, table, (long long)part, rel_path, (long long)rows,
               (long long)size, columns_json);
}

bool snapshot_export_reset(catalog *m)
{
    return catalog_exec(m, "DELETE FROM snapshot_export_table; DELETE FROM snapshot_export_file; "
                          "DELETE FROM sequence_last_values WHERE phase = 'snapshot'");
}

bool snapshot_import_table_set(catalog *m, const char *role, const char *schema, const char *table,
                               const char *status, int64_t imported, int64_t total)
{
    return catalog_run(m, NULL,
               "INSERT INTO snapshot_import_table(importer_role, schema_name, table_name, status, "
               "imported_rows, total_rows) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
               "ON CONFLICT DO UPDATE SET status = excluded.status, "
               "imported_rows = excluded.imported_rows, total_rows = excluded.total_rows",
               "ssssii", role, schema, table, status, (long long)imported,
               (long long)total);
}

bool snapshot_import_reset_table(catalog *m, const char *role, const char *schema, const char *table)
{
    return catalog_run(m, NULL,
               "DELETE FROM snapshot_import_table WHERE importer_role = ?1 AND schema_name = ?2 "
               "AND table_name = ?3",
               "sss", role, schema, table) &&
           catalog_run(m, NULL,
               "DELETE FROM snapshot_import_batch WHERE importer_role = ?1 AND schema_name = ?2 "
               "AND table_name = ?3",
               "sss", role, schema, table);
}

int64_t snapshot_import_attempt_get(catalog *m, const char *role, const char *schema, const char *table)
{
    long long v = 0;
    if (!catalog_run(m, &v,
                    "SELECT export_attempt FROM snapshot_import_table WHERE importer_role = ?1 AND "
                    "schema_name = ?2 AND table_name = ?3",
                    "sss", role, schema, table))
        return -1;
    return v;
}

bool snapshot_import_attempt_set(catalog *m, const char *role, const char *schema, const char *table,
                                 int64_t attempt)
{
    return catalog_run(m, NULL,
               "INSERT INTO snapshot_import_table(importer_role, schema_name, table_name, status, "
               "export_attempt) VALUES (?1, ?2, ?3, 'NOT_STARTED', ?4) "
               "ON CONFLICT DO UPDATE SET export_attempt = excluded.export_attempt",
               "sssi", role, schema, table, (long long)attempt);
}

bool snapshot_import_plan_load(catalog *m, const char *role, const char *rel, batch_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(catalog_sqlite(m),
                           "SELECT batch_number, start_offset, end_offset, first_line, row_count "
                           "FROM snapshot_import_batch WHERE importer_role = ?1 AND file_path = ?2 "
                           "ORDER BY batch_number",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, role, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, rel, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        plan->items = xrealloc(plan->items, (plan->count + 1) * sizeof *plan->items);
        plan->items[plan->count++] = (batch_range){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                                   sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                                                   sqlite3_column_int64(st, 4)};
    }
    sqlite3_finalize(st);
    return true;
}

bool snapshot_import_plan_store(catalog *m, const char *role, const char *schema, const char *table,
                                const char *rel, const batch_plan *plan)
{
    if (!catalog_begin(m))
        return false;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(catalog_sqlite(m),
                           "INSERT OR REPLACE INTO snapshot_import_batch(importer_role, file_path, "
                           "batch_number, start_offset, end_offset, first_line, row_count, "
                           "schema_name, table_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                           -1, &st, NULL) != SQLITE_OK) {
        catalog_rollback(m);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < plan->count; i++) {
        const batch_range *b = &plan->items[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, role, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, rel, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, b->number);
        sqlite3_bind_int64(st, 4, b->start_offset);
        sqlite3_bind_int64(st, 5, b->end_offset);
        sqlite3_bind_int64(st, 6, b->first_line);
        sqlite3_bind_int64(st, 7, b->rows);
        sqlite3_bind_text(st, 8, schema, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 9, table, -1, SQLITE_TRANSIENT);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (!ok) {
        log_error("metadata store (meta.db): %s", sqlite3_errmsg(catalog_sqlite(m)));
        catalog_rollback(m);
        return false;
    }
    return catalog_commit(m);
}

char *snapshot_import_generation_get(catalog *m, const char *role)
{
    sqlite3_stmt *st;
    char *out = NULL;
    if (sqlite3_prepare_v2(catalog_sqlite(m),
                           "SELECT export_id FROM snapshot_import_generation WHERE importer_role = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, role, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        out = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

bool snapshot_import_generation_set(catalog *m, const char *role, const char *export_id)
{
    return catalog_run(m, NULL,
               "INSERT OR REPLACE INTO snapshot_import_generation(importer_role, export_id) "
               "VALUES (?1, ?2)",
               "ss", role, export_id);
}

void batch_plan_free(batch_plan *plan)
{
    free(plan->items);
    plan->items = NULL;
    plan->count = 0;
}

static char *column_text_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    return v ? xstrdup((const char *)v) : NULL;
}

int64_t snapshot_export_tables_unfinished(catalog *m)
{
    long long n = -1;
    if (!catalog_run(m, &n, "SELECT count(*) FROM snapshot_export_table WHERE status <> 'DONE'", ""))
        return -1;
    return n;
}

int64_t snapshot_export_table_attempt(catalog *m, const char *schema, const char *table)
{
    long long v = -1;
    catalog_run(m, &v,
                "SELECT attempt FROM snapshot_export_table WHERE schema_name = ?1 AND table_name = ?2",
                "ss", schema, table);
    return v;
}

static void file_free(snapshot_file *f)
{
    free(f->schema);
    free(f->table);
    free(f->path);
    free(f->columns_json);
}

void snapshot_files_free(snapshot_file *files, size_t n)
{
    for (size_t i = 0; i < n; i++)
        file_free(&files[i]);
    free(files);
}

static void dispose_done_files(void *rows, size_t n) { snapshot_files_free(rows, n); }

static void fill_done_file(sqlite3_stmt *st, void *row)
{
    *(snapshot_file *)row = (snapshot_file){
        .schema = column_text_dup(st, 0),
        .table = column_text_dup(st, 1),
        .part = sqlite3_column_int(st, 2),
        .path = column_text_dup(st, 3),
        .rows = sqlite3_column_int64(st, 4),
        .size = sqlite3_column_int64(st, 5),
        .columns_json = column_text_dup(st, 6),
    };
}

bool snapshot_export_done_files(catalog *m, snapshot_file **out, size_t *n)
{
    void *rows;
    bool ok = catalog_load_rows(m,
                        "SELECT f.schema_name, f.table_name, f.part, f.file_path, f.row_count,"
                        " f.file_size, f.columns FROM snapshot_export_file f"
                        " JOIN snapshot_export_table t USING (schema_name, table_name)"
                        " WHERE t.status = 'DONE' ORDER BY 1, 2, 3",
                        NULL, "the exported data files", sizeof **out, fill_done_file,
                        dispose_done_files, &rows, n);
    *out = rows;
    return ok;
}

void snapshot_export_entries_free(snapshot_export_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].status);
        file_free(&e[i].file);
    }
    free(e);
}

static void dispose_export_entries(void *rows, size_t n) { snapshot_export_entries_free(rows, n); }

static void fill_export_entry(sqlite3_stmt *st, void *row)
{
    snapshot_export_entry *e = row;
    e->file.schema = column_text_dup(st, 0);
    e->file.table = column_text_dup(st, 1);
    e->status = column_text_dup(st, 2);
    e->attempt = sqlite3_column_int64(st, 3);
    if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
        e->file.part = sqlite3_column_int(st, 4);
        e->file.path = column_text_dup(st, 5);
        e->file.rows = sqlite3_column_int64(st, 6);
        e->file.size = sqlite3_column_int64(st, 7);
        e->file.columns_json = column_text_dup(st, 8);
    }
}

bool snapshot_export_entries_load(catalog *m, snapshot_export_entry **out, size_t *n)
{
    void *rows;
    bool ok = catalog_load_rows(m,
                        "SELECT t.schema_name, t.table_name, t.status, t.attempt, f.part, f.file_path,"
                        " f.row_count, f.file_size, f.columns FROM snapshot_export_table t"
                        " LEFT JOIN snapshot_export_file f ON f.schema_name = t.schema_name AND"
                        " f.table_name = t.table_name ORDER BY 1, 2, 5",
                        NULL, "the exported tables and files", sizeof **out, fill_export_entry,
                        dispose_export_entries, &rows, n);
    *out = rows;
    return ok;
}

void snapshot_import_progress_free(snapshot_import_progress *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].schema);
        free(rows[i].table);
        free(rows[i].status);
    }
    free(rows);
}

static void dispose_import_progress(void *rows, size_t n) { snapshot_import_progress_free(rows, n); }

static void fill_import_progress(sqlite3_stmt *st, void *row)
{
    *(snapshot_import_progress *)row = (snapshot_import_progress){
        .schema = column_text_dup(st, 0),
        .table = column_text_dup(st, 1),
        .status = column_text_dup(st, 2),
        .imported = sqlite3_column_int64(st, 3),
        .total = sqlite3_column_int64(st, 4),
        .export_total = sqlite3_column_int64(st, 5),
    };
}

bool snapshot_import_progress_load(catalog *m, const char *role, snapshot_import_progress **out,
                                   size_t *n)
{
    void *rows;
    bool ok = catalog_load_rows(
        m,
        "SELECT e.schema_name, e.table_name, coalesce(i.status, 'NOT_STARTED'),"
        " coalesce(i.imported_rows, 0),"
        " CASE WHEN i.total_rows > 0 OR e.status = 'DONE' THEN coalesce(i.total_rows, e.exported_rows)"
        "  ELSE e.estimated_rows END,"
        " CASE WHEN e.status = 'DONE' THEN e.exported_rows ELSE e.estimated_rows END"
        " FROM snapshot_export_table e LEFT JOIN snapshot_import_table i"
        "  ON i.importer_role = ?1 AND i.schema_name = e.schema_name AND i.table_name = e.table_name"
        " ORDER BY 1, 2",
        role, "the snapshot import's progress", sizeof **out, fill_import_progress,
        dispose_import_progress, &rows, n);
    *out = rows;
    return ok;
}
