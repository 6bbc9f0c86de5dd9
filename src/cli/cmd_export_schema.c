/* export schema: the flags into a schema_export_spec (schema/schema_export.h). */
#include "cli/cmd_connect.h"
#include "cli/commands.h"
#include "core/exitcodes.h"
#include "core/log.h"
#include "core/util.h"
#include "schema/schema_export.h"
#include "schema/schema_names.h"
#include "schema/schema_objtype.h"

#include <stdlib.h>

/* Which object types to write, from --object-type-list / --exclude-object-type-list. */
static bool pick_types(cmd_ctx *ctx, bool include[OBJ_COUNT])
{
    schema_obj list[OBJ_COUNT];
    const char *inc = opts_get(ctx->opts, "object-type-list");
    const char *exc = opts_get(ctx->opts, "exclude-object-type-list");
    if (inc && exc) {
        log_error("give only one of --object-type-list and --exclude-object-type-list");
        return false;
    }
    for (int t = 0; t < OBJ_COUNT; t++)
        include[t] = inc == NULL;
    if (inc) {
        int n = schema_obj_parse_list(inc, "object-type-list", list);
        if (n < 0)
            return false;
        for (int i = 0; i < n; i++)
            include[list[i]] = true;
    }
    if (exc) {
        int n = schema_obj_parse_list(exc, "exclude-object-type-list", list);
        if (n < 0)
            return false;
        for (int i = 0; i < n; i++)
            include[list[i]] = false;
    }
    return true;
}

int cmd_export_schema(cmd_ctx *ctx)
{
    schema_export_spec spec = {.start_clean = opts_get_bool(ctx->opts, "start-clean"),
                               .comments = opts_get_bool(ctx->opts, "comments-on-objects")};
    if (!pick_types(ctx, spec.include))
        return EXIT_BAD_ARGS;
    spec.types_listed = opts_get(ctx->opts, "object-type-list") != NULL;
    db_conf conf = {0};
    strlist typed = STRLIST_INIT;
    bool *quoted = NULL;
    int rc = EXIT_BAD_ARGS;
    if (!cmd_db_conf(ctx, DB_SOURCE, &conf))
        goto out;
    bool mysql = conf.type && str_case_eq(conf.type, "mysql");
    if (conf.type && !str_case_eq(conf.type, "postgresql") && !mysql) {
        log_report(LOG_ERROR, NULL, "use --source-db-type postgresql or mysql",
                   "export schema from source type %s is not built yet in this version of voyager-c",
                   conf.type);
        rc = EXIT_NOT_IMPLEMENTED;
        goto out;
    }
    if (mysql && opts_is_set(ctx->opts, "source-db-schema")) {
        log_report(LOG_ERROR, "a MySQL database (--source-db-name) is the schema",
                   "remove --source-db-schema",
                   "--source-db-schema is not applicable for a MySQL source");
        goto out;
    }
    const char *bad = NULL;
    if (!schema_names_parse_typed(conf.schema ? conf.schema : "public", &typed, &quoted, &bad)) {
        log_report(LOG_ERROR, NULL, "give a comma list such as public,\"MixedCase\"",
                   "--source-db-schema '%s': %s", conf.schema, bad);
        goto out;
    }
    if (!mysql && !schema_names_refuse_reserved(conf.schema))
        goto out;
    spec.source = &conf;
    spec.typed = &typed;
    spec.quoted = quoted;
    rc = exit_code_of(schema_export_run(&ctx->eng, &spec));
out:
    strlist_free(&typed);
    free(quoted);
    db_conf_free(&conf);
    return rc;
}
