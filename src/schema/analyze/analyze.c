/* The analysis: statements in, issues and object counts out. */
#include "schema/analyze/analyze_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

analysis *an_new(void)
{
    return xcalloc(1, sizeof(analysis));
}

void an_free(analysis *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nstmts; i++) {
        an_stmt *st = &a->stmts[i];
        free(st->file);
        free(st->sql);
        cJSON_Delete(st->root);
        free(st->obj_type);
        free(st->obj_name);
    }
    free(a->stmts);
    for (size_t i = 0; i < a->ntables; i++) {
        an_table *t = &a->tables[i];
        free(t->key);
        free(t->parent);
        for (size_t c = 0; c < t->ncols; c++) {
            free(t->cols[c].name);
            free(t->cols[c].type);
        }
        free(t->cols);
        strlist_free(&t->part_cols);
        for (size_t x = 0; x < t->nindexes; x++)
            strlist_free(&t->indexes[x]);
        free(t->indexes);
    }
    free(a->tables);
    strlist_free(&a->enums);
    strlist_free(&a->composites);
    free(a->dumped_from);
    for (size_t i = 0; i < a->nissues; i++) {
        an_issue *is = &a->issues[i];
        free(is->object_type);
        free(is->object_name);
        free(is->reason);
        free(is->sql);
        free(is->file_path);
        free(is->docs_link);
        free(is->suggestion);
    }
    free(a->issues);
    for (size_t i = 0; i < a->nobjs; i++) {
        for (size_t n = 0; n < a->objs[i].count; n++)
            free(a->objs[i].names[n]);
        free(a->objs[i].names);
        free(a->objs[i].object_type);
        free(a->objs[i].details);
    }
    free(a->objs);
    free(a);
}

/* Length of the valid UTF-8 sequence at s, 0 when invalid. */
static size_t utf8_seq(const unsigned char *s)
{
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 2 && s[0] < 0xC2)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/*
 * A copy that is valid UTF-8 (bad bytes become U+FFFD): schema files of a
 * LATIN1 database must still give a valid JSON/XML/HTML report. Caller frees.
 */
static char *utf8_copy(const char *s)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "");
    while (s && *s) {
        size_t n = utf8_seq((const unsigned char *)s);
        if (n) {
            strbuf_append_len(&sb, s, n);
            s += n;
        } else {
            strbuf_append(&sb, "\xEF\xBF\xBD");
            s++;
        }
    }
    return strbuf_detach(&sb);
}

/* Reason formats come from our own rules table, never from the input. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
void an_report_full(analysis *a, const an_stmt *st, an_rule_id rule, const char *detail, const char *kind,
                    const char *suggestion_arg, const char *obj_type, const char *obj_name)
{
    const an_rule *r = &an_rules[rule];
    if (!kind)
        kind = r->kind;
    if (a->owner) {
        /* A routine's DDL runs at call time, on data the import does not see: no index advice for it. */
        if (rule == R_FK_WITHOUT_INDEX)
            return;
        obj_type = a->owner->obj_type;
        obj_name = a->owner->obj_name;
    }
    char *raw = strstr(r->reason, "%s") ? xasprintf(r->reason, detail ? detail : "") : xstrdup(r->reason);
    char *reason = utf8_copy(raw);
    free(raw);
    char *name = utf8_copy(obj_name);
    char *file = utf8_copy(st->file);
    /*
     * One issue per rule, object and detail: a statement walked twice (body
     * and tree) reports once. In bodies, one per construct whatever its
     * detail (lo_open and lo_lseek in one function: one issue), as upstream.
     */
    bool body = !strcmp(r->issue_type, AN_UNSUPPORTED_PLPGSQL);
    for (size_t i = 0; i < a->nissues; i++) {
        const an_issue *o = &a->issues[i];
        if (o->rule == r->id && o->kind == kind && o->line == st->line && !strcmp(o->object_name, name) &&
            !strcmp(o->file_path, file) && str_eq(o->object_type, obj_type ? obj_type : "") &&
            (body || !strcmp(o->reason, reason))) {
            free(reason);
            free(name);
            free(file);
            return;
        }
    }
    if (a->nissues == a->capissues) {
        a->capissues = a->capissues ? a->capissues * 2 : 32;
        a->issues = xrealloc(a->issues, a->capissues * sizeof(*a->issues));
    }
    an_issue *is = &a->issues[a->nissues++];
    is->rule = r->id;
    is->kind = kind;
    /* Upstream files constructs of a view, trigger or table under unsupported_features; only routines' bodies are PL/pgSQL objects. */
    bool routine = str_eq(obj_type, "FUNCTION") || str_eq(obj_type, "PROCEDURE");
    is->issue_type = !strcmp(r->issue_type, AN_UNSUPPORTED_PLPGSQL) && !routine ? AN_UNSUPPORTED_FEATURES : r->issue_type;
    if (a->owner && strcmp(r->issue_type, AN_MIGRATION_CAVEATS) != 0)
        is->issue_type = AN_UNSUPPORTED_PLPGSQL; /* DDL in a body is a PL/pgSQL issue */
    is->object_type = xstrdup(obj_type ? obj_type : "");
    is->object_name = name;
    is->reason = reason;
    char *sql = xasprintf("%s%s", st->sql, str_ends_with(st->sql, ";") ? "" : ";");
    is->sql = utf8_copy(sql);
    free(sql);
    is->file_path = file;
    is->line = st->line;
    char *sugg = strstr(r->suggestion, "%s") ? xasprintf(r->suggestion, suggestion_arg ? suggestion_arg : "")
                                             : xstrdup(r->suggestion);
    is->suggestion = utf8_copy(sugg);
    free(sugg);
    is->gh = r->gh;
    is->docs_link = xstrdup(r->docs);
    is->min_fixed = r->min_fixed;
    is->order = (size_t)(st - a->stmts) * 1000000u + a->nissues;
}
#pragma GCC diagnostic pop

