/*
 * The change stream of one exporter: from a pgoutput slot into the queue,
 * exactly once, until the cutover that ends this exporter's direction.
 * Shared by export data from source and export data from target.
 */
#ifndef VOYAGER_CDC_CDC_STREAM_H
#define VOYAGER_CDC_CDC_STREAM_H

#include "cdc/cdc_tables.h"
#include "core/engine.h"
#include "db/dbconf.h"
#include "db/pgconn.h"
#include "migration/cutover.h"

typedef struct cdc_stream_params {
    db_conf *conf;
    const char *slot;
    const char *publication;
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
 * Drop slot and publication (after the stream ended for good, or to start
 * over). False after a logged error; quiet about objects already gone.
 */
bool cdc_drop_slot_and_publication(pgconn *c, const char *slot, const char *publication);

/* QUEUE_SEGMENT_MAX_BYTES from the environment, else the default. */
long long cdc_segment_max_bytes(void);

#endif
