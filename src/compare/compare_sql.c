#include "compare/compare_sql.h"

#include "core/util.h"
#include "db/pgconn.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

char *compare_sql_session_settings(int statement_timeout_s)
{
    /*
     * search_path pg_catalog: reg* values print the same on both sides;
     * lock_timeout: a DDL waiting on a table must not hang the comparison.
     */
    return xasprintf("SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; "
                     "SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; "
                     "SET bytea_output = 'hex'; SET lc_monetary = 'C'; "
                     "SET search_path = pg_catalog; SET statement_timeout = '%ds'; "
                     "SET lock_timeout = '60s'; SET default_transaction_read_only = on",
                     statement_timeout_s > 0 ? statement_timeout_s : 0);
}

char *compare_sql_column_expr(const char *column, const char *base_type, bool trim_scale)
{
    char *q = pg_quote_ident(column);
    char *out;
    if (strcmp(base_type, "float8") == 0)
        out = xasprintf("float8send(%s)", q);
    else if (strcmp(base_type, "float4") == 0)
        out = xasprintf("float4send(%s)", q);
    else if (trim_scale && strcmp(base_type, "numeric") == 0)
        out = xasprintf("trim_scale(%s)", q);
    else
        return q;
    free(q);
    return out;
}

char *compare_sql_row_text(const char *const *exprs, size_t n)
{
    if (n == 0)
        return xstrdup("''");
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "ROW(");
    for (size_t i = 0; i < n; i++) {
        strbuf_append(&sb, i ? ", " : "");
        strbuf_append(&sb, exprs[i]);
    }
    strbuf_append(&sb, ")::text");
    return strbuf_detach(&sb);
}

bool compare_sql_splittable_type(const char *t)
{
    return strcmp(t, "int2") == 0 || strcmp(t, "int4") == 0 || strcmp(t, "int8") == 0;
}

size_t compare_sql_range_bounds(int64_t lo, int64_t hi, size_t want, int64_t **bounds)
{
    uint64_t span = hi >= lo ? (uint64_t)hi - (uint64_t)lo : 0;
    size_t n = want ? want : 1;
    uint64_t step = span / n + 1;
    /* every bound lo + i*step stays within [lo, hi]: no overflow near the type's ends */
    n = (size_t)(span / step + 1);
    int64_t *b = xcalloc(n, sizeof *b);
    for (size_t i = 1; i < n; i++)
        b[i - 1] = (int64_t)((uint64_t)lo + (uint64_t)i * step);
    *bounds = b;
    return n;
}

size_t compare_sql_ranges(const char *column, int64_t lo, int64_t hi, size_t want, char ***preds)
{
    int64_t *b;
    size_t n = compare_sql_range_bounds(lo, hi, want, &b);
    char **p = xcalloc(n, sizeof *p);
    *preds = p;
    if (n == 1) {
        p[0] = xstrdup("true");
        free(b);
        return 1;
    }
    p[0] = xasprintf("%s < %" PRId64, column, b[0]);
    for (size_t i = 1; i + 1 < n; i++)
        p[i] = xasprintf("%s >= %" PRId64 " AND %s < %" PRId64, column, b[i - 1], column, b[i]);
    p[n - 1] = xasprintf("%s >= %" PRId64, column, b[n - 2]);
    free(b);
    return n;
}

char *compare_sql_row_hash_text(const char *row_text, bool fast_hash)
{
    if (fast_hash)
        return xasprintf("hashtextextended(%s, 0)", row_text);
    return xasprintf("('x' || substr(md5(%s), 1, 16))::bit(64)::bigint", row_text);
}

char *compare_sql_sum_query(const char *from, const char *pred, const char *row_hash)
{
    if (!row_hash)
        return xasprintf("SELECT count(*) FROM %s WHERE %s", from, pred);
    return xasprintf("SELECT count(*), coalesce(sum(%s), 0) FROM %s WHERE %s", row_hash, from, pred);
}

char *compare_sql_range_query(const char *from, const char *pred, const char *row_text, bool fast_hash)
{
    char *h = row_text ? compare_sql_row_hash_text(row_text, fast_hash) : NULL;
    char *q = compare_sql_sum_query(from, pred, h);
    free(h);
    return q;
}

char *compare_sql_rows_cursor_digest(const char *cursor, const char *from, const char *pred,
                                     const char *key_text, const char *row_digest)
{
    if (!key_text)
        return xasprintf("DECLARE %s NO SCROLL CURSOR FOR SELECT %s COLLATE \"C\" AS k, "
                         "NULL::text FROM %s WHERE %s ORDER BY 1",
                         cursor, row_digest, from, pred);
    return xasprintf("DECLARE %s NO SCROLL CURSOR FOR SELECT (%s) COLLATE \"C\" AS k, %s "
                     "FROM %s WHERE %s ORDER BY 1",
                     cursor, key_text, row_digest, from, pred);
}

char *compare_sql_rows_cursor(const char *cursor, const char *from, const char *pred,
                              const char *key_text, const char *row_text)
{
    char *digest = xasprintf("md5(%s)", row_text);
    char *q = compare_sql_rows_cursor_digest(cursor, from, pred, key_text, digest);
    free(digest);
    return q;
}

