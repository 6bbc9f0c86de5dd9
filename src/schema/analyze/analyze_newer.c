/*
 * Features newer than our parser (libpg_query 15): IS JSON, the SQL/JSON
 * constructors and query functions with their standard syntax, non-decimal
 * integer literals. Their statements do not parse, so there is no tree; when
 * a statement failed to parse we look at its tokens (strings, quoted
 * identifiers and comments skipped) to name the feature instead of reporting a
 * bare syntax error. Used only on statements the parser rejected, on PL/pgSQL
 * bodies before handing them to libpg_query (see analyze_rules_body.c), and to
 * name the object of a statement that does not parse.
 */
#include "schema/analyze/analyze_int.h"

#include <ctype.h>
#include <string.h>

typedef struct tok {
    char text[64];  /* identifiers lower-cased (quoted ones as written); one char for punctuation */
    bool ident;
    bool quoted;    /* a "quoted identifier": never a keyword */
    bool number;
    bool glued;     /* no blank between this token and the previous one */
} tok;

/* Next token from *p; false at the end. */
static bool next_tok(const char **pp, tok *t)
{
    const char *p = *pp;
    bool blank = false;
    for (;;) {
        while (*p && isspace((unsigned char)*p)) {
            p++;
            blank = true;
        }
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            blank = true;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
            blank = true;
        } else if (*p == '\'' || *p == '"') {
            char q = *p++;
            size_t n = 0;
            while (*p && !(*p == q && p[1] != q)) {
                if (n + 1 < sizeof(t->text))
                    t->text[n++] = *p;
                p += (*p == q) ? 2 : 1;
            }
            if (*p)
                p++;
            t->text[n] = 0;
            if (q == '\'') { /* a literal is not a keyword: a separator */
                t->text[0] = q;
                t->text[1] = 0;
            }
            t->ident = t->quoted = q == '"';
            t->number = false;
            t->glued = !blank;
            *pp = p;
            return true;
        } else if (*p == '$' && (p[1] == '$' || isalpha((unsigned char)p[1]) || p[1] == '_')) {
            const char *e = strchr(p + 1, '$');
            if (!e)
                break;
            size_t tl = (size_t)(e - p) + 1;
            char tag[64];
            if (tl >= sizeof(tag))
                break;
            memcpy(tag, p, tl);
            tag[tl] = 0;
            const char *close = strstr(e + 1, tag);
            p = close ? close + tl : p + strlen(p);
            blank = true;
        } else {
            break;
        }
    }
    if (!*p) {
        *pp = p;
        return false;
    }
    t->glued = !blank;
    t->ident = t->number = t->quoted = false;
    size_t n = 0;
    if (isalpha((unsigned char)*p) || *p == '_') {
        while (isalnum((unsigned char)*p) || *p == '_' || *p == '$') {
            if (n + 1 < sizeof(t->text))
                t->text[n++] = (char)tolower((unsigned char)*p);
            p++;
        }
        t->ident = true;
    } else if (isdigit((unsigned char)*p)) {
        while (isdigit((unsigned char)*p)) {
            if (n + 1 < sizeof(t->text))
                t->text[n++] = *p;
            p++;
        }
        t->number = true;
    } else {
        t->text[n++] = *p++;
    }
    t->text[n] = 0;
    *pp = p;
    return true;
}

static bool in_set(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return true;
    return false;
}

static const char *const json_ctors[] = {"json_object", "json_array", "json_objectagg", "json_arrayagg",
                                         "json_scalar", "json_serialize", NULL};
static const char *const json_queries[] = {"json_query", "json_value", "json_exists", "json_table", NULL};

/* Words only the SQL/JSON syntax of PostgreSQL 16+ puts inside these calls' parentheses. */
static const char *const json_syntax_words[] = {"value", "absent", "returning", "format", "passing", "error",
                                                "empty", "wrapper", "columns", "keep", "omit", "quotes", NULL};

/* After "name(": does the argument list use PostgreSQL 16+ syntax (key : value, RETURNING ...)? */
static bool new_json_syntax(const char *p)
{
    tok t;
    int depth = 1;
    while (depth > 0 && next_tok(&p, &t)) {
        if (!strcmp(t.text, "("))
            depth++;
        else if (!strcmp(t.text, ")"))
            depth--;
        else if (depth == 1 && (!strcmp(t.text, ":") || (t.ident && !t.quoted && in_set(t.text, json_syntax_words))))
            return true;
    }
    return false;
}

/* An unquoted word. */
static bool kw(const tok *t, const char *word)
{
    return t->ident && !t->quoted && !strcmp(t->text, word);
}

