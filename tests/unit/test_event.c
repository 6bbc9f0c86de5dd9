/* Parsing queue lines into events (cdc/event.h). */
#include "testlib.h"

#include "cdc/event.h"
#include "cdc/event_json.h"
#include "core/util.h"

static bool parse(const char *line, cdc_event *ev, char *err)
{
    return cdc_event_parse(line, strlen(line), ev, err, 200);
}

TEST(event_parses_update_with_nulls_and_before)
{
    cdc_event ev;
    char err[200];
    CHECK(parse("{\"vsn\":42,\"op\":\"u\",\"schema_name\":\"Mixed Case\",\"table_name\":\"t\","
                "\"key\":{\"id\":\"7\"},\"fields\":{\"v\":null,\"w\":\"it's\\n\"},"
                "\"before_fields\":{\"id\":\"7\",\"v\":\"1\",\"w\":\"x\",\"u\":\"a\"},"
                "\"exporter_role\":\"source_db_exporter\"}",
                &ev, err));
    CHECK_INT_EQ(ev.vsn, 42);
    CHECK_INT_EQ(ev.op, CDC_OP_UPDATE);
    CHECK_STR_EQ(ev.schema_name, "Mixed Case");
    CHECK_STR_EQ(ev.exporter_role, "source_db_exporter");
    bool found;
    CHECK(cdc_cols_get(&ev.fields, "v", &found) == NULL && found);
    CHECK(cdc_cols_get(&ev.fields, "u", &found) == NULL && !found);
    CHECK_STR_EQ(cdc_cols_get(&ev.fields, "w", &found), "it's\n");
    /* new value: changed column from fields, unchanged one from the old row */
    CHECK_STR_EQ(cdc_event_new_value(&ev, "u", &found), "a");
    CHECK(cdc_event_new_value(&ev, "v", &found) == NULL && found);
    CHECK_STR_EQ(cdc_event_old_value(&ev, "id", &found), "7");
    CHECK_STR_EQ(cdc_event_old_value(&ev, "w", &found), "x");
    cdc_event_free(&ev);
}

TEST(event_parses_cutover_marker)
{
    cdc_event ev;
    char err[200];
    CHECK(parse("{\"vsn\":9,\"op\":\"cutover.source_replica\",\"exporter_role\":\"target_db_exporter_ff\"}",
                &ev, err));
    CHECK_INT_EQ(ev.op, CDC_OP_CUTOVER);
    CHECK_STR_EQ(ev.cutover_op, "cutover.source_replica");
    cdc_event_free(&ev);
}

TEST(event_truncate_is_written_and_parsed_back)
{
    strbuf sb = STRBUF_INIT;
    event_json_append_truncate(&sb, 77, "Sales \"EU\"", "t\tx", "source_db_exporter");
    CHECK(sb.len > 0 && sb.data[sb.len - 1] == '\n');
    cdc_event ev;
    char err[200];
    CHECK(cdc_event_parse(sb.data, sb.len - 1, &ev, err, sizeof err));
    CHECK_INT_EQ(ev.vsn, 77);
    CHECK_INT_EQ(ev.op, CDC_OP_TRUNCATE);
    CHECK_STR_EQ(ev.schema_name, "Sales \"EU\"");
    CHECK_STR_EQ(ev.table_name, "t\tx");
    CHECK_INT_EQ(ev.key.count, 0);
    cdc_event_free(&ev);
    strbuf_free(&sb);
    /* a truncate names its table */
    CHECK(!parse("{\"vsn\":3,\"op\":\"t\",\"exporter_role\":\"r\"}", &ev, err));
}

