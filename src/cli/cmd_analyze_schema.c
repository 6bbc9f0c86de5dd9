/*
 * analyze-schema: analyze the exported schema files and write
 * reports/schema_analysis_report.<format>. Reads only the export dir (no
 * database): the files are what import schema will apply, including the
 * operator's edits, so every run analyzes them afresh.
 */
#include "cli/commands.h"

#include "cli/cmd_connect.h"
#include "core/exitcodes.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"
#include "schema/analyze/analyze.h"
#include "schema/analyze/report.h"

#include <stdlib.h>
#include <string.h>

#ifndef VOYAGER_VERSION
#define VOYAGER_VERSION "0.0.0"
#endif

/* The YugabyteDB release the report speaks for when --target-db-version is not given. */
#define DEFAULT_TARGET_DB_VERSION "2024.2.0.0"

static char *conf_field(const cJSON *conf, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, key);
    return xstrdup(cJSON_IsString(v) ? v->valuestring : "");
}

int cmd_analyze_schema(cmd_ctx *ctx)
{
    char *schema_dir = cmd_path(ctx, "schema");
    analysis *a = an_new();
    int nfiles = fs_is_dir(schema_dir) ? an_add_dir(a, schema_dir, ctx->export_dir) : 0;
    if (nfiles <= 0) {
        if (nfiles == 0)
            log_error("no exported schema in %s: run 'yb-voyager export schema' first", schema_dir);
        free(schema_dir);
        an_free(a);
        return nfiles == 0 ? EXIT_BAD_STATE : EXIT_INTERNAL;
    }
    free(schema_dir);
    an_run(a);

    /* What export schema recorded about the source (absent when the files came another way). */
    cJSON *status = catalog_status_load(ctx->meta);
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(status, db_conf_record_key(DB_SOURCE));
    char *db_name = conf_field(src, "DBName");
    char *schemas = conf_field(src, "Schema");
    char *db_version = conf_field(src, "DBVersion");
    cJSON_Delete(status);
    if (!*schemas) {
        free(schemas);
        schemas = an_schema_names(a);
    }
    if (!*db_version && an_dumped_from(a)) {
        free(db_version);
        db_version = xstrdup(an_dumped_from(a));
    }

    const char *target_version = opts_get(ctx->opts, "target-db-version");
    if (!target_version || !*target_version)
        target_version = DEFAULT_TARGET_DB_VERSION;
    an_report_meta meta = {VOYAGER_VERSION, target_version, db_name, db_version, schemas};
    cJSON *report = an_report_build(a, &meta);
    char *format = str_to_lower(opts_get(ctx->opts, "output-format") ? opts_get(ctx->opts, "output-format") : "html");
    char *text = an_report_render(report, format);
    int rc = EXIT_OK;
    char *rel = xasprintf("reports/schema_analysis_report.%s", format);
    char *path = cmd_path(ctx, rel);
    if (!text) {
        log_error("unknown --output-format %s: use html, json, txt or xml", format);
        rc = EXIT_BAD_ARGS;
    } else if (!fs_write_atomic(path, text, strlen(text))) {
        log_error("cannot write %s: %m", path);
        rc = EXIT_INTERNAL;
    } else {
        /* Later commands (end migration's report backup) may look for it; failure here is not fatal. */
        if (!catalog_status_set_bool(ctx->meta, "AnalyzeSchemaDone", true))
            log_warn("could not record AnalyzeSchemaDone in the migration status");
        log_say("%zu issue(s) found in %d schema file(s); migration complexity: %s", an_issue_count(a), nfiles,
                an_migration_complexity(a));
        log_say("-- find schema analysis report at: %s", path);
    }
    free(text);
    free(rel);
    free(path);
    free(format);
    cJSON_Delete(report);
    free(db_name);
    free(schemas);
    free(db_version);
    an_free(a);
    return rc;
}