bool an_classify_new_syntax(const char *sql, an_rule_id *rule, char **detail, bool *certain)
{
    const char *p = sql;
    tok prev2 = {{0}, false, false, false, false}, prev = prev2, t;
    while (next_tok(&p, &t)) {
        if (t.ident && !t.quoted && t.glued && prev.number && !strcmp(prev.text, "0") &&
            (t.text[0] == 'x' || t.text[0] == 'o' || t.text[0] == 'b') && t.text[1]) {
            *rule = R_NON_DECIMAL_LITERAL;
            *detail = xasprintf("0%s", t.text);
            *certain = true;
            return true;
        }
        if (kw(&t, "json") && (kw(&prev, "is") || (kw(&prev, "not") && kw(&prev2, "is")))) {
            *rule = R_JSON_PREDICATE;
            *detail = NULL;
            *certain = true;
            return true;
        }
        bool ctor = in_set(prev.text, json_ctors), query = in_set(prev.text, json_queries);
        if (!strcmp(t.text, "(") && prev.ident && !prev.quoted && (ctor || query)) {
            bool new_syntax = new_json_syntax(p);
            /* json_object(text[]) is an old function: only its new syntax is the constructor. */
            if (new_syntax || strcmp(prev.text, "json_object") != 0) {
                *rule = ctor ? R_JSON_CONSTRUCTOR : R_JSON_QUERY_FUNCTION;
                *detail = xstrdup(prev.text);
                *certain = new_syntax;
                return true;
            }
        }
        prev2 = prev;
        prev = t;
    }
    return false;
}

bool an_classify_parse_error(const char *sql, int cursor, const char *msg, an_rule_id *rule, char **detail)
{
    (void)cursor; /* the parser's position is often 0 inside bodies: look at the whole statement */
    (void)msg;
    bool certain;
    return an_classify_new_syntax(sql, rule, detail, &certain);
}

/* A qualified name at *pp ("a.b", "\"Order\"", public."Order"), as the report shows names. */
static bool read_name(const char **pp, strbuf *out)
{
    tok t;
    const char *p = *pp;
    if (!next_tok(&p, &t) || !t.ident)
        return false;
    strbuf_append(out, t.text);
    for (;;) {
        const char *q = p;
        tok dot;
        if (!next_tok(&q, &dot) || strcmp(dot.text, ".") != 0 || !next_tok(&q, &t) || !t.ident)
            break;
        strbuf_appendf(out, ".%s", t.text);
        p = q;
    }
    *pp = p;
    return true;
}

/* Skip the optional words in front of a name (IF NOT EXISTS, CONCURRENTLY, ONLY ...). */
static void skip_words(const char **pp, const char *const *words)
{
    for (;;) {
        const char *q = *pp;
        tok t;
        if (!next_tok(&q, &t) || t.quoted || !in_set(t.text, words))
            return;
        *pp = q;
    }
}

bool an_guess_object(const char *sql, char **type, char **name)
{
    static const char *const lead[] = {"or", "replace", "temp", "temporary", "unlogged", "global", "local",
                                       "recursive", "unique", "constraint", "trusted", NULL};
    static const char *const before_name[] = {"if", "not", "exists", "concurrently", "only", NULL};
    static const struct {
        const char *word, *type;
        bool on_table;
    } kinds[] = {{"table", "TABLE", false},         {"view", "VIEW", false},   {"function", "FUNCTION", false},
                 {"procedure", "PROCEDURE", false}, {"index", "INDEX", true},  {"trigger", "TRIGGER", true},
                 {"policy", "POLICY", true},        {"type", "TYPE", false},   {"domain", "DOMAIN", false},
                 {"sequence", "SEQUENCE", false},   {"rule", "RULE", true}};
    const char *p = sql;
    tok t;
    if (!next_tok(&p, &t) || !(kw(&t, "create") || kw(&t, "alter")))
        return false;
    skip_words(&p, lead);
    if (!next_tok(&p, &t) || t.quoted)
        return false;
    const char *tname = NULL;
    bool on_table = false;
    if (!strcmp(t.text, "materialized")) {
        if (!next_tok(&p, &t) || !kw(&t, "view"))
            return false;
        tname = "MVIEW";
    } else if (!strcmp(t.text, "foreign")) {
        if (!next_tok(&p, &t) || !kw(&t, "table"))
            return false;
        tname = "FOREIGN TABLE";
    } else {
        for (size_t i = 0; i < ARRAY_LEN(kinds) && !tname; i++)
            if (!strcmp(t.text, kinds[i].word)) {
                tname = kinds[i].type;
                on_table = kinds[i].on_table;
            }
    }
    if (!tname)
        return false;
    skip_words(&p, before_name);
    strbuf sb = STRBUF_INIT;
    if (!read_name(&p, &sb)) {
        strbuf_free(&sb);
        return false;
    }
    if (on_table) {
        /* "name ON table": the first ON after the name (triggers have BEFORE/AFTER ... in between). */
        bool found = false;
        while (!found && next_tok(&p, &t))
            found = kw(&t, "on");
        skip_words(&p, before_name);
        strbuf_append(&sb, " ON ");
        if (!found || !read_name(&p, &sb)) {
            strbuf_free(&sb);
            return false;
        }
    }
    *type = xstrdup(tname);
    *name = strbuf_detach(&sb);
    return true;
}