void an_report_obj(analysis *a, const an_stmt *st, an_rule_id rule, const char *detail, const char *obj_type,
                   const char *obj_name)
{
    an_report_full(a, st, rule, detail, NULL, NULL, obj_type, obj_name);
}

void an_report(analysis *a, const an_stmt *st, an_rule_id rule, const char *detail)
{
    an_report_obj(a, st, rule, detail, st->obj_type, st->obj_name);
}

/* --- what each statement is about --- */

static const char *objtype_word(const char *objtype)
{
    static const struct {
        const char *o, *w;
    } m[] = {{"OBJECT_TABLE", "TABLE"},       {"OBJECT_INDEX", "INDEX"},   {"OBJECT_VIEW", "VIEW"},
             {"OBJECT_MATVIEW", "MVIEW"},     {"OBJECT_SEQUENCE", "SEQUENCE"},
             {"OBJECT_FOREIGN_TABLE", "FOREIGN TABLE"}, {"OBJECT_TYPE", "TYPE"},
             {"OBJECT_COLLATION", "COLLATION"}, {"OBJECT_AGGREGATE", "AGGREGATE"},
             {"OBJECT_OPERATOR", "OPERATOR"}, {"OBJECT_FUNCTION", "FUNCTION"}};
    for (size_t i = 0; i < ARRAY_LEN(m); i++)
        if (str_eq(objtype, m[i].o))
            return m[i].w;
    return NULL;
}

static char *on_table(const char *name, const cJSON *rv)
{
    char *t = an_rangevar_name(rv);
    char *s = xasprintf("%s ON %s", name ? name : "", t);
    free(t);
    return s;
}

