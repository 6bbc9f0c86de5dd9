#include "catalog/import_state.h"
#include "catalog/catalog_int.h"

#include "core/log.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* queue_segment's column for an importer: a fixed set, so the name is never user text. */
static const char *imported_col(const char *importer_role)
{
    static const char *const cols[][2] = {
        {"target_db_importer", "imported_by_target_db_importer"},
        {"source_replica_db_importer", "imported_by_source_replica_db_importer"},
        {"source_db_importer", "imported_by_source_db_importer"},
    };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        if (strcmp(cols[i][0], importer_role) == 0)
            return cols[i][1];
    log_bug("unknown importer role %s", importer_role);
    return NULL;
}

static char *column_text_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    return v ? xstrdup((const char *)v) : NULL;
}

/*
 * Prepare sql, bind its parameters (types as catalog_run: 'i' long long, 's'
 * text) and step to its first row. Returns SQLITE_ROW with *st on the row,
 * SQLITE_DONE, or an error code (logged). The caller finalizes *st in every
 * case, before it runs another statement: an open one holds a read snapshot
 * that makes the next write fail ("database is locked").
 */
static int first_row(catalog *m, sqlite3_stmt **st, const char *sql, const char *types, ...)
{
    *st = NULL;
    int rc = sqlite3_prepare_v2(catalog_sqlite(m), sql, -1, st, NULL);
    if (rc == SQLITE_OK) {
        va_list ap;
        va_start(ap, types);
        for (int i = 0; types[i]; i++) {
            if (types[i] == 'i')
                sqlite3_bind_int64(*st, i + 1, va_arg(ap, long long));
            else
                sqlite3_bind_text(*st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
        }
        va_end(ap);
        /* a writer holding the store is waited for by the handle's busy timeout */
        rc = sqlite3_step(*st);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        catalog_log_error(m, NULL);
    return rc;
}

bool import_state_committed_set(catalog *m, const char *importer_role, int channel, int64_t vsn)
{
    return catalog_run(m, NULL, "INSERT OR REPLACE INTO importer_channel_committed VALUES (?1, ?2, ?3)",
                       "sii", importer_role, (long long)channel, (long long)vsn);
}

bool import_state_committed_get(catalog *m, const char *importer_role, int channel, int64_t *vsn)
{
    long long v = 0;
    bool ok = catalog_run(m, &v,
                          "SELECT vsn FROM importer_channel_committed WHERE importer_role = ?1 AND "
                          "channel_no = ?2",
                          "si", importer_role, (long long)channel);
    *vsn = v;
    return ok;
}

bool import_state_committed_clear(catalog *m, const char *importer_role)
{
    return catalog_run(m, NULL, "DELETE FROM importer_channel_committed WHERE importer_role = ?1",
                       "s", importer_role);
}

void import_segment_free(import_segment *s)
{
    free(s->path);
    free(s->exporter_role);
    free(s->archive_location);
    memset(s, 0, sizeof *s);
}

bool import_state_segment_load(catalog *m, const char *importer_role, int64_t no,
                               import_segment *out)
{
    memset(out, 0, sizeof *out);
    const char *col = imported_col(importer_role);
    if (!col)
        return false;
    char *sql = xasprintf("SELECT file_path, exporter_role, committed_size, is_closed, %s, "
                          "archived OR deleted, archive_location FROM queue_segment "
                          "WHERE segment_no = ?",
                          col);
    sqlite3_stmt *st;
    int rc = first_row(m, &st, sql, "i", (long long)no);
    free(sql);
    if (rc == SQLITE_ROW) {
        out->exists = true;
        out->path = column_text_dup(st, 0);
        out->exporter_role = column_text_dup(st, 1);
        out->committed = sqlite3_column_int64(st, 2);
        out->closed = sqlite3_column_int(st, 3) != 0;
        out->imported = sqlite3_column_int(st, 4) != 0;
        out->gone = sqlite3_column_int(st, 5) != 0;
        out->archive_location = column_text_dup(st, 6);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

bool import_state_segment_mark_imported(catalog *m, const char *importer_role, int64_t no)
{
    const char *col = imported_col(importer_role);
    if (!col)
        return false;
    char *sql = xasprintf("UPDATE queue_segment SET %s = 1 WHERE segment_no = ?1", col);
    bool ok = catalog_run(m, NULL, sql, "i", (long long)no);
    free(sql);
    return ok;
}

bool import_state_segments_unmark_after(catalog *m, const char *importer_role, int64_t vsn)
{
    const char *col = imported_col(importer_role);
    if (!col)
        return false;
    char *sql = xasprintf("UPDATE queue_segment SET %s = 0 WHERE %s <> 0 "
                          "AND (last_vsn IS NULL OR last_vsn > ?1)",
                          col, col);
    bool ok = catalog_run(m, NULL, sql, "i", (long long)vsn);
    free(sql);
    return ok;
}

bool import_state_deleted_unapplied(catalog *m, const char *exporter_role,
                                    const char *importer_role, int64_t *first, int64_t *last)
{
    long long lo = -1, hi = -1;
    const char *col = imported_col(importer_role);
    bool ok = false;
    if (col) {
        char *sql = xasprintf("SELECT min(segment_no), max(segment_no) FROM queue_segment "
                              "WHERE deleted <> 0 AND exporter_role = ?1 AND %s = 0",
                              col);
        sqlite3_stmt *st;
        int rc = first_row(m, &st, sql, "s", exporter_role);
        free(sql);
        if (rc == SQLITE_ROW) {
            if (sqlite3_column_type(st, 0) != SQLITE_NULL)
                lo = sqlite3_column_int64(st, 0);
            if (sqlite3_column_type(st, 1) != SQLITE_NULL)
                hi = sqlite3_column_int64(st, 1);
        }
        ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
        sqlite3_finalize(st);
    }
    *first = lo;
    *last = hi;
    return ok;
}

int64_t import_state_queued_events(catalog *m, const char *exporter_a, const char *exporter_b)
{
    long long v = -1;
    if (!catalog_run(m, &v,
                     "SELECT coalesce(sum(num_inserts + num_updates + num_deletes), 0) "
                     "FROM queue_table_counts WHERE exporter_role IN (?1, ?2)",
                     "ss", exporter_a, exporter_b ? exporter_b : ""))
        return -1;
    return v;
}

bool import_state_routes_clear(catalog *m, const char *importer_role)
{
    return catalog_run(m, NULL, "DELETE FROM cdc_import_route WHERE importer_role = ?", "s",
                       importer_role);
}

bool import_state_routes_count(catalog *m, const char *importer_role, int64_t *n)
{
    long long v = 0;
    bool ok = catalog_run(m, &v, "SELECT count(*) FROM cdc_import_route WHERE importer_role = ?",
                          "s", importer_role);
    *n = v;
    return ok;
}

char *import_state_route(catalog *m, const char *importer_role, const char *schema,
                         const char *table, const char *want)
{
    sqlite3_stmt *st;
    char *got = NULL;
    int rc = first_row(m, &st,
                       "SELECT route_group FROM cdc_import_route WHERE importer_role = ? "
                       "AND schema_name = ? AND table_name = ?",
                       "sss", importer_role, schema, table);
    if (rc == SQLITE_ROW)
        got = column_text_dup(st, 0);
    /* finished before the write below: an open read would make it fail ("database is locked") */
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE &&
        catalog_run(m, NULL,
                    "INSERT INTO cdc_import_route (importer_role, schema_name, table_name, "
                    "route_group) VALUES (?, ?, ?, ?)",
                    "ssss", importer_role, schema, table, want))
        got = xstrdup(want);
    return got;
}

bool import_state_table_filter_get(catalog *m, const char *importer_role, char **include,
                                   char **exclude)
{
    *include = *exclude = NULL;
    sqlite3_stmt *st;
    int rc = first_row(m, &st,
                       "SELECT include_list, exclude_list FROM import_table_filter "
                       "WHERE importer_role = ?1",
                       "s", importer_role);
    if (rc == SQLITE_ROW) {
        *include = column_text_dup(st, 0);
        *exclude = column_text_dup(st, 1);
    }
    /*
     * Done with the row before returning: a statement left on it holds the
     * read snapshot, and the caller's write would then fail at once
     * ("database is locked") when an exporter wrote meanwhile.
     */
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

bool import_state_table_filter_set(catalog *m, const char *importer_role, const char *include,
                                   const char *exclude)
{
    return catalog_run(m, NULL,
                       "INSERT INTO import_table_filter(importer_role, include_list, exclude_list) "
                       "VALUES (?1, ?2, ?3) ON CONFLICT(importer_role) DO UPDATE SET "
                       "include_list = excluded.include_list, exclude_list = excluded.exclude_list",
                       "sss", importer_role, include, exclude);
}
