/*
 * Reading the change queue (cdc/queue_format.h) as one importer: segments in
 * order, only those written by the exporter roles this importer consumes,
 * never past a segment's committed size (the tail is polled while the
 * exporter writes), the end-of-segment marker leading to the next segment.
 * Single-threaded; uses the caller's meta.db handle.
 */
#ifndef VOYAGER_CDC_QUEUE_READER_H
#define VOYAGER_CDC_QUEUE_READER_H

#include "catalog/catalog.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct queue_reader queue_reader;

typedef enum qr_status {
    QR_LINE,        /* line and len: one committed event line (without newline) */
    QR_SEGMENT_END, /* *segment_no finished (end-of-segment marker read) */
    QR_WAIT,        /* nothing committed beyond this point yet: poll again later */
    QR_ERROR,       /* logged */
} qr_status;

/*
 * importer_role selects the imported_by_<role> column: segments already marked
 * there are skipped whole (every event of them is committed). roles: the
 * exporter roles consumed, NULL-terminated; other segments are skipped
 * unread. Caller frees with queue_reader_close().
 */
queue_reader *queue_reader_open(catalog *m, const char *export_dir, const char *importer_role,
                                const char *const *roles);
void queue_reader_close(queue_reader *r);

/*
 * The next line. *line is valid until the next call. *segment_no: the segment
 * the line (or the end) belongs to.
 */
qr_status queue_reader_next(queue_reader *r, const char **line, size_t *len, int64_t *segment_no);

/*
 * Give back the memory a long line grew the buffer to, once it is consumed
 * (the line returned last is invalid after this). Also done on the next read.
 */
void queue_reader_trim(queue_reader *r);

/*
 * Hand the buffer holding the line returned last to the caller, instead of
 * copying a long line out of it. Returns the line's (writable) address,
 * which lies inside *block: a malloc'd block of *block_size bytes, now the
 * caller's, freed with free() once done with the line. The reader goes on in
 * a fresh buffer.
 */
char *queue_reader_take_line(queue_reader *r, void **block, size_t *block_size);

/*
 * Every event up to vsn is committed (for each channel of the importer): each
 * segment entered from now on is read from a line at or before the first
 * later event, found by bisection, not from its start. Vsns only grow along
 * the queue. queue_reader_take_skipped: the highest vsn the last such skip
 * passed over (0 if none since the last call), for the caller's own
 * order check.
 */
void queue_reader_skip_committed(queue_reader *r, int64_t vsn);
int64_t queue_reader_take_skipped(queue_reader *r);

/* Mark segment_no imported by this importer (every event committed on its database). */
bool queue_reader_mark_imported(queue_reader *r, int64_t segment_no);

#endif
