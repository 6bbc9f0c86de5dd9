/*
 * import data [to target], import data to source / source-replica, import data status.
 *
 * to target / to source-replica: the snapshot import (snapshot/snapshot_import.c),
 * then, when the export is live (ExportType snapshot-and-changes), the change
 * apply through cdc_import_apply(). to source (fall-back, after cutover to
 * target): no snapshot; after the connection check, only the change apply.
 */
#include "cdc/cdc_export.h"
#include "cdc/cdc_import.h"
#include "cdc/queue_format.h"
#include "cli/cmd_connect.h"
#include "cli/commands.h"
#include "core/exitcodes.h"
#include "core/log.h"
#include "catalog/catalog_int.h" /* transitional (issue 14): SQL moves into src/catalog/ */
#include "core/util.h"
#include "snapshot/snapshot_import.h"
#include "cli/snapshot_flags.h"
#include "catalog/snapshot_state.h"
#include "snapshot/table_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROLE_TARGET "target_db_importer"
#define ROLE_SOURCE "source_db_importer"
#define ROLE_SOURCE_REPLICA "source_replica_db_importer"

static bool export_is_live(cmd_ctx *ctx)
{
    char *t = catalog_status_get_string(ctx->meta, "ExportType");
    bool live = t && strcmp(t, "snapshot-and-changes") == 0;
    free(t);
    return live;
}

static void fill_options(cmd_ctx *ctx, import_options *o, const char *role, const char *done_key)
{
    memset(o, 0, sizeof *o);
    o->importer_role = role;
    o->done_key = done_key;
    o->parallel = snapshot_parallel_jobs(ctx);
    o->batch_rows = opts_get_int(ctx->opts, "batch-size"); /* >= 1: checked when parsed */
    o->bars = snapshot_use_bars(ctx);
    o->start_clean = opts_get_bool(ctx->opts, "start-clean");
    o->truncate_tables = opts_get_bool(ctx->opts, "truncate-tables");
    o->enable_upsert = opts_get_bool(ctx->opts, "enable-upsert");
    o->target_endpoints = opts_get(ctx->opts, "target-endpoints");
    o->use_public_ip = opts_get_bool(ctx->opts, "use-public-ip");
}

typedef struct clean_arg {
    cmd_ctx *ctx;
    const char *importer_role;
} clean_arg;

/* The change progress goes with the truncated tables: the new snapshot is followed by every change. */
static bool clean_changes(void *arg, pgconn *c)
{
    clean_arg *a = arg;
    /* an offline import has no change progress (and gets no change bookkeeping tables) */
    return !export_is_live(a->ctx) || cdc_import_clean_in_tx(a->ctx, a->importer_role, c);
}

/* Only once the clean start is complete: recorded earlier, a failed one would let the new lists pass. */
static bool clean_done(void *arg)
{
    clean_arg *a = arg;
    return cdc_import_table_filter_check(a->ctx, a->importer_role, true) == EXIT_OK;
}

/*
 * Replication set up on the target would copy or overwrite what this import
 * writes (a subscription applying someone else's changes to the same tables,
 * a CDC slot or publication streaming them elsewhere): as upstream, abort
 * unless --skip-replication-checks. This migration's own slot and publication
 * (export data from target, after cutover) are not counted.
 */
static int check_target_replication(cmd_ctx *ctx, db_conf *conf)
{
    if (opts_get_bool(ctx->opts, "skip-replication-checks"))
        return EXIT_OK;
    pgconn *c = cmd_connect(ctx, conf, NULL);
    if (!c)
        return EXIT_TARGET_ERROR;
    strbuf hex = STRBUF_INIT;
    for (const char *p = catalog_migration_uuid(ctx->meta); *p; p++)
        if (*p != '-')
            strbuf_append_char(&hex, *p);
    const char *params[] = {strbuf_cstr(&hex)};
    PGresult *r = pgconn_query(
        c,
        "SELECT 'replication slot ' || quote_ident(slot_name) FROM pg_replication_slots"
        " WHERE database = current_database() AND slot_name <> 'voyager_target_slot_' || $1"
        " UNION ALL SELECT 'publication ' || quote_ident(pubname) FROM pg_publication"
        " WHERE pubname <> 'voyager_target_pub_' || $1"
        " UNION ALL SELECT 'subscription ' || quote_ident(subname) FROM pg_subscription"
        " WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " ORDER BY 1",
        1, params);
    int rc = EXIT_OK;
    if (!r) {
        rc = EXIT_TARGET_ERROR;
    } else if (PQntuples(r) > 0) {
        strbuf list = STRBUF_INIT;
        for (int i = 0; i < PQntuples(r); i++) {
            if (i)
                strbuf_append(&list, ", ");
            strbuf_append(&list, PQgetvalue(r, i, 0));
        }
        log_error("the target database has replication set up that would interfere with the import "
                  "(%s): drop it, or pass --skip-replication-checks true if it is intended",
                  strbuf_cstr(&list));
        strbuf_free(&list);
        rc = EXIT_BAD_STATE;
    }
    PQclear(r);
    strbuf_free(&hex);
    pgconn_close(c);
    return rc;
}

