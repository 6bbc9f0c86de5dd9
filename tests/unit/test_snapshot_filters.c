/* Table name patterns of --table-list / --exclude-table-list, data file naming, --target-endpoints. */
#include "testlib.h"

#include "core/util.h"
#include "snapshot/source_tables.h"
#include "snapshot/table_list.h"
#include "db/yb_nodes.h"

#include <stdio.h>
#include <stdlib.h>

static const table_ref db[] = {
    {"public", "customers"}, {"public", "Order"}, {"public", "order"},
    {"Sales", "select"},     {"Sales", "a,b"},    {"sales2", "x"},
    {"public", "star*"},     {"public", "star1"}, {"public", "back\\slash"},
    {"public", "arr[1]"},    {"public", "q?"},    {"日本", "表"},
};
#define NDB (sizeof db / sizeof db[0])

/* Selected table names ("schema.name;...") for include/exclude lists, or "ERR: msg". */
static char *selected(const char *inc, const char *exc)
{
    table_patterns i = {0}, e = {0};
    char *err = NULL;
    const char *hint = NULL;
    bool keep[NDB];
    strbuf sb = STRBUF_INIT;
    if (!table_patterns_parse(inc, &i, &err) || !table_patterns_parse(exc, &e, &err) ||
        !table_filter_select(db, NDB, NULL, &i, &e, keep, &err, &hint)) {
        strbuf_appendf(&sb, "ERR: %s", err);
        if (hint)
            strbuf_appendf(&sb, " HINT: %s", hint);
    } else {
        for (size_t k = 0; k < NDB; k++)
            if (keep[k])
                strbuf_appendf(&sb, "%s.%s;", db[k].schema, db[k].name);
    }
    free(err);
    table_patterns_free(&i);
    table_patterns_free(&e);
    return strbuf_detach(&sb);
}

#define CHECK_SEL(inc, exc, want)                                                                  \
    do {                                                                                           \
        char *got_ = selected(inc, exc);                                                           \
        bool same_ = strcmp(got_, want) == 0;                                                      \
        if (!same_)                                                                                \
            test_fail(__FILE__, __LINE__, "selected(%s, %s) = \"%s\", want \"%s\"", #inc, #exc,    \
                      got_, want);                                                                 \
        free(got_);                                                                                \
        if (!same_)                                                                                \
            return;                                                                                \
    } while (0)

TEST(snapshot_filter_quoting_and_case)
{
    CHECK_SEL(NULL, "\"star*\",\"back\\slash\",\"arr[1]\",\"q?\",日本.*",
              "public.customers;public.Order;public.order;Sales.select;Sales.a,b;sales2.x;");
    CHECK_SEL("\"Order\"", NULL, "public.Order;");
    CHECK_SEL("ORDER", NULL, "public.Order;public.order;");
    CHECK_SEL("\"Sales\".\"a,b\"", NULL, "Sales.a,b;");
    CHECK_SEL(" customers , \"order\" ", NULL, "public.customers;public.order;");
}

TEST(snapshot_filter_wildcards_and_exclusions)
{
    CHECK_SEL("sales.*", NULL, "Sales.select;Sales.a,b;");
    CHECK_SEL("\"Sales\".*", NULL, "Sales.select;Sales.a,b;");
    CHECK_SEL("sales?.*", NULL, "sales2.x;");
    CHECK_SEL("custom?rs,*.x", NULL, "public.customers;sales2.x;");
    CHECK_SEL(NULL, "public.*", "Sales.select;Sales.a,b;sales2.x;日本.表;");
    CHECK_SEL("public.*", "\"order\",\"star*\",star1,*\\*,*[*,q*", "public.customers;public.Order;");
    CHECK_SEL("nomatch*", NULL, "");
}

/*
 * A quoted part keeps its case; `*` and `?` in it are still wildcards (upstream's
 * "*Case*"), while `[` and `\\` are characters of the name.
 */