/* Sets obj_type and obj_name; returns whether the statement creates a counted object. */
static bool stmt_object(an_stmt *st)
{
    const char *k = st->kind;
    const cJSON *n = st->node;
    char *type = NULL, *name = NULL;
    bool counted = true;
    if (!strcmp(k, "CreateStmt")) {
        type = xstrdup("TABLE");
        name = an_rangevar_name(cJSON_GetObjectItem(n, "relation"));
    } else if (!strcmp(k, "CreateForeignTableStmt")) {
        type = xstrdup("FOREIGN TABLE");
        name = an_rangevar_name(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "base"), "relation"));
    } else if (!strcmp(k, "IndexStmt")) {
        type = xstrdup("INDEX");
        name = on_table(an_str(n, "idxname"), cJSON_GetObjectItem(n, "relation"));
    } else if (!strcmp(k, "ViewStmt")) {
        type = xstrdup("VIEW");
        name = an_rangevar_name(cJSON_GetObjectItem(n, "view"));
    } else if (!strcmp(k, "CreateTableAsStmt")) {
        bool mv = str_eq(an_str(n, "objtype"), "OBJECT_MATVIEW");
        type = xstrdup(mv ? "MVIEW" : "TABLE");
        name = an_rangevar_name(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "into"), "rel"));
    } else if (!strcmp(k, "CreateFunctionStmt")) {
        type = xstrdup(an_bool(n, "is_procedure") ? "PROCEDURE" : "FUNCTION");
        name = an_join_names(cJSON_GetObjectItem(n, "funcname"));
    } else if (!strcmp(k, "CreateTrigStmt")) {
        type = xstrdup("TRIGGER");
        name = on_table(an_str(n, "trigname"), cJSON_GetObjectItem(n, "relation"));
    } else if (!strcmp(k, "CreatePolicyStmt")) {
        type = xstrdup("POLICY");
        name = on_table(an_str(n, "policy_name"), cJSON_GetObjectItem(n, "table"));
    } else if (!strcmp(k, "RuleStmt")) {
        type = xstrdup("RULE");
        name = on_table(an_str(n, "rulename"), cJSON_GetObjectItem(n, "relation"));
    } else if (!strcmp(k, "CreateExtensionStmt")) {
        type = xstrdup("EXTENSION");
        name = xstrdup(an_str(n, "extname"));
    } else if (!strcmp(k, "DefineStmt")) {
        const char *w = objtype_word(an_str(n, "kind"));
        type = xstrdup(w ? w : "OBJECT");
        name = an_join_names(cJSON_GetObjectItem(n, "defnames"));
    } else if (!strcmp(k, "CompositeTypeStmt")) {
        type = xstrdup("TYPE");
        name = an_rangevar_name(cJSON_GetObjectItem(n, "typevar"));
    } else if (!strcmp(k, "CreateEnumStmt") || !strcmp(k, "CreateRangeStmt")) {
        type = xstrdup("TYPE");
        name = an_join_names(cJSON_GetObjectItem(n, "typeName"));
    } else if (!strcmp(k, "CreateDomainStmt")) {
        type = xstrdup("DOMAIN");
        name = an_join_names(cJSON_GetObjectItem(n, "domainname"));
    } else if (!strcmp(k, "CreateSeqStmt")) {
        type = xstrdup("SEQUENCE");
        name = an_rangevar_name(cJSON_GetObjectItem(n, "sequence"));
    } else if (!strcmp(k, "CreateSchemaStmt")) {
        type = xstrdup("SCHEMA");
        name = xstrdup(an_str(n, "schemaname"));
    } else if (!strcmp(k, "CreateConversionStmt")) {
        type = xstrdup("CONVERSION");
        name = an_join_names(cJSON_GetObjectItem(n, "conversion_name"));
    } else if (!strcmp(k, "CreateOpClassStmt") || !strcmp(k, "CreateOpFamilyStmt")) {
        /* Upstream counts operator classes and families with the operators. */
        type = xstrdup("OPERATOR");
        name = an_join_names(cJSON_GetObjectItem(n, !strcmp(k, "CreateOpClassStmt") ? "opclassname" : "opfamilyname"));
    } else if (!strcmp(k, "AlterTableStmt")) {
        const char *w = objtype_word(an_str(n, "objtype"));
        type = xstrdup(w ? w : "TABLE");
        name = an_rangevar_name(cJSON_GetObjectItem(n, "relation"));
        counted = false;
    } else {
        /* Other statements (ALTER ..., COMMENT, MERGE, COPY ...): named by their kind. */
        strbuf sb = STRBUF_INIT;
        size_t len = strlen(k);
        if (str_ends_with(k, "Stmt"))
            len -= 4;
        for (size_t i = 0; i < len; i++) {
            if (i && k[i] >= 'A' && k[i] <= 'Z')
                strbuf_append_char(&sb, ' ');
            strbuf_append_char(&sb, (char)(k[i] >= 'a' && k[i] <= 'z' ? k[i] - 32 : k[i]));
        }
        type = strbuf_detach(&sb);
        name = xstrdup("");
        counted = false;
    }
    st->obj_type = type;
    st->obj_name = name ? name : xstrdup("");
    return counted;
}

static an_objstat *objstat_get(analysis *a, const char *type)
{
    for (size_t i = 0; i < a->nobjs; i++)
        if (!strcmp(a->objs[i].object_type, type))
            return &a->objs[i];
    if (a->nobjs == a->capobjs) {
        a->capobjs = a->capobjs ? a->capobjs * 2 : 16;
        a->objs = xrealloc(a->objs, a->capobjs * sizeof(*a->objs));
    }
    an_objstat *o = &a->objs[a->nobjs++];
    memset(o, 0, sizeof(*o));
    o->object_type = xstrdup(type);
    o->details = xstrdup("");
    return o;
}

/* Every CREATE counts, as upstream counts them: overloaded functions are several objects of one name. */
static void objstat_add(analysis *a, const char *type, const char *raw_name)
{
    an_objstat *o = objstat_get(a, type);
    char *name = utf8_copy(raw_name);
    if (o->count == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 8;
        o->names = xrealloc(o->names, o->cap * sizeof(char *));
    }
    o->names[o->count++] = name;
}

/*
 * Notes on a whole object type, as upstream's summary gives them: GIN indexes
 * (supported only in part), the hll extension (only from YugabyteDB 2.18).
 */
