#include "source/mysql/mysql_ddl.h"

#include "db/pgconn.h"

#include <ctype.h>
#include <stdarg.h>
#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---- */

#define PG_MAX_NAME 63

/*
 * Whether PostgreSQL takes name unquoted where we write it: as a table, column, index and
 * constraint name, and as a column reference in an expression or a select list. The parser
 * decides (its keyword list is the one of the libpg_query release the build links).
 */
static bool pg_takes_bare(const char *name)
{
    if (!*name || strlen(name) > PG_MAX_NAME || !(islower((unsigned char)name[0]) || name[0] == '_'))
        return false;
    for (const char *p = name; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return false;
    char *probe = xasprintf("CREATE TABLE %1$s (%1$s int CHECK (%1$s > 0)); CREATE INDEX %1$s ON %1$s (%1$s); "
                            "SELECT %1$s, %1$s.%1$s FROM %1$s WHERE %1$s = 1 ORDER BY %1$s; SELECT %1$s()",
                            name);
    PgQueryParseResult r = pg_query_parse(probe);
    bool ok = r.error == NULL;
    pg_query_free_parse_result(r);
    free(probe);
    return ok;
}

/* Lower-case ASCII letters only: MySQL names are UTF-8 and PostgreSQL folds only ASCII. */
static char *lower_ascii(const char *s)
{
    char *l = xstrdup(s);
    for (char *p = l; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return l;
}

/* The name cut to PostgreSQL's 63 bytes on a UTF-8 character boundary. */
static char *truncate_name(const char *s)
{
    size_t n = strlen(s);
    if (n <= PG_MAX_NAME)
        return xstrdup(s);
    n = PG_MAX_NAME;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return xstrndup(s, n);
}

static char *quote_if_needed(const char *lowered)
{
    return pg_takes_bare(lowered) ? xstrdup(lowered) : pg_quote_ident(lowered);
}

char *mysql_ddl_name(const char *mysql_name)
{
    char *l = lower_ascii(mysql_name);
    char *t = truncate_name(l);
    char *q = quote_if_needed(t);
    free(l);
    free(t);
    return q;
}

/* ---- output helpers ---- */

typedef struct conv {
    const mysql_catalog *cat;
    const mysql_ddl_opts *o;
    mysql_ddl_result *r;
    strlist relnames; /* lower-cased unquoted names taken in the schema's relation namespace */
} conv;

static void add_issue(conv *cv, const char *type, const char *name, const char *suggestion, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void add_issue(conv *cv, const char *type, const char *name, const char *suggestion, const char *fmt, ...)
{
    mysql_ddl_result *r = cv->r;
    r->issues = xrealloc(r->issues, (r->nissues + 1) * sizeof *r->issues);
    mysql_ddl_issue *is = &r->issues[r->nissues++];
    va_list ap;
    va_start(ap, fmt);
    is->reason = xvasprintf(fmt, ap);
    va_end(ap);
    is->object_type = xstrdup(type);
    is->object_name = xstrdup(name);
    is->suggestion = xstrdup(suggestion ? suggestion : "");
}

static void emit(conv *cv, mysql_ddl_part part, char *stmt)
{
    strbuf_append(&cv->r->parts[part], stmt);
    strbuf_append(&cv->r->parts[part], ";\n\n");
    cv->r->counts[part]++;
    free(stmt);
}

/* schema.name (or name) of a relation whose target name is already decided (unquoted form). */
static char *qualified_raw(conv *cv, const char *raw)
{
    char *n = quote_if_needed(raw);
    if (!cv->o || !cv->o->target_schema)
        return n;
    char *s = mysql_ddl_name(cv->o->target_schema);
    char *q = xasprintf("%s.%s", s, n);
    free(s);
    free(n);
    return q;
}

/* The target's unquoted (lower-cased, truncated) form of a source name. */
static char *raw_name(const char *mysql_name)
{
    char *l = lower_ascii(mysql_name);
    char *t = truncate_name(l);
    free(l);
    return t;
}

char *mysql_ddl_raw_name(const char *mysql_name) { return raw_name(mysql_name); }

static char *qualified(conv *cv, const char *mysql_name)
{
    char *raw = raw_name(mysql_name);
    char *q = qualified_raw(cv, raw);
    free(raw);
    return q;
}

/* Take a name in the relation namespace: want, or want_1, want_2, ... (within 63 bytes). */
static char *claim_relname(conv *cv, const char *want)
{
    char *base = truncate_name(want);
    char *name = xstrdup(base);
    for (int i = 1; strlist_contains(&cv->relnames, name); i++) {
        char suffix[16];
        snprintf(suffix, sizeof suffix, "_%d", i);
        size_t keep = strlen(base);
        if (keep + strlen(suffix) > PG_MAX_NAME)
            keep = PG_MAX_NAME - strlen(suffix);
        while (keep > 0 && ((unsigned char)base[keep] & 0xC0) == 0x80)
            keep--;
        free(name);
        name = xasprintf("%.*s%s", (int)keep, base, suffix);
    }
    strlist_push(&cv->relnames, name);
    free(base);
    return name;
}

static void append_pg_literal(strbuf *sb, const char *s, size_t n)
{
    strbuf_append_char(sb, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'')
            strbuf_append_char(sb, '\'');
        strbuf_append_char(sb, s[i]);
    }
    strbuf_append_char(sb, '\'');
}

static char *pg_literal(const char *s)
{
    strbuf sb = STRBUF_INIT;
    append_pg_literal(&sb, s, strlen(s));
    return strbuf_detach(&sb);
}

/* ---- expressions: MySQL text (backticks, '...' with backslash escapes) to PostgreSQL ---- */

/* Functions that mean the same in both (for the expressions seen in checks and defaults). */
static bool same_function(const char *lname)
{
    static const char *const same[] = {"coalesce", "nullif", "abs",  "lower", "upper", "char_length",
                                       "round",    "floor",  "ceil", "greatest", "least", "sum",
                                       "count",    "min",    "max",  "avg",   "mod",   "sign",
                                       "sqrt",     "power",  "exp",  "ln"};
    for (size_t i = 0; i < ARRAY_LEN(same); i++)
        if (str_eq(lname, same[i]))
            return true;
    return false;
}

/* SQL words that may stand before '(' without being a function call. */
static bool keyword_before_paren(const char *lname)
{
    static const char *const kw[] = {"on",     "in",   "and",  "or",    "not",   "exists", "join",
                                     "using",  "from", "where", "select", "as",   "when",   "then",
                                     "else",   "is",   "like", "between", "over", "with",   "union",
                                     "all",    "any",  "some", "by",     "having", "case", "values",
                                     "distinct", "xor", "div", "limit", "end"};
    for (size_t i = 0; i < ARRAY_LEN(kw); i++)
        if (str_eq(lname, kw[i]))
            return true;
    return false;
}

typedef struct expr_out {
    char *sql;
    strlist unknown_functions; /* functions that may not exist or mean the same in PostgreSQL */
    bool mysql_operators;      /* ||, &&, <=>, "double-quoted strings" */
    bool division;             /* a '/', written as numeric division */
    bool arithmetic;           /* a '*' or '+' (integer overflow differs) */
    strlist names;             /* the words that may be columns, as the source names them */
} expr_out;

static void expr_out_free(expr_out *e)
{
    free(e->sql);
    strlist_free(&e->unknown_functions);
    strlist_free(&e->names);
}

/*
 * Translate an expression: `name` to the target's name (`db`.`t` of the source database to the
 * target schema, or unqualified), MySQL string literals (backslash escapes, "double quotes") to
 * PostgreSQL ones, ifnull() to coalesce(). Every other token is copied; function calls that are
 * not known to mean the same are listed for the caller to report.
 */
static void translate_expr(conv *cv, const char *in, expr_out *e)
{
    memset(e, 0, sizeof *e);
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "");
    const char *p = in;
    while (*p) {
        if (*p == '`') {
            strbuf name = STRBUF_INIT;
            strbuf_append(&name, "");
            p++;
            while (*p) {
                if (*p == '`' && p[1] == '`') {
                    strbuf_append_char(&name, '`');
                    p += 2;
                } else if (*p == '`') {
                    p++;
                    break;
                } else {
                    strbuf_append_char(&name, *p++);
                }
            }
            if (*p == '.' && cv->cat->database && str_eq(name.data, cv->cat->database)) {
                /* the source database as a qualifier: the target schema, or nothing */
                p++;
                if (cv->o && cv->o->target_schema) {
                    char *s = mysql_ddl_name(cv->o->target_schema);
                    strbuf_appendf(&sb, "%s.", s);
                    free(s);
                }
            } else {
                char *n = mysql_ddl_name(name.data);
                strbuf_append(&sb, n);
                free(n);
                strlist_push(&e->names, name.data);
            }
            strbuf_free(&name);
        } else if (*p == '\'' || *p == '"') {
            char qch = *p++;
            strbuf v = STRBUF_INIT;
            strbuf_append(&v, "");
            while (*p) {
                if (*p == qch && p[1] == qch) {
                    strbuf_append_char(&v, qch);
                    p += 2;
                } else if (*p == '\\' && p[1]) {
                    char c = p[1];
                    strbuf_append_char(&v, c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c);
                    p += 2;
                } else if (*p == qch) {
                    p++;
                    break;
                } else {
                    strbuf_append_char(&v, *p++);
                }
            }
            if (qch == '"')
                e->mysql_operators = true;
            append_pg_literal(&sb, v.data, v.len);
            strbuf_free(&v);
        } else if (isalpha((unsigned char)*p) || *p == '_') {
            const char *s = p;
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '$')
                p++;
            char *word = xstrndup(s, (size_t)(p - s));
            char *lw = lower_ascii(word);
            const char *q = p;
            while (*q == ' ')
                q++;
            if (*q == '(' && !keyword_before_paren(lw)) {
                if (str_eq(lw, "ifnull"))
                    strbuf_append(&sb, "coalesce");
                else {
                    strbuf_append(&sb, lw);
                    if (!same_function(lw) && !strlist_contains(&e->unknown_functions, lw))
                        strlist_push(&e->unknown_functions, lw);
                }
            } else {
                strbuf_append(&sb, word);
                strlist_push(&e->names, word);
            }
            free(word);
            free(lw);
        } else if ((p[0] == '|' && p[1] == '|') || (p[0] == '&' && p[1] == '&') ||
                   (p[0] == '<' && p[1] == '=' && p[2] == '>')) {
            e->mysql_operators = true;
            strbuf_append_char(&sb, *p++);
        } else if (*p == '/') {
            /*
             * MySQL's '/' is never integer division (7 / 2 is 3.5000); PostgreSQL
             * divides integers as integers. '* 1.0' binds to the whole left
             * operand ('*' and '/' share precedence, left to right), so the
             * division is numeric whatever the operands.
             */
            e->division = true;
            strbuf_append(&sb, sb.len && sb.data[sb.len - 1] == ' ' ? "* 1.0 /" : " * 1.0 /");
            p++;
        } else {
            if (*p == '*' || *p == '+')
                e->arithmetic = true;
            strbuf_append_char(&sb, *p++);
        }
    }
    e->sql = strbuf_detach(&sb);
}

