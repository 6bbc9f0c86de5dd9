/*
 * Column datatypes: unsupported by YugabyteDB, or not streamed by live
 * migration. Both live-migration kinds are migration caveats (the schema
 * imports; only a live migration of the table is affected), with their own
 * issue reasons so the operator sees which mode they concern.
 */
#include "schema/analyze/analyze_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const unsupported_types[] = {
    "xml", "xid", "geometry", "geography", "box2d", "box3d", "raster", "topogeometry", "pg_lsn",
    "txid_snapshot", "int4multirange", "int8multirange", "nummultirange", "datemultirange",
    "tsmultirange", "tstzmultirange", "lo", NULL};

static const char *const live_unsupported_types[] = {"point", "line", "lseg", "box", "path", "polygon",
                                                     "circle", "vector", "timetz", NULL};

static bool in_set(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (!strcmp(s, *set))
            return true;
    return false;
}

static void check_coldef(analysis *a, const an_stmt *st, const cJSON *col)
{
    const char *name = an_str(col, "colname");
    bool array = false;
    const char *type = an_type_name(cJSON_GetObjectItem(col, "typeName"), &array);
    if (!name || !type)
        return;
    an_rule_id rule;
    if (in_set(type, unsupported_types))
        rule = R_UNSUPPORTED_DATATYPE;
    else if (in_set(type, live_unsupported_types))
        rule = R_LIVE_DATATYPE;
    else if (!strcmp(type, "tsquery") || an_is_udt(a, type))
        rule = R_LIVE_FB_FF_DATATYPE;
    else
        return;
    char *d = xasprintf("%s%s on column - %s", type, array ? "[]" : "", name);
    an_report(a, st, rule, d);
    free(d);
}

static void check_elts(analysis *a, const an_stmt *st, const cJSON *elts)
{
    const cJSON *el;
    cJSON_ArrayForEach(el, elts)
    {
        const char *kind;
        const cJSON *node = an_unwrap(el, &kind);
        if (node && !strcmp(kind, "ColumnDef"))
            check_coldef(a, st, node);
    }
}

void an_rules_types(analysis *a, const an_stmt *st)
{
    const char *k = st->kind;
    const cJSON *n = st->node;
    if (!strcmp(k, "CreateStmt")) {
        check_elts(a, st, cJSON_GetObjectItem(n, "tableElts"));
    } else if (!strcmp(k, "CreateForeignTableStmt")) {
        check_elts(a, st, cJSON_GetObjectItem(cJSON_GetObjectItem(n, "base"), "tableElts"));
    } else if (!strcmp(k, "AlterTableStmt")) {
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(n, "cmds"))
        {
            const char *kind;
            const cJSON *cmd = an_unwrap(c, &kind);
            const cJSON *def = an_unwrap(cJSON_GetObjectItem(cmd, "def"), &kind);
            if (str_eq(an_str(cmd, "subtype"), "AT_AddColumn") && def && !strcmp(kind, "ColumnDef"))
                check_coldef(a, st, def);
        }
    }
}