static void summary_details(analysis *a)
{
    bool gin = false, hll = false;
    for (size_t i = 0; i < a->nstmts; i++) {
        const an_stmt *st = &a->stmts[i];
        if (!st->node)
            continue;
        if (!strcmp(st->kind, "IndexStmt") && str_eq(an_str(st->node, "accessMethod"), "gin"))
            gin = true;
        if (!strcmp(st->kind, "CreateExtensionStmt") && str_eq(an_str(st->node, "extname"), "hll"))
            hll = true;
    }
    for (size_t i = 0; i < a->nobjs; i++) {
        an_objstat *o = &a->objs[i];
        const char *d = NULL;
        if (gin && !strcmp(o->object_type, "INDEX"))
            d = "The schema has GIN indexes, which YugabyteDB supports only in part "
                "(https://github.com/yugabyte/yugabyte-db/issues/7850): check each one on the target.";
        else if (hll && !strcmp(o->object_type, "EXTENSION"))
            d = "The 'hll' extension exists in YugabyteDB from v2.18: check it against the target version.";
        if (d) {
            free(o->details);
            o->details = xstrdup(d);
        }
    }
}

static int cmp_issue(const void *x, const void *y)
{
    size_t a = ((const an_issue *)x)->order, b = ((const an_issue *)y)->order;
    return a < b ? -1 : a > b;
}

void an_run(analysis *a)
{
    if (a->ran)
        return;
    a->ran = true;
    for (size_t i = 0; i < a->nstmts; i++) {
        an_stmt *st = &a->stmts[i];
        if (!st->node) {
            /* A CREATE our parser rejects (newer syntax) still creates its object: count what the scanner named. */
            if (!st->root && st->obj_name && st->obj_name[0] && !strncasecmp(st->sql, "create", 6))
                objstat_add(a, st->obj_type, st->obj_name);
            continue;
        }
        if (stmt_object(st))
            objstat_add(a, st->obj_type, st->obj_name);
    }
    an_catalog_build(a);
    summary_details(a);
    for (size_t i = 0; i < a->nstmts; i++) {
        const an_stmt *st = &a->stmts[i];
        if (!st->node)
            continue;
        an_rules_ddl(a, st);
        an_rules_types(a, st);
        an_rules_body(a, st);
        an_rules_stmt(a, st);
        an_rules_text(a, st);
    }
    /* Syntax errors were found while reading: put every issue in file order. */
    if (a->nissues > 1)
        qsort(a->issues, a->nissues, sizeof(*a->issues), cmp_issue);
}

void an_add_source_issue(analysis *a, const char *object_type, const char *object_name, const char *reason,
                         const char *suggestion, const char *file_path)
{
    if (a->nissues == a->capissues) {
        a->capissues = a->capissues ? a->capissues * 2 : 32;
        a->issues = xrealloc(a->issues, a->capissues * sizeof(*a->issues));
    }
    an_issue *is = &a->issues[a->nissues++];
    memset(is, 0, sizeof *is);
    is->rule = "source_conversion";
    is->kind = "SOURCE_CONVERSION";
    is->issue_type = AN_UNSUPPORTED_FEATURES;
    is->object_type = utf8_copy(object_type ? object_type : "");
    is->object_name = utf8_copy(object_name ? object_name : "");
    is->reason = utf8_copy(reason ? reason : "");
    is->sql = xstrdup("");
    is->file_path = utf8_copy(file_path ? file_path : "");
    is->suggestion = utf8_copy(suggestion ? suggestion : "");
    is->gh = "";
    is->docs_link = xstrdup("");
    /* after every issue of the files, in the order added */
    is->order = (size_t)-1 / 2 + a->nissues;
}

size_t an_issue_count(const analysis *a)
{
    return a->nissues;
}

const an_issue *an_issue_at(const analysis *a, size_t i)
{
    return i < a->nissues ? &a->issues[i] : NULL;
}

size_t an_count_rule(const analysis *a, const char *rule, const char *object_name)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nissues; i++)
        if (!strcmp(a->issues[i].rule, rule) && (!object_name || !strcmp(a->issues[i].object_name, object_name)))
            n++;
    return n;
}

const char *an_dumped_from(const analysis *a)
{
    return a->dumped_from;
}

size_t an_objstat_count(const analysis *a)
{
    return a->nobjs;
}

const an_objstat *an_objstat_at(const analysis *a, size_t i)
{
    return i < a->nobjs ? &a->objs[i] : NULL;
}

char *an_schema_names(const analysis *a)
{
    strlist names = STRLIST_INIT;
    for (size_t i = 0; i < a->nstmts; i++) {
        const an_stmt *st = &a->stmts[i];
        const char *name = NULL;
        if (!st->node)
            continue;
        if (!strcmp(st->kind, "CreateSchemaStmt"))
            name = an_str(st->node, "schemaname");
        else if (!strcmp(st->kind, "CreateStmt"))
            name = an_str(cJSON_GetObjectItem(st->node, "relation"), "schemaname");
        if (name && !strlist_contains(&names, name))
            strlist_push(&names, name);
    }
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < names.count; i++) {
        if (i)
            strbuf_append_char(&sb, ',');
        strbuf_append(&sb, names.items[i]);
    }
    strlist_free(&names);
    return strbuf_detach(&sb);
}