/* Report what translate_expr could not vouch for. */
static void report_expr(conv *cv, const expr_out *e, const char *type, const char *name, const char *what)
{
    if (e->unknown_functions.count) {
        strbuf fl = STRBUF_INIT;
        for (size_t i = 0; i < e->unknown_functions.count; i++)
            strbuf_appendf(&fl, "%s%s()", i ? ", " : "", e->unknown_functions.items[i]);
        add_issue(cv, type, name, "check that each function exists in PostgreSQL with the same meaning, or rewrite it",
                  "%s calls MySQL functions copied as they are: %s", what, fl.data);
        strbuf_free(&fl);
    }
    if (e->mysql_operators)
        add_issue(cv, type, name, "rewrite with PostgreSQL operators (|| is concatenation there, && and <=> do not exist)",
                  "%s uses MySQL-only syntax (||, &&, <=> or a double-quoted string)", what);
    if (e->division)
        add_issue(cv, type, name,
                  "check the values' scale, or rewrite the expression with an explicit cast or round()",
                  "%s divides with '/': MySQL's division is decimal, rounded to div_precision_increment "
                  "digits (4 by default); it is written as numeric division (x * 1.0 / y), whose scale "
                  "can differ",
                  what);
}

/* ---- types ---- */

static bool is_int_type(const char *t)
{
    return str_eq(t, "tinyint") || str_eq(t, "smallint") || str_eq(t, "mediumint") || str_eq(t, "int") ||
           str_eq(t, "integer") || str_eq(t, "bigint");
}

