/*
 * compare data: flags and the migration's state into a compare_spec, the
 * engine (compare/), then the report and the exit code of the engine_status
 * (0 equal, EXIT_DATA_DIFFERS when a table differs).
 */
#include "cli/cmd_connect.h"
#include "cli/commands.h"
#include "cli/snapshot_flags.h"

#include "catalog/compare_state.h"
#include "compare/compare.h"
#include "core/exitcodes.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"
#include "migration/cutover.h"
#include "schema/schema_names.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A live migration before cutover has a moving source: both sides must be read
 * at one point of the change stream, which the running exporter and importers
 * provide (cdc/consistent_point.h). After cutover the source no longer moves.
 */
static bool live_before_cutover(const cJSON *rec)
{
    return cutover_export_is_live(rec) && cutover_state_of(rec, CUTOVER_TO_TARGET) != CUTOVER_COMPLETED;
}

/* Seconds to wait for the running migration's answers (tests shorten it). */
static int point_timeout(void)
{
    const char *s = getenv("VOYAGER_COMPARE_POINT_TIMEOUT_S");
    int64_t v;
    return s && parse_int64(s, 1, 3600, &v) ? (int)v : 60;
}

/* The text checksum even where every side has hash_record_extended: tests cover that path so. */
static bool text_hash_only(void)
{
    const char *s = getenv("VOYAGER_COMPARE_ROW_HASH");
    return s && strcmp(s, "text") == 0;
}

static bool want_replica(const cJSON *rec, const cmd_ctx *ctx)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallForwardEnabled")) ||
           cJSON_GetObjectItemCaseSensitive(rec, "SourceReplicaDBConf") ||
           opts_is_set(ctx->opts, "source-replica-db-user");
}

/*
 * No source-replica takes part (want_replica): a source-replica flag would be
 * ignored, so it is refused. The password is left out: its environment twin
 * may be set for other commands.
 */
static bool refuse_unused_replica_flags(const cmd_ctx *ctx)
{
    static const char *const flags[] = {"source-replica-db-host", "source-replica-db-port",
                                        "source-replica-db-name", "source-replica-db-schema",
                                        "source-replica-db-sid", "source-replica-ssl-mode",
                                        "source-replica-ssl-cert", "source-replica-ssl-key",
                                        "source-replica-ssl-root-cert", "source-replica-ssl-crl"};
    for (size_t i = 0; i < ARRAY_LEN(flags); i++) {
        if (!opts_has_flag(ctx->opts, flags[i]) || !opts_is_set(ctx->opts, flags[i]))
            continue;
        log_report(LOG_ERROR, "this migration has no source-replica (no fall-forward recorded)",
                   "remove it, or give --source-replica-db-user too to compare a source-replica",
                   "--%s is not used: no source-replica is compared", flags[i]);
        return false;
    }
    return true;
}

/* Does the catalog name schema match an item of a --*-db-schema list (a quoted one exact, else any case)? */
static bool schema_listed(const strlist *items, const bool *quoted, const char *schema)
{
    for (size_t i = 0; i < items->count; i++)
        if (quoted[i] ? str_eq(schema, items->items[i]) : str_case_eq(schema, items->items[i]))
            return true;
    return false;
}

/*
 * --source-db-schema given explicitly narrows the comparison to the migrated
 * tables of those schemas (a table keeps its schema on every side, as import
 * data loads it; cmd_db_conf refuses the copies' schema flags for that reason).
 * The list is read as export data reads it: a quoted name may hold commas.
 */
static bool filter_schemas(const cmd_ctx *ctx, strlist *schemas, strlist *names)
{
    static const char *const flags[] = {"source-db-schema"};
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
        if (!opts_is_set(ctx->opts, flags[f]))
            continue;
        const char *given = opts_get(ctx->opts, flags[f]);
        strlist items = STRLIST_INIT;
        bool *quoted = NULL;
        const char *bad = NULL;
        if (!schema_names_parse_typed(given, &items, &quoted, &bad)) {
            log_report(LOG_ERROR, NULL, "names are separated by commas; quote a name with \"Name\"",
                       "--%s %s: %s", flags[f], given, bad);
            strlist_free(&items);
            free(quoted);
            return false;
        }
        size_t keep = 0;
        for (size_t i = 0; i < names->count; i++) {
            if (schema_listed(&items, quoted, schemas->items[i])) {
                schemas->items[keep] = schemas->items[i];
                names->items[keep++] = names->items[i];
            } else {
                free(schemas->items[i]);
                free(names->items[i]);
            }
        }
        schemas->count = names->count = keep;
        if (!keep)
            log_report(LOG_ERROR, NULL, "give a schema export data exported, or leave the flag out",
                       "--%s %s: no migrated table is in that schema", flags[f], given);
        strlist_free(&items);
        free(quoted);
        if (!keep)
            return false;
    }
    return true;
}

