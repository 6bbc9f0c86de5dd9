/*
 * import data [to target], import data to source / source-replica, import data status.
 *
 * The import commands read their flags into an import_data_spec and run the
 * engine (cdc/import_data.h): to target / to source-replica, the snapshot
 * import then, when the export is live, the change apply; to source
 * (fall-back, after cutover to target), only the change apply. The target
 * importer that processed its cutover with a way back prepared then becomes
 * `export data from target`.
 */
#include "catalog/catalog.h"
#include "catalog/snapshot_state.h"
#include "cdc/handover.h"
#include "cdc/import_data.h"
#include "cli/cmd_connect.h"
#include "cli/commands.h"
#include "cli/older_name.h"
#include "cli/snapshot_flags.h"
#include "core/exitcodes.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/util.h"
#include "snapshot/table_list.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool confirm_on_tty(void *arg, const char *question)
{
    return cmd_confirm(arg, question);
}

/* This process becomes `export data from target`: returns only when it does not (an exit code). */
static int become_target_exporter(cmd_ctx *ctx, const db_conf *conf)
{
    static const char *const words[] = {"export", "data", "from", "target", NULL};
    handover_spec h = {
        .words = words,
        .older_name = cli_older_name(words),
        .lock_name = "export-data-from-target",
        .pw_env = "TARGET_DB_PASSWORD",
        .password = conf->password,
        .why = "the target importer has done its part of the cutover; the target's "
               "changes are captured next, for the way back",
        .log_level = opts_get(ctx->opts, "log-level"),
        .disable_pb = opts_get_bool(ctx->opts, "disable-pb"),
    };
    return exit_code_of(cdc_handover(&ctx->eng, &h));
}

/* Flags into the spec, the engine, its answer into an exit code. */
static int run_import(cmd_ctx *ctx, db_role role)
{
    db_conf conf = {0};
    if (!cmd_db_conf(ctx, role, &conf)) {
        db_conf_free(&conf);
        return EXIT_BAD_ARGS;
    }
    if (role == DB_SOURCE_REPLICA && cmd_recorded_source_is_mysql(ctx) &&
        !str_eq(conf.type, "mysql")) {
        /* the replica of a MySQL source is a MySQL/MariaDB server (its writer, its default port) */
        free(conf.type);
        conf.type = xstrdup("mysql");
        if (!opts_is_set(ctx->opts, "source-replica-db-port"))
            conf.port = db_default_port("mysql", DB_SOURCE_REPLICA);
    }
    table_patterns include = {0}, exclude = {0};
    bool table_lists = opts_has_flag(ctx->opts, "table-list");
    int rc = EXIT_OK;
    if (opts_has_flag(ctx->opts, "use-public-ip") && opts_get_bool(ctx->opts, "use-public-ip") &&
        opts_is_set(ctx->opts, "target-endpoints")) {
        /* the endpoints are connected as given: the public addresses of yb_servers() would be ignored */
        log_report(LOG_ERROR, "the nodes come from --target-endpoints as given, not from yb_servers()",
                   "give the nodes' public addresses in --target-endpoints, or leave it out",
                   "--use-public-ip cannot be used with --target-endpoints");
        rc = EXIT_BAD_ARGS;
    }
    if (rc == EXIT_OK && table_lists && !table_filter_from_opts(ctx, &include, &exclude))
        rc = EXIT_BAD_ARGS;
    if (rc == EXIT_OK) {
        import_data_spec spec = {
            .conf = &conf,
            .parallel_jobs = snapshot_parallel_jobs(ctx),
            .parallel_jobs_given = opts_get_int(ctx->opts, "parallel-jobs") > 0,
            .batch_rows = opts_get_int(ctx->opts, "batch-size"), /* >= 1: checked when parsed */
            .batch_rows_given = opts_is_set(ctx->opts, "batch-size"),
            .bars = snapshot_use_bars(ctx),
            .start_clean = opts_get_bool(ctx->opts, "start-clean"),
            .truncate_tables = opts_get_bool(ctx->opts, "truncate-tables"),
            .enable_upsert = opts_get_bool(ctx->opts, "enable-upsert"),
            .target_endpoints = opts_get(ctx->opts, "target-endpoints"),
            .use_public_ip = opts_get_bool(ctx->opts, "use-public-ip"),
            .skip_replication_checks = opts_get_bool(ctx->opts, "skip-replication-checks"),
            .table_lists = table_lists,
            .include = &include,
            .exclude = &exclude,
            .source_schema = role == DB_SOURCE && opts_is_set(ctx->opts, "source-db-schema")
                                 ? opts_get(ctx->opts, "source-db-schema")
                                 : NULL,
            .confirm = confirm_on_tty,
            .confirm_arg = ctx,
        };
        cdc_apply_next next = CDC_APPLY_DONE;
        rc = exit_code_of(import_data_run(&ctx->eng, &spec, &next));
        if (rc == EXIT_OK && next == CDC_APPLY_EXPORT_FROM_TARGET)
            rc = become_target_exporter(ctx, &conf);
    }
    table_patterns_free(&include);
    table_patterns_free(&exclude);
    db_conf_free(&conf);
    return rc;
}

