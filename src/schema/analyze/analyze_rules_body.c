/*
 * Rules on queries and expressions: in view and materialized view queries,
 * defaults and checks, top-level statements, and function/procedure bodies
 * (LANGUAGE sql bodies parsed as SQL; PL/pgSQL bodies through
 * pg_query_parse_plpgsql, whose embedded SQL expressions are parsed in turn).
 */
#include "schema/analyze/analyze_int.h"

#include "core/log.h"

#include <pg_query.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool in_set(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (!strcmp(s, *set))
            return true;
    return false;
}

static const char *const xml_functions[] = {
    "xmlagg", "xpath", "xpath_exists", "xml_is_well_formed", "xml_is_well_formed_document",
    "xml_is_well_formed_content", "xmlcomment", "xmltext", "table_to_xml", "table_to_xmlschema",
    "table_to_xml_and_xmlschema", "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
    "cursor_to_xml", "cursor_to_xmlschema", "schema_to_xml", "schema_to_xmlschema",
    "schema_to_xml_and_xmlschema", "database_to_xml", "database_to_xmlschema",
    "database_to_xml_and_xmlschema", NULL};
static const char *const regex_functions[] = {"regexp_count", "regexp_instr", "regexp_like", "regexp_substr",
                                              NULL};
static const char *const range_aggs[] = {"range_agg", "range_intersect_agg", NULL};
/* json_object is left out: json_object(text[]) is an old function YugabyteDB has. */
/* json_scalar() and json_serialize() parse as plain calls here and are no constructor upstream: left out too. */
static const char *const json_constructors[] = {"json_array", "json_arrayagg", "json_objectagg", NULL};
static const char *const json_queries[] = {"json_exists", "json_query", "json_value", "json_table", NULL};
static const char *const lo_functions[] = {
    "lo_create", "lo_creat", "lo_import", "lo_export", "lo_unlink", "lo_open", "lo_close", "lo_get",
    "lo_put", "lo_from_bytea", "lo_truncate", "lo_truncate64", "lo_lseek", "lo_lseek64", "lo_tell",
    "lo_tell64", "loread", "lowrite", "lo_manage", "lo_import_with_oid", "lo_write", "lo_read", "lo_oid", NULL};
static const char *const system_columns[] = {"xmin", "xmax", "cmin", "cmax", "ctid", NULL};

typedef struct visit_ctx {
    analysis *a;
    const an_stmt *st;
} visit_ctx;

/* Is name a jsonb column of some table of the schema (and never an array column)? */
static bool is_jsonb_column(analysis *a, const char *name)
{
    bool jsonb = false;
    for (size_t i = 0; i < a->ntables; i++) {
        const an_column *c = an_column_find(&a->tables[i], name);
        if (c && c->array)
            return false;
        if (c && !strcmp(c->type, "jsonb"))
            jsonb = true;
    }
    return jsonb;
}

static void check_indirection(visit_ctx *v, const cJSON *n)
{
    const cJSON *ind;
    const char *kind;
    const char *col = NULL;
    const cJSON *arg = an_unwrap(cJSON_GetObjectItem(n, "arg"), &kind);
    if (arg && !strcmp(kind, "ColumnRef"))
        col = an_last_name(cJSON_GetObjectItem(arg, "fields"));
    cJSON_ArrayForEach(ind, cJSON_GetObjectItem(n, "indirection"))
    {
        const cJSON *idx = an_unwrap(ind, &kind);
        if (!idx || strcmp(kind, "A_Indices") != 0 || an_bool(idx, "is_slice"))
            continue;
        const cJSON *u = an_unwrap(cJSON_GetObjectItem(idx, "uidx"), &kind);
        /* A text subscript can only be jsonb's; an integer one is jsonb's when the column is. */
        bool text_key = u && !strcmp(kind, "A_Const") && cJSON_GetObjectItem(u, "sval");
        if (text_key || (col && is_jsonb_column(v->a, col))) {
            an_report(v->a, v->st, R_JSONB_SUBSCRIPTING, col ? col : "expression");
            return;
        }
    }
}

