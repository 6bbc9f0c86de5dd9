#include "migration/report.h"

#include "cdc/import_metainfo.h"
#include "cdc/queue_format.h"
#include "catalog/migration_state.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/text_table.h"
#include "core/util.h"
#include "db/connect.h"
#include "migration/cutover.h"
#include "snapshot/table_list.h"
#include "source/writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

report_row *report_add(report *r, const char *schema, const char *table, const char *db_type)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->rows = xrealloc(r->rows, r->cap * sizeof *r->rows);
    }
    report_row *row = &r->rows[r->n++];
    *row = (report_row){
        .schema = xstrdup(schema), .table = xstrdup(table), .db_type = db_type,
        .snapshot_rows = REPORT_NA, .imported_snapshot_rows = REPORT_NA,
        .exported_inserts = REPORT_NA, .exported_updates = REPORT_NA, .exported_deletes = REPORT_NA,
        .imported_inserts = REPORT_NA, .imported_updates = REPORT_NA, .imported_deletes = REPORT_NA,
        .final_row_count = REPORT_NA,
    };
    return row;
}

report_row *report_find(report *r, const char *schema, const char *table, const char *db_type)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->rows[i].schema, schema) == 0 && strcmp(r->rows[i].table, table) == 0 &&
            strcmp(r->rows[i].db_type, db_type) == 0)
            return &r->rows[i];
    return NULL;
}

void report_free(report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->rows[i].schema);
        free(r->rows[i].table);
    }
    free(r->rows);
    *r = (report){0};
}

/* NA counts add up as zero once something is known. */
static void add_count(long long *slot, long long v)
{
    *slot = (*slot == REPORT_NA ? 0 : *slot) + v;
}

static const char *const columns[] = {
    "TABLE NAME", "DB TYPE", "SNAPSHOT ROW COUNT", "IMPORTED SNAPSHOT ROWS",
    "EXPORTED INSERTS", "EXPORTED UPDATES", "EXPORTED DELETES",
    "IMPORTED INSERTS", "IMPORTED UPDATES", "IMPORTED DELETES", "FINAL ROW COUNT",
};
#define NCOLS (sizeof columns / sizeof columns[0])

static void row_cells(const report_row *row, char *cells[NCOLS])
{
    const long long v[] = {row->snapshot_rows,    row->imported_snapshot_rows,
                           row->exported_inserts, row->exported_updates, row->exported_deletes,
                           row->imported_inserts, row->imported_updates, row->imported_deletes,
                           row->final_row_count};
    cells[0] = table_display_name(row->schema, row->table);
    cells[1] = xstrdup(row->db_type);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        cells[i + 2] = v[i] == REPORT_NA ? xstrdup("-") : xasprintf("%lld", v[i]);
}

char *report_render_table(const report *r)
{
    /* every line as wide as the others; names left-aligned, numbers right-aligned */
    static const text_table_style style = {" | ", "-+-", true, 2};
    char **cells = xcalloc(r->n ? r->n * NCOLS : 1, sizeof *cells);
    for (size_t i = 0; i < r->n; i++)
        row_cells(&r->rows[i], &cells[i * NCOLS]);
    char *t = text_table_render(&style, columns, NCOLS, (const char *const *)cells, r->n);
    for (size_t i = 0; i < r->n * NCOLS; i++)
        free(cells[i]);
    free(cells);
    return t;
}

