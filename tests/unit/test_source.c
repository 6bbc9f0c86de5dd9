/* The source seam's choice of driver, and the queue rows' accessors the exporter relies on. */
#include "catalog/queue_meta.h"
#include "core/util.h"
#include "source/source.h"
#include "testlib.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

TEST(source_for_refuses_a_type_this_build_lacks)
{
    static volatile sig_atomic_t stop = 0;
    engine_ctx eng = {.export_dir = "/nonexistent", .interrupted = &stop};
    db_conf conf = {.role = DB_SOURCE, .type = "oracle"};
    engine_status st = ENGINE_OK;
    CHECK(source_for(&eng, &conf, "export data from source", &st) == NULL);
    CHECK(st == ENGINE_NOT_SUPPORTED);
    conf.type = NULL;
    st = ENGINE_OK;
    CHECK(source_for(&eng, &conf, "export data from source", &st) == NULL);
    CHECK(st == ENGINE_BAD_INPUT);
    conf.type = "postgresql";
    source *s = source_for(&eng, &conf, "export data from source", &st);
    CHECK(s != NULL);
    /*
     * The engines call every entry without checking for NULL (the feed's are
     * all-or-none: a source without change capture leaves them all NULL).
     */
    const source_ops *o = s->ops;
    CHECK(o->position_name && o->feed_noun && o->format_position);
    CHECK(o->connect && o->resolve_schemas && o->list_tables && o->snapshot_begin && o->snapshot_end);
    CHECK(o->read_sequences && o->rows_parts && o->rows_open && o->rows_read && o->rows_close);
    CHECK(o->feed_init && o->feed_find && o->feed_prepare && o->feed_create &&
          o->feed_release_snapshot && o->feed_drop);
    CHECK(o->feed_connect && o->feed_silence_ms && o->feed_poll && o->feed_confirm &&
          o->feed_drain_point && o->feed_read_sequences && o->feed_disconnect && o->close);
    source_close(s); /* never connected: nothing to end */
    /* The target after cutover is read as PostgreSQL, whatever the source's type. */
    conf.type = "oracle";
    s = source_for_target(&eng, &conf);
    CHECK(s != NULL && strcmp(s->ops->type, "postgresql") == 0);
    source_close(s);
}

TEST(queue_meta_exporter_row_round_trip)
{
    char *dir = test_tmpdir();
    char *p = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(p);
    free(p);
    if (!m)
        free(dir);
    CHECK(m != NULL);
    qm_exporter e;
    CHECK(qm_exporter_get(m, "source_db_exporter", &e) && !e.found);
    CHECK(qm_exporter_init(m, "source_db_exporter") && qm_exporter_init(m, "source_db_exporter"));
    CHECK(qm_exporter_record(m, "source_db_exporter", "slot", "pub", "[]", true));
    CHECK(qm_exporter_set_snapshot_done(m, "source_db_exporter"));
    CHECK(qm_exporter_get(m, "source_db_exporter", &e) && e.found && e.snapshot_done && !e.stream_done);
    CHECK(e.slot && strcmp(e.slot, "slot") == 0 && e.tables_json && strcmp(e.tables_json, "[]") == 0);
    qm_exporter_free(&e);
    qm_tail t;
    CHECK(qm_queue_tail(m, "source_db_exporter", &t) && t.seg_no == -1);
    CHECK(qm_segment_insert(m, 0, "data/queue/segment.0.ndjson", "source_db_exporter"));
    qm_count c = {"public", "t", 2, 1, 0};
    qm_step s = {.role = "source_db_exporter", .seg_no = 0, .committed_size = 10, .first_vsn = 1,
                 .last_vsn = 3, .seg_events = 3, .commit_lsn = 99, .added_events = 3, .counts = &c,
                 .ncounts = 1};
    CHECK(qm_record_step(m, &s));
    CHECK(qm_queue_tail(m, "source_db_exporter", &t) && t.seg_no == 0 && t.max_vsn == 3 &&
          t.committed_size == 10 && !t.is_closed && t.role_matches);
    /* a segment closed in passing: the next one's row comes with it, the stream goes on */
    CHECK(qm_segment_close(m, "source_db_exporter", 0, 12, "data/queue/segment.1.ndjson"));
    CHECK(qm_queue_tail(m, "source_db_exporter", &t) && t.seg_no == 1 && !t.is_closed);
    CHECK(qm_exporter_get(m, "source_db_exporter", &e) && !e.stream_done);
    qm_exporter_free(&e);
    /* the end marker's step closes the last segment and ends the stream in one transaction */
    qm_step end = {.role = "source_db_exporter", .seg_no = 1, .committed_size = 40, .first_vsn = 4,
                   .last_vsn = 4, .seg_events = 1, .commit_lsn = 99, .added_events = 1,
                   .ends_stream = true};
    CHECK(qm_record_step(m, &end));
    CHECK(qm_queue_tail(m, "source_db_exporter", &t) && t.seg_no == 1 && t.is_closed &&
          t.committed_size == 40 && t.max_vsn == 4);
    CHECK(qm_exporter_get(m, "source_db_exporter", &e) && e.stream_done && e.last_commit_lsn == 99 &&
          e.total_events == 4);
    qm_exporter_free(&e);
    CHECK(qm_queue_reset(m));
    CHECK(qm_queue_tail(m, "source_db_exporter", &t) && t.seg_no == -1);
    catalog_close(m);
    free(dir);
}
