/* Routing and unique-key conflict waits of the change applier (no database needed). */
#include "testlib.h"

#include "cdc/apply.h"
#include "cdc/channels.h"
#include "cdc/conflicts.h"

#include "source/writer.h"

#include <stdlib.h>
#include <unistd.h>

static table_meta *uk_table(void)
{
    table_meta *t = calloc(1, sizeof *t);
    t->schema_name = strdup("public");
    t->table_name = strdup("uk");
    t->qualified = strdup("\"public\".\"uk\"");
    t->count_name = strdup("public.uk");
    strlist_push(&t->pk, "id");
    t->uniq = calloc(1, sizeof *t->uniq);
    t->nuniq = 1;
    strlist_push(&t->uniq[0], "code");
    return t;
}

static cdc_item *item(table_meta *tm, const char *json)
{
    cdc_item *it = calloc(1, sizeof *it);
    char err[200];
    if (!cdc_event_parse(json, strlen(json), &it->ev, err, sizeof err)) {
        free(it);
        return NULL;
    }
    it->tm = tm;
    return it;
}

static int64_t committed[4];
static int64_t committed_of(int ch, void *arg)
{
    (void)arg;
    return committed[ch];
}

TEST(cdc_apply_routes_rows_stably_and_detects_key_changes)
{
    table_meta *tm = uk_table();
    cdc_item *ins = item(tm, "{\"vsn\":1,\"op\":\"c\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                             "\"fields\":{\"id\":\"5\",\"code\":\"a\"},\"exporter_role\":\"r\"}");
    cdc_item *upd = item(tm, "{\"vsn\":2,\"op\":\"u\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                             "\"key\":{\"id\":\"5\"},\"fields\":{\"code\":\"b\"},\"exporter_role\":\"r\"}");
    cdc_item *mv = item(tm, "{\"vsn\":3,\"op\":\"u\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                            "\"key\":{\"id\":\"5\"},\"fields\":{\"id\":\"6\"},\"exporter_role\":\"r\"}");
    cdc_item *same = item(tm, "{\"vsn\":4,\"op\":\"u\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                              "\"key\":{\"id\":\"6\"},\"fields\":{\"id\":\"6\",\"code\":\"c\"},"
                              "\"exporter_role\":\"r\"}");
    CHECK(ins && upd && mv && same);
    /* insert (key from fields) and update (key from key) of one row: one channel */
    for (int n = 1; n <= 16; n++)
        CHECK_INT_EQ(cdc_route(ins, n), cdc_route(upd, n));
    CHECK(!cdc_changes_key(upd));
    CHECK(cdc_changes_key(mv));
    CHECK(!cdc_changes_key(same));
    cdc_item_free(ins);
    cdc_item_free(upd);
    cdc_item_free(mv);
    cdc_item_free(same);
    table_meta_free(tm);
}

TEST(cdc_apply_unique_value_taken_after_release_waits_for_the_holder)
{
    table_meta *tm = uk_table();
    memset(committed, 0, sizeof committed);
    conflicts *c = conflicts_new(committed_of, NULL);
    /* row 1 (channel 0) gives up code "x"; row 2 (channel 1) takes it */
    cdc_item *a = item(tm, "{\"vsn\":10,\"op\":\"u\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                           "\"key\":{\"id\":\"1\"},\"fields\":{\"code\":\"tmp\"},"
                           "\"before_fields\":{\"id\":\"1\",\"code\":\"x\"},\"exporter_role\":\"r\"}");
    cdc_item *b = item(tm, "{\"vsn\":11,\"op\":\"u\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                           "\"key\":{\"id\":\"2\"},\"fields\":{\"code\":\"x\"},"
                           "\"before_fields\":{\"id\":\"2\",\"code\":\"y\"},\"exporter_role\":\"r\"}");
    cdc_item *a2 = item(tm, "{\"vsn\":12,\"op\":\"u\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                            "\"key\":{\"id\":\"1\"},\"fields\":{\"code\":\"y\"},"
                            "\"before_fields\":{\"id\":\"1\",\"code\":\"tmp\"},\"exporter_role\":\"r\"}");
    cdc_item *d = item(tm, "{\"vsn\":13,\"op\":\"d\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                           "\"key\":{\"id\":\"3\"},\"before_fields\":{\"id\":\"3\",\"code\":\"q\"},"
                           "\"exporter_role\":\"r\"}");
    cdc_item *i = item(tm, "{\"vsn\":14,\"op\":\"c\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                           "\"fields\":{\"id\":\"4\",\"code\":\"q\"},\"exporter_role\":\"r\"}");
    CHECK(a && b && a2 && d && i);
    conflicts_check(c, a, 0);
    CHECK_INT_EQ(a->ndeps, 0);
    conflicts_check(c, b, 1);
    CHECK_INT_EQ(b->ndeps, 1);
    CHECK_INT_EQ(b->deps[0].channel, 0);
    CHECK_INT_EQ(b->deps[0].vsn, 10);
    /* the swap's last step takes "y", which b (channel 1) released */
    conflicts_check(c, a2, 0);
    CHECK_INT_EQ(a2->ndeps, 1);
    CHECK_INT_EQ(a2->deps[0].channel, 1);
    CHECK_INT_EQ(a2->deps[0].vsn, 11);
    /* delete then insert of a value; once the holder committed there is nothing to wait for */
    conflicts_check(c, d, 2);
    committed[2] = 13;
    conflicts_check(c, i, 3);
    CHECK_INT_EQ(i->ndeps, 0);
    /* same channel: order in the channel is enough */
    cdc_item *i2 = item(tm, "{\"vsn\":15,\"op\":\"d\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                            "\"key\":{\"id\":\"4\"},\"before_fields\":{\"id\":\"4\",\"code\":\"q\"},"
                            "\"exporter_role\":\"r\"}");
    conflicts_check(c, i2, 3);
    CHECK_INT_EQ(i2->ndeps, 0);
    CHECK(conflicts_size(c) >= 4);
    cdc_item_free(a);
    cdc_item_free(b);
    cdc_item_free(a2);
    cdc_item_free(d);
    cdc_item_free(i);
    cdc_item_free(i2);
    conflicts_free(c);
    table_meta_free(tm);
}