/*
 * Types whose extended hash tells apart exactly the values their text form
 * (under the session settings) tells apart. Left out on purpose: interval
 * ('1 day' and '24 hours' hash alike), bpchar (trailing blanks), money, json
 * and xml (no hash), enums (hashed by OID, which differs between databases),
 * composite and range types, and float arrays (-0 and 0 hash alike): their
 * text form is hashed. numeric hashes 1.0 and 1.00 alike, as trim_scale made
 * the text checksum do; jsonb hashes alike what jsonb equality equates
 * (numbers inside by value: {"a": 1.0} and {"a": 1.00}): docs/DECISIONS.md.
 */
static const char *const native_types[] = {"int2", "int4", "int8", "oid", "bool", "date", "time",
                                           "timestamp", "timestamptz", "uuid", "bytea", "text",
                                           "varchar", "numeric", "jsonb", NULL};
/* Array elements: the same, without numeric and jsonb (their text form inside an array is not trimmed). */
static const char *const native_elems[] = {"int2", "int4", "int8", "bool", "date", "timestamp",
                                           "timestamptz", "uuid", "bytea", "text", "varchar", NULL};

static bool in_list(const char *const *list, const char *t)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], t) == 0)
            return true;
    return false;
}

bool compare_sql_native_type(const char *catalog_type, const char *elem)
{
    if (!catalog_type[0])
        return false;
    if (strcmp(catalog_type, "float4") == 0 || strcmp(catalog_type, "float8") == 0)
        return true;
    if (catalog_type[0] == '_')
        return elem[0] && in_list(native_elems, elem) && strcmp(catalog_type + 1, elem) == 0;
    return in_list(native_types, catalog_type);
}

char *compare_sql_column_native(const char *column, const char *catalog_type)
{
    char *q = pg_quote_ident(column);
    char *out;
    if (strcmp(catalog_type, "float8") == 0 || strcmp(catalog_type, "float4") == 0) {
        out = xasprintf("%ssend(%s)", catalog_type, q);
    } else {
        /* a domain hashes as its base type; text by its bytes whatever the column's collation */
        bool text = strcmp(catalog_type, "text") == 0 || strcmp(catalog_type, "varchar") == 0 ||
                    strcmp(catalog_type, "_text") == 0 || strcmp(catalog_type, "_varchar") == 0;
        out = xasprintf("%s::pg_catalog.%s%s", q, catalog_type, text ? " COLLATE \"C\"" : "");
    }
    free(q);
    return out;
}

char *compare_sql_row_hash_native(const char *const *native, size_t nn, const char *const *text, size_t nt)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "hash_record_extended(ROW(");
    for (size_t i = 0; i < nn; i++) {
        strbuf_append(&sb, i ? ", " : "");
        strbuf_append(&sb, native[i]);
    }
    if (nt || !nn) {
        char *rt = compare_sql_row_text(text, nt);
        strbuf_appendf(&sb, "%s(%s)::text COLLATE \"C\"", nn ? ", " : "", rt);
        free(rt);
    }
    strbuf_append(&sb, "), 0)");
    return strbuf_detach(&sb);
}

static void append_tuple(strbuf *sb, const char *const *v, size_t n, bool literal)
{
    if (n > 1)
        strbuf_append_char(sb, '(');
    for (size_t i = 0; i < n; i++) {
        strbuf_append(sb, i ? ", " : "");
        if (literal) {
            char *l = pg_quote_literal(v[i]);
            strbuf_append(sb, l);
            free(l);
        } else {
            strbuf_append(sb, v[i]);
        }
    }
    if (n > 1)
        strbuf_append_char(sb, ')');
}

size_t compare_sql_key_ranges(const char *const *cols, size_t nkeys, const char *const *bounds,
                              size_t nbounds, char ***preds)
{
    size_t n = nbounds + 1;
    char **p = xcalloc(n, sizeof *p);
    *preds = p;
    if (!nbounds) {
        p[0] = xstrdup("true");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        strbuf sb = STRBUF_INIT;
        if (i > 0) { /* >= the bound below */
            append_tuple(&sb, cols, nkeys, false);
            strbuf_append(&sb, " >= ");
            append_tuple(&sb, bounds + (i - 1) * nkeys, nkeys, true);
        }
        if (i < nbounds) { /* < the bound above */
            strbuf_append(&sb, i > 0 ? " AND " : "");
            append_tuple(&sb, cols, nkeys, false);
            strbuf_append(&sb, " < ");
            append_tuple(&sb, bounds + i * nkeys, nkeys, true);
        }
        p[i] = strbuf_detach(&sb);
    }
    return n;
}

char *compare_sql_sample_keys(const char *from, const char *kq, const char *order, bool blocks, double pct,
                              const char *form)
{
    if (pct > 100)
        pct = 100;
    if (pct < 0)
        pct = 0;
    long micro = (long)(pct * 1e6);
    strbuf sb = STRBUF_INIT;
    strbuf_appendf(&sb, "SELECT %s::text, %s FROM %s TABLESAMPLE %s (%ld.%06ld)", kq, order, from,
                   blocks ? "SYSTEM" : "BERNOULLI", micro / 1000000, micro % 1000000);
    if (form) {
        char *lit = pg_quote_literal(form);
        strbuf_appendf(&sb, " WHERE %s::text ~ %s", kq, lit);
        free(lit);
    }
    strbuf_append(&sb, " ORDER BY 2");
    return strbuf_detach(&sb);
}
