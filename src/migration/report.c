#include "migration/report.h"

#include "cdc/import_metainfo.h"
#include "cdc/queue_format.h"
#include "cli/cmd_connect.h"
#include "core/exitcodes.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "catalog/catalog_int.h" /* transitional (issue 14): SQL moves into src/catalog/ */
#include "core/util.h"
#include "snapshot/table_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    size_t width[NCOLS];
    for (size_t c = 0; c < NCOLS; c++)
        width[c] = strlen(columns[c]);
    char *(*cells)[NCOLS] = xcalloc(r->n ? r->n : 1, sizeof *cells);
    for (size_t i = 0; i < r->n; i++) {
        row_cells(&r->rows[i], cells[i]);
        for (size_t c = 0; c < NCOLS; c++)
            if (strlen(cells[i][c]) > width[c])
                width[c] = strlen(cells[i][c]);
    }
    strbuf sb = STRBUF_INIT;
    for (size_t c = 0; c < NCOLS; c++)
        strbuf_appendf(&sb, "%s%-*s", c ? " | " : "", (int)width[c], columns[c]);
    strbuf_append_char(&sb, '\n');
    for (size_t c = 0; c < NCOLS; c++) {
        strbuf_append(&sb, c ? "-+-" : "");
        for (size_t k = 0; k < width[c]; k++)
            strbuf_append_char(&sb, '-');
    }
    strbuf_append_char(&sb, '\n');
    for (size_t i = 0; i < r->n; i++) {
        for (size_t c = 0; c < NCOLS; c++) {
            /* Names left-aligned, numbers right-aligned. */
            strbuf_appendf(&sb, "%s%*s", c ? " | " : "", c < 2 ? -(int)width[c] : (int)width[c],
                           cells[i][c]);
            free(cells[i][c]);
        }
        strbuf_append_char(&sb, '\n');
    }
    free(cells);
    return strbuf_detach(&sb);
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

static bool sqlite_table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    bool yes = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1",
                                  -1, &st, NULL) == SQLITE_OK &&
               sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
               sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

/* Every exported table gets a row for each database involved. */
static bool load_tables(cmd_ctx *ctx, report *r, const bool involved[3])
{
    sqlite3 *db = catalog_sqlite(ctx->meta);
    if (!sqlite_table_exists(db, "snapshot_export_table"))
        return true;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT schema_name, table_name, status, exported_rows "
                               "FROM snapshot_export_table ORDER BY schema_name, table_name",
                           -1, &st, NULL) != SQLITE_OK) {
        log_error("cannot read the exported tables from meta.db: %s", sqlite3_errmsg(db));
        return false;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *schema = (const char *)sqlite3_column_text(st, 0);
        const char *table = (const char *)sqlite3_column_text(st, 1);
        const char *status = (const char *)sqlite3_column_text(st, 2);
        long long rows = sqlite3_column_int64(st, 3);
        for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
            if (!involved[i])
                continue;
            report_row *row = report_add(r, schema, table, slots[i].db_type);
            if (status && strcmp(status, "DONE") == 0)
                row->snapshot_rows = rows;
        }
    }
    sqlite3_finalize(st);
    return true;
}

static bool load_exported_events(cmd_ctx *ctx, report *r)
{
    sqlite3 *db = catalog_sqlite(ctx->meta);
    if (!sqlite_table_exists(db, "queue_table_counts"))
        return true;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT exporter_role, schema_name, table_name, num_inserts, "
                               "num_updates, num_deletes FROM queue_table_counts",
                           -1, &st, NULL) != SQLITE_OK) {
        log_error("cannot read the exported event counts from meta.db: %s", sqlite3_errmsg(db));
        return false;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *role = (const char *)sqlite3_column_text(st, 0);
        const char *db_type = role && str_starts_with(role, "target_") ? "target" : "source";
        report_row *row = report_find(r, (const char *)sqlite3_column_text(st, 1),
                                      (const char *)sqlite3_column_text(st, 2), db_type);
        if (!row)
            continue;
        add_count(&row->exported_inserts, sqlite3_column_int64(st, 3));
        add_count(&row->exported_updates, sqlite3_column_int64(st, 4));
        add_count(&row->exported_deletes, sqlite3_column_int64(st, 5));
    }
    sqlite3_finalize(st);
    return true;
}

static bool pg_has_relation(pgconn *c, const char *qualified) { return pgconn_relation_exists(c, qualified) == 1; }