/* --truncate-tables empties the tables of a clean start only. */
static bool truncate_needs_start_clean(cmd_ctx *ctx)
{
    if (opts_get_bool(ctx->opts, "truncate-tables") && !opts_get_bool(ctx->opts, "start-clean")) {
        log_error("--truncate-tables works only with --start-clean true");
        return false;
    }
    return true;
}

int cmd_import_data_to_target(cmd_ctx *ctx)
{
    if (!truncate_needs_start_clean(ctx))
        return EXIT_BAD_ARGS;
    return run_import(ctx, DB_TARGET);
}

int cmd_import_data_to_source_replica(cmd_ctx *ctx)
{
    if (!truncate_needs_start_clean(ctx))
        return EXIT_BAD_ARGS;
    return run_import(ctx, DB_SOURCE_REPLICA);
}

int cmd_import_data_to_source(cmd_ctx *ctx)
{
    const char *type = opts_get(ctx->opts, "source-db-type");
    if (type && strcmp(type, "postgresql") != 0 && strcmp(type, "mysql") != 0) {
        log_error("import data to source for a %s source is not built yet in this version of "
                  "voyager-c (--source-db-type postgresql and mysql are)", type);
        return EXIT_NOT_IMPLEMENTED;
    }
    if (opts_get_bool(ctx->opts, "start-clean")) {
        /*
         * The source already holds everything up to cutover; applying the
         * target's changes again from the start would apply them twice.
         */
        log_report(LOG_ERROR,
                   "the target's changes are applied exactly once, and starting over would apply "
                   "them twice",
                   "run the same command without it to continue where it stopped",
                   "--start-clean is refused for import data to source");
        return EXIT_BAD_ARGS;
    }
    return run_import(ctx, DB_SOURCE);
}

static double rounded_pct(double pct) { return (double)(long long)(pct * 100 + 0.5) / 100.0; }

/* A table the importer left unfinished while no importer runs: figures as of its last save. */
#define IMPORT_STOPPED "STOPPED"
/* Rows imported from an export that export data --start-clean replaced since. */
#define IMPORT_EARLIER_EXPORT "EARLIER_EXPORT"

/*
 * Did export data --start-clean export the data again after this importer
 * began? (the keys import data checks before it refuses to continue)
 */
static bool import_of_earlier_export(catalog *m, const char *role)
{
    char *now = catalog_status_get_string(m, SNAPSHOT_EXPORT_ID_KEY);
    char *mine = snapshot_import_generation_get(m, role);
    bool earlier = now && mine && strcmp(now, mine) != 0;
    free(now);
    free(mine);
    return earlier;
}