TEST(snapshot_filter_quoted_name_keeps_case)
{
    CHECK_SEL("\"star*\"", NULL, "public.star*;public.star1;");
    CHECK_SEL("public.\"sta?1\"", NULL, "public.star1;");
    CHECK_SEL(NULL, "\"star*\",\"q?\",Sales.*,sales2.*,\"日本\".*",
              "public.customers;public.Order;public.order;public.back\\slash;public.arr[1];");
    CHECK_SEL("\"back\\slash\"", NULL, "public.back\\slash;");
    CHECK_SEL("\"arr[1]\"", NULL, "public.arr[1];");
    CHECK_SEL("\"q?\"", NULL, "public.q?;");
    CHECK_SEL("\"Sale*\".select", NULL, "Sales.select;");
    CHECK_SEL("\"sale*\".select", NULL, "");
    CHECK_SEL("\"*rder\"", NULL, "public.Order;public.order;");
    CHECK_SEL("\"O*\"", NULL, "public.Order;");
}

/* Unquoted: `*` and `?` are the wildcards; `[` and `\\` stand for themselves. */
TEST(snapshot_filter_unquoted_brackets_and_backslash_are_literal)
{
    CHECK_SEL("arr[1]", NULL, "public.arr[1];");
    CHECK_SEL("ARR[?]", NULL, "public.arr[1];");
    CHECK_SEL("back\\slash", NULL, "public.back\\slash;");
    CHECK_SEL("arr[*", NULL, "public.arr[1];");
    CHECK_SEL("??????????", NULL, "public.back\\slash;");
    CHECK_SEL("日本.?", NULL, "日本.表;");
    CHECK_SEL("s*r*", NULL, "public.star*;public.star1;");
    CHECK_SEL("*r", NULL, "public.Order;public.order;");
}

TEST(snapshot_filter_errors_name_the_table)
{
    CHECK_SEL("customers,nosuch", NULL,
              "ERR: table 'nosuch' in --table-list does not exist HINT: names are schema.table; quote "
              "case-sensitive names: \"Name\"");
    char *got = selected(NULL, "\"ORDER\"");
    CHECK(str_starts_with(got, "ERR: table '\"ORDER\"' in --exclude-table-list does not exist"));
    free(got);
    got = selected("\"unterminated", NULL);
    CHECK(str_starts_with(got, "ERR: bad table name"));
    free(got);
    got = selected("a.b.c", NULL);
    CHECK(str_starts_with(got, "ERR: bad table name 'a.b.c'"));
    free(got);
}

TEST(snapshot_filter_file_form)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/list.txt", dir);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("# a comment\n\n  customers  \r\n\"Sales\".select\n", f);
    fclose(f);
    table_patterns p = {0};
    char *err = NULL;
    CHECK(table_patterns_parse_file(path, &p, &err));
    CHECK_INT_EQ(p.count, 2);
    CHECK_STR_EQ(p.items[0].name, "customers");
    CHECK(p.items[0].schema == NULL);
    CHECK_STR_EQ(p.items[1].schema, "Sales");
    CHECK(p.items[1].schema_quoted && !p.items[1].name_quoted);
    table_patterns_free(&p);
    free(path);
    path = xasprintf("%s/missing.txt", dir);
    CHECK(!table_patterns_parse_file(path, &p, &err));
    CHECK(err && strstr(err, "missing.txt"));
    free(err);
    free(path);
    free(dir);
}

TEST(snapshot_file_names_are_unambiguous)
{
    char *a = src_table_file_base("public", "Order");
    char *b = src_table_file_base("Sales", "select");
    char *c = src_table_file_base("a.b", "c");
    char *d = src_table_file_base("a", "b.c");
    char *e = src_table_file_base("public", "x/../y%");
    CHECK_STR_EQ(a, "Order");
    CHECK_STR_EQ(b, "Sales.select");
    CHECK_STR_EQ(c, "a%2Eb.c");
    CHECK_STR_EQ(d, "a.b%2Ec");
    CHECK_STR_EQ(e, "x%2F%2E%2E%2Fy%25");
    free(a), free(b), free(c), free(d), free(e);
}

