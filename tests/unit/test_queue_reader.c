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
    char *dir = test_tmpdir();
    char *q = xasprintf("%s/data/queue", dir);
    fs_mkdir_p(q, 0700);
    char *mp = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(mp);
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
    catalog_close(m);
    free(mp);
    free(q);
    free(dir);
}