/*
 * Snapshot import into role's database, then the live changes when the export
 * is live. admit, when given, runs once the flags are known good and before
 * any connection: it may refuse the run (its exit code).
 */
static int import_snapshot_then_changes(cmd_ctx *ctx, db_role role, const char *importer_role,
                                        const char *done_key, int (*admit)(cmd_ctx *))
{
    if (opts_get_bool(ctx->opts, "truncate-tables") && !opts_get_bool(ctx->opts, "start-clean")) {
        log_error("--truncate-tables works only with --start-clean true");
        return EXIT_BAD_ARGS;
    }
    db_conf conf = {0};
    if (!cmd_db_conf(ctx, role, &conf)) {
        db_conf_free(&conf);
        return EXIT_BAD_ARGS;
    }
    if (admit) {
        int arc = admit(ctx);
        if (arc != EXIT_OK) {
            db_conf_free(&conf);
            return arc;
        }
    }
    int rc = role == DB_TARGET ? check_target_replication(ctx, &conf) : EXIT_OK;
    if (rc != EXIT_OK) {
        db_conf_free(&conf);
        return rc;
    }
    import_options o;
    fill_options(ctx, &o, importer_role, done_key);
    clean_arg ca = {ctx, importer_role};
    o.clean_in_tx = clean_changes;
    o.clean_done = clean_done;
    o.clean_arg = &ca;
    /* before the snapshot too: a restart with other lists is refused before it changes anything */
    if (!o.start_clean && export_is_live(ctx))
        rc = cdc_import_table_filter_check(ctx, importer_role, false);
    if (rc == EXIT_OK)
        rc = snapshot_import_run(ctx, &conf, &o);
    if (rc == EXIT_OK && export_is_live(ctx))
        rc = cdc_import_apply(ctx, &conf, importer_role);
    db_conf_free(&conf);
    return rc;
}

int cmd_import_data_to_target(cmd_ctx *ctx)
{
    return import_snapshot_then_changes(ctx, DB_TARGET, ROLE_TARGET, "ImportDataDone", NULL);
}

/*
 * Fall-back: the source already holds the snapshot, so this only applies the
 * target's changes (queued by export data from target) to the source.
 */
