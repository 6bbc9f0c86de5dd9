/*
 * import schema: apply schema/ to the target (schema/schema_import.c). Without
 * --post-snapshot-import: every pre-data type; with it: indexes and triggers
 * (and --refresh-mviews), after import data.
 */
#include "cli/cmd_connect.h"
#include "cli/commands.h"
#include "core/exitcodes.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"
#include "schema/schema_import.h"
#include "schema/schema_names.h"
#include "schema/schema_objtype.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The types this run applies, in order. Returns false after an error (bad flag). */
static bool pick_order(cmd_ctx *ctx, bool post, schema_import_opts *o)
{
    schema_obj list[OBJ_COUNT];
    int n = OBJ_COUNT;
    const char *inc = opts_get(ctx->opts, "object-type-list");
    const char *exc = opts_get(ctx->opts, "exclude-object-type-list");
    if (inc && exc) {
        log_error("give only one of --object-type-list and --exclude-object-type-list");
        return false;
    }
    if (inc) {
        n = schema_obj_parse_list(inc, "object-type-list", list);
        if (n < 0)
            return false;
    } else {
        for (int t = 0; t < OBJ_COUNT; t++)
            list[t] = (schema_obj)t;
    }
    bool excluded[OBJ_COUNT] = {false};
    if (exc) {
        schema_obj ex[OBJ_COUNT];
        int ne = schema_obj_parse_list(exc, "exclude-object-type-list", ex);
        if (ne < 0)
            return false;
        for (int i = 0; i < ne; i++)
            excluded[ex[i]] = true;
    }
    bool wanted[OBJ_COUNT] = {false};
    for (int i = 0; i < n; i++)
        wanted[list[i]] = !excluded[list[i]] && schema_obj_is_post_data(list[i]) == post;
    o->n = 0;
    if (opts_get_bool(ctx->opts, "straight-order") && inc) {
        for (int i = 0; i < n; i++)
            if (wanted[list[i]])
                o->order[o->n++] = list[i];
    } else {
        for (int t = 0; t < OBJ_COUNT; t++)
            if (wanted[t])
                o->order[o->n++] = (schema_obj)t;
    }
    return true;
}

