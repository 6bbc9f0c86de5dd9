/* Rules on DDL: tables, constraints, indexes, triggers, policies, views, collations, extensions. */
#include "schema/analyze/analyze_int.h"

#include <stdlib.h>
#include <string.h>

/* Extensions YugabyteDB ships (the rest are reported). */
static const char *const supported_extensions[] = {
    "adminpack", "amcheck", "autoinc", "bloom", "btree_gin", "btree_gist", "citext", "cube", "dblink",
    "dict_int", "dict_xsyn", "earthdistance", "file_fdw", "fuzzystrmatch", "hll", "hstore", "hypopg",
    "insert_username", "intagg", "intarray", "isn", "lo", "ltree", "moddatetime", "orafce", "pageinspect",
    "pg_buffercache", "pg_cron", "pg_freespacemap", "pg_hint_plan", "pg_prewarm", "pg_stat_monitor",
    "pg_stat_statements", "pg_trgm", "pg_visibility", "pgaudit", "pgcrypto", "pgrowlocks", "pgstattuple",
    "plpgsql", "postgres_fdw", "refint", "seg", "sslinfo", "tablefunc", "tcn", "timetravel",
    "tsm_system_rows", "tsm_system_time", "unaccent", "uuid-ossp", "vector", "yb_pg_metrics", NULL};

/* Types a btree (primary key, unique key, plain index) cannot be built on, with upstream's kind for an index. */
static const struct {
    const char *type;
    const char *kind;
} unindexable_types[] = {
    {"citext", "INDEX_ON_CITEXT_DATATYPE"},       {"tsvector", "INDEX_ON_TSVECTOR_DATATYPE"},
    {"tsquery", "INDEX_ON_TSQUERY_DATATYPE"},     {"jsonb", "INDEX_ON_JSONB_DATATYPE"},
    {"inet", "INDEX_ON_INET_DATATYPE"},           {"json", "INDEX_ON_JSON_DATATYPE"},
    {"macaddr", "INDEX_ON_MACADDR_DATATYPE"},     {"macaddr8", "INDEX_ON_MACADDR8_DATATYPE"},
    {"cidr", "INDEX_ON_CIDR_DATATYPE"},           {"bit", "INDEX_ON_BIT_DATATYPE"},
    {"varbit", "INDEX_ON_VARBIT_DATATYPE"},       {"daterange", "INDEX_ON_DATERANGE_DATATYPE"},
    {"tsrange", "INDEX_ON_TSRANGE_DATATYPE"},     {"tstzrange", "INDEX_ON_TSTZRANGE_DATATYPE"},
    {"numrange", "INDEX_ON_NUMRANGE_DATATYPE"},   {"int4range", "INDEX_ON_INT4RANGE_DATATYPE"},
    {"int8range", "INDEX_ON_INT8RANGE_DATATYPE"}, {"interval", "INDEX_ON_INTERVAL_DATATYPE"},
    {"circle", "INDEX_ON_CIRCLE_DATATYPE"},       {"box", "INDEX_ON_BOX_DATATYPE"},
    {"line", "INDEX_ON_LINE_DATATYPE"},           {"lseg", "INDEX_ON_LSEG_DATATYPE"},
    {"point", "INDEX_ON_POINT_DATATYPE"},         {"pg_lsn", "INDEX_ON_PG_LSN_DATATYPE"},
    {"path", "INDEX_ON_PATH_DATATYPE"},           {"polygon", "INDEX_ON_POLYGON_DATATYPE"},
    {"txid_snapshot", "INDEX_ON_TXID_SNAPSHOT_DATATYPE"},
};

static bool in_set(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (!strcmp(s, *set))
            return true;
    return false;
}

static char *defelem_names(const cJSON *options)
{
    strbuf sb = STRBUF_INIT;
    const cJSON *o;
    cJSON_ArrayForEach(o, options)
    {
        const char *kind;
        const char *name = an_str(an_unwrap(o, &kind), "defname");
        if (!name)
            continue;
        if (sb.len)
            strbuf_append(&sb, ", ");
        strbuf_append(&sb, name);
    }
    return strbuf_detach(&sb);
}