cJSON *report_render_json(const report *r)
{
    static const char *const keys[] = {
        "table_name", "db_type", "snapshot_row_count", "imported_snapshot_rows",
        "exported_inserts", "exported_updates", "exported_deletes",
        "imported_inserts", "imported_updates", "imported_deletes", "final_row_count",
    };
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < r->n; i++) {
        const report_row *row = &r->rows[i];
        const long long v[] = {row->snapshot_rows,    row->imported_snapshot_rows,
                               row->exported_inserts, row->exported_updates, row->exported_deletes,
                               row->imported_inserts, row->imported_updates, row->imported_deletes,
                               row->final_row_count};
        cJSON *o = cJSON_CreateObject();
        char *name = table_display_name(row->schema, row->table);
        cJSON_AddStringToObject(o, keys[0], name);
        free(name);
        cJSON_AddStringToObject(o, "schema_name", row->schema);
        cJSON_AddStringToObject(o, "table", row->table);
        cJSON_AddStringToObject(o, keys[1], row->db_type);
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            if (v[k] == REPORT_NA)
                cJSON_AddNullToObject(o, keys[k + 2]);
            else
                cJSON_AddNumberToObject(o, keys[k + 2], (double)v[k]);
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* ---- gathering ---- */

typedef struct db_slot {
    db_role role;
    const char *db_type;
    const char *importer_role;           /* snapshot_import_table / queue flag naming */
    const char *const *exporter_roles;   /* events exported from this database */
} db_slot;

static const char *const source_exporters[] = {"source_db_exporter", NULL};
static const char *const target_exporters[] = {"target_db_exporter_fb", "target_db_exporter_ff", NULL};
static const char *const no_exporters[] = {NULL};

static const db_slot slots[] = {
    {DB_SOURCE, "source", "source_db_importer", source_exporters},
    {DB_TARGET, "target", "target_db_importer", target_exporters},
    {DB_SOURCE_REPLICA, "source-replica", "source_replica_db_importer", no_exporters},
};

/* Every exported table gets a row for each database involved. */
static bool load_tables(catalog *cat, report *r, const bool involved[3])
{
    exported_table *t = NULL;
    size_t n = 0;
    if (!exported_tables_load(cat, &t, &n))
        return false;
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
            if (!involved[i])
                continue;
            report_row *row = report_add(r, t[k].schema, t[k].table, slots[i].db_type);
            if (t[k].status && strcmp(t[k].status, "DONE") == 0)
                row->snapshot_rows = t[k].rows;
        }
    }
    exported_tables_free(t, n);
    return true;
}

/*
 * export data records its tables before it exports anything; export schema
 * records the source connection but no table, so that is not enough.
 */
static bool export_data_started(catalog *cat, bool *started)
{
    exported_table *t = NULL;
    size_t n = 0;
    if (!exported_tables_load(cat, &t, &n))
        return false;
    exported_tables_free(t, n);
    *started = n > 0;
    return true;
}

static bool load_exported_events(catalog *cat, report *r)
{
    queue_table_count *c = NULL;
    size_t n = 0;
    if (!queue_table_counts_load(cat, &c, &n))
        return false;
    for (size_t k = 0; k < n; k++) {
        const char *role = c[k].exporter_role;
        const char *db_type = role && str_starts_with(role, "target_") ? "target" : "source";
        report_row *row = c[k].schema && c[k].table ? report_find(r, c[k].schema, c[k].table, db_type) : NULL;
        if (!row)
            continue;
        add_count(&row->exported_inserts, c[k].inserts);
        add_count(&row->exported_updates, c[k].updates);
        add_count(&row->exported_deletes, c[k].deletes);
    }
    queue_table_counts_free(c, n);
    return true;
}

static bool pg_has_relation(pgconn *c, const char *qualified) { return pgconn_relation_exists(c, qualified) == 1; }

static void load_db_counts(catalog *cat, pgconn *c, report *r, const db_slot *slot)
{
    const char *uuid = catalog_migration_uuid(cat);
    const char *params[] = {uuid};
    if (pg_has_relation(c, "ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3")) {
        PGresult *res = pgconn_query(
            c, "SELECT schema_name, table_name, sum(rows_imported)::bigint FROM "
               "ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3 "
               "WHERE migration_uuid::text = $1 GROUP BY 1, 2",
            1, params);
        for (int i = 0; res && i < PQntuples(res); i++) {
            report_row *row = report_find(r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                                          slot->db_type);
            if (row)
                add_count(&row->imported_snapshot_rows, atoll(PQgetvalue(res, i, 2)));
        }
        PQclear(res);
    }
    /* Every table we imported into starts at 0 imported rows, not "-". */
    for (size_t i = 0; slot->role != DB_SOURCE && i < r->n; i++)
        if (strcmp(r->rows[i].db_type, slot->db_type) == 0 &&
            r->rows[i].imported_snapshot_rows == REPORT_NA)
            r->rows[i].imported_snapshot_rows = 0;
    cdc_table_count *counts = NULL;
    size_t ncounts = 0;
    if (cdc_import_counts_by_table(c, uuid, &counts, &ncounts)) {
        for (size_t i = 0; i < ncounts; i++) {
            report_row *row = report_find(r, counts[i].schema_name, counts[i].table_name, slot->db_type);
            if (row) {
                add_count(&row->imported_inserts, counts[i].inserts);
                add_count(&row->imported_updates, counts[i].updates);
                add_count(&row->imported_deletes, counts[i].deletes);
            }
        }
        cdc_import_counts_free(counts, ncounts);
    }
    for (size_t i = 0; i < r->n; i++) {
        report_row *row = &r->rows[i];
        if (strcmp(row->db_type, slot->db_type) != 0)
            continue;
        char *q = pg_quote_qualified(row->schema, row->table);
        if (pg_has_relation(c, q)) {
            char *sql = xasprintf("SELECT count(*) FROM %s", q);
            char *v = pgconn_query_value(c, sql, 0, NULL);
            if (v)
                row->final_row_count = atoll(v);
            free(v);
            free(sql);
        }
        free(q);
    }
}

