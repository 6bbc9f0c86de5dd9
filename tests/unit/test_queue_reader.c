/* Reading queue segments (cdc/queue_reader.h) written by hand into a temp export dir. */
#include "testlib.h"

#include "cdc/queue_format.h"
#include "cdc/queue_reader.h"
#include "core/fsutil.h"
#include "catalog/catalog_int.h" /* unit tests may look at the tables directly */
#include "core/util.h"

#include <stdlib.h>

static void write_file(const char *dir, const char *rel, const char *text)
{
    char *p = xasprintf("%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    free(p);
}

/* A temp export dir with data/queue/ and its meta.db: what each test reads from. */
typedef struct fixture {
    char *dir;
    catalog *m;
} fixture;

static fixture fixture_open(void)
{
    fixture f = {test_tmpdir(), NULL};
    char *q = xasprintf("%s/data/queue", f.dir);
    fs_mkdir_p(q, 0700);
    free(q);
    char *mp = xasprintf("%s/meta.db", f.dir);
    f.m = catalog_open(mp);
    free(mp);
    return f;
}

static void fixture_close(fixture *f)
{
    catalog_close(f->m);
    free(f->dir);
}

static void seg_row(catalog *m, int no, const char *role, long long size, int closed)
{
    char *sql = xasprintf("INSERT OR REPLACE INTO queue_segment (segment_no, file_path, exporter_role, "
                          "committed_size, is_closed) VALUES (%d, 'data/queue/segment.%d.ndjson', '%s', "
                          "%lld, %d)",
                          no, no, role, size, closed);
    catalog_exec(m, sql);
    free(sql);
}

TEST(queue_reader_follows_segments_roles_and_committed_size)
{
    fixture fx = fixture_open();
    char *dir = fx.dir;
    catalog *m = fx.m;
    CHECK(m != NULL);
    const char *s0 = "{\"a\":1}\n{\"a\":2}\n\\.\n";
    write_file(dir, "data/queue/segment.0.ndjson", s0);
    write_file(dir, "data/queue/segment.1.ndjson", "{\"fb\":1}\n\\.\n");
    /* segment 2: two committed lines and an uncommitted third */
    write_file(dir, "data/queue/segment.2.ndjson", "{\"b\":1}\n{\"b\":2}\n{\"torn\":");
    seg_row(m, 0, "source_db_exporter", (long long)strlen(s0), 1);
    seg_row(m, 1, "target_db_exporter_fb", 12, 1);
    seg_row(m, 2, "source_db_exporter", 8, 0);
    const char *roles[] = {"source_db_exporter", NULL};
    queue_reader *r = queue_reader_open(m, dir, "target_db_importer", roles);
    CHECK(r != NULL);
    const char *line;
    size_t len;
    int64_t seg;
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
    CHECK_STR_EQ(line, "{\"a\":1}");
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
    CHECK_STR_EQ(line, "{\"a\":2}");
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_SEGMENT_END);
    CHECK_INT_EQ(seg, 0);
    /* segment 1 belongs to another exporter: skipped unread */
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
    CHECK_INT_EQ(seg, 2);
    CHECK_STR_EQ(line, "{\"b\":1}");
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_WAIT);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_WAIT);
    /* the writer commits the second line */
    seg_row(m, 2, "source_db_exporter", 16, 0);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
    CHECK_STR_EQ(line, "{\"b\":2}");
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_WAIT);
    CHECK(queue_reader_mark_imported(r, 0));
    queue_reader_close(r);

    /* a new reader skips the imported segment 0 */
    r = queue_reader_open(m, dir, "target_db_importer", roles);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
    CHECK_INT_EQ(seg, 2);
    queue_reader_close(r);

    /* the reader for fall-back reads only segment 1 */
    const char *fb[] = {"target_db_exporter_fb", NULL};
    r = queue_reader_open(m, dir, "source_db_importer", fb);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
    CHECK_INT_EQ(seg, 1);
    CHECK_STR_EQ(line, "{\"fb\":1}");
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_SEGMENT_END);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_WAIT);
    queue_reader_close(r);

    /* a registered segment with nothing committed and no file yet (writer killed between the
       two): wait, then read it once the writer made it */
    seg_row(m, 3, "source_db_exporter", 0, 0);
    catalog_exec(m, "UPDATE queue_segment SET is_closed = 1, committed_size = 20 WHERE segment_no = 2");
    write_file(dir, "data/queue/segment.2.ndjson", "{\"b\":1}\n{\"b\":2}\n\\.\n");
    r = queue_reader_open(m, dir, "target_db_importer", roles);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_SEGMENT_END);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_WAIT);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_WAIT);
    write_file(dir, "data/queue/segment.3.ndjson", "{\"c\":1}\n");
    seg_row(m, 3, "source_db_exporter", 8, 0);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
    CHECK_INT_EQ(seg, 3);
    CHECK_STR_EQ(line, "{\"c\":1}");
    queue_reader_close(r);

    /* a missing segment file is an error naming it */
    char *p = xasprintf("%s/data/queue/segment.0.ndjson", dir);
    remove(p);
    free(p);
    catalog_exec(m, "UPDATE queue_segment SET imported_by_target_db_importer = 0");
    r = queue_reader_open(m, dir, "target_db_importer", roles);
    CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_ERROR);
    queue_reader_close(r);
    fixture_close(&fx);
}

