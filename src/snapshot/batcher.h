/*
 * Splitting a data file into import batches by scanning for line ends only
 * (PostgreSQL text COPY escapes newlines inside values, so every raw '\n' ends
 * a row). A batch is a byte range of whole lines: at most max_rows rows and,
 * unless one row alone is bigger, at most max_bytes bytes.
 */
#ifndef VOYAGER_SNAPSHOT_BATCHER_H
#define VOYAGER_SNAPSHOT_BATCHER_H

#include "catalog/snapshot_state.h" /* batch_range, batch_plan: meta.db fixes each file's plan */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BATCH_DEFAULT_MAX_BYTES (200LL * 1024 * 1024)
#define BATCH_DEFAULT_MAX_ROW_BYTES (32LL * 1024 * 1024)

typedef enum batcher_result {
    BATCHER_OK = 0,
    BATCHER_IO_ERROR,     /* errno set */
    BATCHER_ROW_TOO_LARGE /* *bad_line names the row */
} batcher_result;

/*
 * Scan path. Rows longer than max_row_bytes (newline included) stop the
 * scan with BATCHER_ROW_TOO_LARGE and *bad_line set. A last line without a
 * newline counts as a row. Caller frees plan with batch_plan_free().
 */
batcher_result batcher_plan_file(const char *path, int64_t max_rows, int64_t max_bytes,
                                 int64_t max_row_bytes, batch_plan *plan, int64_t *bad_line);

/*
 * Environment overrides: CSV_READER_MAX_BUFFER_SIZE_BYTES, VOYAGER_BATCH_MAX_BYTES. A value
 * that is not a positive number of bytes is a warning naming the variable and the default used.
 */
int64_t batcher_max_row_bytes(void);
int64_t batcher_max_batch_bytes(void);

#endif
