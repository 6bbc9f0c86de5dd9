/*
 * source/mysql/mysql_catalog against the schema tests/integration/test_mysql_schema.sh creates
 * on MariaDB (read as user voyager with the exporter's grants only), and the conversion of what
 * was read, written to $VOYAGER_TEST_DDL_DIR for the script to apply on PostgreSQL.
 */
#include "testlib.h"
#include "test_mysql_live.h"

#include "core/util.h"
#include "source/mysql/mysql_catalog.h"
#include "source/mysql/mysql_ddl.h"

#include <stdio.h>
#include <stdlib.h>

static bool read_live(mysql_catalog *cat)
{
    db_conf conf = mysql_live_conf();
    mysql_conn *c = mysql_conn_open(&conf, NULL);
    if (!c)
        return false;
    bool ok = mysql_catalog_read(c, conf.name, cat);
    mysql_conn_close(c);
    return ok;
}

static const mysql_column *col_of(const mysql_catalog *cat, const char *table, const char *col)
{
    const mysql_table *t = mysql_catalog_table(cat, table);
    return t ? mysql_table_column(t, col) : NULL;
}

static const mysql_index *index_of(const mysql_table *t, const char *name)
{
    for (size_t i = 0; t && i < t->nindexes; i++)
        if (str_eq(t->indexes[i].name, name))
            return &t->indexes[i];
    return NULL;
}

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                     \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

TEST(mysql_server_catalog_tables_and_columns)
{
    if (!mysql_live_available(__func__))
        return;
    mysql_catalog cat;
    CHECK(read_live(&cat));
    const mysql_table *cu = mysql_catalog_table(&cat, "customers"), *o = mysql_catalog_table(&cat, "orders");
    const mysql_column *c;
    EXPECT(cat.is_mariadb && cat.ntables == 8);
    EXPECT(mysql_catalog_table(&cat, "Mixed Case") && mysql_catalog_table(&cat, "nopk"));
    EXPECT(!mysql_catalog_table(&cat, "big_orders")); /* a view */
    EXPECT(cu && o && cu->auto_increment == 4 && o->auto_increment == 1002);
    EXPECT(str_eq(cu->comment, "who buys") && str_eq(cu->engine, "InnoDB"));
    EXPECT((c = col_of(&cat, "customers", "id")) && c->auto_increment && c->is_unsigned && !c->nullable);
    EXPECT((c = col_of(&cat, "customers", "name")) && c->default_kind == MYSQL_DEFAULT_LITERAL &&
           str_eq(c->default_text, "it's") && str_eq(c->comment, "display name"));
    EXPECT((c = col_of(&cat, "customers", "email")) && str_eq(c->charset, "utf8mb4") &&
           str_eq(c->collation, "utf8mb4_general_ci"));
    EXPECT((c = col_of(&cat, "customers", "tier")) && c->values.count == 3 && str_eq(c->values.items[2], "it's") &&
           str_eq(c->default_text, "free"));
    EXPECT((c = col_of(&cat, "customers", "tags")) && str_eq(c->data_type, "set") && str_eq(c->default_text, "a,b"));
    EXPECT((c = col_of(&cat, "customers", "flags")) && c->length == 4 && str_eq(c->default_text, "b'101'")); /* as MariaDB prints it */
    EXPECT((c = col_of(&cat, "customers", "created_at")) && c->fsp == 3 && c->default_kind == MYSQL_DEFAULT_EXPR &&
           str_starts_with(c->default_text, "current_timestamp"));
    EXPECT((c = col_of(&cat, "customers", "updated_at")) && c->on_update_current_timestamp &&
           c->default_kind == MYSQL_DEFAULT_NULL);
    EXPECT((c = col_of(&cat, "orders", "amount")) && c->generation_expr && c->generated_stored &&
           strstr(c->generation_expr, "`total`"));
    EXPECT((c = col_of(&cat, "orders", "id")) && str_eq(c->data_type, "bigint") && c->is_unsigned);
    EXPECT((c = col_of(&cat, "all_types", "c_virtual")) && c->generation_expr && !c->generated_stored);
    EXPECT((c = col_of(&cat, "all_types", "c_json")) && str_eq(c->data_type, "json")); /* MariaDB's LONGTEXT + json_valid */
    EXPECT((c = col_of(&cat, "all_types", "c_latin")) && str_eq(c->charset, "latin1"));
    EXPECT((c = col_of(&cat, "all_types", "c_bigint_u")) && c->is_unsigned && c->length == 20);
    EXPECT((c = col_of(&cat, "all_types", "c_zero")) && c->default_kind == MYSQL_DEFAULT_LITERAL &&
           str_eq(c->default_text, "0000-00-00"));
    EXPECT((c = col_of(&cat, "all_types", "c_int_zf")) && c->is_zerofill);
    EXPECT((c = col_of(&cat, "Mixed Case", "Order")) && str_eq(c->name, "Order"));
out:
    mysql_catalog_free(&cat);
}

