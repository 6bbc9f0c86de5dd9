#include "schema/schema_objtype.h"

#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    const char *file;
} objtypes[OBJ_COUNT] = {
    [OBJ_SCHEMA] = {"SCHEMA", "schemas/schema.sql"},
    [OBJ_COLLATION] = {"COLLATION", "collations/collation.sql"},
    [OBJ_EXTENSION] = {"EXTENSION", "extensions/extension.sql"},
    [OBJ_TYPE] = {"TYPE", "types/type.sql"},
    [OBJ_DOMAIN] = {"DOMAIN", "domains/domain.sql"},
    [OBJ_SEQUENCE] = {"SEQUENCE", "sequences/sequence.sql"},
    [OBJ_TABLE] = {"TABLE", "tables/table.sql"},
    [OBJ_PARTITION] = {"PARTITION", "partitions/partition.sql"},
    [OBJ_FOREIGN_TABLE] = {"FOREIGN TABLE", "tables/foreign_table.sql"},
    [OBJ_FUNCTION] = {"FUNCTION", "functions/function.sql"},
    [OBJ_PROCEDURE] = {"PROCEDURE", "procedures/procedure.sql"},
    [OBJ_VIEW] = {"VIEW", "views/view.sql"},
    [OBJ_MVIEW] = {"MVIEW", "mviews/mview.sql"},
    [OBJ_RULE] = {"RULE", "rules/rule.sql"},
    [OBJ_COMMENT] = {"COMMENT", "comments/comment.sql"},
    [OBJ_POLICY] = {"POLICY", "policies/policy.sql"},
    [OBJ_UNCATEGORIZED] = {"UNCATEGORIZED", "uncategorized.sql"},
    [OBJ_INDEX] = {"INDEX", "tables/INDEXES_table.sql"},
    [OBJ_TRIGGER] = {"TRIGGER", "triggers/trigger.sql"},
};

const char *schema_obj_name(schema_obj t) { return t < OBJ_COUNT ? objtypes[t].name : "?"; }
const char *schema_obj_file(schema_obj t) { return t < OBJ_COUNT ? objtypes[t].file : "?"; }
bool schema_obj_is_post_data(schema_obj t) { return t == OBJ_INDEX || t == OBJ_TRIGGER; }

bool schema_obj_parse(const char *name, schema_obj *out)
{
    char *copy = xstrdup(name);
    char *n = str_trim(copy);
    for (char *p = n; *p; p++)
        if (*p == '_')
            *p = ' ';
    /* yb-voyager's extra names for things we keep in the same file */
    static const struct {
        const char *alias;
        schema_obj t;
    } aliases[] = {{"AGGREGATE", OBJ_FUNCTION},          {"MATERIALIZED VIEW", OBJ_MVIEW},
                   {"ROW SECURITY", OBJ_POLICY},          {"CONVERSION", OBJ_UNCATEGORIZED},
                   {"OPERATOR", OBJ_UNCATEGORIZED},       {"OPERATOR FAMILY", OBJ_UNCATEGORIZED},
                   {"OPERATOR CLASS", OBJ_UNCATEGORIZED}, {"FTS", OBJ_UNCATEGORIZED}};
    bool ok = false;
    for (int t = 0; t < OBJ_COUNT && !ok; t++)
        if (str_case_eq(n, objtypes[t].name)) {
            *out = (schema_obj)t;
            ok = true;
        }
    for (size_t i = 0; i < ARRAY_LEN(aliases) && !ok; i++)
        if (str_case_eq(n, aliases[i].alias)) {
            *out = aliases[i].t;
            ok = true;
        }
    free(copy);
    return ok;
}

const char *schema_obj_valid_names(void)
{
    static char buf[512];
    if (!buf[0]) {
        strbuf sb = STRBUF_INIT;
        for (int t = 0; t < OBJ_COUNT; t++)
            strbuf_appendf(&sb, "%s%s", t ? ", " : "", objtypes[t].name);
        snprintf(buf, sizeof buf, "%s", strbuf_cstr(&sb));
        strbuf_free(&sb);
    }
    return buf;
}

int schema_obj_parse_list(const char *list, const char *flag, schema_obj order[OBJ_COUNT])
{
    strlist items = STRLIST_INIT;
    strlist_split(&items, list, ',');
    int n = 0;
    bool seen[OBJ_COUNT] = {false};
    for (size_t i = 0; i < items.count; i++) {
        schema_obj t;
        if (!schema_obj_parse(items.items[i], &t)) {
            char *hint = xasprintf("valid: %s", schema_obj_valid_names());
            log_report(LOG_ERROR, NULL, hint, "unknown object type '%s' in --%s", items.items[i],
                       flag);
            free(hint);
            strlist_free(&items);
            return -1;
        }
        if (!seen[t]) {
            seen[t] = true;
            order[n++] = t;
        }
        /* as in yb-voyager, partitions come along with TABLE */
        if (t == OBJ_TABLE && !seen[OBJ_PARTITION]) {
            seen[OBJ_PARTITION] = true;
            order[n++] = OBJ_PARTITION;
        }
    }
    strlist_free(&items);
    if (n == 0) {
        char *hint = xasprintf("give object types such as TABLE,INDEX (valid: %s)",
                               schema_obj_valid_names());
        log_report(LOG_ERROR, NULL, hint, "--%s is empty", flag);
        free(hint);
        return -1;
    }
    return n;
}
