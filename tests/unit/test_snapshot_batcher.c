/* Splitting data files into batches by line scanning. */
#include "testlib.h"

#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"
#include "snapshot/batcher.h"

#include <stdio.h>
#include <stdlib.h>

static char *write_file(const char *data, size_t len)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/t_data.sql", dir);
    free(dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
    return path;
}

TEST(snapshot_batcher_rows_and_offsets)
{
    /* Escaped newlines (\n as two characters) are not row ends. */
    const char *data = "1\ta\\nb\n2\tc\n3\t\\N\n4\td\n5\te\n";
    char *path = write_file(data, strlen(data));
    batch_plan p;
    int64_t bad;
    CHECK(batcher_plan_file(path, 2, 1 << 20, 1 << 20, &p, &bad) == BATCHER_OK);
    CHECK_INT_EQ(p.count, 3);
    CHECK_INT_EQ(p.items[0].start_offset, 0);
    CHECK_INT_EQ(p.items[0].end_offset, 11);
    CHECK_INT_EQ(p.items[0].rows, 2);
    CHECK_INT_EQ(p.items[1].start_offset, 11);
    CHECK_INT_EQ(p.items[1].first_line, 3);
    CHECK_INT_EQ(p.items[2].rows, 1);
    CHECK_INT_EQ(p.items[2].number, 3);
    CHECK_INT_EQ(p.items[2].end_offset, (int64_t)strlen(data));
    batch_plan_free(&p);
    free(path);
}

TEST(snapshot_batcher_byte_cap_and_last_line)
{
    const char *data = "aaaa\nbbbb\ncccc\ndd"; /* last row without its newline */
    char *path = write_file(data, strlen(data));
    batch_plan p;
    int64_t bad;
    CHECK(batcher_plan_file(path, 100, 10, 1 << 20, &p, &bad) == BATCHER_OK);
    CHECK_INT_EQ(p.count, 2);
    CHECK_INT_EQ(p.items[0].rows, 2);
    CHECK_INT_EQ(p.items[0].end_offset, 10);
    CHECK_INT_EQ(p.items[1].rows, 2);
    CHECK_INT_EQ(p.items[1].end_offset, (int64_t)strlen(data));
    batch_plan_free(&p);
    free(path);
}

TEST(snapshot_batcher_row_too_large_names_line)
{
    char data[64];
    snprintf(data, sizeof data, "ok\nok\n%s\nok\n", "0123456789012345678901234567890");
    char *path = write_file(data, strlen(data));
    batch_plan p;
    int64_t bad = 0;
    CHECK(batcher_plan_file(path, 100, 1 << 20, 16, &p, &bad) == BATCHER_ROW_TOO_LARGE);
    CHECK_INT_EQ(bad, 3);
    CHECK(p.items == NULL);
    free(path);
}

TEST(snapshot_batcher_empty_and_missing_files)
{
    char *path = write_file("", 0);
    batch_plan p;
    int64_t bad;
    CHECK(batcher_plan_file(path, 10, 100, 100, &p, &bad) == BATCHER_OK);
    CHECK_INT_EQ(p.count, 0);
    batch_plan_free(&p);
    free(path);
    CHECK(batcher_plan_file("/nonexistent/x", 10, 100, 100, &p, &bad) == BATCHER_IO_ERROR);
}

TEST(snapshot_batcher_large_file_crosses_read_buffers)
{
    /* 600k rows of 10 bytes: several 4 MiB reads, rows straddling buffer edges. */
    size_t n = 600000, len = n * 10;
    char *data = xmalloc(len);
    for (size_t i = 0; i < n; i++) {
        memcpy(data + i * 10, "123456789", 9);
        data[i * 10 + 9] = '\n';
    }
    char *path = write_file(data, len);
    free(data);
    batch_plan p;
    int64_t bad;
    CHECK(batcher_plan_file(path, 20000, 1 << 30, 100, &p, &bad) == BATCHER_OK);
    CHECK_INT_EQ(p.count, 30);
    int64_t rows = 0;
    for (size_t i = 0; i < p.count; i++) {
        rows += p.items[i].rows;
        CHECK(i == 0 || p.items[i].start_offset == p.items[i - 1].end_offset);
    }
    CHECK_INT_EQ(rows, (int64_t)n);
    CHECK_INT_EQ(p.items[29].end_offset, (int64_t)len);
    batch_plan_free(&p);
    free(path);
}

/* CSV_READER_MAX_BUFFER_SIZE_BYTES that is no positive number: the default, and a warning naming both. */
TEST(snapshot_batcher_bad_max_row_env_warns)
{
    test_log_begin(LOG_INFO);
    static const char *const bad[] = {"64MB", "0", "-1"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        setenv("CSV_READER_MAX_BUFFER_SIZE_BYTES", bad[i], 1);
        CHECK_INT_EQ(batcher_max_row_bytes(), BATCH_DEFAULT_MAX_ROW_BYTES);
    }
    setenv("CSV_READER_MAX_BUFFER_SIZE_BYTES", "1000", 1);
    CHECK_INT_EQ(batcher_max_row_bytes(), 1000);
    setenv("CSV_READER_MAX_BUFFER_SIZE_BYTES", "", 1); /* empty: unset */
    CHECK_INT_EQ(batcher_max_row_bytes(), BATCH_DEFAULT_MAX_ROW_BYTES);
    unsetenv("CSV_READER_MAX_BUFFER_SIZE_BYTES");
    char *txt = test_log_end();
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        char *want = xasprintf("warn: CSV_READER_MAX_BUFFER_SIZE_BYTES=%s is not a positive number of "
                               "bytes; using the default, 33554432\n", bad[i]);
        CHECK(txt && strstr(txt, want));
        free(want);
    }
    CHECK(txt && !strstr(txt, "=1000") && !strstr(txt, "BYTES= "));
    free(txt);
}