/*
 * A database a writer with its own bookkeeping reads (MySQL: the database
 * ybvoyager_metadata on its server, source/writer.h table_counts): the same
 * numbers as load_db_counts, without libpq.
 */
static void load_writer_counts(catalog *cat, writer *w, writer_session *m, report *r,
                               const db_slot *slot)
{
    writer_table_count *counts = NULL;
    size_t n = 0;
    if (w->ops->table_counts(m, catalog_migration_uuid(cat), &counts, &n)) {
        for (size_t i = 0; i < n; i++) {
            report_row *row = report_find(r, counts[i].schema_name, counts[i].table_name,
                                          slot->db_type);
            if (!row)
                continue;
            if (counts[i].snapshot_rows >= 0)
                add_count(&row->imported_snapshot_rows, counts[i].snapshot_rows);
            add_count(&row->imported_inserts, counts[i].inserts);
            add_count(&row->imported_updates, counts[i].updates);
            add_count(&row->imported_deletes, counts[i].deletes);
        }
        writer_table_counts_free(counts, n);
    }
    for (size_t i = 0; slot->role != DB_SOURCE && i < r->n; i++)
        if (strcmp(r->rows[i].db_type, slot->db_type) == 0 &&
            r->rows[i].imported_snapshot_rows == REPORT_NA)
            r->rows[i].imported_snapshot_rows = 0;
    for (size_t i = 0; i < r->n; i++) {
        report_row *row = &r->rows[i];
        int64_t rows = 0;
        if (strcmp(row->db_type, slot->db_type) == 0 &&
            w->ops->row_count(m, row->schema, row->table, &rows) == 1)
            row->final_row_count = rows;
    }
}

/*
 * The source or source-replica through its writer, when that writer reads
 * its own bookkeeping (table_counts set): *handled then, and the result is
 * the engine status. A database that cannot be reached is a failure only
 * where its password was given; without one the writer's connect asks for it
 * on a terminal (as connect_optional does), and with no terminal its numbers
 * are left out with a note.
 */
static engine_status writer_db_counts(const engine_ctx *eng, db_conf *conf, report *r,
                                      const db_slot *slot, const char *needs, bool *handled)
{
    engine_status st = ENGINE_OK;
    *handled = false;
    /* writer_for records nothing itself; the catalog the session records conf in is eng's */
    writer *w = writer_for((engine_ctx *)eng, conf, &st);
    if (!w)
        return ENGINE_OK; /* no writer of that type: the existing path */
    if (!w->ops->table_counts || !w->ops->row_count) {
        writer_free(w);
        return ENGINE_OK;
    }
    *handled = true;
    /* one attempt: a report does not wait for a database that is away */
    retry_policy pol = {.deadline_ms = 0, .max_attempts = 1};
    retry_state rs;
    retry_init(&rs, &pol);
    bool gave_up = false;
    writer_session *m = w->ops->connect(w, &rs, eng->interrupted, &gave_up);
    if (m) {
        load_writer_counts(eng->cat, w, m, r, slot);
        writer_session_close(m);
    } else if (conf->password) {
        st = db_role_failure(conf->role);
    } else {
        fprintf(stderr,
                "note: the %s database's %s are shown as '-': it could not be reached (see "
                "above); give --%s-db-password or %s if it wants a password\n",
                db_role_name(conf->role), needs, db_role_name(conf->role),
                db_role_password_env(conf->role));
    }
    writer_free(w);
    return st;
}

/*
 * The documented command lines give some passwords only (target; then
 * source-replica): a database whose password is not given is connected
 * without one, and where it wants one and there is no terminal to ask on, its
 * database-side numbers are left out ("-") with a note naming the flag,
 * instead of failing the whole report.
 */
