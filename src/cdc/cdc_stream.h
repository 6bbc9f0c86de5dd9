/*
 * The change stream of one exporter: from a pgoutput slot into the queue,
 * exactly once, until the cutover that ends this exporter's direction.
 * Shared by export data from source and export data from target.
 */
#ifndef VOYAGER_CDC_CDC_STREAM_H
#define VOYAGER_CDC_CDC_STREAM_H

#include "cdc/cdc_tables.h"
#include "cli/cmd_ctx.h"
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
} cdc_stream_params;

/* Runs until the cutover is processed (EXIT_OK) or an error / interruption. */
int cdc_stream_run(cmd_ctx *ctx, const cdc_stream_params *p);

/* Drop slot and publication (after the stream ended for good). Warns on failure. */
void cdc_drop_slot_and_publication(pgconn *c, const char *slot, const char *publication);

/* QUEUE_SEGMENT_MAX_BYTES from the environment, else the default. */
long long cdc_segment_max_bytes(void);

#endif