static void report_options(analysis *a, const an_stmt *st, const cJSON *options)
{
    if (cJSON_GetArraySize(options) == 0)
        return;
    char *names = defelem_names(options);
    an_report(a, st, R_STORAGE_PARAMETERS, names);
    free(names);
}

/* A column through partition/inheritance parents (partitions declare no columns of their own). */
static const an_column *column_lookup(analysis *a, const an_table *t, const char *name)
{
    for (int depth = 0; t && depth < 16; depth++) {
        const an_column *c = an_column_find(t, name);
        if (c)
            return c;
        t = t->parent ? an_table_find(a, t->parent) : NULL;
    }
    return NULL;
}

/*
 * Key or index columns of an unsupported type, one issue per column: for a
 * key (PK/UK constraint, key_rule R_PK_UK_ON_COMPLEX_TYPE) one kind, for an
 * index upstream's kind per type.
 */
static void check_key_types(analysis *a, const an_stmt *st, const an_table *t, const strlist *cols, an_rule_id rule,
                            const char *obj_type, const char *obj_name)
{
    for (size_t i = 0; i < cols->count; i++) {
        const an_column *c = cols->items[i][0] ? column_lookup(a, t, cols->items[i]) : NULL;
        if (!c)
            continue;
        const char *what = NULL, *kind = NULL;
        if (c->array) {
            what = "array";
            kind = "INDEX_ON_ARRAY_DATATYPE";
        } else if (an_is_composite(a, c->type)) {
            what = "user-defined type";
            kind = "INDEX_ON_USER_DEFINED_DATATYPE";
        } else {
            for (size_t k = 0; k < ARRAY_LEN(unindexable_types) && !what; k++)
                if (!strcmp(c->type, unindexable_types[k].type)) {
                    what = c->type;
                    kind = unindexable_types[k].kind;
                }
        }
        if (!what)
            continue;
        char *d = xasprintf("%s (column %s)", what, c->name);
        an_report_full(a, st, rule, d, rule == R_INDEX_ON_COMPLEX_TYPE ? kind : NULL, NULL, obj_type, obj_name);
        free(d);
    }
}

/* An index expression cast to a type btree cannot index ((doc::jsonb), (tags::text[])): upstream's kind per type. */
static void check_cast_type(analysis *a, const an_stmt *st, const cJSON *expr)
{
    const char *kind;
    const cJSON *cast = an_unwrap(expr, &kind);
    if (!cast || strcmp(kind, "TypeCast") != 0)
        return;
    bool array = false;
    const char *type = an_type_name(cJSON_GetObjectItem(cast, "typeName"), &array);
    const char *issue = NULL;
    if (array)
        issue = "INDEX_ON_ARRAY_DATATYPE";
    else if (an_is_composite(a, type))
        issue = "INDEX_ON_USER_DEFINED_DATATYPE";
    for (size_t k = 0; type && !issue && k < ARRAY_LEN(unindexable_types); k++)
        if (!strcmp(type, unindexable_types[k].type))
            issue = unindexable_types[k].kind;
    if (!issue)
        return;
    char *d = xasprintf("%s%s (expression)", type, array ? "[]" : "");
    an_report_full(a, st, R_INDEX_ON_COMPLEX_TYPE, d, issue, NULL, st->obj_type, st->obj_name);
    free(d);
}

static bool same_column_set(const strlist *index, const strlist *fk)
{
    if (index->count < fk->count)
        return false;
    for (size_t i = 0; i < fk->count; i++) {
        bool found = false;
        for (size_t j = 0; j < fk->count && !found; j++)
            found = !strcmp(index->items[j], fk->items[i]);
        if (!found)
            return false;
    }
    return true;
}

static void keys_of(const cJSON *list, strlist *out)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, list)
    {
        const char *s = an_sval(k);
        strlist_push(out, s ? s : "");
    }
}