TEST(event_rejects_bad_lines_with_a_reason)
{
    static const struct {
        const char *line, *reason;
    } bad[] = {
        {"not json", "not a JSON object"},
        {"{\"op\":\"c\"}", "vsn"},
        {"{\"vsn\":0,\"op\":\"c\",\"exporter_role\":\"r\"}", "vsn"},
        {"{\"vsn\":1,\"op\":\"x\",\"exporter_role\":\"r\"}", "unknown \"op\""},
        {"{\"vsn\":1,\"op\":\"c\",\"exporter_role\":\"r\",\"schema_name\":\"s\"}", "table_name"},
        {"{\"vsn\":1,\"op\":\"c\",\"exporter_role\":\"r\",\"schema_name\":\"s\",\"table_name\":\"t\"}",
         "insert without"},
        {"{\"vsn\":1,\"op\":\"c\",\"exporter_role\":\"r\",\"schema_name\":\"s\",\"table_name\":\"t\","
         "\"fields\":{\"a\":1}}",
         "not a string or null"},
        {"{\"vsn\":1,\"op\":\"d\",\"exporter_role\":\"r\",\"schema_name\":\"s\",\"table_name\":\"t\"}",
         "without \"key\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cdc_event ev;
        char err[200] = "";
        CHECK(!parse(bad[i].line, &ev, err));
        if (!strstr(err, bad[i].reason)) {
            test_fail(__FILE__, __LINE__, "line %zu: reason \"%s\" lacks \"%s\"", i, err,
                      bad[i].reason);
            return;
        }
    }
}

/*
 * Events are parsed into pooled arena blocks, chained when one does not hold
 * the tree: a wide row and a long value take several blocks and a block of
 * their own; a line cut short fails cleanly after filling some.
 */
static void wide_line(strbuf *sb, int ncols, int long_len)
{
    strbuf_reset(sb);
    strbuf_append(sb, "{\"vsn\":5,\"op\":\"c\",\"schema_name\":\"s\",\"table_name\":\"t\","
                      "\"fields\":{");
    for (int i = 0; i < ncols; i++)
        strbuf_appendf(sb, "%s\"c%d\":\"v%d\"", i ? "," : "", i, i);
    strbuf_append(sb, ",\"long\":\"");
    for (int i = 0; i < long_len; i++)
        strbuf_append_char(sb, (char)('a' + i % 26));
    strbuf_append(sb, "\"},\"exporter_role\":\"source_db_exporter\"}");
}

TEST(event_parses_wide_and_long_rows_across_arena_blocks)
{
    /* 100 short columns: pool blocks chained; 300 and a 20000-byte value: a block of its own */
    static const int shapes[][2] = {{100, 10}, {300, 20000}};
    strbuf sb = STRBUF_INIT;
    for (size_t k = 0; k < 2; k++) {
        int ncols = shapes[k][0], long_len = shapes[k][1];
        wide_line(&sb, ncols, long_len);
        for (int round = 0; round < 3; round++) { /* later rounds reuse pooled blocks */
            cdc_event ev;
            char err[200];
            CHECK(cdc_event_parse(sb.data, sb.len, &ev, err, sizeof err));
            CHECK_INT_EQ(ev.fields.count, ncols + 1);
            bool found;
            CHECK_STR_EQ(cdc_cols_get(&ev.fields, "c0", &found), "v0");
            char name[16], val[16];
            snprintf(name, sizeof name, "c%d", ncols - 1);
            snprintf(val, sizeof val, "v%d", ncols - 1);
            CHECK_STR_EQ(cdc_cols_get(&ev.fields, name, &found), val);
            const char *l = cdc_cols_get(&ev.fields, "long", &found);
            CHECK(l && strlen(l) == (size_t)long_len &&
                  l[long_len - 1] == (char)('a' + (long_len - 1) % 26));
            cdc_event_free(&ev);
        }
    }
    /*
     * What an event holds is a small multiple of its line (nodes of 64 bytes a column,
     * strings copied): formerly every allocation past the first block took a 2 KiB
     * block, ~15x the line for 100 short columns. 300 columns and a 20000-byte value:
     * the value in an exact block, and the arena's count covers it.
     */
    for (size_t k = 0; k < 2; k++) {
        wide_line(&sb, shapes[k][0], shapes[k][1]);
        cdc_arena *a = cdc_arena_for_line(sb.len, 0);
        cdc_event ev;
        char err[200];
        CHECK(cdc_event_parse_in(a, sb.data, sb.len, &ev, err, sizeof err));
        size_t held = cdc_arena_bytes(a);
        CHECK(held >= (size_t)shapes[k][1] && held <= 8 * sb.len + 4096);
        cdc_event_free(&ev);
        cdc_arena_free(a);
    }
    /* into a caller's arena that also holds the caller's own bytes */
    cdc_arena *a = cdc_arena_for_line(sb.len, 100);
    char *mine = cdc_arena_alloc(a, 100);
    memset(mine, 'x', 100);
    cdc_event ev;
    char err[200];
    CHECK(cdc_event_parse_in(a, sb.data, sb.len, &ev, err, sizeof err));
    CHECK_INT_EQ(ev.vsn, 5);
    CHECK(mine[0] == 'x' && mine[99] == 'x');
    cdc_event_free(&ev);
    cdc_arena_free(a);
    /* cut short: a syntax error after many nodes */
    CHECK(!cdc_event_parse(sb.data, sb.len / 2, &ev, err, sizeof err));
    CHECK(strstr(err, "not a JSON object") != NULL);
    /* the first of duplicate members wins, as with cJSON_GetObjectItemCaseSensitive */
    const char *dup = "{\"vsn\":7,\"vsn\":8,\"op\":\"d\",\"op\":\"c\",\"schema_name\":\"s\","
                      "\"table_name\":\"t\",\"key\":{\"id\":\"1\"},\"exporter_role\":\"r\"}";
    CHECK(cdc_event_parse(dup, strlen(dup), &ev, err, sizeof err));
    CHECK_INT_EQ(ev.vsn, 7);
    CHECK_INT_EQ(ev.op, CDC_OP_DELETE);
    cdc_event_free(&ev);
    strbuf_free(&sb);
    cdc_event_parser_release();
}
