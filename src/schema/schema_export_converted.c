/*
 * export schema from a source pg_dump cannot read (MySQL / MariaDB): the
 * source's DDL converted by the source (source.h dump_schema; MySQL's is
 * source/mysql/mysql_ddl), written in the PostgreSQL export's layout so that
 * import schema and analyze-schema read it unchanged; what the conversion
 * could not do goes to schema/SCHEMA_SOURCE_ISSUES_FILE for analyze-schema.
 */
#include "schema/schema_export.h"

#include "catalog/catalog.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"
#include "source/source.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

/* ExportSchemaDone, and the database exported as ExportedSchemas. */
static bool mark_done(cJSON *rec, void *arg)
{
    cJSON *list = cJSON_CreateArray();
    cJSON_AddItemToArray(list, cJSON_CreateString(arg));
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "ExportedSchemas");
    cJSON_AddItemToObject(rec, "ExportedSchemas", list);
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "ExportSchemaDone");
    cJSON_AddBoolToObject(rec, "ExportSchemaDone", true);
    return true;
}

static bool write_file(const char *export_dir, schema_obj t, const strbuf *text, size_t count)
{
    char *rel = xasprintf("schema/%s", schema_obj_file(t));
    char *path = xasprintf("%s/%s", export_dir, rel);
    char *dir = xstrdup(path);
    bool ok = fs_mkdir_p(dirname(dir), 0700) && fs_write_atomic(path, text->data, text->len);
    if (!ok)
        log_report(LOG_ERROR, NULL, "check the export dir's free space and permissions",
                   "cannot write %s: %s", path, strerror(errno));
    else
        log_say("  %-34s %zu statement%s", rel, count, count == 1 ? "" : "s");
    free(dir);
    free(path);
    free(rel);
    return ok;
}

static bool write_issues(const char *export_dir, const source_ddl *r)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < r->nissues; i++) {
        const source_ddl_issue *is = &r->issues[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ObjectType", is->object_type ? is->object_type : "");
        cJSON_AddStringToObject(o, "ObjectName", is->object_name ? is->object_name : "");
        cJSON_AddStringToObject(o, "Reason", is->reason ? is->reason : "");
        cJSON_AddStringToObject(o, "Suggestion", is->suggestion ? is->suggestion : "");
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_Print(arr);
    cJSON_Delete(arr);
    char *path = xasprintf("%s/schema/%s", export_dir, SCHEMA_SOURCE_ISSUES_FILE);
    bool ok = fs_write_atomic(path, text, strlen(text));
    if (!ok)
        log_error("cannot write %s: %s", path, strerror(errno));
    free(path);
    free(text);
    return ok;
}

engine_status schema_export_converted(engine_ctx *eng, const schema_export_spec *spec)
{
    db_conf *conf = spec->source;
    char *schema_dir = xasprintf("%s/schema", eng->export_dir);
    engine_status rc = ENGINE_OK;
    source_ddl r;
    memset(&r, 0, sizeof r);
    source *src = NULL;
    /*
     * Routines and triggers are not converted from MySQL: each is a manual-change
     * issue in analyze-schema's report. Asked for by name, that is refused rather
     * than answered with no file and exit 0.
     */
    static const schema_obj not_converted[] = {OBJ_FUNCTION, OBJ_PROCEDURE, OBJ_TRIGGER};
    for (size_t i = 0; spec->types_listed && i < ARRAY_LEN(not_converted); i++) {
        if (!spec->include[not_converted[i]])
            continue;
        log_report(LOG_ERROR,
                   "analyze-schema lists each of them as a manual change (rewrite in PL/pgSQL)",
                   "remove it from --object-type-list",
                   "export schema does not convert a %s source's %s objects in this version of "
                   "voyager-c",
                   conf->type, schema_obj_name(not_converted[i]));
        rc = ENGINE_NOT_SUPPORTED;
        goto out;
    }
    src = source_for(eng, conf, "export schema from source", &rc);
    if (!src)
        goto out;
    if (!src->ops->dump_schema) {
        log_error("export schema from source type %s is not built yet in this version of voyager-c",
                  src->ops->type);
        rc = ENGINE_NOT_SUPPORTED;
        goto out;
    }
    if (!conf->name || !*conf->name) {
        log_error("--source-db-name is required for a %s source: the database to migrate "
                  "(its database is the schema)", src->ops->type);
        rc = ENGINE_BAD_INPUT;
        goto out;
    }
    if (!schema_export_clear_dir(eng, schema_dir, spec->start_clean)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    if (!src->ops->dump_schema(src, &r)) {
        rc = ENGINE_SOURCE_FAILED;
        goto out;
    }
    log_say("exported the schema of %s database %s into %s:", src->ops->type, conf->name, schema_dir);
    if (!fs_mkdir_p(schema_dir, 0700)) {
        log_error("cannot create %s: %s", schema_dir, strerror(errno));
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    static const struct {
        schema_obj type;
        source_ddl_part part;
    } files[] = {{OBJ_TABLE, SOURCE_DDL_TABLE}, {OBJ_VIEW, SOURCE_DDL_VIEW},
                 {OBJ_COMMENT, SOURCE_DDL_COMMENT}, {OBJ_INDEX, SOURCE_DDL_INDEX}};
    bool ok = true;
    for (size_t i = 0; ok && i < ARRAY_LEN(files); i++) {
        size_t n = r.counts[files[i].part];
        if (files[i].type == OBJ_COMMENT && !spec->comments)
            n = 0; /* --comments-on-objects false, as pg_dump's comments are left out */
        if (n > 0 && spec->include[files[i].type])
            ok = write_file(eng->export_dir, files[i].type, &r.parts[files[i].part], n);
    }
    if (!ok || !write_issues(eng->export_dir, &r)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    if (r.nissues)
        log_say("%zu object(s) need a manual change: run 'yb-voyager analyze-schema' for the list",
                r.nissues);
    if (!catalog_status_update(eng->cat, mark_done, conf->name))
        rc = ENGINE_BAD_STATE;

out:
    source_ddl_free(&r);
    source_close(src);
    free(schema_dir);
    return rc;
}