TEST(cdc_apply_route_group_sends_every_row_of_the_table_to_one_channel)
{
    table_meta *tm = uk_table();
    cdc_item *rows[8];
    char json[300];
    for (int k = 0; k < 8; k++) {
        snprintf(json, sizeof json,
                 "{\"vsn\":%d,\"op\":\"c\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                 "\"fields\":{\"id\":\"%d\",\"code\":\"c%d\"},\"exporter_role\":\"r\"}",
                 k + 1, k * 7 + 1, k);
        rows[k] = item(tm, json);
        CHECK(rows[k] != NULL);
    }
    /* by key, eight rows over 16 channels do not all meet */
    bool spread = false;
    for (int k = 1; k < 8; k++)
        spread = spread || cdc_route(rows[k], 16) != cdc_route(rows[0], 16);
    CHECK(spread);
    /* one group: one channel, and the same for every table of the group */
    tm->route_group = strdup("public\x1fparent");
    table_meta *other = uk_table();
    other->route_group = strdup("public\x1fparent");
    for (int n = 1; n <= 16; n++) {
        for (int k = 1; k < 8; k++)
            CHECK_INT_EQ(cdc_route(rows[k], n), cdc_route(rows[0], n));
        rows[0]->tm = other;
        CHECK_INT_EQ(cdc_route(rows[0], n), cdc_route(rows[1], n));
        rows[0]->tm = tm;
    }
    for (int k = 0; k < 8; k++)
        cdc_item_free(rows[k]);
    table_meta_free(other);
    table_meta_free(tm);
}

/* ---- a batch that fails for good keeps the low watermark below it ---- */

static bool fake_true(writer_session *s)
{
    (void)s;
    return true;
}
static bool fake_false(writer_session *s)
{
    (void)s;
    return false;
}
static bool fake_setup(writer_session *s, int channel, const char *uuid)
{
    (void)s, (void)channel, (void)uuid;
    return true;
}
static bool fake_apply_fails(writer_session *s, int64_t after, writer_item **items, size_t n,
                             writer_item **failed, strbuf *err)
{
    (void)s, (void)after, (void)items, (void)n;
    *failed = NULL;
    strbuf_append(err, "a check constraint refused the row");
    return false;
}
static bool fake_progress(writer_session *s, int64_t after, int64_t vsn)
{
    (void)s, (void)after, (void)vsn;
    return true;
}
static bool fake_progress_unknown(writer_session *s, const char *uuid, int channel, int64_t *vsn)
{
    (void)s, (void)uuid, (void)channel, (void)vsn;
    return false;
}
static const char *fake_error_line(writer_session *s)
{
    (void)s;
    return "a check constraint refused the row";
}
static char *fake_user(writer_session *s)
{
    (void)s;
    return strdup("\"u\"");
}
static void fake_close(writer_session *s) { free(s); }

/*
 * A fake writer's calls that every test here answers the same way; each test
 * sets apply_batch, apply_progress and progress.
 */
static writer_ops fake_ops(void)
{
    return (writer_ops){
        .type = "fake",
        .connected = fake_true,
        .retryable = fake_false,
        .unique_violation = fake_false,
        .error_line = fake_error_line,
        .user_ident = fake_user,
        .apply_setup = fake_setup,
        .close_session = fake_close,
    };
}

/* A session of ops on the target (channels_stop frees it through close_session). */
static writer_session *fake_session(const writer_ops *ops)
{
    writer_session *ws = calloc(1, sizeof *ws);
    ws->ops = ops;
    ws->role = DB_TARGET;
    return ws;
}