TEST(mysql_server_catalog_keys_and_objects)
{
    if (!mysql_live_available(__func__))
        return;
    mysql_catalog cat;
    CHECK(read_live(&cat));
    const mysql_table *cu = mysql_catalog_table(&cat, "customers"), *o = mysql_catalog_table(&cat, "orders");
    const mysql_table *at = mysql_catalog_table(&cat, "all_types"), *docs = mysql_catalog_table(&cat, "docs");
    const mysql_index *ix;
    EXPECT(cu && o && at && docs);
    EXPECT(cu->nindexes == 3 && cu->indexes[0].primary && cu->indexes[0].nparts == 1);
    EXPECT((ix = index_of(cu, "uq_email")) && ix->unique && !ix->primary);
    EXPECT((ix = index_of(cu, "idx_name")) && !ix->unique && ix->parts[0].prefix == 20);
    EXPECT((ix = index_of(o, "idx_name")) && ix->nparts == 2 && !ix->parts[0].descending && ix->parts[1].descending);
    EXPECT((ix = index_of(docs, "ft_body")) && ix->fulltext);
    EXPECT(o->nfkeys == 1 && str_eq(o->fkeys[0].name, "fk_orders_customer") && str_eq(o->fkeys[0].ref_table, "customers") &&
           str_eq(o->fkeys[0].on_delete, "CASCADE") && str_eq(o->fkeys[0].on_update, "RESTRICT") &&
           str_eq(o->fkeys[0].columns.items[0], "customer_id") && str_eq(o->fkeys[0].ref_columns.items[0], "id"));
    EXPECT(o->nchecks == 1 && str_eq(o->checks[0].name, "chk_qty") && strstr(o->checks[0].clause, "`qty` > 0"));
    /* the column-level check stays, json_valid() of the JSON column does not */
    EXPECT(at->nchecks == 1 && str_eq(at->checks[0].name, "c_pos") && at->checks[0].column_level);
    EXPECT(cat.nviews == 2 && str_eq(cat.views[0].name, "big_orders") && strstr(cat.views[0].definition, "`orders`"));
    EXPECT(cat.nothers == 4 && str_eq(cat.others[0].kind, "EVENT") && str_eq(cat.others[0].name, "ev_cleanup") &&
           str_eq(cat.others[1].kind, "FUNCTION") && str_eq(cat.others[2].kind, "PROCEDURE") &&
           str_eq(cat.others[3].kind, "TRIGGER") && str_eq(cat.others[3].table, "orders") &&
           str_eq(cat.others[3].detail, "BEFORE UPDATE"));
out:
    mysql_catalog_free(&cat);
}

static bool write_file(const char *dir, const char *name, const char *a, const char *b)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    free(path);
    if (!f)
        return false;
    fputs(a, f);
    if (b)
        fputs(b, f);
    return fclose(f) == 0;
}

/* The DDL of what was read, for tests/integration/test_mysql_schema.sh to apply and inspect. */
TEST(mysql_server_ddl_written)
{
    if (!mysql_live_available(__func__))
        return;
    const char *dir = getenv("VOYAGER_TEST_DDL_DIR");
    if (!dir) {
        printf("#   %s: VOYAGER_TEST_DDL_DIR unset, nothing written\n", __func__);
        return;
    }
    mysql_catalog cat;
    CHECK(read_live(&cat));
    mysql_ddl_result r;
    mysql_ddl_convert(&cat, NULL, &r);
    mysql_catalog_free(&cat);
    strbuf issues = STRBUF_INIT;
    strbuf_append(&issues, "");
    for (size_t i = 0; i < r.nissues; i++)
        strbuf_appendf(&issues, "%s\t%s\t%s\t%s\n", r.issues[i].object_type, r.issues[i].object_name, r.issues[i].reason,
                       r.issues[i].suggestion);
    bool ok = write_file(dir, "table.sql", r.parts[MYSQL_DDL_TABLE].data, r.parts[MYSQL_DDL_FKEY].data) &&
              write_file(dir, "view.sql", r.parts[MYSQL_DDL_VIEW].data, NULL) &&
              write_file(dir, "comment.sql", r.parts[MYSQL_DDL_COMMENT].data, NULL) &&
              write_file(dir, "INDEXES_table.sql", r.parts[MYSQL_DDL_INDEX].data, NULL) &&
              write_file(dir, "issues.tsv", issues.data, NULL);
    strbuf_free(&issues);
    mysql_ddl_result_free(&r);
    CHECK(ok);
}