static bool is_mysql(const char *type) { return type && str_case_eq(type, "mysql"); }

/* The source's type: --source-db-type, else the one the migration recorded. */
static bool source_is_mysql(const cmd_ctx *ctx, const cJSON *rec)
{
    if (opts_is_set(ctx->opts, "source-db-type"))
        return is_mysql(opts_get(ctx->opts, "source-db-type"));
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(rec, "SourceDBConf");
    const cJSON *t = src ? cJSON_GetObjectItemCaseSensitive(src, "DBType") : NULL;
    return cJSON_IsString(t) && is_mysql(t->valuestring);
}

/* The database is the schema of a MySQL source: no schema list (as export data says). */
static bool refuse_mysql_schema(const cmd_ctx *ctx)
{
    if (!opts_is_set(ctx->opts, "source-db-schema"))
        return true;
    log_error("--source-db-schema is not applicable for a MySQL source: the database "
              "(--source-db-name) is the schema; remove it");
    return false;
}

/* Oracle sources are not built (their own flags are refused by cmd_db_conf). */
static bool refuse_other_sources(const char *type)
{
    if (type && !str_case_eq(type, "postgresql") && !is_mysql(type)) {
        log_error("compare data with --source-db-type %s is not built yet in this version of "
                  "voyager-c (postgresql and mysql are)",
                  type);
        return false;
    }
    return true;
}

/*
 * Connect once (password prompt, recorded configuration), then let the engine connect again.
 * A MySQL source is connected to by the engine only (through source/source.h).
 */
static int check_db(cmd_ctx *ctx, db_role role, db_conf *conf)
{
    if (!cmd_db_conf(ctx, role, conf))
        return EXIT_BAD_ARGS;
    if (role == DB_SOURCE && !refuse_other_sources(conf->type))
        return EXIT_NOT_IMPLEMENTED;
    if (role == DB_SOURCE && is_mysql(conf->type))
        return refuse_mysql_schema(ctx) ? EXIT_OK : EXIT_BAD_ARGS;
    if (role == DB_SOURCE_REPLICA && cmd_recorded_source_is_mysql(ctx)) {
        /* the replica of a MySQL source is a MySQL/MariaDB server, read through source.h too */
        if (!is_mysql(conf->type)) {
            free(conf->type);
            conf->type = xstrdup("mysql");
            if (!opts_is_set(ctx->opts, "source-replica-db-port"))
                conf->port = db_default_port("mysql", DB_SOURCE_REPLICA);
        }
        return EXIT_OK;
    }
    pgconn *c = cmd_connect(ctx, conf, NULL);
    if (!c)
        return cmd_db_exit_code(role);
    pgconn_close(c);
    return EXIT_OK;
}

static compare_level parse_level(const char *s)
{
    if (str_case_eq(s, "count"))
        return COMPARE_COUNT;
    if (str_case_eq(s, "rows"))
        return COMPARE_ROWS;
    return COMPARE_CHECKSUM;
}

/* Workers: at most 64; a MySQL source (and its source-replica) serves at most 16 from its snapshot. */
static int parallel_jobs(const cmd_ctx *ctx, bool mysql)
{
    return mysql ? cli_parallel_jobs(ctx, MYSQL_MAX_PARALLEL_JOBS,
                                     "a MySQL snapshot serves at most 16 compare workers")
                 : cli_parallel_jobs(ctx, 64, "compare data runs at most 64 workers");
}

static void save_report(cmd_ctx *ctx, const char *json)
{
    char *path = cmd_path(ctx, "reports/compare-data-report.json");
    if (!fs_write_atomic(path, json, strlen(json)))
        log_warn("could not save the report to %s", path);
    free(path);
}

