/*
 * Statement-level checks upstream makes with patterns over the statement text
 * rather than with its parser: DROP of several objects, ALTER TYPE / VIEW /
 * AGGREGATE / CONVERSION / TABLESPACE, REINDEX, CREATE ACCESS METHOD, CREATE
 * SCHEMA with elements, views WITH CHECK OPTION, LIKE clauses, OIDs, LANGUAGE
 * C, keys on foreign tables. Where the statement parses we read its tree;
 * a few forms are only ever in bodies or are not PostgreSQL at all (FETCH
 * directions, WHERE CURRENT OF, DROP TEMPORARY TABLE, JSON_ARRAYAGG,
 * COMPOUND triggers, SET WITH OIDS), so an_rules_text() looks at the text,
 * also of statements that do not parse.
 */
#include "schema/analyze/analyze_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL's CREATE_TABLE_LIKE_ALL (PG_INT32_MAX): every INCLUDING option. */
#define LIKE_ALL 0x7FFFFFFF

static const char *drop_word(const char *remove_type)
{
    static const struct {
        const char *o, *w;
    } m[] = {{"OBJECT_COLLATION", "COLLATION"}, {"OBJECT_INDEX", "INDEX"},   {"OBJECT_VIEW", "VIEW"},
             {"OBJECT_SEQUENCE", "SEQUENCE"},   {"OBJECT_FOREIGN_TABLE", "FOREIGN TABLE"}};
    for (size_t i = 0; i < ARRAY_LEN(m); i++)
        if (str_eq(remove_type, m[i].o))
            return m[i].w;
    return NULL;
}

/* Name of one object of a DROP / RENAME ...: a List of names, or a String, or ObjectWithArgs. Caller frees. */
static char *object_name(const cJSON *obj)
{
    const char *kind;
    const cJSON *n = an_unwrap(obj, &kind);
    if (!n)
        return xstrdup("");
    if (!strcmp(kind, "List"))
        return an_join_names(cJSON_GetObjectItem(n, "items"));
    if (!strcmp(kind, "String"))
        return xstrdup(an_str(n, "sval") ? an_str(n, "sval") : "");
    if (!strcmp(kind, "ObjectWithArgs"))
        return an_join_names(cJSON_GetObjectItem(n, "objname"));
    if (!strcmp(kind, "TypeName"))
        return an_join_names(cJSON_GetObjectItem(n, "names"));
    return xstrdup("");
}

static void rules_drop(analysis *a, const an_stmt *st, const cJSON *n)
{
    const char *word = drop_word(an_str(n, "removeType"));
    const cJSON *objs = cJSON_GetObjectItem(n, "objects");
    if (!word)
        return;
    if (cJSON_GetArraySize(objs) > 1) {
        /* The suggestion is the statement split in one DROP per object. */
        strbuf sb = STRBUF_INIT;
        const cJSON *o;
        cJSON_ArrayForEach(o, objs)
        {
            char *name = object_name(o);
            strbuf_appendf(&sb, "DROP %s %s;", word, name);
            free(name);
        }
        an_report_full(a, st, R_DROP_MULTIPLE, NULL, NULL, strbuf_cstr(&sb), word, "");
        strbuf_free(&sb);
    }
    if (an_bool(n, "concurrent") && !strcmp(word, "INDEX")) {
        char *name = object_name(cJSON_GetArrayItem(objs, 0));
        an_report_obj(a, st, R_DROP_INDEX_CONCURRENTLY, NULL, "INDEX", name);
        free(name);
    }
}

static void report_named(analysis *a, const an_stmt *st, an_rule_id rule, const char *type, const cJSON *obj)
{
    char *name = object_name(obj);
    an_report_obj(a, st, rule, NULL, type, name);
    free(name);
}

/*
 * ALTER <type> ... (RENAME, SET SCHEMA) of the objects upstream reports any
 * ALTER of. OWNER TO is left alone: exported schemas have none (pg_dump
 * --no-owner), and in a hand-made dump it is no migration issue.
 */
