#include "catalog/import_state.h"
#include "catalog/catalog_int.h"

#include "core/log.h"
#include "core/util.h"

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

static void fill_segment(sqlite3_stmt *st, void *row)
{
    *(import_segment *)row = (import_segment){
        .exists = true,
        .path = catalog_column_dup(st, 0),
        .exporter_role = catalog_column_dup(st, 1),
        .committed = sqlite3_column_int64(st, 2),
        .closed = sqlite3_column_int(st, 3) != 0,
        .imported = sqlite3_column_int(st, 4) != 0,
        .gone = sqlite3_column_int(st, 5) != 0,
        .archive_location = catalog_column_dup(st, 6),
        .first_vsn = sqlite3_column_int64(st, 7), /* NULL reads as 0 */
    };
}

bool import_state_segment_load(catalog *m, const char *importer_role, int64_t no,
                               import_segment *out)
{
    memset(out, 0, sizeof *out);
    const char *col = imported_col(importer_role);
    if (!col)
        return false;
    char *sql = xasprintf("SELECT file_path, exporter_role, committed_size, is_closed, %s, "
                          "archived OR deleted, archive_location, first_vsn FROM queue_segment "
                          "WHERE segment_no = ?",
                          col);
    bool found;
    bool ok = catalog_load_row(m, "a queue segment", fill_segment, out, &found, sql, "i",
                               (long long)no);
    free(sql);
    return ok;
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

bool import_state_segments_mark_through_end(catalog *m, const char *importer_role,
                                            const char *final_role,
                                            const char *const *exporter_roles, int64_t *marked)
{
    *marked = 0;
    const char *col = imported_col(importer_role);
    if (!col)
        return false;
    const char *r[3] = {NULL, NULL, NULL}; /* unused places bind NULL: IN never matches them */
    for (size_t i = 0; i < 3 && exporter_roles[i]; i++)
        r[i] = exporter_roles[i];
    const char *which = "FROM queue_segment WHERE %s = 0 AND exporter_role IN (?2, ?3, ?4) AND "
                        "segment_no <= (SELECT max(segment_no) FROM queue_segment "
                        "WHERE exporter_role = ?1 AND is_last <> 0)";
    char *where = xasprintf(which, col);
    char *count = xasprintf("SELECT count(*) %s", where);
    char *update = xasprintf("UPDATE queue_segment SET %s = 1 WHERE segment_no IN "
                             "(SELECT segment_no %s)",
                             col, where);
    long long n = 0;
    bool ok = catalog_begin(m);
    ok = ok && catalog_run(m, &n, count, "ssss", final_role, r[0], r[1], r[2]) &&
         catalog_run(m, NULL, update, "ssss", final_role, r[0], r[1], r[2]) && catalog_commit(m);
    if (!ok)
        catalog_rollback(m);
    free(where);
    free(count);
    free(update);
    *marked = ok ? n : 0;
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

typedef struct seg_range {
    long long lo, hi;
} seg_range;

static void fill_range(sqlite3_stmt *st, void *row)
{
    seg_range *r = row;
    if (sqlite3_column_type(st, 0) != SQLITE_NULL)
        r->lo = sqlite3_column_int64(st, 0);
    if (sqlite3_column_type(st, 1) != SQLITE_NULL)
        r->hi = sqlite3_column_int64(st, 1);
}

bool import_state_deleted_unapplied(catalog *m, const char *exporter_role,
                                    const char *importer_role, int64_t *first, int64_t *last)
{
    seg_range r = {-1, -1};
    const char *col = imported_col(importer_role);
    bool ok = false;
    if (col) {
        char *sql = xasprintf("SELECT min(segment_no), max(segment_no) FROM queue_segment "
                              "WHERE deleted <> 0 AND exporter_role = ?1 AND %s = 0",
                              col);
        bool found;
        ok = catalog_load_row(m, "the queue", fill_range, &r, &found, sql, "s", exporter_role);
        free(sql);
    }
    *first = r.lo;
    *last = r.hi;
    return ok;
}

bool import_state_deleted_any(catalog *m, int64_t *first, int64_t *last)
{
    seg_range r = {-1, -1};
    bool found;
    bool ok = catalog_load_row(m, "the queue", fill_range, &r, &found,
                               "SELECT min(segment_no), max(segment_no) FROM queue_segment "
                               "WHERE deleted <> 0",
                               "");
    *first = r.lo;
    *last = r.hi;
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

static void fill_text(sqlite3_stmt *st, void *row) { *(char **)row = catalog_column_dup(st, 0); }

char *import_state_route(catalog *m, const char *importer_role, const char *schema,
                         const char *table, const char *want)
{
    char *got = NULL;
    bool found;
    /* the read is finished before the write below: an open one would fail it ("database is locked") */
    if (!catalog_load_row(m, "the change import's routes", fill_text, &got, &found,
                          "SELECT route_group FROM cdc_import_route WHERE importer_role = ? "
                          "AND schema_name = ? AND table_name = ?",
                          "sss", importer_role, schema, table))
        return NULL;
    if (!found &&
        catalog_run(m, NULL,
                    "INSERT INTO cdc_import_route (importer_role, schema_name, table_name, "
                    "route_group) VALUES (?, ?, ?, ?)",
                    "ssss", importer_role, schema, table, want))
        got = xstrdup(want);
    return got;
}

typedef struct table_filter {
    char *include, *exclude;
} table_filter;

static void fill_filter(sqlite3_stmt *st, void *row)
{
    *(table_filter *)row = (table_filter){catalog_column_dup(st, 0), catalog_column_dup(st, 1)};
}

bool import_state_table_filter_get(catalog *m, const char *importer_role, char **include,
                                   char **exclude)
{
    table_filter f = {0};
    bool found;
    bool ok = catalog_load_row(m, "the change import's table lists", fill_filter, &f, &found,
                               "SELECT include_list, exclude_list FROM import_table_filter "
                               "WHERE importer_role = ?1",
                               "s", importer_role);
    *include = f.include;
    *exclude = f.exclude;
    return ok;
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
