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

size_t compare_sql_ranges(const char *column, int64_t lo, int64_t hi, size_t want, char ***preds)
{
    uint64_t span = hi >= lo ? (uint64_t)hi - (uint64_t)lo : 0;
    size_t n = want ? want : 1;
    uint64_t step = span / n + 1;
    /* every bound lo + i*step stays within [lo, hi]: no overflow near the type's ends */
    n = (size_t)(span / step + 1);
    char **p = xcalloc(n, sizeof *p);
    *preds = p;
    if (n == 1) {
        p[0] = xstrdup("true");
        return 1;
    }
    int64_t prev = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t bound = (int64_t)((uint64_t)lo + (uint64_t)i * step);
        if (i == 1)
            p[0] = xasprintf("%s < %" PRId64, column, bound);
        else
            p[i - 1] = xasprintf("%s >= %" PRId64 " AND %s < %" PRId64, column, prev, column, bound);
        prev = bound;
    }
    p[n - 1] = xasprintf("%s >= %" PRId64, column, prev);
    return n;
}

char *compare_sql_range_query(const char *from, const char *pred, const char *row_text, bool fast_hash)
{
    if (!row_text)
        return xasprintf("SELECT count(*) FROM %s WHERE %s", from, pred);
    if (fast_hash)
        return xasprintf("SELECT count(*), coalesce(sum(hashtextextended(%s, 0)), 0) FROM %s WHERE %s",
                         row_text, from, pred);
    return xasprintf("SELECT count(*), coalesce(sum(('x' || substr(md5(%s), 1, 16))::bit(64)::bigint), 0) "
                     "FROM %s WHERE %s",
                     row_text, from, pred);
}

char *compare_sql_rows_cursor(const char *cursor, const char *from, const char *pred,
                              const char *key_text, const char *row_text)
{
    if (!key_text)
        return xasprintf("DECLARE %s NO SCROLL CURSOR FOR SELECT md5(%s) COLLATE \"C\" AS k, "
                         "NULL::text FROM %s WHERE %s ORDER BY 1",
                         cursor, row_text, from, pred);
    return xasprintf("DECLARE %s NO SCROLL CURSOR FOR SELECT (%s) COLLATE \"C\" AS k, md5(%s) "
                     "FROM %s WHERE %s ORDER BY 1",
                     cursor, key_text, row_text, from, pred);
}