int cmd_import_data_status(cmd_ctx *ctx)
{
    snapshot_import_progress *rows;
    size_t nrows;
    if (!snapshot_import_progress_load(ctx->meta, "target_db_importer", &rows, &nrows))
        return EXIT_BAD_STATE;
    bool earlier = import_of_earlier_export(ctx->meta, "target_db_importer");
    bool running = cmd_lock_is_held(ctx->export_dir, "import-data-to-target", NULL);
    bool started = false, unfinished = false, any_earlier = false;
    cJSON *arr = cJSON_CreateArray();
    cJSON *report = cJSON_CreateArray();
    strlist cells = STRLIST_INIT;
    for (size_t i = 0; i < nrows; i++) {
        const snapshot_import_progress *p = &rows[i];
        char *name = table_display_name(p->schema, p->table);
        const char *status = p->status;
        int64_t total = p->total;
        double pct = p->total > 0 ? 100.0 * (double)p->imported / (double)p->total
                     : strcmp(p->status, SNAP_DONE) == 0 ? 100.0 : 0.0;
        started = started || strcmp(p->status, SNAP_NOT_STARTED) != 0;
        unfinished = unfinished || strcmp(p->status, SNAP_DONE) != 0;
        if (earlier) {
            /* none of the current export is imported: its total, 0% */
            total = p->export_total;
            pct = 0.0;
            if (strcmp(p->status, SNAP_NOT_STARTED) != 0) {
                status = IMPORT_EARLIER_EXPORT;
                any_earlier = true;
            }
        } else if (!running && strcmp(p->status, SNAP_IMPORTING) == 0) {
            status = IMPORT_STOPPED;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "table_name", name);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddNumberToObject(o, "imported_count", (double)p->imported);
        cJSON_AddNumberToObject(o, "total_count", (double)total);
        cJSON_AddNumberToObject(o, "percentage_complete", rounded_pct(pct));
        cJSON_AddItemToArray(arr, o);
        /* upstream's report file: schema-qualified name and its fields */
        char *qn = table_qualified_name(p->schema, p->table);
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "table_name", qn);
        free(qn);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddNumberToObject(o, "total_count", (double)total);
        cJSON_AddNumberToObject(o, "imported_count", (double)p->imported);
        cJSON_AddNumberToObject(o, "errored_count", 0);
        cJSON_AddNumberToObject(o, "percentage_complete", rounded_pct(pct));
        cJSON_AddItemToArray(report, o);
        strlist_push_owned(&cells, name);
        strlist_push(&cells, status);
        strlist_push_owned(&cells, xasprintf("%lld", (long long)p->imported));
        strlist_push_owned(&cells, xasprintf("%lld", (long long)total));
        strlist_push_owned(&cells, xasprintf("%.2f", pct));
    }
    snapshot_import_progress_free(rows, nrows);
    strlist notes = STRLIST_INIT;
    if (any_earlier)
        strlist_push(&notes, "the rows shown " IMPORT_EARLIER_EXPORT " were imported from an "
                             "earlier export: the data was exported again (export data "
                             "--start-clean) since, and none of this export is imported; run "
                             "'yb-voyager import data' with --start-clean true (and "
                             "--truncate-tables true) to import it");
    else if (!running && started && unfinished)
        strlist_push(&notes, "'import data' is not running: the figures are those it saved last "
                             "(the target may hold more rows: 'yb-voyager get "
                             "data-migration-report' counts them); restart it with the same "
                             "arguments to continue");
    static const char *const hdr[] = {"TABLE NAME", "STATUS", "IMPORTED ROWS", "TOTAL ROWS",
                                      "PERCENTAGE"};
    status_output_print(ctx, &(status_output){arr, report, "import-data-status-report.json", hdr, 5,
                                              cells.items, nrows,
                                              "no data has been exported or imported yet in this "
                                              "export dir",
                                              notes.items, notes.count});
    cJSON_Delete(arr);
    cJSON_Delete(report);
    strlist_free(&cells);
    strlist_free(&notes);
    return EXIT_OK;
}