static pgconn *connect_optional(catalog *cat, db_conf *conf, const char *needs, bool may_prompt)
{
    if (conf->password)
        return db_connect_recorded(cat, conf, NULL);
    const char *role = db_role_name(conf->role);
    if (may_prompt) {
        log_say("the %s database's %s need a connection to it; asked only if it wants a "
                "password (or give --%s-db-password / %s)",
                role, needs, role, db_role_password_env(conf->role));
        return db_connect_recorded(cat, conf, NULL);
    }
    pgconn_options o = {.quiet = true};
    pgconn *c = pgconn_connect(conf, &o);
    if (!c) {
        log_info("%s database: not connected without a password", role);
        fprintf(stderr,
                "note: the %s database's %s are shown as '-': it wants a password; give "
                "--%s-db-password or %s to see them\n",
                role, needs, role, db_role_password_env(conf->role));
    }
    return c;
}

engine_status migration_data_report_build(const engine_ctx *eng, const report_spec *spec, report *r)
{
    cJSON *rec = catalog_status_load(eng->cat);
    if (!rec) {
        log_error("cannot read the migration status from meta.db");
        return ENGINE_FAILED;
    }
    bool involved[3];
    for (size_t i = 0; i < 3; i++)
        involved[i] = spec->conf[slots[i].role] != NULL;
    bool fallback = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallbackEnabled"));
    cJSON_Delete(rec);
    bool started = false;
    if (involved[0] && !export_data_started(eng->cat, &started))
        return ENGINE_FAILED;
    if (!involved[0] || !started) {
        log_report(LOG_ERROR, NULL, "run 'yb-voyager export data' first",
                   "no data migration in this export dir yet");
        return ENGINE_BAD_STATE;
    }
    engine_status rc = ENGINE_OK;
    if (!load_tables(eng->cat, r, involved) || !load_exported_events(eng->cat, r))
        return ENGINE_FAILED;
    for (size_t i = 0; i < 3 && rc == ENGINE_OK; i++) {
        if (!involved[i])
            continue;
        db_conf *conf = spec->conf[slots[i].role];
        pgconn *c;
        if (slots[i].role != DB_TARGET) {
            const char *needs = slots[i].role == DB_SOURCE_REPLICA
                                    ? "IMPORTED SNAPSHOT ROWS, IMPORTED changes and FINAL ROW COUNT"
                                : fallback ? "FINAL ROW COUNT and the changes imported back (fall-back)"
                                           : "FINAL ROW COUNT";
            bool handled = false;
            rc = writer_db_counts(eng, conf, r, &slots[i], needs, &handled);
            if (handled)
                continue;
            bool had_password = conf->password != NULL;
            c = connect_optional(eng->cat, conf, needs, spec->may_prompt);
            if (!c && (had_password || spec->may_prompt))
                rc = db_role_failure(slots[i].role); /* a real failure, already reported */
        } else {
            c = db_connect_recorded(eng->cat, conf, NULL);
            if (!c)
                rc = db_role_failure(slots[i].role);
        }
        if (c)
            load_db_counts(eng->cat, c, r, &slots[i]);
        pgconn_close(c);
    }
    return rc;
}

bool migration_data_report_save(const engine_ctx *eng, const report *r, const char *table_text)
{
    /* upstream's file name; the JSON form whatever --output-format says */
    cJSON *arr = report_render_json(r);
    char *json = cJSON_Print(arr);
    cJSON_Delete(arr);
    char *path = xasprintf("%s/reports/data-migration-report.json", eng->export_dir);
    bool ok = fs_write_atomic(path, json, strlen(json));
    if (!ok)
        log_warn("could not save the report to %s", path);
    free(path);
    free(json);
    if (table_text) {
        path = xasprintf("%s/reports/data-migration-report.txt", eng->export_dir);
        if (!fs_write_atomic(path, table_text, strlen(table_text))) {
            log_warn("could not save the report to %s", path);
            ok = false;
        }
        free(path);
    }
    return ok;
}

engine_status migration_data_report(const engine_ctx *eng, const report_spec *spec)
{
    report r = {0};
    engine_status rc = migration_data_report_build(eng, spec, &r);
    if (rc == ENGINE_OK) {
        char *table = report_render_table(&r);
        if (spec->json) {
            cJSON *arr = report_render_json(&r);
            char *out = cJSON_Print(arr);
            cJSON_Delete(arr);
            printf("%s\n", out);
            free(out);
        } else {
            fputs(table, stdout);
        }
        migration_data_report_save(eng, &r, table);
        free(table);
        cutover_warn_feeds_left(eng);
    }
    report_free(&r);
    return rc;
}
