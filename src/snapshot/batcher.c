#include "snapshot/batcher.h"

#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCAN_BUFFER_BYTES (4 * 1024 * 1024)

static void push(batch_plan *p, int64_t start, int64_t end, int64_t first_line, int64_t rows)
{
    p->items = xrealloc(p->items, (p->count + 1) * sizeof *p->items);
    p->items[p->count] = (batch_range){(int64_t)p->count + 1, start, end, first_line, rows};
    p->count++;
}

batcher_result batcher_plan_file(const char *path, int64_t max_rows, int64_t max_bytes,
                                 int64_t max_row_bytes, batch_plan *plan, int64_t *bad_line)
{
    memset(plan, 0, sizeof *plan);
    *bad_line = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return BATCHER_IO_ERROR;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    char *buf = xmalloc(SCAN_BUFFER_BYTES);
    int64_t off = 0;          /* file offset of buf[0] */
    int64_t line_start = 0;   /* offset where the current row starts */
    int64_t line_no = 1;      /* of the current row */
    int64_t b_start = 0, b_first = 1, b_rows = 0;
    batcher_result res = BATCHER_OK;
    for (;;) {
        ssize_t n = read(fd, buf, SCAN_BUFFER_BYTES);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            res = BATCHER_IO_ERROR;
            break;
        }
        if (n == 0)
            break;
        char *p = buf, *end = buf + n;
        while (p < end) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) {
                if (off + n - line_start > max_row_bytes) {
                    res = BATCHER_ROW_TOO_LARGE;
                    *bad_line = line_no;
                }
                break;
            }
            int64_t row_end = off + (nl - buf) + 1;
            if (row_end - line_start > max_row_bytes) {
                res = BATCHER_ROW_TOO_LARGE;
                *bad_line = line_no;
                break;
            }
            /* Close the batch before a row that would push it over the byte cap. */
            if (b_rows > 0 && row_end - b_start > max_bytes) {
                push(plan, b_start, line_start, b_first, b_rows);
                b_start = line_start;
                b_first = line_no;
                b_rows = 0;
            }
            b_rows++;
            line_start = row_end;
            line_no++;
            if (b_rows >= max_rows) {
                push(plan, b_start, row_end, b_first, b_rows);
                b_start = row_end;
                b_first = line_no;
                b_rows = 0;
            }
            p = nl + 1;
        }
        if (res != BATCHER_OK)
            break;
        off += n;
    }
    if (res == BATCHER_OK) {
        if (off > line_start) { /* a last row without its newline */
            b_rows++;
            line_start = off;
        }
        if (b_rows > 0)
            push(plan, b_start, line_start, b_first, b_rows);
    }
    int saved = errno;
    free(buf);
    close(fd);
    errno = saved;
    if (res != BATCHER_OK)
        batch_plan_free(plan);
    return res;
}


/* A positive byte count from the environment; a value that is none is a warning, and def is used. */
static int64_t env_int(const char *name, int64_t def)
{
    const char *e = getenv(name);
    int64_t v;
    if (!e || !*e)
        return def;
    if (parse_int64(e, 1, INT64_MAX, &v))
        return v;
    log_warn("%s=%s is not a positive number of bytes; using the default, %lld", name, e, (long long)def);
    return def;
}

int64_t batcher_max_row_bytes(void)
{
    return env_int("CSV_READER_MAX_BUFFER_SIZE_BYTES", BATCH_DEFAULT_MAX_ROW_BYTES);
}

int64_t batcher_max_batch_bytes(void) { return env_int("VOYAGER_BATCH_MAX_BYTES", BATCH_DEFAULT_MAX_BYTES); }