static void visit(const char *kind, const cJSON *wrapped, void *arg)
{
    visit_ctx *v = arg;
    analysis *a = v->a;
    const an_stmt *st = v->st;
    const cJSON *n = wrapped;
    if (!strcmp(kind, "FuncCall")) {
        const char *f = an_last_name(cJSON_GetObjectItem(n, "funcname"));
        if (!f)
            return;
        if (str_starts_with(f, "pg_advisory") || str_starts_with(f, "pg_try_advisory"))
            an_report(a, st, R_ADVISORY_LOCKS, f);
        else if (in_set(f, xml_functions))
            an_report(a, st, R_XML_FUNCTIONS, f);
        else if (in_set(f, regex_functions))
            an_report(a, st, R_REGEX_FUNCTIONS, f);
        else if (!strcmp(f, "any_value"))
            an_report(a, st, R_ANY_VALUE, NULL);
        else if (in_set(f, range_aggs))
            an_report(a, st, R_RANGE_AGG, f);
        else if (in_set(f, json_constructors))
            an_report(a, st, R_JSON_CONSTRUCTOR, f);
        else if (in_set(f, json_queries))
            an_report(a, st, R_JSON_QUERY_FUNCTION, f);
        else if (in_set(f, lo_functions))
            an_report(a, st, R_LARGE_OBJECT_FUNCTIONS, f);
        else if (!strcmp(f, "pg_notify"))
            an_report(a, st, R_LISTEN_NOTIFY, "pg_notify");
    } else if (!strcmp(kind, "ColumnRef")) {
        const char *c = an_last_name(cJSON_GetObjectItem(n, "fields"));
        if (in_set(c, system_columns))
            an_report(a, st, R_SYSTEM_COLUMNS, c);
    } else if (!strcmp(kind, "XmlExpr") || !strcmp(kind, "XmlSerialize")) {
        const char *op = an_str(n, "op");
        char *d = op && str_starts_with(op, "IS_") ? str_to_lower(op + 3) : xstrdup("xmlserialize");
        an_report(a, st, R_XML_FUNCTIONS, d);
        free(d);
    } else if (!strcmp(kind, "RangeTableFunc")) {
        an_report(a, st, R_XML_FUNCTIONS, "xmltable");
    } else if (!strcmp(kind, "SelectStmt")) {
        if (str_eq(an_str(n, "limitOption"), "LIMIT_OPTION_WITH_TIES"))
            an_report(a, st, R_FETCH_WITH_TIES, NULL);
    } else if (!strcmp(kind, "A_Indirection")) {
        check_indirection(v, n);
    } else if (!strcmp(kind, "CopyStmt")) {
        if (an_bool(n, "is_from") && cJSON_GetObjectItem(n, "whereClause"))
            an_report(a, st, R_COPY_FROM_WHERE, NULL);
        const cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItem(n, "options"))
        {
            const char *k2;
            if (str_eq(an_str(an_unwrap(o, &k2), "defname"), "on_error"))
                an_report(a, st, R_COPY_ON_ERROR, NULL);
        }
    } else if (!strcmp(kind, "MergeStmt")) {
        an_report(a, st, R_MERGE, NULL);
    } else if (!strcmp(kind, "CommonTableExpr")) {
        const char *m = an_str(n, "ctematerialized");
        if (m && strcmp(m, "CTEMaterializeDefault") != 0)
            an_report(a, st, R_CTE_MATERIALIZED, NULL);
    } else if (!strcmp(kind, "ListenStmt")) {
        an_report(a, st, R_LISTEN_NOTIFY, "LISTEN");
    } else if (!strcmp(kind, "NotifyStmt")) {
        an_report(a, st, R_LISTEN_NOTIFY, "NOTIFY");
    } else if (!strcmp(kind, "UnlistenStmt")) {
        an_report(a, st, R_LISTEN_NOTIFY, "UNLISTEN");
    } else if (!strcmp(kind, "TransactionStmt")) {
        const char *k2 = an_str(n, "kind");
        if (str_eq(k2, "TRANS_STMT_PREPARE"))
            an_report(a, st, R_TWO_PHASE_COMMIT, "PREPARE TRANSACTION");
        else if (str_eq(k2, "TRANS_STMT_COMMIT_PREPARED"))
            an_report(a, st, R_TWO_PHASE_COMMIT, "COMMIT PREPARED");
        else if (str_eq(k2, "TRANS_STMT_ROLLBACK_PREPARED"))
            an_report(a, st, R_TWO_PHASE_COMMIT, "ROLLBACK PREPARED");
        else if (str_eq(k2, "TRANS_STMT_SAVEPOINT"))
            an_report(a, st, R_SAVEPOINT, "SAVEPOINT");
        else if (str_eq(k2, "TRANS_STMT_RELEASE"))
            an_report(a, st, R_SAVEPOINT, "RELEASE SAVEPOINT");
        else if (str_eq(k2, "TRANS_STMT_ROLLBACK_TO"))
            an_report(a, st, R_SAVEPOINT, "ROLLBACK TO SAVEPOINT");
    }
}