/*
 * Lines longer than the reader's 1 MiB reads, between short ones, committed in parts:
 * each comes back whole, the short ones around them too, whether the buffer is given
 * back (queue_reader_trim) right after a long line or not, or handed over with the line
 * (queue_reader_take_line: the line stays whole in it while the reader reads on).
 */
TEST(queue_reader_long_lines)
{
    fixture fx = fixture_open();
    char *dir = fx.dir;
    catalog *m = fx.m;
    CHECK(m != NULL);
    size_t big = (size_t)3 << 20, big2 = ((size_t)5 << 20) + 7;
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "{\"a\":1}\n");
    for (size_t i = 0; i < big; i++)
        strbuf_append_char(&sb, (char)('a' + i % 26));
    strbuf_append(&sb, "\n{\"a\":2}\n");
    size_t first_two = sb.len;
    for (size_t i = 0; i < big2; i++)
        strbuf_append_char(&sb, (char)('A' + i % 26));
    strbuf_append(&sb, "\n{\"a\":3}\n\\.\n");
    char *p = xasprintf("%s/data/queue/segment.0.ndjson", dir);
    FILE *f = fopen(p, "w");
    fwrite(sb.data, 1, sb.len, f);
    fclose(f);
    free(p);
    /* committed: the first short line and half of the long one */
    seg_row(m, 0, "source_db_exporter", (long long)(8 + big / 2), 0);
    const char *roles[] = {"source_db_exporter", NULL};
    for (int trim = 0; trim < 3; trim++) {
        void *block = NULL;
        size_t block_size = 0;
        char *taken = NULL;
        queue_reader *r = queue_reader_open(m, dir, "target_db_importer", roles);
        const char *line;
        size_t len;
        int64_t seg;
        CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
        CHECK_STR_EQ(line, "{\"a\":1}");
        if (!trim) {
            CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_WAIT);
            seg_row(m, 0, "source_db_exporter", (long long)first_two, 0);
        }
        CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
        CHECK_INT_EQ(len, big);
        CHECK(len == big && line[0] == 'a' && line[big - 1] == (char)('a' + (big - 1) % 26));
        if (trim == 1)
            queue_reader_trim(r);
        if (trim == 2) {
            taken = queue_reader_take_line(r, &block, &block_size);
            CHECK(taken == line && block_size >= big + 1);
            taken[0] = '!'; /* the caller's to change */
        }
        CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
        CHECK_STR_EQ(line, "{\"a\":2}");
        if (!trim) {
            CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_WAIT);
            seg_row(m, 0, "source_db_exporter", (long long)sb.len, 1);
        }
        CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
        CHECK(len == big2 && line[0] == 'A' && line[big2 - 1] == (char)('A' + (big2 - 1) % 26));
        if (trim == 1)
            queue_reader_trim(r);
        if (taken) {
            CHECK(taken[0] == '!' && taken[1] == 'b' &&
                  taken[big - 1] == (char)('a' + (big - 1) % 26) && taken[big] == '\0');
            free(block);
        }
        CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_LINE);
        CHECK_STR_EQ(line, "{\"a\":3}");
        CHECK_INT_EQ(queue_reader_next(r, &line, &len, &seg), QR_SEGMENT_END);
        queue_reader_close(r);
    }
    strbuf_free(&sb);
    fixture_close(&fx);
}

/*
 * A segment archive changes moved is read from its archive location: a file
 * there that is not the segment meta.db recorded (another queue's: another
 * first vsn, or the same first vsn and another size) is refused, not read.
 */
TEST(queue_reader_refuses_an_archived_file_of_another_queue)
{
    fixture fx = fixture_open();
    char *dir = fx.dir;
    catalog *m = fx.m;
    CHECK(m != NULL);
    const char *ours = "{\"vsn\":5,\"op\":\"c\"}\n{\"vsn\":6,\"op\":\"c\"}\n\\.\n";
    const char *cases[][2] = {
        {"{\"vsn\":9,\"op\":\"c\"}\n{\"vsn\":10,\"op\":\"c\"}\n\\.\n", "another first vsn"},
        {"{\"vsn\":5,\"op\":\"c\"}\n{\"vsn\":6,\"op\":\"c\",\"x\":1}\n\\.\n", "another size"},
        {"not an event\n", "no event"},
        {ours, NULL},
    };
    char *loc = xasprintf("%s/archived.0", dir);
    char *sql = xasprintf("INSERT INTO queue_segment (segment_no, file_path, exporter_role, "
                          "committed_size, first_vsn, last_vsn, is_closed, archived, "
                          "archive_location) VALUES (0, 'data/queue/segment.0.ndjson', "
                          "'source_db_exporter', %zu, 5, 6, 1, 1, '%s')",
                          strlen(ours), loc);
    CHECK(catalog_exec(m, sql));
    const char *roles[] = {"source_db_exporter", NULL};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(dir, "archived.0", cases[i][0]);
        queue_reader *r = queue_reader_open(m, dir, "source_replica_db_importer", roles);
        const char *line;
        size_t len;
        int64_t seg;
        qr_status st = queue_reader_next(r, &line, &len, &seg);
        if (cases[i][1]) {
            CHECK_INT_EQ(st, QR_ERROR);
        } else {
            CHECK_INT_EQ(st, QR_LINE);
            CHECK_STR_EQ(line, "{\"vsn\":5,\"op\":\"c\"}");
        }
        queue_reader_close(r);
    }
    free(sql);
    free(loc);
    fixture_close(&fx);
}