static bool is_text_type(const char *t)
{
    return str_eq(t, "char") || str_eq(t, "varchar") || str_eq(t, "tinytext") || str_eq(t, "text") ||
           str_eq(t, "mediumtext") || str_eq(t, "longtext");
}

static bool is_binary_type(const char *t)
{
    return str_eq(t, "binary") || str_eq(t, "varbinary") || str_eq(t, "tinyblob") || str_eq(t, "blob") ||
           str_eq(t, "mediumblob") || str_eq(t, "longblob");
}

static bool is_spatial_type(const char *t)
{
    return str_eq(t, "geometry") || str_eq(t, "point") || str_eq(t, "linestring") || str_eq(t, "polygon") ||
           str_eq(t, "multipoint") || str_eq(t, "multilinestring") || str_eq(t, "multipolygon") ||
           str_eq(t, "geometrycollection") || str_eq(t, "geomcollection");
}

/* Integer types: the PostgreSQL type and the source's range when the target's is wider. */
static const char *int_target(const mysql_column *c, const char **lo, const char **hi)
{
    const char *t = c->data_type;
    bool u = c->is_unsigned;
    *lo = *hi = NULL;
    if (str_eq(t, "tinyint")) {
        *lo = u ? "0" : "-128";
        *hi = u ? "255" : "127";
        return "smallint";
    }
    if (str_eq(t, "smallint")) {
        if (!u)
            return "smallint";
        *lo = "0";
        *hi = "65535";
        return "integer";
    }
    if (str_eq(t, "mediumint")) {
        *lo = u ? "0" : "-8388608";
        *hi = u ? "16777215" : "8388607";
        return "integer";
    }
    if (str_eq(t, "int") || str_eq(t, "integer")) {
        if (!u)
            return "integer";
        *lo = "0";
        *hi = "4294967295";
        return "bigint";
    }
    /* bigint */
    if (!u)
        return "bigint";
    *lo = "0";
    if (c->auto_increment)
        return "bigint"; /* an identity needs an integer type: values above 2^63-1 are reported */
    *hi = "18446744073709551615";
    return "numeric(20)";
}

char *mysql_ddl_column_type(const mysql_column *c)
{
    const char *t = c->data_type;
    if (is_int_type(t)) {
        const char *lo, *hi;
        return xstrdup(int_target(c, &lo, &hi));
    }
    if (str_eq(t, "decimal") || str_eq(t, "numeric") || str_eq(t, "fixed") || str_eq(t, "dec")) {
        int p = c->precision > 0 ? c->precision : 10, s = c->scale >= 0 ? c->scale : 0;
        return s ? xasprintf("numeric(%d,%d)", p, s) : xasprintf("numeric(%d)", p);
    }
    if (str_eq(t, "float"))
        return xstrdup(c->precision > 24 ? "double precision" : "real");
    if (str_eq(t, "double") || str_eq(t, "real"))
        return xstrdup("double precision");
    if (str_eq(t, "bit"))
        return xasprintf("bit(%lld)", c->length > 0 ? c->length : 1);
    if (str_eq(t, "char"))
        return xasprintf("char(%lld)", c->length > 0 ? c->length : 1);
    if (str_eq(t, "varchar"))
        return xasprintf("varchar(%lld)", c->length > 0 ? c->length : 1);
    if (is_text_type(t))
        return xstrdup("text");
    if (is_binary_type(t))
        return xstrdup("bytea");
    if (str_eq(t, "date"))
        return xstrdup("date");
    if (str_eq(t, "time"))
        return xasprintf("time(%d)", c->fsp);
    if (str_eq(t, "datetime"))
        return xasprintf("timestamp(%d)", c->fsp);
    if (str_eq(t, "timestamp"))
        return xasprintf("timestamptz(%d)", c->fsp);
    if (str_eq(t, "year"))
        return xstrdup("smallint");
    if (str_eq(t, "json"))
        return xstrdup("json");
    if (str_eq(t, "enum")) {
        size_t w = 1;
        for (size_t i = 0; i < c->values.count; i++) {
            size_t chars = 0;
            for (const char *p = c->values.items[i]; *p; p++)
                chars += ((unsigned char)*p & 0xC0) != 0x80;
            if (chars > w)
                w = chars;
        }
        return xasprintf("varchar(%zu)", w);
    }
    if (str_eq(t, "set"))
        return xstrdup("text");
    if (str_eq(t, "uuid"))
        return xstrdup("uuid");
    if (str_eq(t, "inet4") || str_eq(t, "inet6"))
        return xstrdup("inet");
    if (is_spatial_type(t))
        return xstrdup("bytea");
    return xstrdup("text");
}

