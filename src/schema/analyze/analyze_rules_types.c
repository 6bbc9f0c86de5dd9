/*
 * Column datatypes: unsupported by YugabyteDB, or not streamed by live
 * migration. Both live-migration kinds are migration caveats (the schema
 * imports; only a live migration of the table is affected), with their own
 * issue reasons so the operator sees which mode they concern.
 */
#include "schema/analyze/analyze_int.h"

#include <stdlib.h>
#include <string.h>

/* Types YugabyteDB lacks, each with upstream's kind of issue (and its links). */
static const struct {
    const char *type;
    an_rule_id rule;
} unsupported_types[] = {
    {"xml", R_XML_DATATYPE},
    {"xid", R_XID_DATATYPE},
    {"geometry", R_POSTGIS_DATATYPE},
    {"geography", R_POSTGIS_DATATYPE},
    {"box2d", R_POSTGIS_DATATYPE},
    {"box3d", R_POSTGIS_DATATYPE},
    {"topogeometry", R_POSTGIS_DATATYPE},
    {"raster", R_UNSUPPORTED_DATATYPE},
    {"pg_lsn", R_UNSUPPORTED_DATATYPE},
    {"txid_snapshot", R_UNSUPPORTED_DATATYPE},
    {"lo", R_LO_DATATYPE},
    {"int4multirange", R_MULTIRANGE_DATATYPE},
    {"int8multirange", R_MULTIRANGE_DATATYPE},
    {"nummultirange", R_MULTIRANGE_DATATYPE},
    {"datemultirange", R_MULTIRANGE_DATATYPE},
    {"tsmultirange", R_MULTIRANGE_DATATYPE},
    {"tstzmultirange", R_MULTIRANGE_DATATYPE},
};

/* Oracle types ora2pg leaves in a schema: upstream reports each once per table, named as written. */
static const char *const oracle_types[] = {"anydata", "anydataset", "anytype", "uritype", NULL};

static const char *const live_unsupported_types[] = {"point", "line", "lseg", "box", "path", "polygon",
                                                     "circle", "vector", "timetz", NULL};

static bool in_set(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (!strcmp(s, *set))
            return true;
    return false;
}

/* foreign: a foreign table's columns, which live migration never streams (upstream reports only the types YugabyteDB lacks). */
static void check_coldef(analysis *a, const an_stmt *st, const cJSON *col, bool foreign)
{
    const char *name = an_str(col, "colname");
    bool array = false;
    const char *type = an_type_name(cJSON_GetObjectItem(col, "typeName"), &array);
    if (!name || !type)
        return;
    an_rule_id rule = R__COUNT;
    for (size_t i = 0; i < ARRAY_LEN(unsupported_types) && rule == R__COUNT; i++)
        if (!strcmp(type, unsupported_types[i].type))
            rule = unsupported_types[i].rule;
    if (rule == R__COUNT) {
        if (in_set(type, oracle_types))
            rule = R_ORACLE_DATATYPE;
        else if (foreign)
            return;
        else if (in_set(type, live_unsupported_types))
            rule = R_LIVE_DATATYPE;
        /* Upstream's user-defined types here: composite types, and arrays of enums (enum values stream fine). */
        else if (!strcmp(type, "tsquery") || an_is_composite(a, type) || (array && an_is_enum(a, type)))
            rule = R_LIVE_FB_FF_DATATYPE;
        else
            return;
    }
    if (rule == R_ORACLE_DATATYPE) {
        static const char *const shown[] = {"AnyData", "AnyDataSet", "AnyType", "URIType"};
        for (size_t i = 0; oracle_types[i]; i++)
            if (!strcmp(type, oracle_types[i]))
                an_report(a, st, rule, shown[i]);
        return;
    }
    char *d = xasprintf("%s%s on column - %s", type, array ? "[]" : "", name);
    an_report(a, st, rule, d);
    free(d);
}

static void check_elts(analysis *a, const an_stmt *st, const cJSON *elts, bool foreign)
{
    const cJSON *el;
    cJSON_ArrayForEach(el, elts)
    {
        const char *kind;
        const cJSON *node = an_unwrap(el, &kind);
        if (node && !strcmp(kind, "ColumnDef"))
            check_coldef(a, st, node, foreign);
    }
}

void an_rules_types(analysis *a, const an_stmt *st)
{
    const char *k = st->kind;
    const cJSON *n = st->node;
    if (!strcmp(k, "CreateStmt")) {
        check_elts(a, st, cJSON_GetObjectItem(n, "tableElts"), false);
    } else if (!strcmp(k, "CreateForeignTableStmt")) {
        check_elts(a, st, cJSON_GetObjectItem(cJSON_GetObjectItem(n, "base"), "tableElts"), true);
    } else if (!strcmp(k, "AlterTableStmt")) {
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(n, "cmds"))
        {
            const char *kind;
            const cJSON *cmd = an_unwrap(c, &kind);
            const cJSON *def = an_unwrap(cJSON_GetObjectItem(cmd, "def"), &kind);
            if (str_eq(an_str(cmd, "subtype"), "AT_AddColumn") && def && !strcmp(kind, "ColumnDef"))
                check_coldef(a, st, def, str_eq(an_str(n, "objtype"), "OBJECT_FOREIGN_TABLE"));
        }
    }
}