static void walk_tree(analysis *a, const an_stmt *st, const cJSON *tree)
{
    visit_ctx v = {a, st};
    an_walk(tree, visit, &v);
}

/*
 * SQL from a function body that does not parse: a newer feature we can name,
 * else a syntax error in the body.
 */
static void body_parse_failed(analysis *a, const an_stmt *st, const char *text, const char *msg)
{
    an_rule_id rule;
    char *detail = NULL;
    if (an_classify_parse_error(text, 0, msg, &rule, &detail)) {
        an_report(a, st, rule, detail);
        free(detail);
        return;
    }
    char *d = xasprintf("line %d (body of %s %s): %s", st->line, st->obj_type, st->obj_name, msg);
    an_report(a, st, R_SYNTAX_ERROR, d);
    free(d);
}

/*
 * DDL run by a routine (CREATE UNLOGGED TABLE, CREATE INDEX ... USING gist ...):
 * the DDL rules, with every issue on the routine, as upstream reports them.
 */
static void body_ddl(analysis *a, const an_stmt *st, const cJSON *stmts)
{
    const cJSON *raw;
    cJSON_ArrayForEach(raw, stmts)
    {
        an_stmt sub = *st;
        sub.node = an_unwrap(cJSON_GetObjectItem(raw, "stmt"), &sub.kind);
        if (!sub.node)
            continue;
        const an_stmt *outer = a->owner;
        a->owner = st;
        an_rules_ddl(a, &sub);
        an_rules_types(a, &sub);
        a->owner = outer;
    }
}

/* Parse an SQL text of a body (statements or one expression) and walk it. */
static void walk_sql(analysis *a, const an_stmt *st, const char *sql, bool is_assign)
{
    char *err = NULL;
    cJSON *root = NULL;
    if (!is_assign)
        root = an_parse(sql, &err, NULL);
    char *select = NULL;
    if (!root) {
        /* PL/pgSQL keeps conditions and assignments as bare expressions ("v > 2", "v := a + 1"). */
        const char *expr = sql;
        if (is_assign) {
            const char *p = strstr(sql, ":=");
            expr = p ? p + 2 : sql;
        }
        select = xasprintf("SELECT %s", expr);
        free(err);
        err = NULL;
        root = an_parse(select, &err, NULL);
    }
    if (root) {
        walk_tree(a, st, cJSON_GetObjectItem(root, "stmts"));
        body_ddl(a, st, cJSON_GetObjectItem(root, "stmts"));
    } else
        body_parse_failed(a, st, sql, err ? err : "syntax error");
    cJSON_Delete(root);
    free(select);
    free(err);
}