static char *join(const strlist *l)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < l->count; i++) {
        if (i)
            strbuf_append(&sb, ", ");
        strbuf_append(&sb, l->items[i]);
    }
    return strbuf_detach(&sb);
}

/* PostgreSQL's name for an unnamed constraint: t_pkey, t_a_b_key, t_a_excl, t_a_fkey. Caller frees. */
static char *constraint_name(const cJSON *con, const cJSON *table_rv, const char *column)
{
    const char *name = an_str(con, "conname");
    if (name)
        return xstrdup(name);
    const char *type = an_str(con, "contype");
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, an_str(table_rv, "relname") ? an_str(table_rv, "relname") : "");
    if (str_eq(type, "CONSTR_PRIMARY")) {
        strbuf_append(&sb, "_pkey");
        return strbuf_detach(&sb);
    }
    strlist cols = STRLIST_INIT;
    if (column)
        strlist_push(&cols, column);
    else if (str_eq(type, "CONSTR_FOREIGN"))
        keys_of(cJSON_GetObjectItem(con, "fk_attrs"), &cols);
    else if (str_eq(type, "CONSTR_EXCLUSION")) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(con, "exclusions"))
        {
            /* Each exclusion is a List (IndexElem, operator name). */
            const char *kind;
            const cJSON *pair = an_unwrap(e, &kind);
            const cJSON *elem = an_unwrap(cJSON_GetArrayItem(cJSON_GetObjectItem(pair, "items"), 0), &kind);
            const char *col = an_str(elem, "name");
            strlist_push(&cols, col ? col : "expr");
        }
    } else
        keys_of(cJSON_GetObjectItem(con, "keys"), &cols);
    for (size_t i = 0; i < cols.count; i++)
        strbuf_appendf(&sb, "_%s", cols.items[i]);
    strlist_free(&cols);
    strbuf_append(&sb, str_eq(type, "CONSTR_FOREIGN") ? "_fkey" : str_eq(type, "CONSTR_EXCLUSION") ? "_excl" : "_key");
    return strbuf_detach(&sb);
}

/* Upstream names constraint issues "table, constraint: (name)" so that two on one table stay apart. */
static void report_constraint(analysis *a, const an_stmt *st, an_rule_id rule, const char *detail, const char *cname)
{
    char *obj = xasprintf("%s, constraint: (%s)", st->obj_name, cname);
    an_report_obj(a, st, rule, detail, st->obj_type, obj);
    free(obj);
}

static void check_foreign_key(analysis *a, const an_stmt *st, const cJSON *con, const cJSON *table_rv,
                              const char *column)
{
    an_table *ref = an_table_find_rv(a, cJSON_GetObjectItem(con, "pktable"));
    if (ref && ref->partitioned) {
        char *n = an_rangevar_name(cJSON_GetObjectItem(con, "pktable"));
        char *cname = constraint_name(con, table_rv, column);
        report_constraint(a, st, R_FK_REFERENCES_PARTITIONED, n, cname);
        free(cname);
        free(n);
    }
    strlist fk = STRLIST_INIT;
    if (column)
        strlist_push(&fk, column);
    else
        keys_of(cJSON_GetObjectItem(con, "fk_attrs"), &fk);
    an_table *t = an_table_find_rv(a, table_rv);
    bool covered = false;
    for (size_t i = 0; t && i < t->nindexes && !covered; i++)
        covered = same_column_set(&t->indexes[i], &fk);
    if (!covered && fk.count) {
        char *cols = join(&fk);
        an_report(a, st, R_FK_WITHOUT_INDEX, cols);
        free(cols);
    }
    strlist_free(&fk);
}