static bool known_type(const char *t)
{
    static const char *const other[] = {"decimal", "numeric", "fixed", "dec",  "float", "double", "real",
                                        "bit",     "date",    "time",  "datetime", "timestamp", "year",
                                        "json",    "enum",    "set",   "uuid", "inet4", "inet6"};
    if (is_int_type(t) || is_text_type(t) || is_binary_type(t) || is_spatial_type(t))
        return true;
    for (size_t i = 0; i < ARRAY_LEN(other); i++)
        if (str_eq(t, other[i]))
            return true;
    return false;
}

/* The column's CHECK (its source's range or members), or NULL. name is the quoted target name. */
static char *column_check(const mysql_column *c, const char *name)
{
    const char *t = c->data_type;
    if (is_int_type(t)) {
        const char *lo, *hi;
        int_target(c, &lo, &hi);
        if (lo && hi)
            return xasprintf("CHECK (%s BETWEEN %s AND %s)", name, lo, hi);
        if (lo)
            return xasprintf("CHECK (%s >= %s)", name, lo);
        return NULL;
    }
    if ((str_eq(t, "decimal") || str_eq(t, "numeric") || str_eq(t, "float") || str_eq(t, "double") ||
         str_eq(t, "real")) &&
        c->is_unsigned)
        return xasprintf("CHECK (%s >= 0)", name);
    if (str_eq(t, "year"))
        return xasprintf("CHECK (%s = 0 OR %s BETWEEN 1901 AND 2155)", name, name);
    if (str_eq(t, "enum") || str_eq(t, "set")) {
        strbuf sb = STRBUF_INIT;
        if (str_eq(t, "enum"))
            strbuf_appendf(&sb, "CHECK (%s IN (", name);
        else
            strbuf_appendf(&sb, "CHECK (%s = '' OR string_to_array(%s, ',') <@ ARRAY[", name, name);
        for (size_t i = 0; i < c->values.count; i++) {
            if (i)
                strbuf_append(&sb, ", ");
            append_pg_literal(&sb, c->values.items[i], strlen(c->values.items[i]));
        }
        strbuf_append(&sb, str_eq(t, "enum") ? "))" : "]::text[])");
        return strbuf_detach(&sb);
    }
    return NULL;
}

static bool is_zero_date(const char *v)
{
    return str_starts_with(v, "0000-00-00") || strstr(v, "-00") != NULL;
}

/* A bit literal in PostgreSQL's form: b'101' or a number, as B'...' of the column's width. */
static char *bit_literal(const char *v, long long width)
{
    if ((v[0] == 'b' || v[0] == 'B') && v[1] == '\'') {
        /* MariaDB prints b'101' for b'0101': pad to the column's width */
        size_t n = strcspn(v + 2, "'");
        size_t pad = width > 0 && (size_t)width > n ? (size_t)width - n : 0;
        return xasprintf("B'%.*s%.*s'", (int)pad, "0000000000000000000000000000000000000000000000000000000000000000",
                         (int)n, v + 2);
    }
    unsigned long long n = strtoull(v, NULL, 10);
    if (width <= 0 || width > 64)
        width = 64;
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "B'");
    for (long long i = width - 1; i >= 0; i--)
        strbuf_append_char(&sb, (n >> i) & 1 ? '1' : '0');
    strbuf_append_char(&sb, '\'');
    return strbuf_detach(&sb);
}

static bool is_now(const char *lower)
{
    return str_starts_with(lower, "current_timestamp") || str_starts_with(lower, "now(") ||
           str_starts_with(lower, "localtimestamp") || str_starts_with(lower, "localtime");
}

/* The DEFAULT clause's expression for a column, or NULL (with an issue when one was dropped). */
static char *column_default(conv *cv, const mysql_table *tbl, const mysql_column *c)
{
    const char *t = c->data_type;
    char *where = xasprintf("%s.%s", tbl->name, c->name);
    char *out = NULL;
    if (c->default_kind == MYSQL_DEFAULT_LITERAL) {
        const char *v = c->default_text;
        if ((str_eq(t, "date") || str_eq(t, "datetime") || str_eq(t, "timestamp")) && is_zero_date(v)) {
            add_issue(cv, "COLUMN", where, "give the column a real default (or none) and fix zero dates in the data",
                      "default '%s' is a zero date, which PostgreSQL has no value for: the default is left out", v);
        } else if (str_eq(t, "bit")) {
            out = bit_literal(v, c->length);
        } else if (is_binary_type(t)) {
            strbuf sb = STRBUF_INIT;
            strbuf_append(&sb, "'\\x");
            for (const unsigned char *p = (const unsigned char *)v; *p; p++)
                strbuf_appendf(&sb, "%02x", *p);
            strbuf_append(&sb, "'::bytea");
            out = strbuf_detach(&sb);
        } else if ((is_int_type(t) || str_eq(t, "decimal") || str_eq(t, "numeric") || str_eq(t, "float") ||
                    str_eq(t, "double") || str_eq(t, "year")) &&
                   v[0] && strspn(v, "0123456789.-+eE") == strlen(v)) {
            out = xstrdup(v);
        } else {
            out = pg_literal(v);
        }
    } else if (c->default_kind == MYSQL_DEFAULT_EXPR) {
        char *l = lower_ascii(c->default_text);
        if (is_now(l) && (str_eq(t, "timestamp") || str_eq(t, "datetime") || str_eq(t, "time"))) {
            out = xstrdup(str_eq(t, "timestamp") ? "CURRENT_TIMESTAMP"
                          : str_eq(t, "time")    ? "LOCALTIME"
                                                 : "LOCALTIMESTAMP");
        } else if (str_starts_with(l, "curdate(") || str_starts_with(l, "current_date")) {
            out = xstrdup("CURRENT_DATE");
        } else if (str_starts_with(l, "curtime(") || str_starts_with(l, "current_time")) {
            out = xstrdup("LOCALTIME");
        } else if (str_eq(l, "uuid()")) {
            out = xstrdup(str_eq(t, "uuid") ? "gen_random_uuid()" : "gen_random_uuid()::text");
        } else {
            expr_out e;
            translate_expr(cv, c->default_text, &e);
            report_expr(cv, &e, "COLUMN", where, "the default expression");
            out = xasprintf("(%s)", e.sql);
            expr_out_free(&e);
        }
        free(l);
    }
    free(where);
    return out;
}

