/* Parsing queue lines into events (cdc/event.h). */
#include "testlib.h"

#include "cdc/event.h"

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