static void check_constraint(analysis *a, const an_stmt *st, const cJSON *con, const cJSON *table_rv,
                             const char *column, bool via_alter)
{
    const char *type = an_str(con, "contype");
    bool pk = str_eq(type, "CONSTR_PRIMARY"), uk = str_eq(type, "CONSTR_UNIQUE");
    char *cname = constraint_name(con, table_rv, column);
    if (str_eq(type, "CONSTR_EXCLUSION"))
        report_constraint(a, st, R_EXCLUSION_CONSTRAINT, cname, cname);
    /* INITIALLY DEFERRED implies DEFERRABLE; foreign keys may be deferred on YugabyteDB. */
    if ((an_bool(con, "deferrable") || an_bool(con, "initdeferred")) && (pk || uk || str_eq(type, "CONSTR_EXCLUSION")))
        report_constraint(a, st, R_DEFERRABLE_CONSTRAINT, cname, cname);
    if (an_bool(con, "nulls_not_distinct"))
        an_report(a, st, R_UNIQUE_NULLS_NOT_DISTINCT, NULL);
    report_options(a, st, cJSON_GetObjectItem(con, "options"));
    if (str_eq(type, "CONSTR_FOREIGN"))
        check_foreign_key(a, st, con, table_rv, column);
    if (!pk && !uk) {
        free(cname);
        return;
    }
    an_table *t = an_table_find_rv(a, table_rv);
    strlist keys = STRLIST_INIT;
    if (column)
        strlist_push(&keys, column);
    else
        keys_of(cJSON_GetObjectItem(con, "keys"), &keys);
    /* Upstream checks the partitioning against the keys of the CREATE TABLE only (export schema merges them there). */
    if (t && t->partitioned && via_alter && pk)
        an_report(a, st, R_ALTER_ADD_PK_PARTITIONED, NULL);
    if (t && t->partitioned && !via_alter) {
        if (t->part_expr)
            an_report(a, st, R_EXPRESSION_PARTITION_PK, NULL);
        strlist missing = STRLIST_INIT;
        for (size_t i = 0; pk && i < t->part_cols.count; i++)
            if (!strlist_contains(&keys, t->part_cols.items[i]))
                strlist_push(&missing, t->part_cols.items[i]);
        if (missing.count) {
            char *m = join(&missing);
            an_report(a, st, R_PK_MISSING_PARTITION_COLUMNS, m);
            free(m);
        }
        strlist_free(&missing);
    }
    char *obj = xasprintf("%s, constraint: (%s)", st->obj_name, cname);
    check_key_types(a, st, t, &keys, R_PK_UK_ON_COMPLEX_TYPE, st->obj_type, obj);
    free(obj);
    free(cname);
    strlist_free(&keys);
}

static void check_column(analysis *a, const an_stmt *st, const cJSON *col, const cJSON *table_rv)
{
    const char *name = an_str(col, "colname");
    if (an_str(col, "compression"))
        an_report(a, st, R_COMPRESSION_CLAUSE, name);
    const cJSON *c;
    const cJSON *keyed = NULL; /* the last PRIMARY KEY / UNIQUE of the column */
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(col, "constraints"))
    {
        const char *kind;
        const cJSON *con = an_unwrap(c, &kind);
        if (!con || strcmp(kind, "Constraint") != 0)
            continue;
        const char *type = an_str(con, "contype");
        if (str_eq(type, "CONSTR_PRIMARY") || str_eq(type, "CONSTR_UNIQUE"))
            keyed = con;
        else if (str_eq(type, "CONSTR_FOREIGN"))
            keyed = NULL;
        /* In a column, DEFERRABLE / INITIALLY DEFERRED are nodes of their own after the constraint they qualify. */
        if ((str_eq(type, "CONSTR_ATTR_DEFERRABLE") || str_eq(type, "CONSTR_ATTR_DEFERRED")) && keyed) {
            char *cname = constraint_name(keyed, table_rv, name);
            report_constraint(a, st, R_DEFERRABLE_CONSTRAINT, cname, cname);
            free(cname);
        }
        check_constraint(a, st, con, table_rv, name, false);
    }
}