static void rules_alter_object(analysis *a, const an_stmt *st, const char *objtype, const cJSON *obj,
                               const cJSON *relation)
{
    if (str_eq(objtype, "OBJECT_TYPE") || str_eq(objtype, "OBJECT_ATTRIBUTE")) {
        if (relation) {
            char *name = an_rangevar_name(relation);
            an_report_obj(a, st, R_ALTER_TYPE, NULL, "TYPE", name);
            free(name);
        } else {
            report_named(a, st, R_ALTER_TYPE, "TYPE", obj);
        }
    } else if (str_eq(objtype, "OBJECT_VIEW")) {
        char *name = relation ? an_rangevar_name(relation) : object_name(obj);
        an_report_obj(a, st, R_ALTER_VIEW, NULL, "VIEW", name);
        free(name);
    } else if (str_eq(objtype, "OBJECT_AGGREGATE")) {
        report_named(a, st, R_ALTER_AGGREGATE, "AGGREGATE", obj);
    } else if (str_eq(objtype, "OBJECT_CONVERSION")) {
        report_named(a, st, R_ALTER_CONVERSION, "CONVERSION", obj);
    } else if (str_eq(objtype, "OBJECT_TABLE") && relation) {
        /* Only SET SCHEMA reaches here for tables (RENAME is supported). */
        char *name = an_rangevar_name(relation);
        an_report_obj(a, st, R_ALTER_TABLE_SET_SCHEMA, NULL, "TABLE", name);
        free(name);
    }
}

static void foreign_table_key(analysis *a, const an_stmt *st, const cJSON *con)
{
    const char *type = an_str(con, "contype");
    if (str_eq(type, "CONSTR_PRIMARY"))
        an_report_obj(a, st, R_FOREIGN_TABLE_PK, NULL, "TABLE", st->obj_name);
    else if (str_eq(type, "CONSTR_FOREIGN"))
        an_report_obj(a, st, R_FOREIGN_TABLE_FK, NULL, "TABLE", st->obj_name);
}

static void rules_create_table(analysis *a, const an_stmt *st, const cJSON *n, bool foreign)
{
    const cJSON *el;
    cJSON_ArrayForEach(el, cJSON_GetObjectItem(n, "tableElts"))
    {
        const char *kind;
        const cJSON *node = an_unwrap(el, &kind);
        if (!node)
            continue;
        if (!strcmp(kind, "TableLikeClause")) {
            an_report(a, st, an_int(node, "options") == LIKE_ALL ? R_LIKE_ALL : R_LIKE_CLAUSE, NULL);
            continue;
        }
        if (!foreign)
            continue;
        /* Keys of a foreign table, as table or column constraints. */
        if (!strcmp(kind, "Constraint")) {
            foreign_table_key(a, st, node);
            continue;
        }
        const cJSON *c;
        const cJSON *cons = !strcmp(kind, "ColumnDef") ? cJSON_GetObjectItem(node, "constraints") : NULL;
        cJSON_ArrayForEach(c, cons)
        {
            const char *ck;
            foreign_table_key(a, st, an_unwrap(c, &ck));
        }
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(n, "options"))
    {
        const char *kind;
        if (str_case_eq(an_str(an_unwrap(o, &kind), "defname"), "oids"))
            an_report(a, st, R_WITH_OIDS, NULL);
    }
}

static bool view_check_option(const cJSON *n)
{
    const char *w = an_str(n, "withCheckOption");
    if (w && strcmp(w, "NO_CHECK_OPTION") != 0)
        return true;
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(n, "options"))
    {
        const char *kind;
        if (str_eq(an_str(an_unwrap(o, &kind), "defname"), "check_option"))
            return true;
    }
    return false;
}

static const char *function_language(const cJSON *n)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(n, "options"))
    {
        const char *kind;
        const cJSON *d = an_unwrap(o, &kind);
        if (str_eq(an_str(d, "defname"), "language"))
            return an_sval(cJSON_GetObjectItem(d, "arg"));
    }
    return NULL;
}

