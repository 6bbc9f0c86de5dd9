/* Queue writer: durable boundaries, truncate-on-restart, rotation, end of stream. */
#include "cdc/queue_format.h"
#include "cdc/queue_writer.h"
#include "core/fsutil.h"
#include "catalog/catalog_int.h" /* unit tests may look at the tables directly */
#include "core/util.h"
#include "testlib.h"

#include <stdlib.h>
#include <sys/stat.h>

static long long q1(catalog *m, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(catalog_sqlite(m), sql, -1, &st, NULL) != SQLITE_OK)
        return -2;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static long long file_size(const char *dir, int seg)
{
    char *p = xasprintf("%s/data/queue/segment.%d.ndjson", dir, seg);
    struct stat sb;
    long long n = stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
    free(p);
    return n;
}

static bool add(queue_writer *w, const char *table, char op)
{
    char *line = xasprintf("{\"vsn\":%lld,\"op\":\"%c\"}\n", qw_next_vsn(w), op);
    bool ok = qw_add_event(w, line, strlen(line), "public", table, op);
    free(line);
    return ok;
}

static catalog *open_meta(const char *dir)
{
    char *p = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(p);
    free(p);
    return m;
}

TEST(queue_writer_durable_boundary_and_restart_truncate)
{
    char *dir = test_tmpdir();
    catalog *m = open_meta(dir);
    CHECK(m);
    queue_writer *w = qw_open(m, dir, "source_db_exporter", 1 << 20);
    CHECK(w);
    CHECK_INT_EQ(qw_next_vsn(w), 1);
    CHECK_INT_EQ(qw_last_commit_lsn(w), 0);
    CHECK(add(w, "a", 'c') && add(w, "a", 'u') && add(w, "b", 'd'));
    qw_end_tx(w, 1000);
    CHECK(qw_has_pending(w));
    CHECK(qw_make_durable(w));
    CHECK(!qw_has_pending(w));
    long long committed = q1(m, "SELECT committed_size FROM queue_segment WHERE segment_no = 0");
    CHECK_INT_EQ(committed, file_size(dir, 0));
    CHECK_INT_EQ(q1(m, "SELECT last_vsn FROM queue_segment"), 3);
    CHECK_INT_EQ(q1(m, "SELECT first_vsn FROM queue_segment"), 1);
    CHECK_INT_EQ(q1(m, "SELECT total_events FROM queue_segment"), 3);
    CHECK_INT_EQ(q1(m, "SELECT num_inserts + num_updates FROM queue_table_counts WHERE table_name = 'a'"), 2);
    CHECK_INT_EQ(q1(m, "SELECT num_deletes FROM queue_table_counts WHERE table_name = 'b'"), 1);
    CHECK_INT_EQ(q1(m, "SELECT last_commit_lsn FROM cdc_exporter_state"), 1000);
    /* A transaction written but not committed, and one committed but not durable: a crash. */
    CHECK(add(w, "a", 'c'));
    qw_end_tx(w, 2000);
    CHECK(add(w, "a", 'c'));
    CHECK(add(w, "a", 'c'));
    qw_close(w); /* buffered bytes are simply lost, as in a crash */
    /* Bytes beyond the committed size (as a crash after write, before record leaves them). */
    char *p = xasprintf("%s/data/queue/segment.0.ndjson", dir);
    FILE *f = fopen(p, "a");
    CHECK(f);
    fputs("{\"vsn\":4,\"op\":\"c\"}\n{\"vsn\":5,", f);
    fclose(f);
    CHECK(file_size(dir, 0) > committed);
    w = qw_open(m, dir, "source_db_exporter", 1 << 20);
    CHECK(w);
    CHECK_INT_EQ(file_size(dir, 0), committed);
    CHECK_INT_EQ(qw_next_vsn(w), 4);
    CHECK_INT_EQ(qw_last_commit_lsn(w), 1000);
    CHECK_INT_EQ(qw_total_events(w), 3);
    CHECK(add(w, "a", 'c'));
    qw_end_tx(w, 2000);
    CHECK(qw_make_durable(w));
    char *text = NULL;
    size_t len = 0;
    CHECK(fs_read_all(p, &text, &len));
    CHECK_STR_EQ(text, "{\"vsn\":1,\"op\":\"c\"}\n{\"vsn\":2,\"op\":\"u\"}\n{\"vsn\":3,\"op\":\"d\"}\n"
                       "{\"vsn\":4,\"op\":\"c\"}\n");
    free(text);
    /* Discarding an open transaction restores vsn and size. */
    CHECK(add(w, "a", 'c'));
    CHECK(qw_discard_tx(w));
    CHECK_INT_EQ(qw_next_vsn(w), 5);
    CHECK_INT_EQ(qw_open_tx_bytes(w), 0);
    qw_close(w);
    free(p);
    catalog_close(m);
    free(dir);
}