/* ---- tables ---- */

static bool ci_collation(const mysql_column *c)
{
    return c->collation && str_ends_with(c->collation, "_ci");
}

/* Column parts of an index as "a, b DESC" (prefixes per rule below); NULL when it has none to index. */
static char *index_columns(conv *cv, const mysql_table *t, const mysql_index *ix, bool as_constraint,
                           const char *where)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < ix->nparts; i++) {
        const mysql_index_part *p = &ix->parts[i];
        if (i)
            strbuf_append(&sb, ", ");
        if (!p->column) {
            expr_out e;
            translate_expr(cv, p->expression ? p->expression : "", &e);
            report_expr(cv, &e, "INDEX", where, "the functional index part");
            strbuf_appendf(&sb, "(%s)", e.sql);
            expr_out_free(&e);
        } else {
            char *n = mysql_ddl_name(p->column);
            const mysql_column *col = mysql_table_column(t, p->column);
            bool text_like = col && (is_text_type(col->data_type) || is_binary_type(col->data_type));
            bool long_type = col && !str_eq(col->data_type, "char") && !str_eq(col->data_type, "varchar") &&
                             !str_eq(col->data_type, "binary") && !str_eq(col->data_type, "varbinary");
            if (p->prefix > 0 && text_like && (ix->unique || long_type) && !as_constraint) {
                /* the prefix is the key (unique) or the column is too long to index whole */
                if (is_binary_type(col->data_type))
                    strbuf_appendf(&sb, "substring(%s FROM 1 FOR %d)", n, p->prefix);
                else
                    strbuf_appendf(&sb, "left(%s, %d)", n, p->prefix);
            } else {
                strbuf_append(&sb, n);
            }
            free(n);
        }
        if (p->descending)
            strbuf_append(&sb, " DESC");
    }
    return strbuf_detach(&sb);
}

static bool index_has_prefix(const mysql_index *ix)
{
    for (size_t i = 0; i < ix->nparts; i++)
        if (ix->parts[i].prefix > 0 || !ix->parts[i].column)
            return true;
    return false;
}

static bool index_has_desc(const mysql_index *ix)
{
    for (size_t i = 0; i < ix->nparts; i++)
        if (ix->parts[i].descending)
            return true;
    return false;
}

/* Bytes of the PostgreSQL integer a MySQL integer column becomes; 16 for other numbers, 0 otherwise. */
static int target_int_width(const mysql_column *c)
{
    if (is_int_type(c->data_type)) {
        const char *lo, *hi;
        const char *pg = int_target(c, &lo, &hi);
        return str_eq(pg, "smallint") ? 2 : str_eq(pg, "integer") ? 4 : 8;
    }
    const char *t = c->data_type;
    return str_eq(t, "decimal") || str_eq(t, "numeric") || str_eq(t, "double") || str_eq(t, "float") ||
                   str_eq(t, "real")
               ? 16
               : 0;
}

/*
 * A column of gen's expression that becomes an integer narrower than gen's
 * type: MySQL computes integer arithmetic in 64 bits, PostgreSQL in the
 * operands' type, so a value gen holds on the source can overflow there.
 */
static const mysql_column *narrow_int_operand(const mysql_table *t, const mysql_column *gen, const strlist *names)
{
    int w = target_int_width(gen);
    const mysql_column *narrow = NULL;
    for (size_t i = 0; w > 0 && i < names->count; i++) {
        const mysql_column *c = mysql_table_column(t, names->items[i]);
        if (!c || c == gen)
            continue;
        if (target_int_width(c) == 16)
            return NULL; /* a decimal or floating operand: PostgreSQL computes in that type too */
        if (!narrow && is_int_type(c->data_type) && target_int_width(c) < w)
            narrow = c;
    }
    return narrow;
}