TEST(channels_low_watermark_stays_below_a_failed_batch)
{
    writer_ops ops = fake_ops();
    ops.apply_batch = fake_apply_fails;
    ops.apply_progress = fake_progress;
    ops.progress = fake_progress_unknown;
    writer_session *ws = fake_session(&ops);
    channel_set *s = channels_start(&ws, 1, "uuid", 10, NULL);
    CHECK(s != NULL);
    table_meta *tm = uk_table();
    cdc_item *it = item(tm, "{\"vsn\":7,\"op\":\"c\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                            "\"fields\":{\"id\":\"1\",\"code\":\"a\"},\"exporter_role\":\"r\"}");
    CHECK(it != NULL);
    channels_dispatch(s, 0, it);
    for (int i = 0; i < 5000 && !channels_failed(s); i++)
        usleep(1000);
    bool failed = channels_failed(s);
    /* the reader has read (and dispatched) vsn 7: what is committed ends before it */
    int64_t lw = channels_low_watermark(s, 7);
    channels_stop(s);
    table_meta_free(tm);
    CHECK(failed);
    CHECK_INT_EQ(lw, 6);
}

/*
 * ---- another session committed part of what the channel holds ----
 * The fake database's progress row moves as the writers' statement moves it:
 * only from the vsn a batch follows. An earlier session (a killed importer's
 * last transaction) moved it to db_progress before the channel's first batch.
 */
static int64_t db_progress;
static int64_t applied_vsns[64];
static int napplied;

static bool db_apply(writer_session *s, int64_t after, writer_item **items, size_t n,
                     writer_item **failed, strbuf *err)
{
    (void)s;
    *failed = NULL;
    if (after != db_progress) {
        strbuf_append(err, "stale batch");
        return false;
    }
    for (size_t i = 0; i < n && napplied < 64; i++)
        applied_vsns[napplied++] = items[i]->ev.vsn;
    db_progress = items[n - 1]->ev.vsn;
    return true;
}
static bool db_read_progress(writer_session *s, const char *uuid, int channel, int64_t *vsn)
{
    (void)s, (void)uuid, (void)channel;
    *vsn = db_progress;
    return true;
}

static void dispatch_range(channel_set *s, table_meta *tm, int from, int to)
{
    char json[300];
    for (int v = from; v <= to; v++) {
        snprintf(json, sizeof json,
                 "{\"vsn\":%d,\"op\":\"c\",\"schema_name\":\"public\",\"table_name\":\"uk\","
                 "\"fields\":{\"id\":\"%d\",\"code\":\"c%d\"},\"exporter_role\":\"r\"}",
                 v, v, v);
        channels_dispatch(s, 0, item(tm, json));
    }
}

TEST(channels_skip_what_another_session_committed)
{
    writer_ops ops = fake_ops();
    ops.apply_batch = db_apply;
    ops.apply_progress = fake_progress;
    ops.progress = db_read_progress;
    table_meta *tm = uk_table();
    /* the earlier session committed 1..4 of the 1..8 this run holds: 5..8 apply, once */
    writer_session *ws = fake_session(&ops);
    db_progress = 4;
    napplied = 0;
    channel_set *s = channels_start(&ws, 1, "uuid", 10, NULL);
    CHECK(s != NULL);
    dispatch_range(s, tm, 1, 8);
    CHECK(channels_drain(s));
    CHECK_INT_EQ(channels_committed(s, 0), 8);
    channels_stop(s);
    CHECK_INT_EQ(napplied, 4);
    CHECK_INT_EQ(applied_vsns[0], 5);
    CHECK_INT_EQ(applied_vsns[3], 8);
    CHECK_INT_EQ(db_progress, 8);

    /* it committed past everything read so far (1..12 of it): what arrives up to 12 is dropped */
    ws = fake_session(&ops);
    db_progress = 12;
    napplied = 0;
    s = channels_start(&ws, 1, "uuid", 3, NULL);
    CHECK(s != NULL);
    dispatch_range(s, tm, 1, 15);
    CHECK(channels_drain(s));
    CHECK_INT_EQ(channels_committed(s, 0), 15);
    CHECK(!channels_failed(s));
    channels_stop(s);
    CHECK_INT_EQ(napplied, 3);
    CHECK_INT_EQ(applied_vsns[0], 13);
    CHECK_INT_EQ(applied_vsns[2], 15);
    table_meta_free(tm);
}

/* An idle channel whose progress record is refused reads the progress: below what it had
 * committed (the database lost acknowledged commits), the apply stops, resumable. */
static bool beat_refused(writer_session *s, int64_t after, int64_t vsn)
{
    (void)s, (void)after, (void)vsn;
    return false;
}

TEST(channels_idle_record_finds_lost_commits)
{
    writer_ops ops = fake_ops();
    ops.apply_batch = db_apply;
    ops.apply_progress = beat_refused;
    ops.progress = db_read_progress;
    writer_session *ws = fake_session(&ops);
    channel_set *s = channels_start(&ws, 1, "uuid", 10, NULL);
    CHECK(s != NULL);
    channels_set_committed(s, 0, 10);
    db_progress = 5;
    channels_note_read(s, 20);
    for (int i = 0; i < 5000 && !channels_failed(s); i++)
        usleep(1000);
    CHECK(channels_failed(s));
    CHECK(channels_resumable(s));
    CHECK_INT_EQ(channels_committed(s, 0), 10);
    channels_stop(s);
}