static void load_db_counts(cmd_ctx *ctx, pgconn *c, report *r, const db_slot *slot)
{
    const char *uuid = catalog_migration_uuid(ctx->meta);
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
 * The documented command lines give some passwords only (target; then
 * source-replica): a database whose password is not given is connected
 * without one, and where it wants one and there is no terminal to ask on, its
 * database-side numbers are left out ("-") with a note naming the flag,
 * instead of failing the whole report.
 */
static pgconn *connect_optional(cmd_ctx *ctx, db_conf *conf, const char *needs, bool quiet)
{
    if (conf->password)
        return cmd_connect(ctx, conf, NULL);
    const char *role = db_role_name(conf->role);
    if (!quiet && isatty(STDIN_FILENO)) {
        log_say("the %s database's %s need a connection to it; asked only if it wants a "
                "password (or give --%s-db-password / %s)",
                role, needs, role, db_role_password_env(conf->role));
        return cmd_connect(ctx, conf, NULL);
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

int migration_data_report_build(cmd_ctx *ctx, report *r, bool quiet)
{
    cJSON *rec = catalog_status_load(ctx->meta);
    if (!rec) {
        log_error("cannot read the migration status from meta.db");
        return EXIT_INTERNAL;
    }
    bool involved[3];
    for (size_t i = 0; i < 3; i++)
        involved[i] = cJSON_GetObjectItemCaseSensitive(rec, db_conf_record_key(slots[i].role)) != NULL;
    bool fallback = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallbackEnabled"));
    cJSON_Delete(rec);
    if (!involved[0]) {
        log_error("no data migration in this export dir yet: run 'yb-voyager export data' first");
        return EXIT_BAD_STATE;
    }
    int rc = EXIT_OK;
    if (!load_tables(ctx, r, involved) || !load_exported_events(ctx, r))
        return EXIT_INTERNAL;
    for (size_t i = 0; i < 3 && rc == EXIT_OK; i++) {
        if (!involved[i])
            continue;
        db_conf conf = {0};
        if (!cmd_db_conf(ctx, slots[i].role, &conf)) {
            db_conf_free(&conf);
            rc = EXIT_BAD_ARGS;
            break;
        }
        pgconn *c;
        if (slots[i].role != DB_TARGET) {
            const char *needs = slots[i].role == DB_SOURCE_REPLICA
                                    ? "IMPORTED SNAPSHOT ROWS, IMPORTED changes and FINAL ROW COUNT"
                                : fallback ? "FINAL ROW COUNT and the changes imported back (fall-back)"
                                           : "FINAL ROW COUNT";
            bool had_password = conf.password != NULL;
            c = connect_optional(ctx, &conf, needs, quiet);
            if (!c && (had_password || (!quiet && isatty(STDIN_FILENO))))
                rc = cmd_db_exit_code(slots[i].role); /* a real failure, already reported */
        } else {
            c = cmd_connect(ctx, &conf, NULL);
            if (!c)
                rc = cmd_db_exit_code(slots[i].role);
        }
        if (c)
            load_db_counts(ctx, c, r, &slots[i]);
        pgconn_close(c);
        db_conf_free(&conf);
    }
    return rc;
}

bool migration_data_report_save(cmd_ctx *ctx, const report *r, const char *table_text)
{
    /* upstream's file name; the JSON form whatever --output-format says */
    cJSON *arr = report_render_json(r);
    char *json = cJSON_Print(arr);
    cJSON_Delete(arr);
    char *path = cmd_path(ctx, "reports/data-migration-report.json");
    bool ok = fs_write_atomic(path, json, strlen(json));
    if (!ok)
        log_warn("could not save the report to %s", path);
    free(path);
    free(json);
    if (table_text) {
        path = cmd_path(ctx, "reports/data-migration-report.txt");
        if (!fs_write_atomic(path, table_text, strlen(table_text))) {
            log_warn("could not save the report to %s", path);
            ok = false;
        }
        free(path);
    }
    return ok;
}

int migration_data_report(cmd_ctx *ctx)
{
    report r = {0};
    int rc = migration_data_report_build(ctx, &r, false);
    if (rc == EXIT_OK) {
        const char *fmt = opts_get(ctx->opts, "output-format");
        bool json = fmt && strcmp(fmt, "json") == 0;
        char *table = report_render_table(&r);
        if (json) {
            cJSON *arr = report_render_json(&r);
            char *out = cJSON_Print(arr);
            cJSON_Delete(arr);
            printf("%s\n", out);
            free(out);
        } else {
            fputs(table, stdout);
        }
        migration_data_report_save(ctx, &r, table);
        free(table);
    }
    report_free(&r);
    return rc;
}