/* Is s[0..n) whole UTF-8 characters (no character cut)? */
static bool whole_utf8(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (i + len > n)
            return false;
        i += len;
    }
    return true;
}

TEST(snapshot_file_names_stay_short)
{
    char dots[64], dots2[64], wide[64 * 3 + 1];
    memset(dots, '.', 63), dots[63] = '\0';
    memcpy(dots2, dots, 64), dots2[62] = 'x';
    wide[0] = '\0';
    for (int i = 0; i < 64; i++)
        strcat(wide, "表");
    char *a = src_table_file_base(dots, dots);
    char *b = src_table_file_base(dots, dots2);
    char *a2 = src_table_file_base(dots, dots);
    char *w = src_table_file_base(wide, wide);
    char *shortish = src_table_file_base("s", dots); /* 191 bytes: kept whole */
    CHECK(strlen(a) <= 200 && strlen(b) <= 200 && strlen(w) <= 200);
    CHECK_STR_EQ(a, a2);
    CHECK(strcmp(a, b) != 0);
    const char *tilde = strrchr(a, '~');
    CHECK(tilde && strlen(tilde) == 17);
    CHECK(tilde[-3] == '%'); /* the cut ends after a whole %2E escape */
    tilde = strrchr(w, '~');
    CHECK(tilde && strlen(tilde) == 17 && whole_utf8(w, (size_t)(tilde - w)));
    CHECK(strchr(shortish, '~') == NULL && strlen(shortish) == 191);
    free(a), free(b), free(a2), free(w), free(shortish);
}

TEST(snapshot_target_endpoints_parse)
{
    yb_nodes n;
    CHECK(yb_nodes_parse("h1:5433, h2 ,10.0.0.3:6000", 5433, &n));
    CHECK_INT_EQ(n.count, 3);
    CHECK_STR_EQ(n.items[1].host, "h2");
    CHECK_INT_EQ(n.items[1].port, 5433);
    CHECK_INT_EQ(n.items[2].port, 6000);
    yb_nodes_free(&n);
    CHECK(!yb_nodes_parse("h1:notaport", 5433, &n));
    CHECK(!yb_nodes_parse(":5433", 5433, &n));
}

/* A name that is no table but a partition is refused naming its root; wildcards select among tables only. */
TEST(snapshot_filter_partition_named)
{
    static const table_ref parts[] = {{"public", "parted_us"}, {"Sales", "select_2024"}};
    static const table_ref roots[] = {{"public", "parted"}, {"Sales", "select"}};
    struct {
        const char *inc, *exc, *want;
    } cases[] = {
        {"parted_us", NULL,
         "'parted_us' in --table-list is parted_us, a partition of parted: a partition is exported with its "
         "partitioned table, never alone"},
        {NULL, "\"Sales\".select_2024",
         "'\"Sales\".select_2024' in --exclude-table-list is Sales.select_2024, a partition of Sales.select: a "
         "partition is exported with its partitioned table, never alone"},
        {"parted_*", "select_20*", NULL},   /* wildcards select among tables only */
        /* no such name at all, partition or table: the usual error */
        {"customers", "PARTED_US2", "table 'PARTED_US2' in --exclude-table-list does not exist"},
    };
    const table_partitions partitions = {parts, roots, 2};
    bool keep[NDB];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        table_patterns i = {0}, e = {0};
        char *err = NULL;
        const char *hint = NULL;
        CHECK(table_patterns_parse(cases[k].inc, &i, &err) && table_patterns_parse(cases[k].exc, &e, &err));
        bool ok = table_filter_select(db, NDB, &partitions, &i, &e, keep, &err, &hint);
        if (cases[k].want) {
            CHECK(!ok);
            CHECK_STR_EQ(cases[k].want, err);
            CHECK(hint != NULL);
        } else {
            CHECK(ok);
            CHECK(err == NULL);
        }
        free(err);
        table_patterns_free(&i);
        table_patterns_free(&e);
    }
}