static void convert_table(conv *cv, const mysql_table *t)
{
    char *tq = qualified(cv, t->name);
    char *traw = raw_name(t->name);
    strbuf sb = STRBUF_INIT;
    strbuf_appendf(&sb, "CREATE TABLE %s (\n", tq);
    for (size_t i = 0; i < t->ncolumns; i++) {
        const mysql_column *c = &t->columns[i];
        char *where = xasprintf("%s.%s", t->name, c->name);
        char *n = mysql_ddl_name(c->name);
        char *type = mysql_ddl_column_type(c);
        strbuf_appendf(&sb, "    %s %s", n, type);
        if (c->generation_expr) {
            expr_out e;
            translate_expr(cv, c->generation_expr, &e);
            strbuf_appendf(&sb, " GENERATED ALWAYS AS (%s) STORED", e.sql);
            report_expr(cv, &e, "COLUMN", where, "the generated column's expression");
            const mysql_column *narrow = e.arithmetic ? narrow_int_operand(t, c, &e.names) : NULL;
            const char *narrow_lo, *narrow_hi;
            const char *narrow_type = narrow ? int_target(narrow, &narrow_lo, &narrow_hi) : NULL;
            if (narrow)
                add_issue(cv, "COLUMN", where, "cast the column to bigint in the expression",
                          "MySQL computes integer arithmetic in BIGINT, PostgreSQL in the operands' "
                          "type: with column %s (%s, %s on the target), a result past that type's "
                          "range fails with 'out of range' on the target",
                          narrow->name, narrow->column_type, narrow_type);
            expr_out_free(&e);
            if (!c->generated_stored)
                add_issue(cv, "COLUMN", where, "none needed unless the storage matters",
                          "virtual generated column becomes a STORED generated column (PostgreSQL 15 has no virtual ones)");
        } else if (c->auto_increment && is_int_type(c->data_type)) {
            if (t->auto_increment > 1)
                strbuf_appendf(&sb, " GENERATED BY DEFAULT AS IDENTITY (START WITH %llu)", t->auto_increment);
            else
                strbuf_append(&sb, " GENERATED BY DEFAULT AS IDENTITY");
            if (str_eq(c->data_type, "bigint") && c->is_unsigned)
                add_issue(cv, "COLUMN", where, "none while values stay below 9223372036854775808",
                          "BIGINT UNSIGNED AUTO_INCREMENT becomes a bigint identity: values above 2^63-1 do not fit");
        } else {
            if (c->auto_increment)
                add_issue(cv, "COLUMN", where, "use an integer column for the identity",
                          "AUTO_INCREMENT on a %s column is not converted", c->data_type);
            char *d = column_default(cv, t, c);
            if (d)
                strbuf_appendf(&sb, " DEFAULT %s", d);
            free(d);
        }
        if (!c->nullable && !c->auto_increment)
            strbuf_append(&sb, " NOT NULL");
        char *ck = column_check(c, n);
        if (ck)
            strbuf_appendf(&sb, " %s", ck);
        free(ck);
        strbuf_append(&sb, i + 1 < t->ncolumns ? ",\n" : "\n");
        if (c->on_update_current_timestamp)
            add_issue(cv, "COLUMN", where,
                      "create a BEFORE UPDATE trigger that sets the column to CURRENT_TIMESTAMP",
                      "ON UPDATE CURRENT_TIMESTAMP has no PostgreSQL column equivalent: it needs a trigger");
        if (is_spatial_type(c->data_type))
            add_issue(cv, "COLUMN", where, "use PostGIS (geometry) and convert the column by hand",
                      "spatial type %s is not supported: the column is created as bytea", c->data_type);
        else if (!known_type(c->data_type))
            add_issue(cv, "COLUMN", where, "choose a PostgreSQL type and convert the column by hand",
                      "type %s is not known to the converter: the column is created as text", c->column_type);
        free(where);
        free(n);
        free(type);
    }
    strbuf_append(&sb, ")");
    emit(cv, MYSQL_DDL_TABLE, strbuf_detach(&sb));

    if (t->partitioned)
        add_issue(cv, "TABLE", t->name, "declare the partitioning on the target by hand if it is wanted",
                  "partitioning is not converted: the table is created without partitions");

    /* keys: the primary key and unique keys as constraints; prefixes and DESC make indexes */
    bool has_pk = false;
    for (size_t i = 0; i < t->nindexes; i++) {
        const mysql_index *ix = &t->indexes[i];
        char *where = xasprintf("%s.%s", t->name, ix->name);
        if (ix->fulltext || ix->spatial) {
            add_issue(cv, "INDEX", where,
                      ix->fulltext ? "use a GIN index on to_tsvector() and rewrite MATCH ... AGAINST queries"
                                   : "use PostGIS and a GiST index",
                      "%s index is not converted", ix->fulltext ? "FULLTEXT" : "SPATIAL");
            free(where);
            continue;
        }
        for (size_t k = 0; k < ix->nparts && ix->unique; k++) {
            const mysql_column *col = ix->parts[k].column ? mysql_table_column(t, ix->parts[k].column) : NULL;
            if (col && ci_collation(col) && (is_text_type(col->data_type) || str_eq(col->data_type, "enum"))) {
                add_issue(cv, "INDEX", where,
                          "keep the data's case unique by hand (a unique index on lower(column)) if the application relies on it",
                          "column %s has the case-insensitive collation %s: MySQL's unique key ignores case, "
                          "PostgreSQL's does not",
                          col->name, col->collation);
                break;
            }
        }
        if (ix->primary)
            has_pk = true;
        free(where);
    }
    for (size_t i = 0; i < t->nindexes; i++) {
        const mysql_index *ix = &t->indexes[i];
        if (ix->fulltext || ix->spatial)
            continue;
        char *where = xasprintf("%s.%s", t->name, ix->name);
        if (ix->primary) {
            char *want = xasprintf("%s_pkey", traw);
            char *pk = claim_relname(cv, want);
            char *pkq = quote_if_needed(pk);
            char *cols = index_columns(cv, t, ix, true, where);
            if (index_has_prefix(ix))
                add_issue(cv, "INDEX", where, "check that the whole values are unique",
                          "the primary key has column prefixes: PostgreSQL's key is on the whole columns");
            emit(cv, MYSQL_DDL_TABLE, xasprintf("ALTER TABLE ONLY %s ADD CONSTRAINT %s PRIMARY KEY (%s)", tq, pkq, cols));
            free(want);
            free(pk);
            free(pkq);
            free(cols);
        } else {
            char *want = xasprintf("%s_%s", traw, ix->name);
            char *lw = lower_ascii(want);
            char *iname = claim_relname(cv, lw);
            char *iq = quote_if_needed(iname);
            if (ix->unique && !index_has_prefix(ix) && !index_has_desc(ix)) {
                char *cols = index_columns(cv, t, ix, true, where);
                emit(cv, MYSQL_DDL_TABLE, xasprintf("ALTER TABLE ONLY %s ADD CONSTRAINT %s UNIQUE (%s)", tq, iq, cols));
                free(cols);
            } else {
                char *cols = index_columns(cv, t, ix, false, where);
                for (size_t k = 0; k < ix->nparts; k++) {
                    const mysql_index_part *p = &ix->parts[k];
                    const mysql_column *col = p->column ? mysql_table_column(t, p->column) : NULL;
                    if (p->prefix > 0 && col && (ix->unique || (!str_eq(col->data_type, "char") &&
                                                                 !str_eq(col->data_type, "varchar") &&
                                                                 !str_eq(col->data_type, "binary") &&
                                                                 !str_eq(col->data_type, "varbinary")))) {
                        add_issue(cv, "INDEX", where,
                                  "queries must use the same expression to use the index (or index the whole column)",
                                  "prefix index on %s(%d) becomes an index on an expression", p->column, p->prefix);
                        break;
                    }
                }
                emit(cv, MYSQL_DDL_INDEX,
                     xasprintf("CREATE %sINDEX %s ON %s (%s)", ix->unique ? "UNIQUE " : "", iq, tq, cols));
                free(cols);
            }
            free(want);
            free(lw);
            free(iname);
            free(iq);
        }
        free(where);
    }
    if (!has_pk)
        add_issue(cv, "TABLE", t->name, "add a primary key before a live migration",
                  "the table has no primary key: live migration (changes from the binlog) needs one");

    for (size_t i = 0; i < t->nchecks; i++) {
        const mysql_check *ck = &t->checks[i];
        char *where = xasprintf("%s.%s", t->name, ck->name);
        expr_out e;
        translate_expr(cv, ck->clause, &e);
        report_expr(cv, &e, "CHECK", where, "the check constraint");
        char *n = mysql_ddl_name(ck->name);
        emit(cv, MYSQL_DDL_TABLE, xasprintf("ALTER TABLE ONLY %s ADD CONSTRAINT %s CHECK (%s)", tq, n, e.sql));
        free(n);
        expr_out_free(&e);
        free(where);
    }

    if (t->comment && *t->comment) {
        char *lit = pg_literal(t->comment);
        emit(cv, MYSQL_DDL_COMMENT, xasprintf("COMMENT ON TABLE %s IS %s", tq, lit));
        free(lit);
    }
    for (size_t i = 0; i < t->ncolumns; i++) {
        const mysql_column *c = &t->columns[i];
        if (!c->comment || !*c->comment)
            continue;
        char *n = mysql_ddl_name(c->name);
        char *lit = pg_literal(c->comment);
        emit(cv, MYSQL_DDL_COMMENT, xasprintf("COMMENT ON COLUMN %s.%s IS %s", tq, n, lit));
        free(n);
        free(lit);
    }
    free(tq);
    free(traw);
}