static void generated_column(const cJSON *wrapped_col, strlist *cols)
{
    const char *kind;
    const cJSON *col = an_unwrap(wrapped_col, &kind);
    if (!col || strcmp(kind, "ColumnDef") != 0)
        return;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(col, "constraints"))
    {
        const char *ck;
        if (str_eq(an_str(an_unwrap(c, &ck), "contype"), "CONSTR_GENERATED") && an_str(col, "colname"))
            strlist_push(cols, an_str(col, "colname"));
    }
}

/* Upstream reports a table's stored generated columns together, in one issue (elts: table elements, or one column). */
static void check_generated(analysis *a, const an_stmt *st, const cJSON *elts)
{
    strlist cols = STRLIST_INIT;
    const cJSON *el;
    if (cJSON_IsArray(elts)) {
        cJSON_ArrayForEach(el, elts) generated_column(el, &cols);
    } else {
        generated_column(elts, &cols);
    }
    if (cols.count) {
        char *j = join(&cols);
        an_report(a, st, R_STORED_GENERATED, j);
        free(j);
    }
    strlist_free(&cols);
}

static void rules_create_table(analysis *a, const an_stmt *st, const cJSON *n)
{
    const cJSON *rv = cJSON_GetObjectItem(n, "relation");
    check_generated(a, st, cJSON_GetObjectItem(n, "tableElts"));
    if (str_eq(an_str(rv, "relpersistence"), "u"))
        an_report(a, st, R_UNLOGGED_TABLE, NULL);
    report_options(a, st, cJSON_GetObjectItem(n, "options"));
    if (cJSON_GetArraySize(cJSON_GetObjectItem(n, "inhRelations")) > 0 && !cJSON_GetObjectItem(n, "partbound"))
        an_report(a, st, R_INHERITANCE, NULL);
    const cJSON *spec = cJSON_GetObjectItem(n, "partspec");
    if (spec && str_eq(an_str(spec, "strategy"), "list") &&
        cJSON_GetArraySize(cJSON_GetObjectItem(spec, "partParams")) > 1)
        an_report(a, st, R_MULTI_COLUMN_LIST_PARTITION, NULL);
    const cJSON *el;
    cJSON_ArrayForEach(el, cJSON_GetObjectItem(n, "tableElts"))
    {
        const char *kind;
        const cJSON *node = an_unwrap(el, &kind);
        if (node && !strcmp(kind, "ColumnDef"))
            check_column(a, st, node, rv);
        else if (node && !strcmp(kind, "Constraint"))
            check_constraint(a, st, node, rv, NULL, false);
    }
}

/* ALTER TYPE ... ATTRIBUTE, ALTER VIEW, ALTER INDEX: AlterTableStmts upstream reports as a whole. */
static bool alter_other_relation(analysis *a, const an_stmt *st, const cJSON *n)
{
    const char *objtype = an_str(n, "objtype");
    /* OWNER TO only: not a migration issue (see analyze_rules_stmt.c). */
    bool owner_only = true;
    const cJSON *oc;
    cJSON_ArrayForEach(oc, cJSON_GetObjectItem(n, "cmds"))
    {
        const char *kind;
        owner_only = owner_only && str_eq(an_str(an_unwrap(oc, &kind), "subtype"), "AT_ChangeOwner");
    }
    if (owner_only && (str_eq(objtype, "OBJECT_TYPE") || str_eq(objtype, "OBJECT_VIEW")))
        return true;
    if (str_eq(objtype, "OBJECT_TYPE")) {
        bool drop = false;
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(n, "cmds"))
        {
            const char *kind;
            drop = drop || str_eq(an_str(an_unwrap(c, &kind), "subtype"), "AT_DropColumn");
        }
        an_report(a, st, drop ? R_ALTER_TYPE_DROP_ATTRIBUTE : R_ALTER_TYPE, NULL);
        return true;
    }
    if (str_eq(objtype, "OBJECT_VIEW")) {
        an_report(a, st, R_ALTER_VIEW, NULL);
        return true;
    }
    if (str_eq(objtype, "OBJECT_INDEX")) {
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(n, "cmds"))
        {
            const char *kind;
            const cJSON *cmd = an_unwrap(c, &kind);
            const char *sub = an_str(cmd, "subtype");
            if (str_eq(sub, "AT_SetRelOptions") || str_eq(sub, "AT_SetTableSpace") || str_eq(sub, "AT_SetStatistics"))
                an_report(a, st, R_ALTER_INDEX_SET, NULL);
        }
        return true;
    }
    return false;
}