/* table.column%TYPE in the signature of a function. */
static void check_pct_type(analysis *a, const an_stmt *st, const cJSON *type_name)
{
    if (!an_bool(type_name, "pct_type"))
        return;
    char *ref = an_join_names(cJSON_GetObjectItem(type_name, "names"));
    char *d = xasprintf("%s%%TYPE", ref);
    an_report(a, st, R_REFERENCED_TYPE_DECLARATION, d);
    free(d);
    free(ref);
}

static void rules_function(analysis *a, const an_stmt *st, const cJSON *n)
{
    if (str_case_eq(function_language(n), "c"))
        an_report(a, st, R_LANGUAGE_C, NULL);
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(n, "parameters"))
    {
        const char *kind;
        check_pct_type(a, st, cJSON_GetObjectItem(an_unwrap(p, &kind), "argType"));
    }
    check_pct_type(a, st, cJSON_GetObjectItem(n, "returnType"));
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* CREATE DATABASE options newer than YugabyteDB's PostgreSQL, one issue per PostgreSQL release (sorted names). */
static void rules_createdb(analysis *a, const an_stmt *st, const cJSON *n)
{
    static const char *const pg15[] = {"locale", "icu_locale", "locale_provider", "collation_version", "oid",
                                       "strategy", NULL};
    static const char *const pg17[] = {"icu_rules", "builtin_locale", NULL};
    strlist found15 = STRLIST_INIT, found17 = STRLIST_INIT;
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(n, "options"))
    {
        const char *kind;
        const char *name = an_str(an_unwrap(o, &kind), "defname");
        for (size_t i = 0; name && pg15[i]; i++)
            if (!strcmp(name, pg15[i]) && !strlist_contains(&found15, name))
                strlist_push(&found15, name);
        for (size_t i = 0; name && pg17[i]; i++)
            if (!strcmp(name, pg17[i]) && !strlist_contains(&found17, name))
                strlist_push(&found17, name);
    }
    const char *db = an_str(n, "dbname") ? an_str(n, "dbname") : "";
    strlist *lists[] = {&found15, &found17};
    an_rule_id rules[] = {R_DATABASE_OPTIONS_PG15, R_DATABASE_OPTIONS_PG17};
    for (size_t l = 0; l < 2; l++) {
        if (!lists[l]->count)
            continue;
        qsort(lists[l]->items, lists[l]->count, sizeof(char *), cmp_str);
        strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < lists[l]->count; i++)
            strbuf_appendf(&sb, "%s%s", i ? ", " : "", lists[l]->items[i]);
        an_report_obj(a, st, rules[l], strbuf_cstr(&sb), "DATABASE", db);
        strbuf_free(&sb);
    }
    strlist_free(&found15);
    strlist_free(&found17);
}

