#include "catalog/export_state.h"
#include "catalog/catalog_int.h"

#include "core/util.h"

#include <stdlib.h>
#include <string.h>

bool export_state_started(catalog *m)
{
    long long n = 0;
    return catalog_run(m, &n,
                       "SELECT count(*) FROM snapshot_export_table WHERE status <> 'NOT_STARTED'", "") &&
           n > 0;
}

static const char *text_or_empty(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? s : "";
}

bool export_state_tables(catalog *m, bool sorted, export_table_rows *out)
{
    *out = (export_table_rows){0};
    sqlite3 *db = catalog_sqlite(m);
    sqlite3_stmt *st;
    const char *sql = sorted ? "SELECT schema_name, table_name, status, exported_rows "
                               "FROM snapshot_export_table ORDER BY 1, 2"
                             : "SELECT schema_name, table_name, status, exported_rows "
                               "FROM snapshot_export_table";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        catalog_log_error(m, NULL);
        return false;
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->count == cap) {
            cap = cap ? cap * 2 : 16;
            out->items = xrealloc(out->items, cap * sizeof *out->items);
        }
        out->items[out->count++] = (export_table_row){
            .schema = xstrdup(text_or_empty(st, 0)),
            .table = xstrdup(text_or_empty(st, 1)),
            .status = xstrdup(text_or_empty(st, 2)),
            .exported_rows = sqlite3_column_int64(st, 3),
        };
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        catalog_log_error(m, NULL);
        export_table_rows_free(out);
        return false;
    }
    return true;
}

void export_table_rows_free(export_table_rows *rows)
{
    for (size_t i = 0; i < rows->count; i++) {
        free(rows->items[i].schema);
        free(rows->items[i].table);
        free(rows->items[i].status);
    }
    free(rows->items);
    *rows = (export_table_rows){0};
}

int64_t export_state_table_rows(catalog *m, const char *schema, const char *table)
{
    long long n = 0;
    if (!catalog_run(m, &n,
                     "SELECT exported_rows FROM snapshot_export_table WHERE schema_name = ?1 "
                     "AND table_name = ?2",
                     "ss", schema, table))
        return 0;
    return n;
}