TEST(queue_writer_rotation_and_end_of_stream)
{
    char *dir = test_tmpdir();
    catalog *m = open_meta(dir);
    CHECK(m);
    queue_writer *w = qw_open(m, dir, "source_db_exporter", 60);
    CHECK(w);
    /* Each event line is about 20 bytes: rotation after the transaction that passes 60. */
    for (int tx = 0; tx < 5; tx++) {
        CHECK(add(w, "t", 'c') && add(w, "t", 'c'));
        qw_end_tx(w, 100 + (uint64_t)tx);
        CHECK(qw_make_durable(w));
    }
    long long nseg = q1(m, "SELECT count(*) FROM queue_segment");
    CHECK(nseg >= 3);
    CHECK_INT_EQ(q1(m, "SELECT count(*) FROM queue_segment WHERE is_closed = 1"), nseg - 1);
    /* vsn ranges are contiguous across segments. */
    CHECK_INT_EQ(q1(m, "SELECT count(*) FROM queue_segment a JOIN queue_segment b "
                       "ON b.segment_no = a.segment_no + 1 WHERE b.first_vsn IS NOT NULL "
                       "AND b.first_vsn <> a.last_vsn + 1"),
                 0);
    CHECK_INT_EQ(q1(m, "SELECT committed_size FROM queue_segment WHERE segment_no = 0"), file_size(dir, 0));
    char *p0 = xasprintf("%s/data/queue/segment.0.ndjson", dir);
    char *text = NULL;
    size_t len = 0;
    CHECK(fs_read_all(p0, &text, &len));
    CHECK(str_ends_with(text, "\n" QUEUE_EOF_MARKER "\n"));
    free(text);
    free(p0);
    CHECK(qw_finish_stream(w, "{\"vsn\":11,\"op\":\"cutover.target\"}\n", 34));
    CHECK(qw_stream_done(w));
    CHECK_INT_EQ(q1(m, "SELECT count(*) FROM queue_segment WHERE is_last = 1"), 1);
    CHECK_INT_EQ(q1(m, "SELECT MAX(last_vsn) FROM queue_segment"), 11);
    CHECK_INT_EQ(q1(m, "SELECT count(*) FROM queue_segment WHERE is_closed = 0"), 0);
    qw_close(w);
    /* After the end of stream: that exporter writes nothing more; another continues numbering. */
    w = qw_open(m, dir, "source_db_exporter", 60);
    CHECK(w && qw_stream_done(w));
    qw_close(w);
    w = qw_open(m, dir, "target_db_exporter_fb", 60);
    CHECK(w && !qw_stream_done(w));
    CHECK_INT_EQ(qw_next_vsn(w), 12);
    CHECK_INT_EQ(qw_segment_no(w), nseg);
    CHECK_INT_EQ(qw_last_commit_lsn(w), 0);
    CHECK(add(w, "t", 'c'));
    qw_end_tx(w, 500);
    CHECK(qw_make_durable(w));
    qw_close(w);
    /*
     * The ended exporter run again while the other one's segment is open (a way
     * back): still done, not refused, and its last vsn is its own marker's.
     */
    CHECK_INT_EQ(q1(m, "SELECT count(*) FROM queue_segment WHERE is_closed = 0"), 1);
    w = qw_open(m, dir, "source_db_exporter", 60);
    CHECK(w && qw_stream_done(w));
    CHECK_INT_EQ(qw_next_vsn(w), 12);
    qw_close(w);
    catalog_close(m);
    free(dir);
}

TEST(queue_writer_refuses_a_segment_open_for_another_exporter)
{
    char *dir = test_tmpdir();
    catalog *m = open_meta(dir);
    CHECK(m);
    queue_writer *w = qw_open(m, dir, "source_db_exporter", 1 << 20);
    CHECK(w);
    qw_close(w);
    CHECK(qw_open(m, dir, "target_db_exporter_fb", 1 << 20) == NULL);
    catalog_close(m);
    free(dir);
}

#include "cdc/export_metrics.h"

