/*
 * export data [from source], export data from target, export data status.
 *
 * export data from source: pick the tables, take one consistent snapshot
 * (snapshot-only: our own REPEATABLE READ transaction and pg_export_snapshot();
 * snapshot-and-changes: the replication slot's snapshot from cdc_export_begin),
 * read the sequences in it, export every table not yet DONE in parallel, then
 * (live) hand over to change capture with cdc_export_stream().
 */
#include "cdc/cdc_export.h"
#include "cdc/cdc_import.h"
#include "cdc/handover.h"
#include "cli/cmd_connect.h"
#include "cli/commands.h"
#include "core/exitcodes.h"
#include "core/log.h"
#include "catalog/catalog_int.h" /* transitional (issue 14): SQL moves into src/catalog/ */
#include "core/util.h"
#include "db/retry.h"
#include "migration/cutover.h"
#include "migration/sequences.h"
#include "snapshot/snapshot_export.h"
#include "cli/snapshot_flags.h"
#include "catalog/snapshot_state.h"
#include "snapshot/source_tables.h"
#include "snapshot/table_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_TYPE_LIVE "snapshot-and-changes"

/* Tables of the source selected by the filter flags; NULL-terminated array into all. */
static bool select_tables(cmd_ctx *ctx, const src_tables *all, src_table ***out, size_t *n)
{
    table_patterns inc = {0}, exc = {0};
    bool ok = table_filter_from_opts(ctx, &inc, &exc);
    table_ref *refs = xcalloc(all->count + 1, sizeof *refs);
    bool *keep = xcalloc(all->count + 1, sizeof *keep);
    for (size_t i = 0; i < all->count; i++)
        refs[i] = (table_ref){all->items[i].schema, all->items[i].name};
    char *err = NULL;
    if (ok && !table_filter_select(refs, all->count, &inc, &exc, keep, &err)) {
        log_error("source database: %s", err);
        free(err);
        ok = false;
    }
    *out = xcalloc(all->count + 1, sizeof **out);
    *n = 0;
    for (size_t i = 0; ok && i < all->count; i++)
        if (keep[i])
            (*out)[(*n)++] = &all->items[i];
    free(keep);
    free(refs);
    table_patterns_free(&inc);
    table_patterns_free(&exc);
    return ok;
}

/* A new generation of data files: importers that loaded older files must start clean. */
static bool new_export_id(cmd_ctx *ctx)
{
    char id[37];
    return uuid_v4(id) && catalog_status_set_string(ctx->meta, SNAPSHOT_EXPORT_ID_KEY, id);
}

/* Did an earlier run export anything (so that its choices bind this one)? */
static bool export_started(cmd_ctx *ctx)
{
    sqlite3_stmt *st;
    bool started = false;
    if (sqlite3_prepare_v2(catalog_sqlite(ctx->meta),
                           "SELECT count(*) FROM snapshot_export_table WHERE status <> 'NOT_STARTED'",
                           -1, &st, NULL) == SQLITE_OK) {
        started = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
        sqlite3_finalize(st);
    }
    return started;
}

/* An earlier run's tables that this run would not export: mixing them is refused. */
static bool check_same_tables(cmd_ctx *ctx, src_table *const *sel, size_t n)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(catalog_sqlite(ctx->meta),
                           "SELECT schema_name, table_name FROM snapshot_export_table", -1, &st,
                           NULL) != SQLITE_OK)
        return true;
    bool ok = true;
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        const char *t = (const char *)sqlite3_column_text(st, 1);
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = strcmp(sel[i]->schema, s) == 0 && strcmp(sel[i]->name, t) == 0;
        if (!found) {
            log_error("table %s.%s was part of an earlier export data run but is not selected "
                      "now: run with the same table list, or with --start-clean to start over",
                      s, t);
            ok = false;
        }
    }
    sqlite3_finalize(st);
    return ok;
}

static bool read_sequences_in(cmd_ctx *ctx, db_conf *conf, const char *snap, const strlist *schemas)
{
    pgconn *c = pgconn_connect(conf, NULL);
    if (!c)
        return false;
    char *lit = pg_quote_literal(snap);
    char *set = xasprintf("SET TRANSACTION SNAPSHOT %s", lit);
    int n = 0;
    bool ok = pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ") && pgconn_exec(c, set) &&
              sequences_record(c, schemas, ctx->meta, "snapshot", &n);
    pgconn_exec(c, "COMMIT");
    free(set);
    free(lit);
    pgconn_close(c);
    return ok;
}