/* ALTER TABLE variants upstream reports that only tune storage or the planner, or reshape the table. */
static void alter_table_variant(analysis *a, const an_stmt *st, const char *sub)
{
    static const struct {
        const char *sub;
        an_rule_id rule;
        const char *detail;
    } m[] = {{"AT_AddOf", R_ALTER_TABLE_OF, NULL},
             {"AT_DropOf", R_ALTER_TABLE_NOT_OF, NULL},
             {"AT_SetStatistics", R_ALTER_SET_STATISTICS, NULL},
             {"AT_SetStorage", R_ALTER_SET_STORAGE, NULL},
             {"AT_ResetOptions", R_ALTER_RESET_ATTRIBUTE, NULL},
             {"AT_AlterConstraint", R_ALTER_CONSTRAINT, NULL},
             {"AT_DropCluster", R_ALTER_WITHOUT_CLUSTER, NULL},
             {"AT_SetRelOptions", R_ALTER_TABLE_SET, "(storage parameters)"},
             {"AT_SetLogged", R_ALTER_TABLE_SET, "LOGGED"},
             {"AT_SetUnLogged", R_ALTER_TABLE_SET, "UNLOGGED"},
             {"AT_SetTableSpace", R_ALTER_TABLE_SET, "TABLESPACE"},
             {"AT_SetAccessMethod", R_ALTER_TABLE_SET, "ACCESS METHOD"},
             {"AT_DropOids", R_ALTER_TABLE_SET, "WITHOUT OIDS"},
             {"AT_ResetRelOptions", R_ALTER_TABLE_RESET, NULL},
             {"AT_GenericOptions", R_ALTER_TABLE_OPTIONS, NULL},
             {"AT_AddInherit", R_ALTER_TABLE_INHERIT, NULL},
             {"AT_ValidateConstraint", R_ALTER_VALIDATE_CONSTRAINT, NULL}};
    for (size_t i = 0; i < ARRAY_LEN(m); i++)
        if (str_eq(sub, m[i].sub))
            /* Upstream calls every one of these a TABLE issue, ALTER FOREIGN TABLE ... OPTIONS too. */
            an_report_obj(a, st, m[i].rule, m[i].detail, "TABLE", st->obj_name);
}

static void rules_alter_table(analysis *a, const an_stmt *st, const cJSON *n)
{
    const cJSON *rv = cJSON_GetObjectItem(n, "relation");
    if (alter_other_relation(a, st, n))
        return;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(n, "cmds"))
    {
        const char *kind;
        const cJSON *cmd = an_unwrap(c, &kind);
        const char *sub = an_str(cmd, "subtype");
        const cJSON *def = an_unwrap(cJSON_GetObjectItem(cmd, "def"), &kind);
        alter_table_variant(a, st, sub);
        if (str_eq(sub, "AT_SetOptions"))
            an_report(a, st, R_ALTER_SET_ATTRIBUTE, NULL);
        else if (str_eq(sub, "AT_ClusterOn"))
            an_report(a, st, R_ALTER_CLUSTER_ON, NULL);
        else if (str_eq(sub, "AT_DisableRule"))
            an_report_full(a, st, R_ALTER_DISABLE_RULE, NULL, NULL, an_str(cmd, "name"), st->obj_type, st->obj_name);
        else if (str_eq(sub, "AT_SetUnLogged"))
            an_report(a, st, R_UNLOGGED_TABLE, NULL);
        else if (str_eq(sub, "AT_SetCompression"))
            an_report(a, st, R_COMPRESSION_CLAUSE, an_str(cmd, "name"));
        else if (str_eq(sub, "AT_AddConstraint") && def && !strcmp(kind, "Constraint"))
            check_constraint(a, st, def, rv, NULL, true);
        else if (str_eq(sub, "AT_AddColumn") && def && !strcmp(kind, "ColumnDef")) {
            check_column(a, st, def, rv);
            check_generated(a, st, cJSON_GetObjectItem(cmd, "def"));
        }
    }
}

