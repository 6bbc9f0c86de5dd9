/*
 * The exporter's side of the change queue (cdc/queue_format.h): appends event
 * lines to the current segment, makes them durable at transaction boundaries
 * (fsync, then one meta.db transaction recording the segment's committed
 * size, the per-table counts and the exporter's position), rotates segments
 * and writes the end-of-stream marker.
 *
 * Exactly-once: on open, the current segment is truncated to its committed
 * size, and qw_last_commit_lsn() tells the caller which source transactions
 * are already in the queue (commit LSN <= it).
 *
 * One writer per export dir at a time (the command lock guarantees it).
 */
#ifndef VOYAGER_CDC_QUEUE_WRITER_H
#define VOYAGER_CDC_QUEUE_WRITER_H

#include "catalog/catalog.h"
#include "core/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct queue_writer queue_writer;

/*
 * Open (creating the queue tables, the state row and the first segment when
 * needed). max_bytes: rotation size. NULL after a logged error. Caller frees
 * with qw_close().
 */
queue_writer *qw_open(catalog *m, const char *export_dir, const char *exporter_role,
                      long long max_bytes);
void qw_close(queue_writer *w);

/* The vsn the next event gets (strictly increasing across all segments, from 1). */
long long qw_next_vsn(const queue_writer *w);
/* Commit LSN of the last transaction recorded as durable (0: none yet). */
uint64_t qw_last_commit_lsn(const queue_writer *w);
/* Events recorded durable by this exporter role (all runs). */
long long qw_total_events(const queue_writer *w);
/* Has the stream of this role already ended with its end-of-stream marker? */
bool qw_stream_done(const queue_writer *w);
long long qw_segment_no(const queue_writer *w);

/*
 * Append one event line (with its newline) that took vsn qw_next_vsn(); op is
 * 'c', 'u', 'd' (counted per table) or 0 (not counted).
 */
bool qw_add_event(queue_writer *w, const char *line, size_t len, const char *schema,
                  const char *table, char op);
/*
 * The same without a copy: append the line at the end of qw_line_buffer(w)
 * (the writer's own buffer, valid until the next call of this writer), whose
 * length was start before, then qw_add_appended.
 */
strbuf *qw_line_buffer(queue_writer *w);
bool qw_add_appended(queue_writer *w, size_t start, const char *schema, const char *table, char op);
/* The transaction whose events were added since the last boundary committed at commit_lsn. */
void qw_end_tx(queue_writer *w, uint64_t commit_lsn);
/*
 * Forget events added since the last boundary (the stream is being restarted).
 * False (logged) when their bytes that reached the file could not be cut away:
 * the writer must not be used further (the next run cuts them).
 */
bool qw_discard_tx(queue_writer *w);
/* Are there boundaries not yet durable? */
bool qw_has_pending(const queue_writer *w);
/* Bytes written to the segment beyond its last boundary (the open transaction). */
long long qw_open_tx_bytes(const queue_writer *w);

/*
 * Make everything up to the last boundary durable: write, fsync, record in
 * meta.db. Then rotate when the segment reached the rotation size. Returns
 * false after a logged error (the caller stops; a restart recovers).
 */
bool qw_make_durable(queue_writer *w);

/*
 * Did the last failure come from a full file system (segment write or fsync,
 * or meta.db)? Then it was logged naming the path, with the hint to free space
 * and run again: nothing is damaged, a restart continues from the durable step.
 */
bool qw_no_space(const queue_writer *w);

/*
 * End the stream: append the end-of-stream event line (which took
 * qw_next_vsn()), make it durable, close the segment with the end-of-segment
 * marker and mark it is_last, and record stream_done for this role.
 */
bool qw_finish_stream(queue_writer *w, const char *marker_line, size_t len);

#endif