int cmd_import_data_to_source(cmd_ctx *ctx)
{
    const char *type = opts_get(ctx->opts, "source-db-type");
    if (type && strcmp(type, "postgresql") != 0) {
        log_error("import data to source for a %s source is not built yet in this version of "
                  "voyager-c (--source-db-type postgresql is)", type);
        return EXIT_NOT_IMPLEMENTED;
    }
    if (opts_get_bool(ctx->opts, "start-clean")) {
        /*
         * The source already holds everything up to cutover; applying the
         * target's changes again from the start would apply them twice.
         */
        log_error("--start-clean is refused for import data to source: the target's changes are "
                  "applied exactly once, and starting over would apply them twice; run the same "
                  "command without it to continue where it stopped");
        return EXIT_BAD_ARGS;
    }
    cJSON *status = catalog_status_load(ctx->meta);
    if (!status)
        return EXIT_BAD_STATE;
    bool ff = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(status, "FallForwardEnabled"));
    bool no_fb =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(status, "CutoverToTargetRequested")) &&
        !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(status, "FallbackEnabled"));
    cJSON_Delete(status);
    /* either way no change would ever come for this importer: it would wait forever */
    if (ff) {
        log_error("import data to source: fall-forward is on ('import data to source-replica' was "
                  "started), and fall-back and fall-forward exclude each other: the target's "
                  "changes go to the source-replica ('import data to source-replica')");
        return EXIT_BAD_STATE;
    }
    if (no_fb) {
        log_error("import data to source: cutover to target was initiated without "
                  "--prepare-for-fall-back true, so no change is captured for the source: this "
                  "migration has no fall-back");
        return EXIT_BAD_STATE;
    }
    db_conf conf = {0};
    if (!cmd_db_conf(ctx, DB_SOURCE, &conf)) {
        db_conf_free(&conf);
        return EXIT_BAD_ARGS;
    }
    /*
     * Changes go back to the tables they came from: another schema list than
     * export data's would be accepted and ignored. The same one (a shared
     * config file) is fine.
     */
    char *rec_schema = NULL;
    cJSON *rec = catalog_status_load(ctx->meta);
    const cJSON *src = rec ? cJSON_GetObjectItemCaseSensitive(rec, "SourceDBConf") : NULL;
    const cJSON *sch = src ? cJSON_GetObjectItemCaseSensitive(src, "Schema") : NULL;
    if (cJSON_IsString(sch))
        rec_schema = xstrdup(sch->valuestring);
    cJSON_Delete(rec);
    const char *given = opts_get(ctx->opts, "source-db-schema");
    bool differs = opts_is_set(ctx->opts, "source-db-schema") && strcmp(given, rec_schema ? rec_schema : "") != 0;
    if (differs)
        log_error("--source-db-schema %s has no effect on import data to source: the target's "
                  "changes go back to the tables they came from (export data used '%s'); remove it",
                  given, rec_schema ? rec_schema : "");
    free(rec_schema);
    if (differs) {
        db_conf_free(&conf);
        return EXIT_BAD_ARGS;
    }
    pgconn *c = cmd_connect(ctx, &conf, NULL);
    if (!c) {
        db_conf_free(&conf);
        return EXIT_SOURCE_ERROR;
    }
    pgconn_close(c);
    int rc = cdc_import_apply(ctx, &conf, ROLE_SOURCE);
    db_conf_free(&conf);
    return rc;
}

typedef struct ff_admission {
    catalog *meta;
    char *refusal; /* owned; set when fall-forward may not start */
} ff_admission;

/* First and last source-exporter segment a source-replica still needs that archive deleted. */
static bool deleted_needed_segments(catalog *m, long long *first, long long *last)
{
    *first = *last = -1;
    return catalog_run(m, first,
                      "SELECT min(segment_no) FROM queue_segment WHERE deleted <> 0 AND "
                      "exporter_role = 'source_db_exporter' AND "
                      "imported_by_source_replica_db_importer = 0",
                      "") &&
           catalog_run(m, last,
                      "SELECT max(segment_no) FROM queue_segment WHERE deleted <> 0 AND "
                      "exporter_role = 'source_db_exporter' AND "
                      "imported_by_source_replica_db_importer = 0",
                      "");
}

/*
 * Registers fall-forward (FallForwardEnabled) in the same meta.db transaction
 * as its checks, so that cutover to target and archive changes, which take the
 * same write lock, see either a registered source-replica or none.
 */
static bool admit_fall_forward(cJSON *rec, void *arg)
{
    ff_admission *a = arg;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallbackEnabled"))) {
        a->refusal = xstrdup(
            "this migration was prepared for fall-back (initiate cutover to target "
            "--prepare-for-fall-back true), and fall-back and fall-forward exclude each other: "
            "the source is its way back, kept in sync by 'import data to source'");
        return false;
    }
    bool registered = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallForwardEnabled"));
    if (!registered &&
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "CutoverToTargetRequested"))) {
        a->refusal = xstrdup(
            "cutover to target was already initiated, so a source-replica started now would "
            "miss the writes made on the target since then: 'import data to source-replica' "
            "must be started before 'initiate cutover to target', and this migration can no "
            "longer get a source-replica");
        return false;
    }
    long long first, last;
    if (!deleted_needed_segments(a->meta, &first, &last)) {
        a->refusal = xstrdup("cannot read the change queue's state from meta.db");
        return false;
    }
    if (first >= 0) {
        a->refusal = xasprintf(
            "archive changes --delete already deleted queue segments %lld..%lld, source changes "
            "the source-replica has not applied: it can no longer be added to this migration. "
            "Start 'import data to source-replica' before 'archive changes' (or archive with "
            "--move-to, which keeps the changes readable)",
            first, last);
        return false;
    }
    if (!registered)
        cJSON_AddBoolToObject(rec, "FallForwardEnabled", true);
    return true;
}

