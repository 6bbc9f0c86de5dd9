/*
 * import schema: apply schema/ to the target (schema/schema_import.c). Without
 * --post-snapshot-import: every pre-data type; with it: indexes and triggers
 * (and --refresh-mviews), after import data.
 */
#include "cli/cmd_connect.h"
#include "cli/commands.h"
#include "core/exitcodes.h"
#include "core/log.h"
#include "core/util.h"
#include "schema/schema_import.h"
#include "schema/schema_names.h"
#include "schema/schema_objtype.h"

/* The types this run applies, in order. Returns false after an error (bad flag). */
static bool pick_order(cmd_ctx *ctx, bool post, schema_import_spec *o)
{
    schema_obj list[OBJ_COUNT];
    int n = OBJ_COUNT;
    const char *inc = opts_get(ctx->opts, "object-type-list");
    const char *exc = opts_get(ctx->opts, "exclude-object-type-list");
    if (inc && exc) {
        log_error("give only one of --object-type-list and --exclude-object-type-list");
        return false;
    }
    if (opts_get_bool(ctx->opts, "straight-order") && !inc) {
        log_report(LOG_ERROR, "it applies the object types in the order --object-type-list gives them",
                   "give --object-type-list, or remove it",
                   "--straight-order is used only with --object-type-list");
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

static int import_schema(cmd_ctx *ctx, bool post)
{
    schema_import_spec spec = {
        .post_data = post,
        .refresh_mviews = opts_get_bool(ctx->opts, "refresh-mviews"),
        .ignore_exist = opts_get_bool(ctx->opts, "ignore-exist"),
        .continue_on_error = opts_get_bool(ctx->opts, "continue-on-error"),
        .start_clean = opts_get_bool(ctx->opts, "start-clean"),
        .create_target_schema = opts_is_set(ctx->opts, "target-db-schema"),
    };
    if (spec.refresh_mviews && !post) {
        log_error("--refresh-mviews true needs --post-snapshot-import true (materialized views are "
                  "refreshed after the data is imported)");
        return EXIT_BAD_ARGS;
    }
    if (!pick_order(ctx, post, &spec))
        return EXIT_BAD_ARGS;
    db_conf conf = {0};
    strlist tschema = STRLIST_INIT;
    int rc = EXIT_BAD_ARGS;
    if (!cmd_db_conf(ctx, DB_TARGET, &conf))
        goto out;
    const char *bad = NULL;
    if (!schema_names_parse(conf.schema ? conf.schema : "public", &tschema, &bad) || tschema.count != 1) {
        log_report(LOG_ERROR, NULL, "give one schema name", "--target-db-schema '%s': %s",
                   conf.schema ? conf.schema : "", bad ? bad : "more than one name");
        goto out;
    }
    spec.target = &conf;
    spec.target_schema = tschema.items[0];
    rc = exit_code_of(schema_import_run(&ctx->eng, &spec));
out:
    strlist_free(&tschema);
    db_conf_free(&conf);
    return rc;
}

int cmd_import_schema(cmd_ctx *ctx)
{
    return import_schema(ctx, opts_get_bool(ctx->opts, "post-snapshot-import") ||
                                  opts_get_bool(ctx->opts, "post-import-data"));
}

int cmd_finalize_schema_post_data_import(cmd_ctx *ctx) { return import_schema(ctx, true); }