static void print_summary(cmd_ctx *ctx, src_table *const *sel, size_t n)
{
    int64_t total = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(catalog_sqlite(ctx->meta),
                           "SELECT exported_rows FROM snapshot_export_table WHERE schema_name = ?1 "
                           "AND table_name = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, sel[i]->schema, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, sel[i]->name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            total += sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    log_say("exported %zu tables, %lld rows, into %s/data", n, (long long)total, ctx->export_dir);
}

/*
 * Cutover to target prepared for fall-back: the source exporter's stream is
 * over, and the docs have this process become `import data to source`.
 */
static int become_source_importer(cmd_ctx *ctx, const char *password)
{
    if (!catalog_status_get_bool(ctx->meta, "CutoverProcessedBySourceExporter") ||
        !catalog_status_get_bool(ctx->meta, "FallbackEnabled"))
        return EXIT_OK;
    if (catalog_status_get_bool(ctx->meta, "CutoverProcessedBySourceImporter")) {
        log_say("'import data to source' already finished its part of the cutover to source");
        return EXIT_OK;
    }
    static const char *const words[] = {"import", "data", "to", "source", NULL};
    return cdc_handover(ctx, words, "import-data-to-source", "SOURCE_DB_PASSWORD", password,
                        "the source exporter has done its part of the cutover to target "
                        "(prepared for fall-back); the target's changes are applied to the "
                        "source next");
}

/*
 * One run of export data from source. *transient: it failed in the snapshot
 * phase in a way a new snapshot may mend (the source restarted or dropped the
 * connection); retry is the number of this run (> 0: the source was reached
 * before, so a source error is taken for the same fault).
 */
static int export_from_source(cmd_ctx *ctx, int retry, bool *transient)
{
    *transient = false;
    db_conf conf = {0};
    if (!cmd_db_conf(ctx, DB_SOURCE, &conf)) {
        db_conf_free(&conf);
        return EXIT_BAD_ARGS;
    }
    if (!conf.type || strcmp(conf.type, "postgresql") != 0) {
        log_error("export data from source type %s is not built yet in this version of voyager-c "
                  "(--source-db-type postgresql is)",
                  conf.type ? conf.type : "(no --source-db-type)");
        int code = conf.type ? EXIT_NOT_IMPLEMENTED : EXIT_BAD_ARGS;
        db_conf_free(&conf);
        return code;
    }
    const char *export_type = opts_get(ctx->opts, "export-type");
    bool live = str_case_eq(export_type, EXPORT_TYPE_LIVE);
    int rc = EXIT_OK;
    strlist schemas = STRLIST_INIT;
    src_tables all = {0};
    src_table **sel = NULL;
    size_t nsel = 0;
    char **qualified = NULL;
    char *snap = NULL;
    cdc_export_state *cdc = NULL;
    bool own_tx = false;
    bool redo_all = false; /* live: a new slot, so even tables DONE earlier are exported again */
    pgconn *c = NULL;

    if (opts_get_bool(ctx->opts, "start-clean") &&
        catalog_status_get_bool(ctx->meta, cutover_request_key(CUTOVER_TO_TARGET))) {
        /* The application may already write to the target: starting over here would lose that. */
        log_error("cutover to target was initiated for this migration, so export data cannot start "
                  "it over (--start-clean): start a new migration in a new export directory "
                  "(and 'yb-voyager end migration' for this one)");
        rc = EXIT_BAD_STATE;
        goto out;
    }
    /* On a retry the source was reached before: a refusal is the fault being waited out. */
    char *why = NULL;
    pgconn_options co = {.quiet = retry > 0, .why = &why};
    c = cmd_connect(ctx, &conf, &co);
    if (!c) {
        if (retry > 0)
            log_warn("%s", why ? why : "source database: cannot connect");
        free(why);
        rc = EXIT_SOURCE_ERROR;
        *transient = retry > 0;
        goto out;
    }
    strlist_split(&schemas, conf.schema && *conf.schema ? conf.schema : "public", ',');
    if (!src_schemas_resolve(c, &schemas) ||
        !src_tables_list(c, (const char *const *)schemas.items, &all)) {
        rc = EXIT_SOURCE_ERROR;
        goto out;
    }
    if (!select_tables(ctx, &all, &sel, &nsel)) {
        rc = EXIT_BAD_ARGS;
        goto out;
    }
    if (nsel == 0) {
        log_error("no tables to export in schema(s) %s: check --source-db-schema and the table lists",
                  conf.schema ? conf.schema : "public");
        rc = EXIT_BAD_ARGS;
        goto out;
    }

    if (opts_get_bool(ctx->opts, "start-clean")) {
        if (!snapshot_export_remove_files(ctx->export_dir) || !snapshot_export_reset(ctx->meta)) {
            rc = EXIT_BAD_STATE;
            goto out;
        }
        catalog_status_set_bool(ctx->meta, "ExportDataDone", false);
        new_export_id(ctx);
        log_info("--start-clean: removed the data files and export state of earlier runs");
    } else {
        char *prev = catalog_status_get_string(ctx->meta, "ExportType");
        bool differs = prev && !str_case_eq(prev, export_type) && export_started(ctx);
        if (differs)
            log_error("an earlier export data run used --export-type %s: use the same, or "
                      "--start-clean to start over",
                      prev);
        free(prev);
        if (differs || !check_same_tables(ctx, sel, nsel)) {
            rc = EXIT_BAD_STATE;
            goto out;
        }
    }
    char *id = catalog_status_get_string(ctx->meta, SNAPSHOT_EXPORT_ID_KEY);
    if (!id && !new_export_id(ctx)) {
        rc = EXIT_BAD_STATE;
        goto out;
    }
    free(id);
    for (size_t i = 0; i < nsel; i++)
        if (!snapshot_export_table_ensure(ctx->meta, sel[i]->schema, sel[i]->name, sel[i]->est_rows)) {
            rc = EXIT_BAD_STATE;
            goto out;
        }

    if (live) {
        /* The seam takes SQL-ready names: "schema"."table". */
        qualified = xcalloc(nsel + 1, sizeof *qualified);
        for (size_t i = 0; i < nsel; i++)
            qualified[i] = pg_quote_qualified(sel[i]->schema, sel[i]->name);
        rc = cdc_export_begin(ctx, &conf, (const char *const *)schemas.items,
                              (const char *const *)qualified, nsel, &cdc, &snap, &redo_all);
        if (rc != EXIT_OK) {
            *transient = retry > 0 && rc == EXIT_SOURCE_ERROR;
            goto out;
        }
        if (!catalog_status_set_string(ctx->meta, "ExportType", EXPORT_TYPE_LIVE)) {
            rc = EXIT_BAD_STATE;
            goto out;
        }
        if (redo_all) {
            /*
             * A new slot, so a new snapshot: every table is exported again (each
             * under a new attempt), and importers take back what they loaded of the old one.
             */
            log_info("a new replication slot was created: the snapshot is exported (again)");
            if (!catalog_status_set_bool(ctx->meta, "ExportDataDone", false)) {
                rc = EXIT_BAD_STATE;
                goto out;
            }
        }
        if (snap && !read_sequences_in(ctx, &conf, snap, &schemas)) {
            rc = EXIT_SOURCE_ERROR;
            *transient = retry > 0;
            goto out;
        }
    } else {
        if (!catalog_status_set_string(ctx->meta, "ExportType", "snapshot-only")) {
            rc = EXIT_BAD_STATE;
            goto out;
        }
        own_tx = pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ");
        snap = own_tx ? pgconn_query_value(c, "SELECT pg_export_snapshot()", 0, NULL) : NULL;
        int nseq = 0;
        if (!snap || !sequences_record(c, &schemas, ctx->meta, "snapshot", &nseq)) {
            rc = EXIT_SOURCE_ERROR;
            goto out;
        }
    }

    if (snap) {
        src_table **todo = xcalloc(nsel + 1, sizeof *todo);
        size_t ntodo = 0;
        for (size_t i = 0; i < nsel; i++) {
            char *st = snapshot_export_table_status(ctx->meta, sel[i]->schema, sel[i]->name);
            if (redo_all || strcmp(st, SNAP_DONE) != 0)
                todo[ntodo++] = sel[i];
            free(st);
        }
        if (ntodo == 0)
            log_say("every table was exported by an earlier run (--start-clean to export again)");
        else if (ntodo < nsel)
            log_say("resuming: %zu of %zu tables were exported by an earlier run", nsel - ntodo, nsel);
        snapshot_export_failure why;
        bool ok = snapshot_export_tables(ctx, &conf, snap, todo, ntodo, snapshot_parallel_jobs(ctx),
                                         snapshot_use_bars(ctx), &why);
        free(todo);
        if (!ok) {
            /* A full disk (or meta.db) is no fault of the source: fix, run again (exit 3). */
            rc = cmd_interrupted || why.no_space || why.local ? EXIT_BAD_STATE : EXIT_SOURCE_ERROR;
            *transient = why.transient || (retry > 0 && rc == EXIT_SOURCE_ERROR);
            goto out;
        }
        print_summary(ctx, sel, nsel);
    }
    if (live && !cdc_export_snapshot_done(ctx)) {
        rc = EXIT_BAD_STATE;
        goto out;
    }
    catalog_status_set_bool(ctx->meta, "ExportDataDone", true);
    if (own_tx) {
        pgconn_exec(c, "COMMIT");
        own_tx = false;
    }
    pgconn_close(c);
    c = NULL;
    if (live) {
        cdc_export_state *s = cdc;
        cdc = NULL;
        rc = cdc_export_stream(ctx, s);
    }

out:
    if (cdc)
        cdc_export_abort(cdc);
    /* Quiet: closing ends the transaction anyway, and the source may have closed it already. */
    if (own_tx)
        PQclear(pgconn_query_quiet(c, "ROLLBACK", 0, NULL));
    pgconn_close(c);
    if (qualified)
        for (size_t i = 0; i < nsel; i++)
            free(qualified[i]);
    free(qualified);
    free(snap);
    free(sel);
    src_tables_free(&all);
    strlist_free(&schemas);
    if (rc == EXIT_OK && live)
        rc = become_source_importer(ctx, conf.password);
    db_conf_free(&conf);
    return rc;
}

int cmd_export_data_from_source(cmd_ctx *ctx)
{
    /*
     * A source restart (or a dropped connection) in the snapshot phase takes
     * the snapshot with it: the run starts again as a rerun of the command
     * would (tables not DONE are exported again under new attempts, a live
     * export makes a new slot), under the one retry policy. The change stream
     * rides out its own faults (cdc_stream.c).
     */
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    for (int retry = 0;; retry++) {
        bool transient = false;
        int rc = export_from_source(ctx, retry, &transient);
        if (!transient || cmd_interrupted)
            return rc;
        if (!retry_failed(&rs)) {
            log_error("source database: the snapshot could not be exported (the source kept "
                      "failing for %lld s, %s): run the same command again",
                      (long long)(retry_elapsed_ms(&rs) / 1000), RETRY_TIMEOUT_ENV);
            return EXIT_BAD_STATE;
        }
        log_warn("source database: the snapshot export lost the source; starting it again "
                 "(attempt %d, giving up after %lld s)",
                 rs.attempt, (long long)(rs.policy.deadline_ms / 1000));
        /* The retry is a rerun of the same command: --start-clean was done by the first. */
        if (opts_get_bool(ctx->opts, "start-clean"))
            opts_set(ctx->opts, "start-clean", "false", OPT_FLAG);
        if (!retry_backoff(&rs, &cmd_interrupted)) {
            log_error("export data interrupted: run the same command again to resume");
            return EXIT_BAD_STATE;
        }
    }
}

int cmd_export_data_from_target(cmd_ctx *ctx) { return cdc_export_from_target(ctx); }

int cmd_export_data_status(cmd_ctx *ctx)
{
    cJSON *rec = catalog_status_load(ctx->meta);
    const cJSON *et = rec ? cJSON_GetObjectItemCaseSensitive(rec, "ExportType") : NULL;
    bool live = cJSON_IsString(et) && strcmp(et->valuestring, EXPORT_TYPE_LIVE) == 0;
    bool cut = rec && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "CutoverProcessedBySourceExporter"));
    cJSON_Delete(rec);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(catalog_sqlite(ctx->meta),
                           "SELECT schema_name, table_name, status, exported_rows "
                           "FROM snapshot_export_table ORDER BY 1, 2",
                           -1, &st, NULL) != SQLITE_OK) {
        log_error("metadata store (meta.db): %s", sqlite3_errmsg(catalog_sqlite(ctx->meta)));
        return EXIT_BAD_STATE;
    }
    bool json = snapshot_output_json(ctx);
    cJSON *arr = cJSON_CreateArray();
    cJSON *report = cJSON_CreateArray(); /* upstream's file: schema-qualified names */
    strlist cells = STRLIST_INIT;
    size_t nrows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char *name = table_display_name((const char *)sqlite3_column_text(st, 0),
                                        (const char *)sqlite3_column_text(st, 1));
        const char *status = (const char *)sqlite3_column_text(st, 2);
        if (live && strcmp(status, SNAP_DONE) == 0 && !cut)
            status = "STREAMING";
        long long rows = sqlite3_column_int64(st, 3);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "table_name", name);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddNumberToObject(o, "exported_count", (double)rows);
        cJSON_AddItemToArray(arr, o);
        char *qn = table_qualified_name((const char *)sqlite3_column_text(st, 0),
                                        (const char *)sqlite3_column_text(st, 1));
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "table_name", qn);
        free(qn);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddNumberToObject(o, "exported_count", (double)rows);
        cJSON_AddItemToArray(report, o);
        strlist_push_owned(&cells, name);
        strlist_push(&cells, status);
        strlist_push_owned(&cells, xasprintf("%lld", rows));
        nrows++;
    }
    sqlite3_finalize(st);
    if (json) {
        char *txt = cJSON_Print(arr);
        puts(txt);
        free(txt);
        snapshot_save_status_report(ctx, "export-data-status-report.json", report);
    } else if (nrows == 0) {
        printf("export data has not started yet in this export dir\n");
    } else {
        static const char *const hdr[] = {"TABLE NAME", "STATUS", "EXPORTED ROWS"};
        snapshot_print_grid(hdr, 3, cells.items, nrows);
    }
    cJSON_Delete(arr);
    cJSON_Delete(report);
    strlist_free(&cells);
    return EXIT_OK;
}
