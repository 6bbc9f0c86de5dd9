/*
 * First pass: what the schema declares, for the rules that look across
 * statements (tables and their column types, partitioning, indexes and keys,
 * enum and composite types). pg_dump puts keys in ALTER TABLE and indexes in their
 * own file, so everything is gathered before any rule runs.
 */
#include "schema/analyze/analyze_int.h"

#include <stdlib.h>
#include <string.h>

an_table *an_table_find(analysis *a, const char *key)
{
    for (size_t i = 0; i < a->ntables; i++)
        if (!strcmp(a->tables[i].key, key))
            return &a->tables[i];
    return NULL;
}

an_table *an_table_find_rv(analysis *a, const cJSON *rangevar)
{
    char *key = an_rangevar_key(rangevar);
    an_table *t = an_table_find(a, key);
    free(key);
    return t;
}

static an_table *table_get(analysis *a, const cJSON *rangevar)
{
    an_table *t = an_table_find_rv(a, rangevar);
    if (t)
        return t;
    if (a->ntables == a->captables) {
        a->captables = a->captables ? a->captables * 2 : 32;
        a->tables = xrealloc(a->tables, a->captables * sizeof(*a->tables));
    }
    t = &a->tables[a->ntables++];
    memset(t, 0, sizeof(*t));
    t->key = an_rangevar_key(rangevar);
    return t;
}

const an_column *an_column_find(const an_table *t, const char *name)
{
    for (size_t i = 0; t && i < t->ncols; i++)
        if (!strcmp(t->cols[i].name, name))
            return &t->cols[i];
    return NULL;
}

static void add_column(an_table *t, const cJSON *coldef)
{
    const char *name = an_str(coldef, "colname");
    bool array = false;
    const char *type = an_type_name(cJSON_GetObjectItem(coldef, "typeName"), &array);
    if (!name || !type || an_column_find(t, name))
        return;
    if (t->ncols == t->capcols) {
        t->capcols = t->capcols ? t->capcols * 2 : 8;
        t->cols = xrealloc(t->cols, t->capcols * sizeof(*t->cols));
    }
    t->cols[t->ncols].name = xstrdup(name);
    t->cols[t->ncols].type = xstrdup(type);
    t->cols[t->ncols].array = array;
    t->ncols++;
}

static strlist *add_index(an_table *t)
{
    if (t->nindexes == t->capindexes) {
        t->capindexes = t->capindexes ? t->capindexes * 2 : 4;
        t->indexes = xrealloc(t->indexes, t->capindexes * sizeof(*t->indexes));
    }
    strlist *l = &t->indexes[t->nindexes++];
    memset(l, 0, sizeof(*l));
    return l;
}

/* A PRIMARY KEY or UNIQUE constraint is backed by an index. */
static void add_constraint(an_table *t, const cJSON *con, const char *column)
{
    const char *type = an_str(con, "contype");
    if (!str_eq(type, "CONSTR_PRIMARY") && !str_eq(type, "CONSTR_UNIQUE"))
        return;
    strlist *l = add_index(t);
    if (column) {
        strlist_push(l, column);
        return;
    }
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(con, "keys"))
    {
        const char *s = an_sval(k);
        strlist_push(l, s ? s : "");
    }
}

static void catalog_create(analysis *a, const cJSON *n)
{
    an_table *t = table_get(a, cJSON_GetObjectItem(n, "relation"));
    const cJSON *inh = cJSON_GetArrayItem(cJSON_GetObjectItem(n, "inhRelations"), 0);
    const char *kind;
    const cJSON *parent = an_unwrap(inh, &kind);
    if (parent && !t->parent)
        t->parent = an_rangevar_key(parent);
    const cJSON *el;
    cJSON_ArrayForEach(el, cJSON_GetObjectItem(n, "tableElts"))
    {
        const cJSON *node = an_unwrap(el, &kind);
        if (!node)
            continue;
        if (!strcmp(kind, "ColumnDef")) {
            add_column(t, node);
            const cJSON *c;
            cJSON_ArrayForEach(c, cJSON_GetObjectItem(node, "constraints"))
            {
                const cJSON *con = an_unwrap(c, &kind);
                if (con && !strcmp(kind, "Constraint"))
                    add_constraint(t, con, an_str(node, "colname"));
            }
        } else if (!strcmp(kind, "Constraint")) {
            add_constraint(t, node, NULL);
        }
    }
    const cJSON *spec = cJSON_GetObjectItem(n, "partspec");
    if (spec) {
        t->partitioned = true;
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(spec, "partParams"))
        {
            const cJSON *pe = an_unwrap(p, &kind);
            const char *col = an_str(pe, "name");
            if (col)
                strlist_push(&t->part_cols, col);
            else
                t->part_expr = true;
        }
    }
}

static void catalog_alter(analysis *a, const cJSON *n)
{
    an_table *t = table_get(a, cJSON_GetObjectItem(n, "relation"));
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(n, "cmds"))
    {
        const char *kind;
        const cJSON *cmd = an_unwrap(c, &kind);
        const char *sub = an_str(cmd, "subtype");
        const cJSON *def = an_unwrap(cJSON_GetObjectItem(cmd, "def"), &kind);
        if (!def)
            continue;
        if (str_eq(sub, "AT_AddConstraint") && !strcmp(kind, "Constraint"))
            add_constraint(t, def, NULL);
        else if (str_eq(sub, "AT_AddColumn") && !strcmp(kind, "ColumnDef"))
            add_column(t, def);
    }
}

static void catalog_index(analysis *a, const cJSON *n)
{
    an_table *t = table_get(a, cJSON_GetObjectItem(n, "relation"));
    strlist *l = add_index(t);
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(n, "indexParams"))
    {
        const char *kind;
        const char *col = an_str(an_unwrap(p, &kind), "name");
        strlist_push(l, col ? col : "");
    }
}

static void add_enum(analysis *a, const cJSON *names)
{
    const char *name = an_last_name(names);
    if (name && !strlist_contains(&a->enums, name))
        strlist_push(&a->enums, name);
}

bool an_is_enum(const analysis *a, const char *type)
{
    return type && strlist_contains(&a->enums, type);
}

bool an_is_composite(const analysis *a, const char *type)
{
    return type && strlist_contains(&a->composites, type);
}

void an_catalog_build(analysis *a)
{
    for (size_t i = 0; i < a->nstmts; i++) {
        const an_stmt *st = &a->stmts[i];
        if (!st->node)
            continue;
        const char *k = st->kind;
        const cJSON *n = st->node;
        if (!strcmp(k, "CreateStmt"))
            catalog_create(a, n);
        else if (!strcmp(k, "CreateForeignTableStmt"))
            catalog_create(a, cJSON_GetObjectItem(n, "base"));
        else if (!strcmp(k, "AlterTableStmt"))
            catalog_alter(a, n);
        else if (!strcmp(k, "IndexStmt"))
            catalog_index(a, n);
        else if (!strcmp(k, "CreateEnumStmt"))
            add_enum(a, cJSON_GetObjectItem(n, "typeName"));
        else if (!strcmp(k, "CompositeTypeStmt")) {
            const char *rel = an_str(cJSON_GetObjectItem(n, "typevar"), "relname");
            if (rel && !strlist_contains(&a->composites, rel))
                strlist_push(&a->composites, rel);
        }
    }
}