static void rules_index(analysis *a, const an_stmt *st, const cJSON *n)
{
    const char *method = an_str(n, "accessMethod");
    if (in_set(method, (const char *const[]){"gist", "brin", "spgist", "rtree", NULL})) {
        char *up = xstrdup(method);
        for (char *p = up; *p; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        an_report(a, st, R_INDEX_METHOD, up);
        free(up);
    }
    const cJSON *params = cJSON_GetObjectItem(n, "indexParams");
    if (str_eq(method, "gin")) {
        if (cJSON_GetArraySize(params) > 1)
            an_report(a, st, R_GIN_MULTI_COLUMN, NULL);
        const cJSON *p;
        /* Ordering matters on a one-column GIN index; on more, the multi-column issue says it all (upstream). */
        const cJSON *one = cJSON_GetArraySize(params) == 1 ? params : NULL;
        cJSON_ArrayForEach(p, one)
        {
            const char *kind;
            const char *ord = an_str(an_unwrap(p, &kind), "ordering");
            if (ord && strcmp(ord, "SORTBY_DEFAULT") != 0)
                an_report(a, st, R_GIN_ORDERED, NULL);
        }
    }
    report_options(a, st, cJSON_GetObjectItem(n, "options"));
    if (an_bool(n, "nulls_not_distinct"))
        an_report(a, st, R_UNIQUE_NULLS_NOT_DISTINCT, NULL);
    if (an_bool(n, "concurrent"))
        an_report(a, st, R_INDEX_CONCURRENTLY, NULL);
    /* Upstream looks at btree indexes only (the default method is btree in the tree too). */
    if (!method || !strcmp(method, "btree")) {
        strlist cols = STRLIST_INIT;
        const cJSON *p;
        cJSON_ArrayForEach(p, params)
        {
            const char *kind;
            const char *col = an_str(an_unwrap(p, &kind), "name");
            strlist_push(&cols, col ? col : "");
        }
        check_key_types(a, st, an_table_find_rv(a, cJSON_GetObjectItem(n, "relation")), &cols,
                        R_INDEX_ON_COMPLEX_TYPE, st->obj_type, st->obj_name);
        strlist_free(&cols);
        cJSON_ArrayForEach(p, params)
        {
            const char *kind;
            check_cast_type(a, st, cJSON_GetObjectItem(an_unwrap(p, &kind), "expr"));
        }
    }
}

#define TRIGGER_TYPE_BEFORE (1 << 1) /* PostgreSQL's pg_trigger.h */

static void rules_trigger(analysis *a, const an_stmt *st, const cJSON *n)
{
    if (an_bool(n, "isconstraint"))
        an_report(a, st, R_CONSTRAINT_TRIGGER, NULL);
    if (cJSON_GetArraySize(cJSON_GetObjectItem(n, "transitionRels")) > 0)
        an_report(a, st, R_TRIGGER_REFERENCING, NULL);
    an_table *t = an_table_find_rv(a, cJSON_GetObjectItem(n, "relation"));
    if (an_bool(n, "row") && (an_int(n, "timing") & TRIGGER_TYPE_BEFORE) && t && t->partitioned)
        an_report(a, st, R_BEFORE_ROW_TRIGGER_PARTITIONED, NULL);
    if (str_eq(an_last_name(cJSON_GetObjectItem(n, "funcname")), "lo_manage"))
        an_report(a, st, R_LARGE_OBJECT_FUNCTIONS, "lo_manage");
}

static void rules_policy(analysis *a, const an_stmt *st, const cJSON *n)
{
    strlist roles = STRLIST_INIT;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(n, "roles"))
    {
        const char *kind;
        const cJSON *spec = an_unwrap(r, &kind);
        const char *name = an_str(spec, "rolename");
        if (str_eq(an_str(spec, "roletype"), "ROLESPEC_CSTRING") && name)
            strlist_push(&roles, name);
    }
    if (roles.count) {
        char *j = join(&roles);
        an_report(a, st, R_POLICY_ROLES, j);
        free(j);
    }
    strlist_free(&roles);
}