/* Every PLpgSQL_expr "query" in a PL/pgSQL tree. */
static void walk_plpgsql(analysis *a, const an_stmt *st, const cJSON *node, bool in_assign)
{
    if (cJSON_IsArray(node)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, node) walk_plpgsql(a, st, it, in_assign);
        return;
    }
    if (!cJSON_IsObject(node))
        return;
    const cJSON *it;
    cJSON_ArrayForEach(it, node)
    {
        if (it->string && !strcmp(it->string, "query") && cJSON_IsString(it))
            walk_sql(a, st, it->valuestring, in_assign);
        else if (it->string && !strcmp(it->string, "typname") && cJSON_IsString(it) &&
                 strlen(it->valuestring) > 5 &&
                 !strcasecmp(it->valuestring + strlen(it->valuestring) - 5, "%type"))
            /* A variable declared as table.column%TYPE. */
            an_report(a, st, R_REFERENCED_TYPE_DECLARATION, it->valuestring);
        else
            walk_plpgsql(a, st, it, in_assign || (it->string && !strcmp(it->string, "PLpgSQL_stmt_assign")));
    }
}

static const char *function_option(const cJSON *n, const char *name, const cJSON **arg)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(n, "options"))
    {
        const char *kind;
        const cJSON *d = an_unwrap(o, &kind);
        if (str_eq(an_str(d, "defname"), name)) {
            const cJSON *v = cJSON_GetObjectItem(d, "arg");
            if (arg)
                *arg = v;
            const char *s = an_sval(v);
            return s ? s : "";
        }
    }
    return NULL;
}

static void rules_function_body(analysis *a, const an_stmt *st)
{
    const cJSON *n = st->node;
    const char *lang = function_option(n, "language", NULL);
    const cJSON *as = NULL;
    if (!function_option(n, "as", &as))
        return;
    /* AS 'body' is a one-item list; AS 'obj_file', 'link_symbol' (C functions) is two. */
    const char *kind;
    const cJSON *list = an_unwrap(as, &kind);
    const cJSON *items = cJSON_GetObjectItem(list, "items");
    if (cJSON_GetArraySize(items) != 1)
        return;
    const char *body = an_sval(cJSON_GetArrayItem(items, 0));
    if (!body)
        return;
    if (str_eq(lang, "sql")) {
        walk_sql(a, st, body, false);
    } else if (str_eq(lang, "plpgsql")) {
        /*
         * A body our parser certainly rejects is named without parsing it:
         * libpg_query 15 leaks its stderr buffer when pg_query_parse_plpgsql fails.
         */
        an_rule_id rule;
        char *detail = NULL;
        bool certain = false;
        if (an_classify_new_syntax(body, &rule, &detail, &certain) && certain) {
            an_report(a, st, rule, detail);
            free(detail);
            return;
        }
        free(detail);
        /* Not PL/pgSQL at all (MySQL's DROP TEMPORARY TABLE; COMMIT PREPARED): an_rules_text() reports them. */
        if (strcasestr(body, "drop temporary table") || strcasestr(body, "commit prepared") ||
            strcasestr(body, "rollback prepared"))
            return;
        PgQueryPlpgsqlParseResult r = pg_query_parse_plpgsql(st->sql);
        if (r.error) {
            /*
             * libpg_query's PL/pgSQL parser rejects some valid bodies (it does
             * not know declared types: OPEN of a bound cursor fails), so a
             * failure here is not the schema's syntax error: say what was not analyzed.
             */
            if (an_classify_new_syntax(body, &rule, &detail, &certain)) {
                an_report(a, st, rule, detail);
                free(detail);
            } else {
                log_warn("the body of %s %s (%s:%d) was not analyzed: %s", st->obj_type, st->obj_name, st->file,
                         st->line, r.error->message);
            }
        } else {
            cJSON *tree = cJSON_Parse(r.plpgsql_funcs);
            walk_plpgsql(a, st, tree, false);
            cJSON_Delete(tree);
        }
        pg_query_free_plpgsql_parse_result(r);
    }
}

void an_rules_body(analysis *a, const an_stmt *st)
{
    visit_ctx v = {a, st};
    visit(st->kind, st->node, &v); /* the statement itself: MERGE, COPY, LISTEN... */
    walk_tree(a, st, st->node);
    if (!strcmp(st->kind, "CreateFunctionStmt"))
        rules_function_body(a, st);
}
