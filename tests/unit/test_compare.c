/* compare data: the SQL pieces (normalised expressions, key ranges) and the reports. */
#include "testlib.h"

#include "compare/compare.h"
#include "compare/compare_sql.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void free_preds(char **p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i]);
    free(p);
}

TEST(compare_column_expressions_normalise_floats_and_numeric)
{
    char *e = compare_sql_column_expr("Price", "numeric", true);
    CHECK_STR_EQ("trim_scale(\"Price\")", e);
    free(e);
    e = compare_sql_column_expr("Price", "numeric", false);
    CHECK_STR_EQ("\"Price\"", e);
    free(e);
    e = compare_sql_column_expr("f", "float8", true);
    CHECK_STR_EQ("float8send(\"f\")", e);
    free(e);
    e = compare_sql_column_expr("a\"b", "text", true);
    CHECK_STR_EQ("\"a\"\"b\"", e);
    free(e);
    const char *ex[] = {"\"a\"", "\"b\""};
    e = compare_sql_row_text(ex, 2);
    CHECK_STR_EQ("ROW(\"a\", \"b\")::text", e);
    free(e);
    e = compare_sql_row_text(ex, 0);
    CHECK_STR_EQ("''", e);
    free(e);
    CHECK(compare_sql_splittable_type("int8"));
    CHECK(!compare_sql_splittable_type("numeric"));
}

TEST(compare_ranges_cover_every_value_without_overflow)
{
    char **p;
    size_t n = compare_sql_ranges("\"id\"", 1, 100, 4, &p);
    CHECK_INT_EQ(4, n);
    CHECK_STR_EQ("\"id\" < 26", p[0]);
    CHECK_STR_EQ("\"id\" >= 26 AND \"id\" < 51", p[1]);
    CHECK_STR_EQ("\"id\" >= 76", p[3]);
    free_preds(p, n);
    /* fewer values than ranges wanted */
    n = compare_sql_ranges("k", 5, 6, 10, &p);
    CHECK_INT_EQ(2, n);
    CHECK_STR_EQ("k < 6", p[0]);
    CHECK_STR_EQ("k >= 6", p[1]);
    free_preds(p, n);
    n = compare_sql_ranges("k", 7, 7, 8, &p);
    CHECK_INT_EQ(1, n);
    CHECK_STR_EQ("true", p[0]);
    free_preds(p, n);
    /* the whole bigint range: bounds stay inside it */
    n = compare_sql_ranges("k", INT64_MIN, INT64_MAX, 3, &p);
    CHECK_INT_EQ(3, n);
    CHECK_STR_EQ("k < -3074457345618258602", p[0]);
    CHECK_STR_EQ("k >= 3074457345618258604", p[2]);
    free_preds(p, n);
}

/* A MySQL source reads its ranges by these numbers: the same split as the predicates. */
TEST(compare_range_bounds_match_the_predicates)
{
    int64_t *b;
    size_t n = compare_sql_range_bounds(1, 100, 4, &b);
    CHECK_INT_EQ(4, n);
    CHECK_INT_EQ(26, b[0]);
    CHECK_INT_EQ(51, b[1]);
    CHECK_INT_EQ(76, b[2]);
    free(b);
    n = compare_sql_range_bounds(7, 7, 8, &b);
    CHECK_INT_EQ(1, n);
    free(b);
    n = compare_sql_range_bounds(INT64_MIN, INT64_MAX, 3, &b);
    CHECK_INT_EQ(3, n);
    CHECK(b[0] == -3074457345618258602LL && b[1] == 3074457345618258604LL);
    free(b);
}