/* A reloption given as true (security_invoker, security_invoker = on ...). */
static bool option_true(const cJSON *arg)
{
    const char *kind;
    const cJSON *v = an_unwrap(arg, &kind);
    if (!v)
        return true;
    if (!strcmp(kind, "Integer"))
        return an_int(v, "ival") != 0;
    if (!strcmp(kind, "Boolean"))
        return an_bool(v, "boolval");
    const char *s = an_str(v, "sval");
    if (!s && !strcmp(kind, "TypeName"))
        s = an_last_name(cJSON_GetObjectItem(v, "names"));
    bool b;
    if (!s)
        return true;
    if (parse_bool(s, &b))
        return b;
    return !str_case_eq(s, "off");
}

void an_rules_ddl(analysis *a, const an_stmt *st)
{
    const char *k = st->kind;
    const cJSON *n = st->node;
    if (!strcmp(k, "CreateStmt")) {
        rules_create_table(a, st, n);
    } else if (!strcmp(k, "CreateForeignTableStmt")) {
        an_report_full(a, st, R_FOREIGN_TABLE, an_str(n, "servername"), NULL, an_str(n, "servername"), st->obj_type,
                       st->obj_name);
        rules_create_table(a, st, cJSON_GetObjectItem(n, "base"));
    } else if (!strcmp(k, "AlterTableStmt")) {
        rules_alter_table(a, st, n);
    } else if (!strcmp(k, "IndexStmt")) {
        rules_index(a, st, n);
    } else if (!strcmp(k, "CreateTrigStmt")) {
        rules_trigger(a, st, n);
    } else if (!strcmp(k, "CreatePolicyStmt")) {
        rules_policy(a, st, n);
    } else if (!strcmp(k, "ViewStmt")) {
        const cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItem(n, "options"))
        {
            const char *kind;
            const cJSON *d = an_unwrap(o, &kind);
            if (str_eq(an_str(d, "defname"), "security_invoker") && option_true(cJSON_GetObjectItem(d, "arg")))
                an_report(a, st, R_SECURITY_INVOKER_VIEW, NULL);
        }
    } else if (!strcmp(k, "DefineStmt") && str_eq(an_str(n, "kind"), "OBJECT_COLLATION")) {
        const cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItem(n, "definition"))
        {
            const char *kind;
            const cJSON *d = an_unwrap(o, &kind);
            if (!str_eq(an_str(d, "defname"), "deterministic"))
                continue;
            /* Upstream: false is its own kind (not fixed in 2.25); any other value is the option itself. */
            if (option_true(cJSON_GetObjectItem(d, "arg")))
                an_report(a, st, R_DETERMINISTIC_COLLATION, "true");
            else
                an_report(a, st, R_NON_DETERMINISTIC_COLLATION, NULL);
        }
    } else if (!strcmp(k, "CreateTableAsStmt")) {
        report_options(a, st, cJSON_GetObjectItem(cJSON_GetObjectItem(n, "into"), "options"));
    } else if (!strcmp(k, "CreateFunctionStmt")) {
        if (cJSON_GetObjectItem(n, "sql_body"))
            an_report(a, st, R_SQL_BODY_FUNCTION, NULL);
    } else if (!strcmp(k, "CreateExtensionStmt")) {
        const char *ext = an_str(n, "extname");
        if (ext && !in_set(ext, supported_extensions))
            an_report(a, st, R_UNSUPPORTED_EXTENSION, ext);
    }
}