/* Whether cols (as a set) are the primary key or a unique key of t. */
static bool is_key_of(const mysql_table *t, const strlist *cols)
{
    for (size_t i = 0; i < t->nindexes; i++) {
        const mysql_index *ix = &t->indexes[i];
        if (!ix->unique || ix->fulltext || ix->spatial || ix->nparts != cols->count || index_has_prefix(ix))
            continue;
        size_t found = 0;
        for (size_t k = 0; k < ix->nparts; k++)
            for (size_t j = 0; j < cols->count; j++)
                if (str_case_eq(ix->parts[k].column, cols->items[j])) {
                    found++;
                    break;
                }
        if (found == cols->count)
            return true;
    }
    return false;
}

static void append_name_list(strbuf *sb, const strlist *names)
{
    for (size_t i = 0; i < names->count; i++) {
        char *n = mysql_ddl_name(names->items[i]);
        strbuf_appendf(sb, "%s%s", i ? ", " : "", n);
        free(n);
    }
}

static void convert_fkeys(conv *cv, const mysql_table *t)
{
    char *tq = qualified(cv, t->name);
    for (size_t i = 0; i < t->nfkeys; i++) {
        const mysql_fkey *fk = &t->fkeys[i];
        char *where = xasprintf("%s.%s", t->name, fk->name);
        if (fk->ref_database && cv->cat->database && !str_eq(fk->ref_database, cv->cat->database)) {
            add_issue(cv, "FOREIGN KEY", where, "migrate the other database into the same target and add the key by hand",
                      "references %s.%s in another database: not converted", fk->ref_database, fk->ref_table);
            free(where);
            continue;
        }
        const mysql_table *ref = mysql_catalog_table(cv->cat, fk->ref_table);
        if (ref && !is_key_of(ref, &fk->ref_columns))
            add_issue(cv, "FOREIGN KEY", where, "add a unique key on the referenced columns",
                      "references columns of %s that are not its primary key or a unique key (InnoDB allows it, "
                      "PostgreSQL does not)",
                      fk->ref_table);
        char *n = mysql_ddl_name(fk->name);
        char *rq = qualified(cv, fk->ref_table);
        strbuf sb = STRBUF_INIT;
        strbuf_appendf(&sb, "ALTER TABLE ONLY %s ADD CONSTRAINT %s FOREIGN KEY (", tq, n);
        append_name_list(&sb, &fk->columns);
        strbuf_appendf(&sb, ") REFERENCES %s (", rq);
        append_name_list(&sb, &fk->ref_columns);
        strbuf_appendf(&sb, ") ON UPDATE %s ON DELETE %s", fk->on_update, fk->on_delete);
        emit(cv, MYSQL_DDL_FKEY, strbuf_detach(&sb));
        free(n);
        free(rq);
        free(where);
    }
    free(tq);
}

