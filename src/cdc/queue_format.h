/*
 * The change queue under <export-dir>/data/queue/: the contract between every
 * exporter (writer) and every importer (reader), and archive changes.
 *
 * Files: data/queue/segment.<N>.ndjson, N = 0, 1, 2, ... across the whole
 * migration (exporters after cutover continue the numbering). One event a line
 * (SPEC.md "CDC event"), vsn strictly increasing across all segments from 1.
 *
 * Durability: a writer appends, fsyncs, and only then records the segment's
 * committed size in meta.db (queue_segment). A reader never reads a segment
 * past its committed size: bytes beyond it may be truncated away by a
 * restarting writer.
 *
 * Markers (whole lines):
 *   end of segment: QUEUE_EOF_MARKER, last line of a rotated segment; the
 *     reader moves on to segment N+1.
 *   end of stream:  {"vsn":N,"op":"cutover.target"|"cutover.source"|
 *     "cutover.source_replica","exporter_role":R} written by an exporter that
 *     drained before a cutover; the segment is then closed with QUEUE_EOF_MARKER
 *     and marked is_last. An importer that applied it acknowledges the cutover.
 */
#ifndef VOYAGER_CDC_QUEUE_FORMAT_H
#define VOYAGER_CDC_QUEUE_FORMAT_H

#define QUEUE_DIR "data/queue"
#define QUEUE_SEGMENT_FMT "data/queue/segment.%lld.ndjson"
#define QUEUE_EOF_MARKER "\\."
#define QUEUE_DEFAULT_SEGMENT_MAX_BYTES (1024LL * 1024 * 1024)

#define QUEUE_OP_INSERT "c"
#define QUEUE_OP_UPDATE "u"
#define QUEUE_OP_DELETE "d"
/*
 * TRUNCATE of a captured table: {"vsn":N,"op":"t","schema_name":s,
 * "table_name":t,"exporter_role":R}, one event per table the TRUNCATE named
 * (CASCADE lists them all). Beyond SPEC's c/u/d (Debezium's letter); an
 * importer applies it alone, after every earlier event and before any later.
 */
#define QUEUE_OP_TRUNCATE "t"
#define QUEUE_OP_CUTOVER_TARGET "cutover.target"
#define QUEUE_OP_CUTOVER_SOURCE "cutover.source"
#define QUEUE_OP_CUTOVER_SOURCE_REPLICA "cutover.source_replica"

#endif