void an_rules_stmt(analysis *a, const an_stmt *st)
{
    const char *k = st->kind;
    const cJSON *n = st->node;
    if (!strcmp(k, "DropStmt")) {
        rules_drop(a, st, n);
    } else if (!strcmp(k, "CreateAmStmt")) {
        an_report_obj(a, st, R_CREATE_ACCESS_METHOD, NULL, "ACCESS METHOD", an_str(n, "amname"));
    } else if (!strcmp(k, "ReindexStmt")) {
        const cJSON *rv = cJSON_GetObjectItem(n, "relation");
        char *name = rv ? an_rangevar_name(rv) : xstrdup(an_str(n, "name") ? an_str(n, "name") : "");
        an_report_obj(a, st, R_REINDEX, NULL, "TABLE", name);
        free(name);
    } else if (!strcmp(k, "CreateStmt")) {
        rules_create_table(a, st, n, false);
    } else if (!strcmp(k, "CreateForeignTableStmt")) {
        rules_create_table(a, st, cJSON_GetObjectItem(n, "base"), true);
    } else if (!strcmp(k, "ViewStmt")) {
        if (view_check_option(n))
            an_report(a, st, R_VIEW_CHECK_OPTION, NULL);
    } else if (!strcmp(k, "CreateSchemaStmt")) {
        /* Upstream names no object for this one. */
        if (cJSON_GetArraySize(cJSON_GetObjectItem(n, "schemaElts")) > 0)
            an_report_obj(a, st, R_SCHEMA_WITH_ELEMENTS, NULL, "SCHEMA", "");
    } else if (!strcmp(k, "CreateConversionStmt")) {
        char *name = an_join_names(cJSON_GetObjectItem(n, "conversion_name"));
        an_report_obj(a, st, R_CREATE_CONVERSION, NULL, "CONVERSION", name);
        free(name);
    } else if (!strcmp(k, "AlterEnumStmt")) {
        char *name = an_join_names(cJSON_GetObjectItem(n, "typeName"));
        an_report_obj(a, st, R_ALTER_TYPE, NULL, "TYPE", name);
        free(name);
    } else if (!strcmp(k, "AlterTypeStmt")) {
        char *name = an_join_names(cJSON_GetObjectItem(n, "typeName"));
        an_report_obj(a, st, R_ALTER_TYPE, NULL, "TYPE", name);
        free(name);
    } else if (!strcmp(k, "RenameStmt")) {
        const char *rt = an_str(n, "renameType");
        /* RENAME COLUMN / ATTRIBUTE name the relation's kind in relationType. */
        if (str_eq(rt, "OBJECT_COLUMN") || str_eq(rt, "OBJECT_ATTRIBUTE"))
            rt = an_str(n, "relationType");
        if (!str_eq(rt, "OBJECT_TABLE"))
            rules_alter_object(a, st, rt, cJSON_GetObjectItem(n, "object"), cJSON_GetObjectItem(n, "relation"));
    } else if (!strcmp(k, "AlterObjectSchemaStmt")) {
        rules_alter_object(a, st, an_str(n, "objectType"), cJSON_GetObjectItem(n, "object"),
                           cJSON_GetObjectItem(n, "relation"));
    } else if (!strcmp(k, "AlterTableSpaceOptionsStmt")) {
        an_report_obj(a, st, R_ALTER_TABLESPACE, NULL, "TABLESPACE", an_str(n, "tablespacename"));
    } else if (!strcmp(k, "CreateFunctionStmt")) {
        rules_function(a, st, n);
    } else if (!strcmp(k, "CreatedbStmt")) {
        rules_createdb(a, st, n);
    }
}

/* --- text checks --- */

/* The statement lower-cased, comments dropped, every run of blanks one space. Caller frees. */
static char *normalize(const char *sql)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "");
    bool blank = false;
    for (const char *p = sql; *p; p++) {
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            if (!*p)
                break;
        }
        if (isspace((unsigned char)*p)) {
            blank = true;
            continue;
        }
        if (blank && sb.len)
            strbuf_append_char(&sb, ' ');
        blank = false;
        strbuf_append_char(&sb, (char)tolower((unsigned char)*p));
    }
    return strbuf_detach(&sb);
}

static bool word_at(const char *s, const char *start, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(s, w, n) != 0)
        return false;
    bool left = s == start || !(isalnum((unsigned char)s[-1]) || s[-1] == '_');
    bool right = !(isalnum((unsigned char)s[n]) || s[n] == '_');
    return left && right;
}

static const char *find_words(const char *text, const char *words)
{
    for (const char *p = strstr(text, words); p; p = strstr(p + 1, words))
        if (word_at(p, text, words))
            return p;
    return NULL;
}

