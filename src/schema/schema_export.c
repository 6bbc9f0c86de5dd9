/*
 * export schema: pg_dump --schema-only of the source's schemas, split into
 * schema/<type>/<type>.sql by libpg_query (schema/schema_split.c).
 */
#include "schema/schema_export.h"

#include "catalog/catalog.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"
#include "db/connect.h"
#include "db/partition_scope.h"
#include "schema/pgdump.h"
#include "schema/schema_evtrig.h"
#include "schema/schema_split.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The source's schema for each name typed in --source-db-schema, into out
 * (deduplicated). A quoted name is exact. An unquoted one is taken as typed
 * when such a schema exists, else matched case-insensitively when exactly one
 * schema matches (yb-voyager takes names as typed; PostgreSQL would fold them).
 * A missing or ambiguous name is named with the candidates.
 */
static bool resolve_schemas(pgconn *c, const db_conf *conf, const strlist *typed, const bool *quoted,
                            strlist *out)
{
    const char *db = conf->name ? conf->name : "";
    for (size_t i = 0; i < typed->count; i++) {
        const char *p[1] = {typed->items[i]};
        PGresult *r = pgconn_query(c,
                                   "SELECT nspname FROM pg_catalog.pg_namespace "
                                   "WHERE nspname = $1 OR lower(nspname) = lower($1) ORDER BY nspname <> $1, nspname",
                                   1, p);
        if (!r)
            return false;
        int n = PQntuples(r);
        bool exact = n > 0 && strcmp(PQgetvalue(r, 0, 0), typed->items[i]) == 0;
        const char *pick = exact ? PQgetvalue(r, 0, 0) : !quoted[i] && n == 1 ? PQgetvalue(r, 0, 0) : NULL;
        if (pick) {
            if (!exact)
                log_info("--source-db-schema %s: using schema \"%s\" (case-insensitive match)", typed->items[i], pick);
            if (!strlist_contains(out, pick))
                strlist_push(out, pick);
        } else if (n == 0) {
            log_report(LOG_ERROR, NULL, "check --source-db-schema",
                       "schema \"%s\" does not exist in source database %s", typed->items[i], db);
        } else if (quoted[i]) {
            char *hint = xasprintf("did you mean \"%s\"? (quote it in --source-db-schema to keep "
                                   "its case: '\"%s\"')",
                                   PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 0));
            log_report(LOG_ERROR, NULL, hint, "schema \"%s\" does not exist in source database %s",
                       typed->items[i], db);
            free(hint);
        } else {
            strbuf names = STRBUF_INIT;
            for (int row = 0; row < n; row++)
                strbuf_appendf(&names, "%s\"%s\"", row ? ", " : "", PQgetvalue(r, row, 0));
            char *hint = xasprintf("give the one you mean in double quotes, e.g. '\"%s\"'",
                                   PQgetvalue(r, 0, 0));
            log_report(LOG_ERROR, NULL, hint,
                       "schema %s in --source-db-schema matches several schemas of source database "
                       "%s that differ only in case (%s)",
                       typed->items[i], db, strbuf_cstr(&names));
            free(hint);
            strbuf_free(&names);
        }
        PQclear(r);
        if (!pick)
            return false;
    }
    return true;
}

/* Extensions installed in an exported schema (plpgsql is built in everywhere). */
static bool list_extensions(pgconn *c, const strlist *schemas, strlist *out)
{
    for (size_t i = 0; i < schemas->count; i++) {
        const char *p[1] = {schemas->items[i]};
        PGresult *r = pgconn_query(c,
                                   "SELECT e.extname FROM pg_catalog.pg_extension e "
                                   "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
                                   "WHERE n.nspname = $1 AND e.extname <> 'plpgsql' ORDER BY 1",
                                   1, p);
        if (!r)
            return false;
        for (int row = 0; row < PQntuples(r); row++)
            strlist_push(out, PQgetvalue(r, row, 0));
        PQclear(r);
    }
    return true;
}

static bool write_files(const char *export_dir, const schema_split_result *r)
{
    for (int t = 0; t < OBJ_COUNT; t++) {
        if (r->counts[t] == 0)
            continue;
        char *rel = xasprintf("schema/%s", schema_obj_file((schema_obj)t));
        char *path = xasprintf("%s/%s", export_dir, rel);
        char *dir = xstrdup(path);
        bool ok = fs_mkdir_p(dirname(dir), 0700) &&
                  fs_write_atomic(path, r->files[t].data, r->files[t].len);
        if (!ok)
            log_report(LOG_ERROR, NULL, "check the export dir's free space and permissions",
                       "cannot write %s: %s", path, strerror(errno));
        else
            log_say("  %-34s %zu statement%s", rel, r->counts[t], r->counts[t] == 1 ? "" : "s");
        free(dir);
        free(path);
        free(rel);
        if (!ok)
            return false;
    }
    return true;
}

bool schema_export_clear_dir(const engine_ctx *eng, const char *schema_dir, bool start_clean)
{
    if (fs_dir_is_empty(schema_dir))
        return true;
    if (!start_clean) {
        log_report(LOG_ERROR, NULL,
                   "run with --start-clean true to export again (it empties that directory)",
                   "%s already holds an exported schema", schema_dir);
        return false;
    }
    log_info("--start-clean: emptying %s", schema_dir);
    if (!fs_remove_contents(schema_dir)) {
        log_error("cannot empty %s: %s", schema_dir, strerror(errno));
        return false;
    }
    catalog_status_set_bool(eng->cat, "ExportSchemaDone", false);
    return true;
}