static bool create_target_schema(pgconn *c, const char *name)
{
    const char *p[1] = {name};
    char *v = pgconn_query_value(c, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", 1, p);
    if (v) {
        free(v);
        return true;
    }
    if (c->sqlstate[0])
        return false;
    char *q = pg_quote_ident(name);
    char *sql = xasprintf("CREATE SCHEMA IF NOT EXISTS %s", q);
    bool ok = pgconn_exec(c, sql);
    if (ok)
        log_say("created schema %s on the target", q);
    free(sql);
    free(q);
    return ok;
}

static int import_schema(cmd_ctx *ctx, bool post)
{
    bool refresh = opts_get_bool(ctx->opts, "refresh-mviews");
    if (refresh && !post) {
        log_error("--refresh-mviews true needs --post-snapshot-import true (materialized views are "
                  "refreshed after the data is imported)");
        return EXIT_BAD_ARGS;
    }
    schema_import_opts o = {0};
    if (!pick_order(ctx, post, &o))
        return EXIT_BAD_ARGS;
    o.ignore_exist = opts_get_bool(ctx->opts, "ignore-exist");
    o.continue_on_error = opts_get_bool(ctx->opts, "continue-on-error");
    o.post_data = post;

    char *schema_dir = cmd_path(ctx, "schema");
    int rc = EXIT_OK;
    db_conf conf = {0};
    pgconn *c = NULL;
    strlist tschema = STRLIST_INIT;
    char *target_id = NULL;
    o.schema_dir = schema_dir;
    o.interrupted = &cmd_interrupted;

    if (fs_dir_is_empty(schema_dir)) {
        log_error("no exported schema in %s: run 'yb-voyager export schema' first", schema_dir);
        rc = EXIT_BAD_STATE;
        goto out;
    }
    if (post && !catalog_status_get_bool(ctx->meta, "ImportSchemaDone")) {
        log_error("the schema is not imported yet: run 'yb-voyager import schema' without "
                  "--post-snapshot-import first, then import data");
        rc = EXIT_BAD_STATE;
        goto out;
    }
    if (o.n == 0)
        log_warn("no object type left to apply with these flags (INDEX and TRIGGER are applied only with "
                 "--post-snapshot-import true, every other type only without it)");

    if (!cmd_db_conf(ctx, DB_TARGET, &conf)) {
        rc = EXIT_BAD_ARGS;
        goto out;
    }
    const char *bad = NULL;
    if (!schema_names_parse(conf.schema ? conf.schema : "public", &tschema, &bad) || tschema.count != 1) {
        log_error("--target-db-schema '%s': %s; give one schema name", conf.schema ? conf.schema : "",
                  bad ? bad : "more than one name");
        rc = EXIT_BAD_ARGS;
        goto out;
    }
    target_id = xasprintf("%s:%d/%s", conf.host ? conf.host : "", conf.port, conf.name ? conf.name : "");
    o.target_id = target_id;
    c = cmd_connect(ctx, &conf, NULL);
    if (!c) {
        rc = EXIT_TARGET_ERROR;
        goto out;
    }
    /* the server's grammar is libpg_query's (PostgreSQL 15) unless it is YugabyteDB or newer */
    if (!schema_import_precheck(&o, !c->is_yugabyte && c->server_version_num < 160000)) {
        rc = EXIT_BAD_STATE;
        goto out;
    }
    if (opts_get_bool(ctx->opts, "start-clean")) {
        /* Drops nothing on the target: forgets what was applied, so all of it runs again. */
        log_info("--start-clean: forgetting earlier progress of import schema");
        if (!schema_import_progress_reset(ctx->meta, target_id, o.order, o.n, post)) {
            rc = EXIT_BAD_STATE;
            goto out;
        }
        char *failed = cmd_path(ctx, "schema/failed.sql");
        unlink(failed);
        free(failed);
        catalog_status_set_bool(ctx->meta, post ? "PostSnapshotImportDone" : "ImportSchemaDone", false);
    }
    if (!post) {
        /* every pre-data statement that failed before runs again: the file starts over */
        char *failed = cmd_path(ctx, "schema/failed.sql");
        unlink(failed);
        free(failed);
    }
    if (opts_is_set(ctx->opts, "target-db-schema") && !create_target_schema(c, tschema.items[0])) {
        rc = EXIT_TARGET_ERROR;
        goto out;
    }
    if (!schema_import_session(c, tschema.items[0])) {
        rc = EXIT_TARGET_ERROR;
        goto out;
    }
    schema_import_stats st;
    if (!schema_import_apply(c, ctx->meta, &o, &st)) {
        rc = EXIT_TARGET_ERROR;
        goto out;
    }
    log_say("import schema%s: %zu statement%s applied, %zu already applied by an earlier run, "
            "%zu skipped (already existed), %zu failed",
            post ? " (post-snapshot)" : "", st.applied, st.applied == 1 ? "" : "s", st.already, st.existed,
            st.failed);
    bool one = st.postponed == 1;
    if (st.postponed)
        log_say("%zu statement%s wait%s for finalize-schema-post-data-import: %s on objects it creates "
                "(e.g. a foreign key on columns only a unique index covers)",
                st.postponed, one ? "" : "s", one ? "s" : "", one ? "it depends" : "they depend");
    if (st.pending)
        log_warn("%zu statement(s) left by import schema still wait for the indexes: include INDEX in "
                 "--object-type-list to apply them",
                 st.pending);
    if (st.failed)
        log_warn("%zu statement(s) failed: see %s/failed.sql, fix them and apply them by hand or run "
                 "import schema again", st.failed, schema_dir);
    if (refresh) {
        size_t n = 0;
        if (!schema_import_refresh_mviews(c, schema_dir, &n)) {
            rc = EXIT_TARGET_ERROR;
            goto out;
        }
        log_say("refreshed %zu materialized view%s", n, n == 1 ? "" : "s");
        catalog_status_set_bool(ctx->meta, "RefreshMviewsDone", true);
    }
    if (!catalog_status_set_bool(ctx->meta, post ? "PostSnapshotImportDone" : "ImportSchemaDone", true))
        rc = EXIT_BAD_STATE;

out:
    free(target_id);
    strlist_free(&tschema);
    pgconn_close(c);
    db_conf_free(&conf);
    free(schema_dir);
    return rc;
}

int cmd_import_schema(cmd_ctx *ctx)
{
    return import_schema(ctx, opts_get_bool(ctx->opts, "post-snapshot-import") ||
                                  opts_get_bool(ctx->opts, "post-import-data"));
}

int cmd_finalize_schema_post_data_import(cmd_ctx *ctx) { return import_schema(ctx, true); }