TEST(compare_range_queries)
{
    char *q = compare_sql_range_query("ONLY \"s\".\"t\"", "true", NULL, false);
    CHECK_STR_EQ("SELECT count(*) FROM ONLY \"s\".\"t\" WHERE true", q);
    free(q);
    q = compare_sql_range_query("\"t\"", "k < 5", "ROW(k)::text", false);
    CHECK(strstr(q, "sum(('x' || substr(md5(ROW(k)::text), 1, 16))::bit(64)::bigint)") != NULL);
    free(q);
    q = compare_sql_range_query("\"t\"", "k < 5", "ROW(k)::text", true);
    CHECK(strstr(q, "sum(hashtextextended(ROW(k)::text, 0))") != NULL);
    free(q);
    q = compare_sql_rows_cursor("c", "\"t\"", "true", NULL, "ROW(a)::text");
    CHECK(strstr(q, "SELECT md5(ROW(a)::text) COLLATE \"C\" AS k") != NULL);
    free(q);
    q = compare_sql_session_settings(30);
    CHECK(strstr(q, "statement_timeout = '30s'") && strstr(q, "TimeZone = 'UTC'") &&
          strstr(q, "extra_float_digits = 3") && strstr(q, "default_transaction_read_only = on"));
    free(q);
}

/*
 * The sample of a numeric key sorts by the number, not by the text it selects: in text order
 * -10 < -2 and 10 < 9, and boundaries out of order make ranges that overlap (rows counted twice
 * on both sides). ORDER BY "k" would name the text output column "k".
 */
TEST(compare_sample_keys_sort_by_the_key_not_its_text)
{
    char *q = compare_sql_sample_keys("ONLY \"s\".\"t\"", "\"k\"", "\"k\"", false, 19.8, "^-?[0-9]+$");
    CHECK_STR_EQ("SELECT \"k\"::text, \"k\" FROM ONLY \"s\".\"t\" TABLESAMPLE BERNOULLI (19.800000) "
                 "WHERE \"k\"::text ~ '^-?[0-9]+$' ORDER BY 2",
                 q);
    free(q);
    q = compare_sql_sample_keys("\"t\"", "\"k\"", "(\"k\"::text COLLATE \"C\")", true, 250, NULL);
    CHECK_STR_EQ("SELECT \"k\"::text, (\"k\"::text COLLATE \"C\") FROM \"t\" TABLESAMPLE SYSTEM (100.000000) "
                 "ORDER BY 2",
                 q);
    free(q);
}

TEST(compare_reports_name_status_and_keys)
{
    compare_result r = {.npairs = 1, .ntables = 2, .point_vsn = -1};
    compare_table_result t[2] = {
        {.schema = xstrdup("public"), .name = xstrdup("a"), .source_rows = 3, .copy_rows = 3,
         .status = COMPARE_EQUAL, .detail = xstrdup("")},
        {.schema = xstrdup("Sales"), .name = xstrdup("B"), .source_rows = 2, .copy_rows = -1,
         .status = COMPARE_MISSING, .detail = xstrdup("missing on target")},
    };
    r.pairs[0] = (compare_pair_result){DB_TARGET, t};
    char *text = compare_render_text(&r, COMPARE_CHECKSUM);
    CHECK(strstr(text, "TABLE   | SOURCE ROWS | TARGET ROWS | STATUS  | DETAIL\n") != NULL);
    CHECK(strstr(text, "Sales.B |           2 |           - | MISSING | missing on target\n") != NULL);
    CHECK(strstr(text, "1 of 2 tables equal on target") != NULL);
    free(text);
    CHECK(!compare_result_all_equal(&r));
    cJSON *j = compare_render_json(&r, COMPARE_CHECKSUM);
    cJSON *tb = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "pairs"), 0), "tables"), 1);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(tb, "copy_rows")));
    CHECK_STR_EQ("MISSING", cJSON_GetObjectItem(tb, "status")->valuestring);
    cJSON_Delete(j);
    /* the result owns its tables */
    compare_table_result *own = xcalloc(2, sizeof *own);
    memcpy(own, t, sizeof t);
    r.pairs[0].tables = own;
    compare_result_free(&r);
}