/* FETCH <direction> FROM|IN cursor, for the directions upstream flags. */
static void check_fetch(analysis *a, const an_stmt *st, const char *text)
{
    static const char *const dirs[] = {"first", "last", "next", "prior", "relative", "absolute", "forward",
                                       "backward"};
    for (const char *p = find_words(text, "fetch"); p; p = find_words(p + 1, "fetch")) {
        if (p[5] != ' ')
            continue;
        const char *w = p + 6;
        for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
            size_t n = strlen(dirs[i]);
            if (!strncmp(w, dirs[i], n) && (!strncmp(w + n, " from ", 6) || !strncmp(w + n, " in ", 4))) {
                char *d = xstrdup(dirs[i]);
                for (char *c = d; *c; c++)
                    *c = (char)toupper((unsigned char)*c);
                an_report_obj(a, st, R_CURSOR_FETCH, d, "CURSOR", st->obj_name);
                free(d);
                return;
            }
        }
    }
}

bool an_rules_text(analysis *a, const an_stmt *st)
{
    size_t before = a->nissues;
    char *t = normalize(st->sql);
    /* Upstream names triggers by their own name in these text checks (no " ON table"). */
    char *bare = xstrdup(st->obj_name ? st->obj_name : "");
    char *on = str_eq(st->obj_type, "TRIGGER") ? strstr(bare, " ON ") : NULL;
    if (on)
        *on = 0;
    bool routine = str_eq(st->obj_type, "FUNCTION") || str_eq(st->obj_type, "PROCEDURE");
    if (routine || str_eq(st->obj_type, "TRIGGER")) {
        check_fetch(a, st, t);
        if (find_words(t, "where current of"))
            an_report_obj(a, st, R_WHERE_CURRENT_OF, NULL, "CURSOR", "");
        if (find_words(t, "drop temporary table"))
            an_report(a, st, R_DROP_TEMPORARY_TABLE, NULL);
        /* PL/pgSQL's own COMMIT rejects COMMIT PREPARED, so such a body never reaches the tree walk. */
        static const char *const two_phase[] = {"prepare transaction", "commit prepared", "rollback prepared"};
        for (size_t i = 0; i < ARRAY_LEN(two_phase); i++)
            if (find_words(t, two_phase[i])) {
                an_report(a, st, R_TWO_PHASE_COMMIT, i == 0 ? "PREPARE TRANSACTION" : i == 1 ? "COMMIT PREPARED"
                                                                                            : "ROLLBACK PREPARED");
                break;
            }
    }
    if (str_starts_with(t, "create ") && find_words(t, "json_arrayagg"))
        an_report_obj(a, st, R_JSON_ARRAYAGG, NULL, st->obj_type, bare);
    if (!st->node) {
        /* Not PostgreSQL 15 syntax: what upstream still names from the text. */
        if (str_eq(st->obj_type, "TRIGGER") && find_words(t, "compound")) {
            an_report_obj(a, st, R_COMPOUND_TRIGGER, NULL, "TRIGGER", bare);
        } else if (str_starts_with(t, "alter table ") && find_words(t, "set with oids")) {
            an_report(a, st, R_ALTER_SET_WITH_OIDS, NULL);
        } else if (str_starts_with(t, "alter table ") && find_words(t, "of")) {
            an_report(a, st, find_words(t, "not of") ? R_ALTER_TABLE_NOT_OF : R_ALTER_TABLE_OF, NULL);
        } else if (str_starts_with(t, "alter view ") && str_eq(st->obj_type, "VIEW")) {
            an_report(a, st, R_ALTER_VIEW, NULL);
        } else if (str_starts_with(t, "create ") && str_eq(st->obj_type, "TABLE") && find_words(t, "with oids")) {
            an_report(a, st, R_WITH_OIDS, NULL);
        } else if (str_starts_with(t, "alter conversion ") || str_starts_with(t, "create conversion ")) {
            const char *p = t + strlen(str_starts_with(t, "alter") ? "alter conversion " : "create conversion ");
            size_t n = strcspn(p, " ;(");
            char *name = xstrndup(p, n);
            an_report_obj(a, st, str_starts_with(t, "alter") ? R_ALTER_CONVERSION : R_CREATE_CONVERSION, NULL,
                          "CONVERSION", name);
            free(name);
        }
    }
    free(bare);
    free(t);
    return a->nissues > before;
}