/*
 * The materialized views the source has never filled (WITH NO DATA, not
 * refreshed), as "schema"."name": the schema-only dump creates every one
 * unfilled, so only this tells finalize's --refresh-mviews which to leave so.
 */
static bool list_unpopulated_mviews(pgconn *c, const strlist *schemas, strlist *out)
{
    char *list = pg_text_array_literal(schemas);
    const char *p[1] = {list};
    PGresult *r = pgconn_query(c,
                               "SELECT schemaname, matviewname FROM pg_catalog.pg_matviews "
                               "WHERE NOT ispopulated AND schemaname = ANY ($1::text[]) ORDER BY 1, 2",
                               1, p);
    free(list);
    if (!r)
        return false;
    for (int i = 0; i < PQntuples(r); i++)
        strlist_push_owned(out, pg_quote_qualified(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)));
    PQclear(r);
    return true;
}

typedef struct done_arg {
    const strlist *schemas;
    const strlist *unpopulated;
} done_arg;

static cJSON *string_array(const strlist *l)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < l->count; i++)
        cJSON_AddItemToArray(list, cJSON_CreateString(l->items[i]));
    return list;
}

static bool mark_done(cJSON *rec, void *arg)
{
    const done_arg *a = arg;
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "ExportedSchemas");
    cJSON_AddItemToObject(rec, "ExportedSchemas", string_array(a->schemas));
    cJSON_DeleteItemFromObjectCaseSensitive(rec, SCHEMA_UNPOPULATED_MVIEWS_KEY);
    cJSON_AddItemToObject(rec, SCHEMA_UNPOPULATED_MVIEWS_KEY, string_array(a->unpopulated));
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "ExportSchemaDone");
    cJSON_AddBoolToObject(rec, "ExportSchemaDone", true);
    return true;
}

engine_status schema_export_run(const engine_ctx *eng, const schema_export_spec *spec)
{
    if (spec->source->type && !str_case_eq(spec->source->type, "postgresql"))
        return schema_export_converted((engine_ctx *)eng, spec); /* the source records its conf in eng->cat */
    db_conf *conf = spec->source;
    char *schema_dir = xasprintf("%s/schema", eng->export_dir);
    engine_status rc = ENGINE_OK;
    pgconn *c = NULL;
    strlist schemas = STRLIST_INIT, exts = STRLIST_INIT, unpopulated = STRLIST_INIT;
    char *pg_dump = NULL, *out = NULL, *errf = NULL, *dump = NULL;
    schema_split_result split;
    memset(&split, 0, sizeof split);

    if (!schema_export_clear_dir(eng, schema_dir, spec->start_clean)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }

    c = db_connect_recorded(eng->cat, conf, NULL);
    if (!c) {
        rc = ENGINE_SOURCE_FAILED;
        goto out;
    }
    if (!resolve_schemas(c, conf, spec->typed, spec->quoted, &schemas) || !partition_scope_check(c, &schemas) ||
        !list_extensions(c, &schemas, &exts) || !list_unpopulated_mviews(c, &schemas, &unpopulated)) {
        rc = c->sqlstate[0] ? ENGINE_SOURCE_FAILED : ENGINE_BAD_INPUT;
        goto out;
    }

    pg_dump = pgdump_find(c->server_version_num / 10000);
    out = xasprintf("%s/temp/schema_dump.sql", eng->export_dir);
    errf = xasprintf("%s/temp/pg_dump.err", eng->export_dir);
    if (!pgdump_schema(pg_dump, conf, &schemas, &exts, out, errf)) {
        rc = ENGINE_SOURCE_FAILED;
        goto out;
    }
    size_t len = 0;
    if (!fs_read_all(out, &dump, &len)) {
        log_error("cannot read pg_dump's output %s: %s", out, strerror(errno));
        rc = ENGINE_FAILED;
        goto out;
    }
    schema_split_opts so = {.comments = spec->comments};
    /* pg_dump --schema leaves event triggers out: they belong to no schema */
    strbuf evt = STRBUF_INIT;
    size_t nevt = 0;
    if (!schema_evtrig_sql(c, &schemas, so.comments, &evt, &nevt)) {
        strbuf_free(&evt);
        rc = ENGINE_SOURCE_FAILED;
        goto out;
    }
    if (nevt)
        log_info("%zu event trigger(s) whose function is in an exported schema added", nevt);
    so.extra = nevt ? strbuf_cstr(&evt) : NULL;
    memcpy(so.include, spec->include, sizeof so.include);
    char *err = NULL;
    bool split_ok = schema_split_dump(dump, &so, &split, &err);
    strbuf_free(&evt);
    if (!split_ok) {
        log_error("cannot split pg_dump's output %s: %s", out, err);
        free(err);
        rc = ENGINE_FAILED;
        goto out;
    }
    log_say("exported the schema of %s (schemas: %s) into %s:", conf->name ? conf->name : "",
            conf->schema ? conf->schema : "public", schema_dir);
    if (!write_files(eng->export_dir, &split)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    if (split.unparsed)
        log_warn("%zu statement(s) could not be parsed and were put in uncategorized.sql", split.unparsed);
    done_arg da = {&schemas, &unpopulated};
    if (!catalog_status_update(eng->cat, mark_done, &da)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    unlink(out);
    unlink(errf);

out:
    schema_split_result_free(&split);
    free(dump);
    free(out);
    free(errf);
    free(pg_dump);
    strlist_free(&schemas);
    strlist_free(&exts);
    strlist_free(&unpopulated);
    pgconn_close(c);
    free(schema_dir);
    return rc;
}
