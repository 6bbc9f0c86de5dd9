/* source/mysql/mysql_ddl: golden DDL per MySQL type and per object kind, expected SQL inline. */
#include "testlib.h"

#include "core/util.h"
#include "schema/schema_split.h"
#include "source/mysql/mysql_catalog.h"
#include "source/mysql/mysql_ddl.h"

#include <stdlib.h>

/* Whether some issue has this type and name and its reason contains want. */
static bool has_issue(const mysql_ddl_result *r, const char *type, const char *name, const char *want)
{
    for (size_t i = 0; i < r->nissues; i++)
        if (str_eq(r->issues[i].object_type, type) && str_eq(r->issues[i].object_name, name) &&
            strstr(r->issues[i].reason, want))
            return true;
    return false;
}

static void print_issues(const mysql_ddl_result *r)
{
    for (size_t i = 0; i < r->nissues; i++)
        printf("#   issue: %s %s: %s\n", r->issues[i].object_type, r->issues[i].object_name, r->issues[i].reason);
}

TEST(mysql_ddl_names)
{
    struct {
        const char *in, *want;
    } cases[] = {
        {"orders", "orders"},          {"Orders", "orders"},           {"order", "\"order\""},
        {"Mixed Case", "\"mixed case\""}, {"user", "\"user\""},        {"name", "name"},
        {"int", "\"int\""},            {"timestamp", "\"timestamp\""}, {"select", "\"select\""},
        {"left", "\"left\""},          {"a\"b", "\"a\"\"b\""},         {"1st", "\"1st\""},
        {"_x9", "_x9"},                {"caf\xC3\xA9", "\"caf\xC3\xA9\""}, {"Ab$c", "\"ab$c\""},
        {"current_schema", "\"current_schema\""},
        /* 64 bytes (MySQL's limit) cut to PostgreSQL's 63 */
        {"a123456789012345678901234567890123456789012345678901234567890123",
         "a12345678901234567890123456789012345678901234567890123456789012"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *got = mysql_ddl_name(cases[i].in);
        bool same = str_eq(got, cases[i].want);
        if (!same)
            test_fail(__FILE__, __LINE__, "name %s: got %s, want %s", cases[i].in, got, cases[i].want);
        free(got);
        if (!same)
            return;
    }
}

/* One table "t" with one column "c" of column_type: the CREATE TABLE line of c. */
static char *one_column(const char *column_type, bool nullable, mysql_ddl_result *r)
{
    mysql_catalog cat = {0};
    cat.database = xstrdup("shop");
    mysql_table *t = mysql_catalog_add_table(&cat, "t");
    mysql_column *c = mysql_table_add_column(t, "c", column_type);
    c->nullable = nullable;
    mysql_ddl_convert(&cat, NULL, r);
    mysql_catalog_free(&cat);
    const char *s = r->parts[MYSQL_DDL_TABLE].data;
    const char *b = strstr(s, "\n    "), *e = b ? strstr(b + 1, "\n") : NULL;
    return b && e ? xstrndup(b + 5, (size_t)(e - b - 5)) : xstrdup(s);
}

TEST(mysql_ddl_type_per_family)
{
    struct {
        const char *type, *want;
    } cases[] = {
        /* integers: widened when unsigned, the source's range kept by a CHECK when the target's is wider */
        {"tinyint(1)", "c smallint CHECK (c BETWEEN -128 AND 127)"},
        {"tinyint(3) unsigned", "c smallint CHECK (c BETWEEN 0 AND 255)"},
        {"smallint(6)", "c smallint"},
        {"smallint(5) unsigned", "c integer CHECK (c BETWEEN 0 AND 65535)"},
        {"mediumint(9)", "c integer CHECK (c BETWEEN -8388608 AND 8388607)"},
        {"mediumint(8) unsigned", "c integer CHECK (c BETWEEN 0 AND 16777215)"},
        {"int(11)", "c integer"},
        {"int", "c integer"},
        {"int(10) unsigned", "c bigint CHECK (c BETWEEN 0 AND 4294967295)"},
        {"int(5) unsigned zerofill", "c bigint CHECK (c BETWEEN 0 AND 4294967295)"},
        {"bigint(20)", "c bigint"},
        {"bigint(20) unsigned", "c numeric(20) CHECK (c BETWEEN 0 AND 18446744073709551615)"},
        /* exact and approximate numbers */
        {"decimal(10,2)", "c numeric(10,2)"},
        {"decimal(20,0)", "c numeric(20)"},
        {"decimal(5,2) unsigned", "c numeric(5,2) CHECK (c >= 0)"},
        {"float", "c real"},
        {"float(12,4)", "c real"},
        {"double", "c double precision"},
        {"double(10,3) unsigned", "c double precision CHECK (c >= 0)"},
        /* bits */
        {"bit(1)", "c bit(1)"},
        {"bit(12)", "c bit(12)"},
        /* characters: lengths are characters on both sides */
        {"char(3)", "c char(3)"},
        {"varchar(255)", "c varchar(255)"},
        {"tinytext", "c text"},
        {"text", "c text"},
        {"mediumtext", "c text"},
        {"longtext", "c text"},
        /* bytes */
        {"binary(16)", "c bytea"},
        {"varbinary(64)", "c bytea"},
        {"tinyblob", "c bytea"},
        {"blob", "c bytea"},
        {"mediumblob", "c bytea"},
        {"longblob", "c bytea"},
        /* dates and times, fractional seconds kept */
        {"date", "c date"},
        {"time", "c time(0)"},
        {"time(3)", "c time(3)"},
        {"datetime", "c timestamp(0)"},
        {"datetime(6)", "c timestamp(6)"},
        {"timestamp", "c timestamptz(0)"},
        {"timestamp(3)", "c timestamptz(3)"},
        {"year(4)", "c smallint CHECK (c = 0 OR c BETWEEN 1901 AND 2155)"},
        {"year", "c smallint CHECK (c = 0 OR c BETWEEN 1901 AND 2155)"},
        /* documents, enumerations */
        {"json", "c json"},
        {"enum('free','pro','it''s')", "c varchar(4) CHECK (c IN ('free', 'pro', 'it''s'))"},
        {"enum('a,b','\xC3\xA9t\xC3\xA9')", "c varchar(3) CHECK (c IN ('a,b', '\xC3\xA9t\xC3\xA9'))"},
        {"set('a','b','c')", "c text CHECK (c = '' OR string_to_array(c, ',') <@ ARRAY['a', 'b', 'c']::text[])"},
        /* MariaDB's own */
        {"uuid", "c uuid"},
        {"inet6", "c inet"},
        {"inet4", "c inet"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        mysql_ddl_result r;
        char *line = one_column(cases[i].type, true, &r);
        bool same = str_eq(line, cases[i].want);
        if (!same)
            test_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s\"", cases[i].type, line, cases[i].want);
        free(line);
        mysql_ddl_result_free(&r);
        if (!same)
            return;
    }
}

TEST(mysql_ddl_unsupported_types_reported)
{
    mysql_ddl_result r;
    char *line = one_column("geometry", true, &r);
    CHECK_STR_EQ(line, "c bytea");
    bool geo = has_issue(&r, "COLUMN", "t.c", "spatial type geometry is not supported");
    free(line);
    mysql_ddl_result_free(&r);
    CHECK(geo);
    line = one_column("vector(3)", true, &r);
    CHECK_STR_EQ(line, "c text");
    bool other = has_issue(&r, "COLUMN", "t.c", "type vector(3) is not known");
    free(line);
    mysql_ddl_result_free(&r);
    CHECK(other);
}

/* A table as the catalog reader fills one: keys, defaults, identity, generated column, comments. */
static void build_shop(mysql_catalog *cat)
{
    memset(cat, 0, sizeof *cat);
    cat->database = xstrdup("shop");
    cat->is_mariadb = true;
    mysql_table *t = mysql_catalog_add_table(cat, "Customers");
    t->auto_increment = 4;
    free(t->comment);
    t->comment = xstrdup("who buys");
    mysql_column *c = mysql_table_add_column(t, "ID", "int(10) unsigned");
    c->nullable = false;
    c->auto_increment = true;
    c = mysql_table_add_column(t, "email", "varchar(255)");
    c->nullable = false;
    c->collation = xstrdup("utf8mb4_general_ci");
    c = mysql_table_add_column(t, "name", "varchar(100)");
    c->nullable = false;
    mysql_column_set_default(c, MYSQL_DEFAULT_LITERAL, "it's");
    free(c->comment);
    c->comment = xstrdup("display name");
    c = mysql_table_add_column(t, "active", "tinyint(1)");
    c->nullable = false;
    mysql_column_set_default(c, MYSQL_DEFAULT_LITERAL, "1");
    c = mysql_table_add_column(t, "flags", "bit(4)");
    mysql_column_set_default(c, MYSQL_DEFAULT_LITERAL, "b'101'"); /* MariaDB drops leading zeros */
    c = mysql_table_add_column(t, "created_at", "timestamp(3)");
    c->nullable = false;
    mysql_column_set_default(c, MYSQL_DEFAULT_EXPR, "current_timestamp(3)");
    c = mysql_table_add_column(t, "updated_at", "datetime");
    mysql_column_set_default(c, MYSQL_DEFAULT_NULL, NULL);
    c->on_update_current_timestamp = true;
    c = mysql_table_add_column(t, "born", "date");
    mysql_column_set_default(c, MYSQL_DEFAULT_LITERAL, "0000-00-00");
    c = mysql_table_add_column(t, "token", "varbinary(4)");
    mysql_column_set_default(c, MYSQL_DEFAULT_LITERAL, "ab");
    mysql_index *ix = mysql_table_add_index(t, "PRIMARY", true);
    mysql_index_add_part(ix, "ID", 0, false);
    ix = mysql_table_add_index(t, "uq_email", true);
    mysql_index_add_part(ix, "email", 0, false);
    ix = mysql_table_add_index(t, "idx_name", false);
    mysql_index_add_part(ix, "name", 20, false);

    t = mysql_catalog_add_table(cat, "orders");
    t->auto_increment = 1002;
    c = mysql_table_add_column(t, "id", "bigint(20) unsigned");
    c->nullable = false;
    c->auto_increment = true;
    c = mysql_table_add_column(t, "customer_id", "int(10) unsigned");
    c->nullable = false;
    c = mysql_table_add_column(t, "total", "decimal(12,2)");
    c->nullable = false;
    mysql_column_set_default(c, MYSQL_DEFAULT_LITERAL, "0.00");
    c = mysql_table_add_column(t, "qty", "smallint(6)");
    c->nullable = false;
    c = mysql_table_add_column(t, "amount", "decimal(14,2)");
    c->generation_expr = xstrdup("`total` * `qty`");
    c->generated_stored = true;
    c = mysql_table_add_column(t, "label", "varchar(40)");
    c->generation_expr = xstrdup("concat(`qty`,' x')");
    c->generated_stored = false;
    c = mysql_table_add_column(t, "note", "text");
    ix = mysql_table_add_index(t, "PRIMARY", true);
    mysql_index_add_part(ix, "id", 0, false);
    ix = mysql_table_add_index(t, "idx_name", false); /* the same name as Customers' on purpose */
    mysql_index_add_part(ix, "customer_id", 0, false);
    mysql_index_add_part(ix, "id", 0, true);
    ix = mysql_table_add_index(t, "note_prefix", false);
    mysql_index_add_part(ix, "note", 10, false);
    ix = mysql_table_add_index(t, "uq_note", true);
    mysql_index_add_part(ix, "note", 8, false);
    ix = mysql_table_add_index(t, "ft_note", false);
    ix->fulltext = true;
    mysql_index_add_part(ix, "note", 0, false);
    mysql_fkey *fk = mysql_table_add_fkey(t, "fk_orders_customer", "Customers");
    strlist_push(&fk->columns, "customer_id");
    strlist_push(&fk->ref_columns, "ID");
    free(fk->on_delete);
    fk->on_delete = xstrdup("CASCADE");
    fk->ref_database = xstrdup("shop");
    fk = mysql_table_add_fkey(t, "fk_orders_name", "Customers");
    strlist_push(&fk->columns, "note");
    strlist_push(&fk->ref_columns, "name");
    fk = mysql_table_add_fkey(t, "fk_elsewhere", "things");
    strlist_push(&fk->columns, "qty");
    strlist_push(&fk->ref_columns, "id");
    fk->ref_database = xstrdup("other");
    mysql_table_add_check(t, "chk_qty", "`qty` > 0 and `note` <> 'n/a'");
    mysql_table_add_check(t, "chk_odd", "`qty` <=> 1 or if(`qty` > 5, 1, 0) = 1");

    /* index names that collide once prefixed with their table's */
    t = mysql_catalog_add_table(cat, "a_b");
    c = mysql_table_add_column(t, "c", "int(11)");
    ix = mysql_table_add_index(t, "c", false);
    mysql_index_add_part(ix, "c", 0, false);
    t = mysql_catalog_add_table(cat, "a");
    c = mysql_table_add_column(t, "b_c", "int(11)");
    ix = mysql_table_add_index(t, "b_c", false);
    mysql_index_add_part(ix, "b_c", 0, false);

    mysql_catalog_add_view(cat, "v_top", "select `v`.`id` AS `id` from `shop`.`v_big` `v` where `v`.`total` > 1000");
    mysql_catalog_add_view(cat, "v_big",
                           "select `o`.`id` AS `id`,`o`.`total` AS `total`,`c`.`email` AS `email` from "
                           "(`shop`.`orders` `o` join `shop`.`Customers` `c` on(`c`.`ID` = `o`.`customer_id`)) "
                           "where `o`.`total` > 100 and `c`.`name` <> 'it''s'");
    mysql_object *o = mysql_catalog_add_other(cat, "PROCEDURE", "p_noop");
    o = mysql_catalog_add_other(cat, "TRIGGER", "trg_orders");
    o->table = xstrdup("orders");
    o->detail = xstrdup("BEFORE UPDATE");
    mysql_catalog_add_other(cat, "EVENT", "ev_cleanup");
    mysql_catalog_add_other(cat, "FUNCTION", "f_one");
}

TEST(mysql_ddl_tables)
{
    mysql_catalog cat;
    build_shop(&cat);
    mysql_ddl_result r;
    mysql_ddl_convert(&cat, NULL, &r);
    mysql_catalog_free(&cat);
    const char *want =
        "CREATE TABLE customers (\n"
        "    id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 4) CHECK (id BETWEEN 0 AND 4294967295),\n"
        "    email varchar(255) NOT NULL,\n"
        "    name varchar(100) DEFAULT 'it''s' NOT NULL,\n"
        "    active smallint DEFAULT 1 NOT NULL CHECK (active BETWEEN -128 AND 127),\n"
        "    flags bit(4) DEFAULT B'0101',\n"
        "    created_at timestamptz(3) DEFAULT CURRENT_TIMESTAMP NOT NULL,\n"
        "    updated_at timestamp(0),\n"
        "    born date,\n"
        "    token bytea DEFAULT '\\x6162'::bytea\n"
        ");\n\n"
        "ALTER TABLE ONLY customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);\n\n"
        "ALTER TABLE ONLY customers ADD CONSTRAINT customers_uq_email UNIQUE (email);\n\n"
        "CREATE TABLE orders (\n"
        "    id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 1002) CHECK (id >= 0),\n"
        "    customer_id bigint NOT NULL CHECK (customer_id BETWEEN 0 AND 4294967295),\n"
        "    total numeric(12,2) DEFAULT 0.00 NOT NULL,\n"
        "    qty smallint NOT NULL,\n"
        "    amount numeric(14,2) GENERATED ALWAYS AS (total * qty) STORED,\n"
        "    label varchar(40) GENERATED ALWAYS AS (concat(qty,' x')) STORED,\n"
        "    note text\n"
        ");\n\n"
        "ALTER TABLE ONLY orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);\n\n"
        "ALTER TABLE ONLY orders ADD CONSTRAINT chk_qty CHECK (qty > 0 and note <> 'n/a');\n\n"
        "ALTER TABLE ONLY orders ADD CONSTRAINT chk_odd CHECK (qty <=> 1 or if(qty > 5, 1, 0) = 1);\n\n"
        "CREATE TABLE a_b (\n"
        "    c integer\n"
        ");\n\n"
        "CREATE TABLE a (\n"
        "    b_c integer\n"
        ");\n\n";
    bool same = str_eq(r.parts[MYSQL_DDL_TABLE].data, want);
    if (!same)
        printf("# got:\n%s", r.parts[MYSQL_DDL_TABLE].data);
    CHECK(same);
    CHECK_INT_EQ(r.counts[MYSQL_DDL_TABLE], 9);
    /* what needs a hand, each reported */
    bool issues = has_issue(&r, "COLUMN", "Customers.updated_at", "ON UPDATE CURRENT_TIMESTAMP") &&
                  has_issue(&r, "COLUMN", "Customers.born", "zero date") &&
                  has_issue(&r, "INDEX", "Customers.uq_email", "case-insensitive collation utf8mb4_general_ci") &&
                  has_issue(&r, "COLUMN", "orders.id", "BIGINT UNSIGNED AUTO_INCREMENT") &&
                  has_issue(&r, "COLUMN", "orders.label", "becomes a STORED generated column") &&
                  has_issue(&r, "COLUMN", "orders.label", "concat()") &&
                  !has_issue(&r, "COLUMN", "orders.amount", "") &&
                  has_issue(&r, "CHECK", "orders.chk_odd", "if()") &&
                  has_issue(&r, "CHECK", "orders.chk_odd", "MySQL-only syntax") &&
                  !has_issue(&r, "CHECK", "orders.chk_qty", "") &&
                  has_issue(&r, "INDEX", "orders.ft_note", "FULLTEXT index is not converted") &&
                  has_issue(&r, "TABLE", "a_b", "no primary key") && !has_issue(&r, "TABLE", "orders", "");
    if (!issues)
        print_issues(&r);
    mysql_ddl_result_free(&r);
    CHECK(issues);
}

TEST(mysql_ddl_indexes_unique_names)
{
    mysql_catalog cat;
    build_shop(&cat);
    mysql_ddl_result r;
    mysql_ddl_convert(&cat, NULL, &r);
    mysql_catalog_free(&cat);
    const char *want =
        "CREATE INDEX customers_idx_name ON customers (name);\n\n"
        "CREATE INDEX orders_idx_name ON orders (customer_id, id DESC);\n\n"
        "CREATE INDEX orders_note_prefix ON orders (left(note, 10));\n\n"
        "CREATE UNIQUE INDEX orders_uq_note ON orders (left(note, 8));\n\n"
        "CREATE INDEX a_b_c ON a_b (c);\n\n"
        "CREATE INDEX a_b_c_1 ON a (b_c);\n\n";
    bool same = str_eq(r.parts[MYSQL_DDL_INDEX].data, want);
    if (!same)
        printf("# got:\n%s", r.parts[MYSQL_DDL_INDEX].data);
    bool issues = has_issue(&r, "INDEX", "orders.note_prefix", "prefix index on note(10)") &&
                  has_issue(&r, "INDEX", "orders.uq_note", "prefix index on note(8)") &&
                  !has_issue(&r, "INDEX", "Customers.idx_name", "");
    if (!issues)
        print_issues(&r);
    mysql_ddl_result_free(&r);
    CHECK(same);
    CHECK(issues);
}

TEST(mysql_ddl_foreign_keys_after_tables)
{
    mysql_catalog cat;
    build_shop(&cat);
    mysql_ddl_result r;
    mysql_ddl_convert(&cat, NULL, &r);
    mysql_catalog_free(&cat);
    const char *want =
        "ALTER TABLE ONLY orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) "
        "ON UPDATE RESTRICT ON DELETE CASCADE;\n\n"
        "ALTER TABLE ONLY orders ADD CONSTRAINT fk_orders_name FOREIGN KEY (note) REFERENCES customers (name) "
        "ON UPDATE RESTRICT ON DELETE RESTRICT;\n\n";
    bool same = str_eq(r.parts[MYSQL_DDL_FKEY].data, want);
    if (!same)
        printf("# got:\n%s", r.parts[MYSQL_DDL_FKEY].data);
    bool issues = has_issue(&r, "FOREIGN KEY", "orders.fk_elsewhere", "another database") &&
                  has_issue(&r, "FOREIGN KEY", "orders.fk_orders_name", "not its primary key or a unique key") &&
                  !has_issue(&r, "FOREIGN KEY", "orders.fk_orders_customer", "");
    if (!issues)
        print_issues(&r);
    mysql_ddl_result_free(&r);
    CHECK(same);
    CHECK(issues);
}

TEST(mysql_ddl_views_in_dependency_order)
{
    mysql_catalog cat;
    build_shop(&cat);
    mysql_ddl_result r;
    mysql_ddl_convert(&cat, NULL, &r);
    mysql_catalog_free(&cat);
    const char *want =
        "CREATE VIEW v_big AS\n"
        "select o.id AS id,o.total AS total,c.email AS email from (orders o join customers c on(c.id = o.customer_id)) "
        "where o.total > 100 and c.name <> 'it''s';\n\n"
        "CREATE VIEW v_top AS\n"
        "select v.id AS id from v_big v where v.total > 1000;\n\n";
    bool same = str_eq(r.parts[MYSQL_DDL_VIEW].data, want);
    if (!same)
        printf("# got:\n%s", r.parts[MYSQL_DDL_VIEW].data);
    bool clean = !has_issue(&r, "VIEW", "v_big", "") && !has_issue(&r, "VIEW", "v_top", "");
    if (!clean)
        print_issues(&r);
    mysql_ddl_result_free(&r);
    CHECK(same);
    CHECK(clean);
}

TEST(mysql_ddl_comments_and_other_objects)
{
    mysql_catalog cat;
    build_shop(&cat);
    mysql_ddl_result r;
    mysql_ddl_convert(&cat, NULL, &r);
    mysql_catalog_free(&cat);
    const char *want = "COMMENT ON TABLE customers IS 'who buys';\n\n"
                       "COMMENT ON COLUMN customers.name IS 'display name';\n\n";
    bool same = str_eq(r.parts[MYSQL_DDL_COMMENT].data, want);
    if (!same)
        printf("# got:\n%s", r.parts[MYSQL_DDL_COMMENT].data);
    bool issues = has_issue(&r, "PROCEDURE", "p_noop", "not converted automatically") &&
                  has_issue(&r, "FUNCTION", "f_one", "not converted automatically") &&
                  has_issue(&r, "TRIGGER", "orders.trg_orders", "(BEFORE UPDATE)") &&
                  has_issue(&r, "EVENT", "ev_cleanup", "not converted automatically");
    if (!issues)
        print_issues(&r);
    mysql_ddl_result_free(&r);
    CHECK(same);
    CHECK(issues);
}

/* MySQL arithmetic in generated columns and checks: '/' is decimal, integers are 64-bit. */
TEST(mysql_ddl_generated_arithmetic)
{
    mysql_catalog cat = {0};
    cat.database = xstrdup("shop");
    mysql_table *t = mysql_catalog_add_table(&cat, "g");
    mysql_column *c = mysql_table_add_column(t, "a", "int(11)");
    c = mysql_table_add_column(t, "b", "int(11)");
    c = mysql_table_add_column(t, "q", "int(11)");
    c->generation_expr = xstrdup("`a` / `b`");
    c->generated_stored = true;
    c = mysql_table_add_column(t, "w", "bigint(20)");
    c->generation_expr = xstrdup("`a` * 2");
    c->generated_stored = true;
    c = mysql_table_add_column(t, "n", "int(11)");
    c->generation_expr = xstrdup("`a` + `b`");
    c->generated_stored = true;
    mysql_table_add_check(t, "chk_ratio", "`a` / `b` > 1");
    mysql_ddl_result r;
    mysql_ddl_convert(&cat, NULL, &r);
    mysql_catalog_free(&cat);
    const char *ddl = r.parts[MYSQL_DDL_TABLE].data;
    bool numeric = strstr(ddl, "q integer GENERATED ALWAYS AS (a * 1.0 / b) STORED") &&
                   strstr(ddl, "CHECK (a * 1.0 / b > 1)");
    if (!numeric)
        printf("# got:\n%s", ddl);
    bool issues = has_issue(&r, "COLUMN", "g.q", "divides with '/'") &&
                  has_issue(&r, "CHECK", "g.chk_ratio", "divides with '/'") &&
                  has_issue(&r, "COLUMN", "g.w", "with column a (int(11), integer on the target), a result past that type's range") &&
                  !has_issue(&r, "COLUMN", "g.n", "integer arithmetic"); /* int + int into int: as MySQL */
    if (!issues)
        print_issues(&r);
    mysql_ddl_result_free(&r);
    CHECK(numeric);
    CHECK(issues);
}

TEST(mysql_ddl_target_schema_qualifies)
{
    mysql_catalog cat;
    build_shop(&cat);
    mysql_ddl_result r;
    mysql_ddl_opts o = {.target_schema = "Sales"};
    mysql_ddl_convert(&cat, &o, &r);
    mysql_catalog_free(&cat);
    bool ok = str_starts_with(r.parts[MYSQL_DDL_TABLE].data, "CREATE TABLE sales.customers (\n") &&
              strstr(r.parts[MYSQL_DDL_TABLE].data, "ALTER TABLE ONLY sales.orders ADD CONSTRAINT orders_pkey") &&
              strstr(r.parts[MYSQL_DDL_INDEX].data, "CREATE INDEX orders_idx_name ON sales.orders (customer_id, id DESC)") &&
              strstr(r.parts[MYSQL_DDL_FKEY].data, "REFERENCES sales.customers (id)") &&
              strstr(r.parts[MYSQL_DDL_VIEW].data, "CREATE VIEW sales.v_big AS\n") &&
              strstr(r.parts[MYSQL_DDL_VIEW].data, "from (sales.orders o join sales.customers c");
    if (!ok)
        for (int i = 0; i < MYSQL_DDL_PART_COUNT; i++)
            printf("# part %d:\n%s", i, r.parts[i].data);
    mysql_ddl_result_free(&r);
    CHECK(ok);
}

TEST(mysql_catalog_parses_column_types)
{
    mysql_catalog cat = {0};
    mysql_table *t = mysql_catalog_add_table(&cat, "t");
    mysql_column *c = mysql_table_add_column(t, "a", "decimal(10,2) unsigned zerofill");
    bool dec = str_eq(c->data_type, "decimal") && c->precision == 10 && c->scale == 2 && c->is_unsigned && c->is_zerofill;
    c = mysql_table_add_column(t, "b", "enum('x y','it''s','unsigned')");
    bool en = str_eq(c->data_type, "enum") && c->values.count == 3 && str_eq(c->values.items[1], "it's") &&
              str_eq(c->values.items[2], "unsigned") && !c->is_unsigned;
    c = mysql_table_add_column(t, "c", "datetime(6)");
    bool dt = c->fsp == 6 && c->length == -1;
    c = mysql_table_add_column(t, "d", "TINYINT(1)");
    bool ti = str_eq(c->data_type, "tinyint") && c->length == 1;
    strlist bad = STRLIST_INIT;
    bool rejects = !mysql_parse_enum_values("enum('a", &bad);
    strlist_free(&bad);
    /* the escapes the server writes in COLUMN_TYPE: the member is the real text */
    strlist esc = STRLIST_INIT;
    bool escapes = mysql_parse_enum_values("enum('a\\nb','c\\rd','e\\\\f','it''s','t\\tz')", &esc) &&
                   esc.count == 5 && str_eq(esc.items[0], "a\nb") && str_eq(esc.items[1], "c\rd") &&
                   str_eq(esc.items[2], "e\\f") && str_eq(esc.items[3], "it's") && str_eq(esc.items[4], "t\tz");
    strlist_free(&esc);
    bool nul_refused = !mysql_parse_enum_values("set('p','q\\0r')", &esc);
    strlist_free(&esc);
    const mysql_column *found = mysql_table_column(t, "A");
    mysql_catalog_free(&cat);
    CHECK(dec);
    CHECK(en);
    CHECK(dt);
    CHECK(ti);
    CHECK(rejects);
    CHECK(escapes);
    CHECK(nul_refused);
    CHECK(found != NULL);
}

/*
 * The parts, written one after the other as a source's dump_schema would, go through the
 * PostgreSQL export's splitter (libpg_query) into the files import schema reads: every
 * statement parses and lands in the file its part names.
 */
TEST(mysql_ddl_parts_split_like_a_dump)
{
    mysql_catalog cat;
    build_shop(&cat);
    mysql_ddl_result r;
    mysql_ddl_opts o = {.target_schema = "public"};
    mysql_ddl_convert(&cat, &o, &r);
    mysql_catalog_free(&cat);
    strbuf dump = STRBUF_INIT;
    for (int i = 0; i < MYSQL_DDL_PART_COUNT; i++)
        strbuf_append(&dump, r.parts[i].data);
    schema_split_opts so = {.comments = true};
    for (int i = 0; i < OBJ_COUNT; i++)
        so.include[i] = true;
    schema_split_result sr;
    memset(&sr, 0, sizeof sr);
    char *err = NULL;
    bool split = schema_split_dump(dump.data, &so, &sr, &err);
    strbuf_free(&dump);
    bool ok = split && sr.unparsed == 0 &&
              sr.counts[OBJ_TABLE] == r.counts[MYSQL_DDL_TABLE] + r.counts[MYSQL_DDL_FKEY] &&
              sr.counts[OBJ_VIEW] == r.counts[MYSQL_DDL_VIEW] && sr.counts[OBJ_COMMENT] == r.counts[MYSQL_DDL_COMMENT] &&
              sr.counts[OBJ_INDEX] == r.counts[MYSQL_DDL_INDEX] && sr.counts[OBJ_UNCATEGORIZED] == 0;
    if (!ok)
        for (int i = 0; i < OBJ_COUNT; i++)
            if (sr.counts[i])
                printf("#   %s: %zu statements\n", schema_obj_file((schema_obj)i), sr.counts[i]);
    schema_split_result_free(&sr);
    free(err);
    mysql_ddl_result_free(&r);
    CHECK(ok);
}