/* The report of a comparison that ran (complete or not), on stdout and in reports/. */
static void report(cmd_ctx *ctx, const compare_result *res, compare_level level)
{
    bool json = str_case_eq(opts_get(ctx->opts, "output-format"), "json");
    cJSON *j = compare_render_json(res, level);
    char *js = cJSON_Print(j);
    cJSON_Delete(j);
    save_report(ctx, js);
    if (json) {
        printf("%s\n", js);
    } else {
        char *text = compare_render_text(res, level);
        fputs(text, stdout);
        free(text);
    }
    free(js);
    fflush(stdout);
}

int cmd_compare_data(cmd_ctx *ctx)
{
    int64_t max_diff = opts_get_int(ctx->opts, "max-diff-rows");
    int64_t timeout = opts_get_int(ctx->opts, "statement-timeout");
    if (max_diff < 0 || timeout < 0 || timeout > 24 * 3600) {
        log_error("--max-diff-rows must be >= 0 and --statement-timeout between 0 and 86400 seconds");
        return EXIT_BAD_ARGS;
    }
    compare_level level = parse_level(opts_get(ctx->opts, "level"));
    if (level != COMPARE_ROWS && opts_is_set(ctx->opts, "max-diff-rows")) {
        log_report(LOG_ERROR, "only --level rows lists differing keys", "add --level rows, or remove it",
                   "--max-diff-rows is used only with --level rows");
        return EXIT_BAD_ARGS;
    }
    if (!refuse_other_sources(opts_get(ctx->opts, "source-db-type")))
        return EXIT_NOT_IMPLEMENTED;
    cJSON *rec = catalog_status_load(ctx->meta);
    if (!rec) {
        log_error("cannot read the migration status from meta.db");
        return EXIT_INTERNAL;
    }
    bool live = live_before_cutover(rec);
    bool replica = want_replica(rec, ctx);
    bool mysql = source_is_mysql(ctx, rec);
    cJSON_Delete(rec);
    if (!replica && !refuse_unused_replica_flags(ctx))
        return EXIT_BAD_ARGS;
    if (mysql && !refuse_mysql_schema(ctx))
        return EXIT_BAD_ARGS;
    strlist schemas = STRLIST_INIT, names = STRLIST_INIT;
    if (!compare_state_migrated_tables(ctx->meta, &schemas, &names) || names.count == 0) {
        log_report(LOG_ERROR, NULL, "run 'yb-voyager export data' and 'import data' first",
                   "no table was exported in this export dir yet");
        strlist_free(&schemas);
        strlist_free(&names);
        return EXIT_BAD_STATE;
    }
    if (!filter_schemas(ctx, &schemas, &names)) {
        strlist_free(&schemas);
        strlist_free(&names);
        return EXIT_BAD_ARGS;
    }
    db_conf src = {0}, tgt = {0}, rep = {0};
    int rc = check_db(ctx, DB_SOURCE, &src);
    if (rc == EXIT_OK)
        rc = check_db(ctx, DB_TARGET, &tgt);
    if (rc == EXIT_OK && replica)
        rc = check_db(ctx, DB_SOURCE_REPLICA, &rep);
    if (rc == EXIT_OK) {
        compare_table_name *tables = xcalloc(names.count, sizeof *tables);
        for (size_t i = 0; i < names.count; i++)
            tables[i] = (compare_table_name){schemas.items[i], names.items[i]};
        compare_spec spec = {
            .level = level,
            .parallel = parallel_jobs(ctx, mysql),
            .max_diff_rows = max_diff,
            .statement_timeout_s = (int)timeout,
            .progress = isatty(STDERR_FILENO) && !opts_get_bool(ctx->opts, "disable-pb"),
            .source = &src,
            .copies = {&tgt, &rep},
            .ncopies = replica ? 2 : 1,
            .tables = tables,
            .ntables = names.count,
            .live = live,
            .point_timeout_s = point_timeout(),
            .text_hash_only = text_hash_only(),
        };
        compare_result res;
        engine_status st = compare_run(&ctx->eng, &spec, &res);
        if (res.npairs)
            report(ctx, &res, spec.level);
        rc = exit_code_of(st);
        compare_result_free(&res);
        free(tables);
    }
    db_conf_free(&src);
    db_conf_free(&tgt);
    db_conf_free(&rep);
    strlist_free(&schemas);
    strlist_free(&names);
    return rc;
}