/* ---- views ---- */

/* Whether definition names view v (as `v`). */
static bool mentions(const char *definition, const char *name)
{
    char *q = xasprintf("`%s`", name);
    bool m = strstr(definition, q) != NULL;
    free(q);
    return m;
}

static void convert_views(conv *cv)
{
    size_t n = cv->cat->nviews;
    bool *done = xcalloc(n ? n : 1, sizeof *done);
    /* dependencies first: a view is emitted once every other view it names is */
    for (size_t emitted = 0; emitted < n;) {
        bool progress = false;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            const mysql_view *v = &cv->cat->views[i];
            bool ready = true;
            for (size_t k = 0; k < n && ready; k++)
                if (k != i && !done[k] && mentions(v->definition, cv->cat->views[k].name))
                    ready = false;
            if (!ready)
                continue;
            expr_out e;
            translate_expr(cv, v->definition, &e);
            report_expr(cv, &e, "VIEW", v->name, "the view");
            char *vq = qualified(cv, v->name);
            const char *opt = str_eq(v->check_option, "LOCAL")      ? " WITH LOCAL CHECK OPTION"
                              : str_eq(v->check_option, "CASCADED") ? " WITH CASCADED CHECK OPTION"
                                                                    : "";
            emit(cv, MYSQL_DDL_VIEW, xasprintf("CREATE VIEW %s AS\n%s%s", vq, e.sql, opt));
            free(vq);
            expr_out_free(&e);
            done[i] = true;
            emitted++;
            progress = true;
        }
        if (!progress) { /* a cycle cannot happen in MySQL; emit the rest in name order */
            for (size_t i = 0; i < n; i++)
                done[i] = false;
            for (size_t i = 0; i < n; i++)
                if (!done[i])
                    add_issue(cv, "VIEW", cv->cat->views[i].name, "create the view by hand", "view dependencies could not be ordered");
            break;
        }
    }
    free(done);
}

/* ---- the rest ---- */

static void report_others(conv *cv)
{
    for (size_t i = 0; i < cv->cat->nothers; i++) {
        const mysql_object *o = &cv->cat->others[i];
        const char *suggestion =
            str_eq(o->kind, "TRIGGER")     ? "rewrite it as a PL/pgSQL trigger function and trigger"
            : str_eq(o->kind, "EVENT")     ? "schedule the job outside the database (cron, pg_cron)"
            : str_eq(o->kind, "SEQUENCE")  ? "create the sequence by hand with its current value"
            : str_eq(o->kind, "SYSTEM VERSIONED TABLE") ? "migrate the current rows as a plain table; history is not kept"
                                           : "rewrite it in PL/pgSQL";
        char *name = o->table ? xasprintf("%s.%s", o->table, o->name) : xstrdup(o->name);
        add_issue(cv, o->kind, name, suggestion, "%s %s is not converted automatically%s%s%s",
                  o->kind, o->name, o->detail ? " (" : "", o->detail ? o->detail : "", o->detail ? ")" : "");
        free(name);
    }
}

void mysql_ddl_convert(const mysql_catalog *cat, const mysql_ddl_opts *o, mysql_ddl_result *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < MYSQL_DDL_PART_COUNT; i++)
        strbuf_append(&r->parts[i], "");
    conv cv = {cat, o, r, STRLIST_INIT};
    /* tables and views keep their names; indexes, keys and sequences give way */
    for (size_t i = 0; i < cat->ntables; i++) {
        char *raw = raw_name(cat->tables[i].name);
        if (strlist_contains(&cv.relnames, raw))
            add_issue(&cv, "TABLE", cat->tables[i].name, "rename one of the tables",
                      "two tables have the same lower-cased name %s", raw);
        strlist_push_owned(&cv.relnames, raw);
    }
    for (size_t i = 0; i < cat->nviews; i++)
        strlist_push_owned(&cv.relnames, raw_name(cat->views[i].name));
    for (size_t i = 0; i < cat->ntables; i++) {
        const mysql_table *t = &cat->tables[i];
        for (size_t k = 0; k < t->ncolumns; k++)
            if (t->columns[k].auto_increment) {
                char *traw = raw_name(t->name), *craw = raw_name(t->columns[k].name);
                char *seq = xasprintf("%s_%s_seq", traw, craw);
                char *cut = truncate_name(seq);
                strlist_push_owned(&cv.relnames, cut);
                free(traw);
                free(craw);
                free(seq);
            }
    }
    for (size_t i = 0; i < cat->ntables; i++)
        convert_table(&cv, &cat->tables[i]);
    for (size_t i = 0; i < cat->ntables; i++)
        convert_fkeys(&cv, &cat->tables[i]);
    convert_views(&cv);
    report_others(&cv);
    strlist_free(&cv.relnames);
}

void mysql_ddl_result_free(mysql_ddl_result *r)
{
    if (!r)
        return;
    for (int i = 0; i < MYSQL_DDL_PART_COUNT; i++)
        strbuf_free(&r->parts[i]);
    for (size_t i = 0; i < r->nissues; i++) {
        free(r->issues[i].object_type);
        free(r->issues[i].object_name);
        free(r->issues[i].reason);
        free(r->issues[i].suggestion);
    }
    free(r->issues);
    memset(r, 0, sizeof *r);
}
