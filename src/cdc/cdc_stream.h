/*
 * The change stream of one exporter: from a source's change feed
 * (source/source.h, neutral records of source/change.h) into the queue,
 * exactly once, until the cutover that ends this exporter's direction.
 * Shared by export data from source and export data from target.
 */
#ifndef VOYAGER_CDC_CDC_STREAM_H
#define VOYAGER_CDC_CDC_STREAM_H

#include "cdc/cdc_tables.h"
#include "core/engine.h"
#include "migration/cutover.h"
#include "source/source.h"

typedef struct cdc_stream_params {
    source *src;           /* the feed's database, feed_init done; the engine connects it */
    const char *exporter_role;
    cutover_kind cutover;  /* the request that ends this stream */
    const char *end_op;    /* QUEUE_OP_CUTOVER_* */
    const char *done_key;  /* status-record flag set once the end marker is durable */
    const cdc_tables *tables;
    const strlist *seq_schemas; /* schemas whose sequences are handed over (with the tables') */
    bool progress_bars;         /* live metrics redrawn in place (a terminal, --disable-pb not set) */
    const char *command_name;   /* "export data from source": said when the stream is done */
} cdc_stream_params;

/*
 * Runs until the cutover is processed (ENGINE_OK) or an error / interruption
 * (ENGINE_BAD_STATE: resumable by running the same command again).
 */
engine_status cdc_stream_run(engine_ctx *eng, const cdc_stream_params *p);

/*
 * Append the event line (SPEC.md "CDC event", newline included) of a row
 * change (insert, update, delete) that takes vsn: the key from the row before
 * the change when the source sent it, else from the new row; an update's
 * fields are the columns it changed when the whole old row is known, else
 * every column sent; values not sent are left out. before_fields (update,
 * delete, whole old row known) holds only the old values ch->old_needed asks
 * for beyond the key (none: left out), or the whole old row when the feed
 * does not say.
 */
void cdc_event_append_change(strbuf *sb, long long vsn, const src_change *ch, const char *role);

/*
 * The same lines from an encoder that keeps, per src_change.shape_id, the
 * JSON of the table and of its column names (the exporter's; the output is
 * the same byte for byte). The encoder owns what it keeps.
 */
typedef struct cdc_encoder cdc_encoder;
cdc_encoder *cdc_encoder_new(const char *role);
void cdc_encoder_append(cdc_encoder *e, strbuf *sb, long long vsn, const src_change *ch);
void cdc_encoder_free(cdc_encoder *e);

/* QUEUE_SEGMENT_MAX_BYTES from the environment, else the default. */
long long cdc_segment_max_bytes(void);

#endif
