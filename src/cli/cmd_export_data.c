/*
 * export data [from source], export data from target, export data status:
 * their flags become the engines' specs (snapshot/export_data.h,
 * cdc/cdc_export.h); at the end of a live export prepared for fall-back this
 * process becomes `import data to source` (cdc/handover.h).
 */
#include "catalog/export_state.h"
#include "catalog/snapshot_state.h"
#include "cdc/cdc_export.h"
#include "cdc/handover.h"
#include "cli/cmd_connect.h"
#include "cli/commands.h"
#include "cli/older_name.h"
#include "cli/snapshot_flags.h"
#include "core/exitcodes.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/util.h"
#include "migration/cutover.h"
#include "schema/schema_names.h"
#include "snapshot/export_data.h"
#include "snapshot/table_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    handover_spec h = {
        .words = words,
        .older_name = cli_older_name(words),
        .lock_name = "import-data-to-source",
        .pw_env = "SOURCE_DB_PASSWORD",
        .password = password,
        .why = "the source exporter has done its part of the cutover to target (prepared for "
               "fall-back); the target's changes are applied to the source next",
        .log_level = opts_get(ctx->opts, "log-level"),
        .disable_pb = opts_get_bool(ctx->opts, "disable-pb"),
    };
    return exit_code_of(cdc_handover(&ctx->eng, &h));
}

/* What a MySQL source refuses before anything is written: a schema list (the database is the schema). */
static int mysql_refusals(cmd_ctx *ctx)
{
    if (opts_is_set(ctx->opts, "source-db-schema")) {
        log_report(LOG_ERROR, "a MySQL database (--source-db-name) is the schema",
                   "remove --source-db-schema",
                   "--source-db-schema is not applicable for a MySQL source");
        return EXIT_BAD_ARGS;
    }
    return EXIT_OK;
}

int cmd_export_data_from_source(cmd_ctx *ctx)
{
    db_conf conf = {0};
    if (!cmd_db_conf(ctx, DB_SOURCE, &conf)) {
        db_conf_free(&conf);
        return EXIT_BAD_ARGS;
    }
    if (conf.type && str_case_eq(conf.type, "mysql")) {
        int refused = mysql_refusals(ctx);
        if (refused != EXIT_OK) {
            db_conf_free(&conf);
            return refused;
        }
    }
    if (!schema_names_refuse_reserved(conf.schema)) {
        db_conf_free(&conf);
        return EXIT_BAD_ARGS;
    }
    table_patterns inc = {0}, exc = {0};
    if (!table_filter_from_opts(ctx, &inc, &exc)) {
        table_patterns_free(&inc);
        table_patterns_free(&exc);
        db_conf_free(&conf);
        return EXIT_BAD_ARGS;
    }
    export_data_spec spec = {
        .source = &conf,
        .export_type = opts_get(ctx->opts, "export-type"),
        .include = &inc,
        .exclude = &exc,
        .parallel_jobs = conf.type && str_case_eq(conf.type, "mysql")
                             ? cli_parallel_jobs(ctx, MYSQL_MAX_PARALLEL_JOBS,
                                                 "a MySQL snapshot serves at most 16 export workers")
                             : snapshot_parallel_jobs(ctx),
        .progress_bars = snapshot_use_bars(ctx),
        .start_clean = opts_get_bool(ctx->opts, "start-clean"),
        .command_name = ctx->path,
    };
    engine_status st = export_data_run(&ctx->eng, &spec);
    table_patterns_free(&inc);
    table_patterns_free(&exc);
    int rc = exit_code_of(st);
    if (st == ENGINE_OK && str_case_eq(spec.export_type, EXPORT_TYPE_LIVE))
        rc = become_source_importer(ctx, conf.password);
    db_conf_free(&conf);
    return rc;
}

int cmd_export_data_from_target(cmd_ctx *ctx)
{
    /* The state check first: before the cutover, the target's flags are not the problem. */
    engine_status st = cdc_export_from_target_ready(&ctx->eng);
    if (st != ENGINE_OK)
        return exit_code_of(st);
    db_conf conf = {0};
    if (!cmd_db_conf(ctx, DB_TARGET, &conf)) {
        db_conf_free(&conf);
        return EXIT_BAD_ARGS;
    }
    cdc_target_spec spec = {
        .target = &conf,
        .progress_bars = snapshot_use_bars(ctx),
        .command_name = ctx->path,
    };
    st = cdc_export_from_target(&ctx->eng, &spec);
    db_conf_free(&conf);
    return exit_code_of(st);
}

/* A table export data left unfinished and no exporter runs: its figure is as of the last save. */
#define EXPORT_STOPPED "STOPPED"

int cmd_export_data_status(cmd_ctx *ctx)
{
    cJSON *rec = catalog_status_load(ctx->meta);
    bool live = cutover_export_is_live(rec);
    bool cut = rec && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "CutoverProcessedBySourceExporter"));
    cJSON_Delete(rec);
    bool running = cmd_lock_is_held(ctx->export_dir, "export-data-from-source", NULL);
    export_table_rows rows;
    if (!export_state_tables(ctx->meta, true, &rows))
        return EXIT_BAD_STATE;
    cJSON *arr = cJSON_CreateArray();
    cJSON *report = cJSON_CreateArray(); /* upstream's file: schema-qualified names */
    strlist cells = STRLIST_INIT;
    size_t nrows = 0;
    bool started = false, unfinished = false;
    for (size_t r = 0; r < rows.count; r++) {
        const export_table_row *row = &rows.items[r];
        char *name = table_display_name(row->schema, row->table);
        const char *status = row->status;
        started = started || strcmp(status, SNAP_NOT_STARTED) != 0;
        unfinished = unfinished || strcmp(status, SNAP_DONE) != 0;
        if (live && strcmp(status, SNAP_DONE) == 0 && !cut && running)
            status = "STREAMING";
        else if (strcmp(status, SNAP_EXPORTING) == 0 && !running)
            status = EXPORT_STOPPED;
        long long nrows_exported = row->exported_rows;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "table_name", name);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddNumberToObject(o, "exported_count", (double)nrows_exported);
        cJSON_AddItemToArray(arr, o);
        char *qn = table_qualified_name(row->schema, row->table);
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "table_name", qn);
        free(qn);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddNumberToObject(o, "exported_count", (double)nrows_exported);
        cJSON_AddItemToArray(report, o);
        strlist_push_owned(&cells, name);
        strlist_push(&cells, status);
        strlist_push_owned(&cells, xasprintf("%lld", nrows_exported));
        nrows++;
    }
    export_table_rows_free(&rows);
    strlist notes = STRLIST_INIT;
    if (!running && started && unfinished)
        strlist_push(&notes, "'export data' is not running: the figures are those it saved last; "
                             "restart it with the same arguments to continue (a table it was "
                             "exporting is exported again whole)");
    else if (!running && live && !cut && nrows > 0)
        strlist_push(&notes, "'export data' is not running: the source's changes are not "
                             "captured until it runs again; restart it with the same arguments");
    static const char *const hdr[] = {"TABLE NAME", "STATUS", "EXPORTED ROWS"};
    status_output_print(ctx, &(status_output){arr, report, "export-data-status-report.json", hdr, 3,
                                              cells.items, nrows,
                                              "export data has not started yet in this export dir",
                                              notes.items, notes.count});
    cJSON_Delete(arr);
    cJSON_Delete(report);
    strlist_free(&cells);
    strlist_free(&notes);
    return EXIT_OK;
}
