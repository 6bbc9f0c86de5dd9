#include "schema/analyze/analyze_schema.h"

#include "catalog/catalog.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"
#include "db/connect.h"
#include "schema/analyze/analyze.h"
#include "schema/analyze/report.h"
#include "schema/schema_export.h"

#include <stdlib.h>
#include <string.h>

#ifndef VOYAGER_VERSION
#define VOYAGER_VERSION "0.0.0"
#endif

/*
 * What export schema could not convert from a non-PostgreSQL source (MySQL:
 * schema/source_conversion_issues.json, written by schema/mysql_schema_export.c):
 * reported as issues needing a manual change. False after a logged error.
 */
static bool add_source_issues(analysis *a, const char *export_dir)
{
    char *path = xasprintf("%s/schema/" SCHEMA_SOURCE_ISSUES_FILE, export_dir);
    char *text = NULL;
    size_t len = 0;
    bool ok = true;
    if (fs_exists(path)) {
        cJSON *arr = fs_read_all(path, &text, &len) ? cJSON_Parse(text) : NULL;
        ok = cJSON_IsArray(arr);
        if (!ok)
            log_report(LOG_ERROR, NULL, "run export schema again",
                       "cannot read %s (written by export schema)", path);
        const cJSON *it;
        cJSON_ArrayForEach(it, arr)
        {
            const cJSON *ot = cJSON_GetObjectItemCaseSensitive(it, "ObjectType");
            const cJSON *on = cJSON_GetObjectItemCaseSensitive(it, "ObjectName");
            const cJSON *re = cJSON_GetObjectItemCaseSensitive(it, "Reason");
            const cJSON *su = cJSON_GetObjectItemCaseSensitive(it, "Suggestion");
            an_add_source_issue(a, cJSON_GetStringValue(ot), cJSON_GetStringValue(on), cJSON_GetStringValue(re),
                                cJSON_GetStringValue(su), "schema/" SCHEMA_SOURCE_ISSUES_FILE);
        }
        cJSON_Delete(arr);
    }
    free(text);
    free(path);
    return ok;
}

static char *conf_field(const cJSON *conf, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, key);
    return xstrdup(cJSON_IsString(v) ? v->valuestring : "");
}

engine_status schema_analyze_run(const engine_ctx *eng, const schema_analyze_spec *spec)
{
    char *schema_dir = xasprintf("%s/schema", eng->export_dir);
    analysis *a = an_new();
    int nfiles = fs_is_dir(schema_dir) ? an_add_dir(a, schema_dir, eng->export_dir) : 0;
    if (nfiles <= 0) {
        if (nfiles == 0)
            log_report(LOG_ERROR, NULL, "run 'yb-voyager export schema' first", "no exported schema in %s",
                       schema_dir);
        free(schema_dir);
        an_free(a);
        return nfiles == 0 ? ENGINE_BAD_STATE : ENGINE_FAILED;
    }
    free(schema_dir);
    an_run(a);
    if (!add_source_issues(a, eng->export_dir)) {
        an_free(a);
        return ENGINE_BAD_STATE;
    }

    /* What export schema recorded about the source (absent when the files came another way). */
    cJSON *status = catalog_status_load(eng->cat);
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

    an_report_meta meta = {VOYAGER_VERSION, spec->target_db_version, db_name, db_version, schemas};
    cJSON *report = an_report_build(a, &meta);
    char *text = an_report_render(report, spec->format);
    engine_status rc = ENGINE_OK;
    char *path = xasprintf("%s/reports/schema_analysis_report.%s", eng->export_dir, spec->format);
    if (!text) {
        log_report(LOG_ERROR, NULL, "use html, json, txt or xml", "unknown --output-format %s",
                   spec->format);
        rc = ENGINE_BAD_INPUT;
    } else if (!fs_write_atomic(path, text, strlen(text))) {
        log_error("cannot write %s: %m", path);
        rc = ENGINE_FAILED;
    } else {
        /* Later commands (end migration's report backup) may look for it; failure here is not fatal. */
        if (!catalog_status_set_bool(eng->cat, "AnalyzeSchemaDone", true))
            log_warn("could not record AnalyzeSchemaDone in the migration status");
        log_say("%zu issue(s) found in %d schema file(s); migration complexity: %s", an_issue_count(a), nfiles,
                an_migration_complexity(a));
        log_say("-- find schema analysis report at: %s", path);
    }
    free(text);
    free(path);
    cJSON_Delete(report);
    free(db_name);
    free(schemas);
    free(db_version);
    an_free(a);
    return rc;
}