TEST(export_metrics_rates_over_windows)
{
    export_metrics m;
    export_metrics_init(&m, false, 100);
    /* Hand-made samples: 10 events/s for the last 3 minutes, nothing before (12 min ago start). */
    int64_t now = 1000000;
    m.nsamples = 0;
    m.head = -1;
    for (int i = 0; i <= 144; i++) { /* 144 samples, 5 s apart = 12 min */
        m.head = (m.head + 1) % EXPORT_METRICS_SAMPLES;
        int64_t t = now - (144 - i) * 5000LL;
        m.sample_ms[m.head] = t;
        m.sample_n[m.head] = (144 - i) <= 36 ? (36 - (144 - i)) * 50LL : 0; /* 10/s over the last 180 s */
        if (m.nsamples < EXPORT_METRICS_SAMPLES)
            m.nsamples++;
    }
    m.run_events = 1800;
    double r3 = export_metrics_rate(&m, now, 3 * 60 * 1000);
    double r10 = export_metrics_rate(&m, now, 10 * 60 * 1000);
    CHECK(r3 > 9.9 && r3 < 10.1);
    CHECK(r10 > 2.9 && r10 < 3.1); /* 1800 events over 600 s */
}

/* A lost or replaced meta.db: the segment it does not know is never cut (issue 11, defect 7). */
TEST(queue_writer_never_cuts_a_segment_meta_db_does_not_know)
{
    char *dir = test_tmpdir();
    char *qdir = xasprintf("%s/data/queue", dir);
    CHECK(fs_mkdir_p(qdir, 0700));
    char *seg = xasprintf("%s/segment.0.ndjson", qdir);
    const char *old = "{\"vsn\":1,\"op\":\"c\"}\n";
    CHECK(fs_write_atomic(seg, old, strlen(old)));
    catalog *m = open_meta(dir);
    CHECK(m);
    queue_writer *w = qw_open(m, dir, "source_db_exporter", 1 << 20);
    CHECK(w == NULL);
    CHECK_INT_EQ(file_size(dir, 0), (long long)strlen(old));
    CHECK_INT_EQ(q1(m, "SELECT count(*) FROM queue_segment"), 0);
    catalog_close(m);
    free(seg);
    free(qdir);
    free(dir);
}

/* A line of a big row goes to the file unbuffered, in order with the small ones around it. */
TEST(queue_writer_big_line_in_order_and_discarded_with_its_transaction)
{
    char *dir = test_tmpdir();
    catalog *m = open_meta(dir);
    CHECK(m);
    queue_writer *w = qw_open(m, dir, "source_db_exporter", 64 << 20);
    CHECK(w);
    size_t big_len = (3u << 20) + 1;
    char *big = xmalloc(big_len);
    memset(big, 'x', big_len - 1);
    big[big_len - 1] = '\n';
    CHECK(add(w, "a", 'c'));
    CHECK(qw_add_event(w, big, big_len, "public", "a", 'u'));
    CHECK(add(w, "a", 'd'));
    qw_end_tx(w, 100);
    CHECK(qw_make_durable(w));
    long long committed = q1(m, "SELECT committed_size FROM queue_segment WHERE segment_no = 0");
    CHECK_INT_EQ(committed, file_size(dir, 0));
    CHECK_INT_EQ(q1(m, "SELECT total_events FROM queue_segment"), 3);
    /* An open transaction with a big line, discarded: the file is cut back to the boundary. */
    CHECK(add(w, "a", 'c'));
    CHECK(qw_add_event(w, big, big_len, "public", "a", 'u'));
    CHECK(file_size(dir, 0) > committed);
    CHECK(qw_discard_tx(w));
    CHECK_INT_EQ(file_size(dir, 0), committed);
    CHECK_INT_EQ(qw_next_vsn(w), 4);
    CHECK(add(w, "a", 'c'));
    qw_end_tx(w, 200);
    CHECK(qw_make_durable(w));
    char *p = xasprintf("%s/data/queue/segment.0.ndjson", dir);
    char *text = NULL;
    size_t len = 0;
    CHECK(fs_read_all(p, &text, &len));
    const char *one = "{\"vsn\":1,\"op\":\"c\"}\n";
    size_t n1 = strlen(one);
    CHECK(len == n1 + big_len + 2 * n1);
    CHECK(text && memcmp(text, one, n1) == 0);
    CHECK(text && memcmp(text + n1, big, big_len) == 0);
    const char *tail = "{\"vsn\":3,\"op\":\"d\"}\n{\"vsn\":4,\"op\":\"c\"}\n";
    CHECK(text && memcmp(text + n1 + big_len, tail, 2 * n1) == 0);
    free(text);
    free(p);
    free(big);
    qw_close(w);
    catalog_close(m);
    free(dir);
}