static int register_fall_forward(cmd_ctx *ctx)
{
    ff_admission a = {ctx->meta, NULL};
    if (catalog_status_update(ctx->meta, admit_fall_forward, &a))
        return EXIT_OK;
    if (!a.refusal)
        return EXIT_BAD_STATE; /* meta.db failed, and said so */
    log_error("import data to source-replica: %s", a.refusal);
    free(a.refusal);
    return EXIT_BAD_STATE;
}

int cmd_import_data_to_source_replica(cmd_ctx *ctx)
{
    return import_snapshot_then_changes(ctx, DB_SOURCE_REPLICA, ROLE_SOURCE_REPLICA,
                                        "ImportDataToSourceReplicaDone", register_fall_forward);
}

int cmd_import_data_status(cmd_ctx *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            catalog_sqlite(ctx->meta),
            "SELECT e.schema_name, e.table_name, coalesce(i.status, 'NOT_STARTED'),"
            " coalesce(i.imported_rows, 0),"
            " CASE WHEN i.total_rows > 0 OR e.status = 'DONE' THEN coalesce(i.total_rows, e.exported_rows)"
            "  ELSE e.estimated_rows END"
            " FROM snapshot_export_table e LEFT JOIN snapshot_import_table i"
            "  ON i.importer_role = ?1 AND i.schema_name = e.schema_name AND i.table_name = e.table_name"
            " ORDER BY 1, 2",
            -1, &st, NULL) != SQLITE_OK) {
        log_error("metadata store (meta.db): %s", sqlite3_errmsg(catalog_sqlite(ctx->meta)));
        return EXIT_BAD_STATE;
    }
    sqlite3_bind_text(st, 1, ROLE_TARGET, -1, SQLITE_STATIC);
    cJSON *arr = cJSON_CreateArray();
    cJSON *report = cJSON_CreateArray();
    strlist cells = STRLIST_INIT;
    size_t nrows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char *name = table_display_name((const char *)sqlite3_column_text(st, 0),
                                        (const char *)sqlite3_column_text(st, 1));
        const char *status = (const char *)sqlite3_column_text(st, 2);
        long long imported = sqlite3_column_int64(st, 3), total = sqlite3_column_int64(st, 4);
        double pct = total > 0 ? 100.0 * (double)imported / (double)total
                     : strcmp(status, SNAP_DONE) == 0 ? 100.0 : 0.0;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "table_name", name);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddNumberToObject(o, "imported_count", (double)imported);
        cJSON_AddNumberToObject(o, "total_count", (double)total);
        cJSON_AddNumberToObject(o, "percentage_complete", (double)(long long)(pct * 100 + 0.5) / 100.0);
        cJSON_AddItemToArray(arr, o);
        /* upstream's report file: schema-qualified name and its fields */
        char *qn = table_qualified_name((const char *)sqlite3_column_text(st, 0),
                                        (const char *)sqlite3_column_text(st, 1));
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "table_name", qn);
        free(qn);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddNumberToObject(o, "total_count", (double)total);
        cJSON_AddNumberToObject(o, "imported_count", (double)imported);
        cJSON_AddNumberToObject(o, "errored_count", 0);
        cJSON_AddNumberToObject(o, "percentage_complete", (double)(long long)(pct * 100 + 0.5) / 100.0);
        cJSON_AddItemToArray(report, o);
        strlist_push_owned(&cells, name);
        strlist_push(&cells, status);
        strlist_push_owned(&cells, xasprintf("%lld", imported));
        strlist_push_owned(&cells, xasprintf("%lld", total));
        strlist_push_owned(&cells, xasprintf("%.2f", pct));
        nrows++;
    }
    sqlite3_finalize(st);
    if (snapshot_output_json(ctx)) {
        char *txt = cJSON_Print(arr);
        puts(txt);
        free(txt);
        snapshot_save_status_report(ctx, "import-data-status-report.json", report);
    } else if (nrows == 0) {
        printf("no data has been exported or imported yet in this export dir\n");
    } else {
        static const char *const hdr[] = {"TABLE NAME", "STATUS", "IMPORTED ROWS", "TOTAL ROWS",
                                          "PERCENTAGE"};
        snapshot_print_grid(hdr, 5, cells.items, nrows);
    }
    cJSON_Delete(arr);
    cJSON_Delete(report);
    strlist_free(&cells);
    return EXIT_OK;
}
