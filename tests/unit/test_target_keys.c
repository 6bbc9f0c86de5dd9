/* cdc/target_keys: what the exporter records per table, and the importer's check against it. */
#include "catalog/catalog_int.h" /* unit tests may look at the tables directly */
#include "catalog/queue_meta.h"
#include "cdc/target_keys.h"
#include "core/util.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static char *recorded(catalog *m, const char *table)
{
    char *json = NULL;
    if (!qm_table_keys_get(m, "source_db_exporter", "public", table, &json))
        return xstrdup("ERR");
    return json ? json : xstrdup("none");
}

#define CHECK_RECORDED(m, table, want)                                                             \
    do {                                                                                           \
        char *got_ = recorded(m, table);                                                           \
        if (strcmp(got_, want) != 0)                                                               \
            test_fail(__FILE__, __LINE__, "recorded %s = %s, want %s", table, got_, want);         \
        free(got_);                                                                                \
    } while (0)

TEST(target_keys_note_records_what_the_events_carry)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(path);
    CHECK(m);
    const char *cols[] = {"id", "email", "n"};
    size_t key[] = {0};
    bool old[] = {true, false, false};
    src_change ch = {.op = SRC_UPDATE, .schema = "public", .table = "t", .ncols = 3,
                     .columns = cols, .key = key, .nkey = 1, .old_needed = old};
    target_keys_memo *memo = NULL;
    CHECK(target_keys_note(m, "source_db_exporter", &memo, &ch));
    CHECK_RECORDED(m, "t", "[\"id\"]");
    /*
     * A unique index on email appears (the feed's flags change): the events already queued
     * lack its old values, so the record does not grow; in another run neither.
     */
    bool old2[] = {true, true, false};
    ch.old_needed = old2;
    CHECK(target_keys_note(m, "source_db_exporter", &memo, &ch));
    CHECK_RECORDED(m, "t", "[\"id\"]");
    target_keys_memo *memo2 = NULL;
    CHECK(target_keys_note(m, "source_db_exporter", &memo2, &ch));
    CHECK_RECORDED(m, "t", "[\"id\"]");
    /* A new queue (export data --start-clean) starts from what its events carry. */
    CHECK(qm_queue_reset(m));
    CHECK_RECORDED(m, "t", "none");
    target_keys_memo_free(memo2);
    memo2 = NULL;
    CHECK(target_keys_note(m, "source_db_exporter", &memo2, &ch));
    CHECK_RECORDED(m, "t", "[\"id\",\"email\"]");
    target_keys_memo_free(memo2);
    /* Recorded once a run: the next change of the same shape does not write. */
    CHECK(catalog_exec(m, "DELETE FROM queue_table_keys"));
    CHECK(target_keys_note(m, "source_db_exporter", &memo, &ch));
    CHECK_RECORDED(m, "t", "none");
    /* A feed that does not say which old values it needs sends them all. */
    src_change all = ch;
    all.table = "u";
    all.old_needed = NULL;
    CHECK(target_keys_note(m, "source_db_exporter", &memo, &all));
    CHECK_RECORDED(m, "u", "[\"id\",\"email\",\"n\"]");
    src_change trunc = {.op = SRC_TRUNCATE, .schema = "public", .table = "v"};
    CHECK(target_keys_note(m, "source_db_exporter", &memo, &trunc));
    CHECK_RECORDED(m, "v", "none");
    target_keys_memo_free(memo);
    catalog_close(m);
    free(path);
    free(dir);
}

TEST(target_keys_check_refuses_a_key_the_queue_does_not_carry)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(path);
    CHECK(m);
    CHECK(qm_table_keys_set(m, "source_db_exporter", "public", "t", "[\"id\",\"email\"]"));
    const char *const roles[] = {"source_db_exporter", NULL};
    table_meta tm = {.schema_name = "public", .table_name = "t", .qualified = "\"public\".\"t\""};
    strlist uniq[1] = {{0}};
    strlist_push(&tm.pk, "id");
    engine_status rc = ENGINE_OK;
    CHECK(target_keys_check(m, roles, DB_TARGET, &tm, &rc));
    strlist_push(&uniq[0], "email");
    tm.uniq = uniq;
    tm.nuniq = 1;
    CHECK(target_keys_check(m, roles, DB_TARGET, &tm, &rc));
    strlist_push(&uniq[0], "n");
    CHECK(!target_keys_check(m, roles, DB_TARGET, &tm, &rc));
    CHECK_INT_EQ(rc, ENGINE_BAD_STATE);
    tm.nuniq = 0;
    strlist_push(&tm.pk, "region");
    rc = ENGINE_OK;
    CHECK(!target_keys_check(m, roles, DB_TARGET, &tm, &rc));
    CHECK_INT_EQ(rc, ENGINE_BAD_STATE);
    /* Nothing recorded (an older exporter): not checked. */
    tm.table_name = "other";
    CHECK(target_keys_check(m, roles, DB_TARGET, &tm, &rc));
    strlist_free(&uniq[0]);
    strlist_free(&tm.pk);
    catalog_close(m);
    free(path);
    free(dir);
}

/*
 * Names may hold 0x1F: schema "a\x1fb" table "c" and schema "a" table "b\x1fc" are two
 * tables. Joined by 0x1F they had one memo entry: the second table, seen with the same
 * column array, passed for already recorded and its keys were never written.
 */
TEST(target_keys_note_keeps_tables_apart_whatever_bytes_their_names_hold)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(path);
    CHECK(m);
    const char *cols[] = {"id", "v"};
    size_t key[] = {0};
    src_change one = {.op = SRC_INSERT, .schema = "a\x1f" "b", .table = "c", .ncols = 2,
                      .columns = cols, .key = key, .nkey = 1};
    src_change two = one;
    two.schema = "a";
    two.table = "b\x1f" "c";
    target_keys_memo *memo = NULL;
    CHECK(target_keys_note(m, "source_db_exporter", &memo, &one));
    CHECK(target_keys_note(m, "source_db_exporter", &memo, &two));
    char *json = NULL;
    CHECK(qm_table_keys_get(m, "source_db_exporter", "a", "b\x1f" "c", &json));
    CHECK_STR_EQ(json ? json : "none", "[\"id\",\"v\"]"); /* no old_needed: every column */
    free(json);
    target_keys_memo_free(memo);
    catalog_close(m);
    free(path);
    free(dir);
}
