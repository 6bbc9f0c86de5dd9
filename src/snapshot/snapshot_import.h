/*
 * The snapshot importer: data files (from the descriptor, waiting for files
 * still being exported) are split into batches; --parallel-jobs connections
 * load each batch with COPY ... FROM STDIN in one transaction together with
 * its row in ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3, so
 * each batch commits exactly once whatever the crash point; a restart skips
 * the batches that have a row. Retryable errors are retried with backoff on a
 * fresh connection; any other error stops the import naming the table, the
 * batch and its lines.
 */
#ifndef VOYAGER_SNAPSHOT_SNAPSHOT_IMPORT_H
#define VOYAGER_SNAPSHOT_SNAPSHOT_IMPORT_H

#include "cli/cmd_ctx.h"
#include "db/dbconf.h"
#include "db/pgconn.h"

#include <stdbool.h>
#include <stdint.h>

#define IMPORT_METAINFO_TABLE "ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3"


typedef struct import_options {
    const char *importer_role;  /* target_db_importer | source_replica_db_importer */
    const char *done_key;       /* status-record flag set when the snapshot import is complete */
    int parallel;
    int64_t batch_rows;
    bool bars;
    bool start_clean;
    bool truncate_tables;
    bool enable_upsert;
    const char *target_endpoints;
    bool use_public_ip;
    /*
     * --start-clean, when set: clean_in_tx runs inside the transaction that
     * truncates the tables and forgets their batches (what else the import
     * must forget with them: the change apply's progress); clean_done after
     * the clean start is complete. Each returns false after logging.
     */
    bool (*clean_in_tx)(void *arg, pgconn *c);
    bool (*clean_done)(void *arg);
    void *clean_arg;
} import_options;

/*
 * Import the snapshot into the database of conf. Returns an exit code (errors
 * logged). Sets the sequences from the snapshot's values at the end.
 */
int snapshot_import_run(cmd_ctx *ctx, db_conf *conf, const import_options *o);

#endif
