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

#include "core/engine.h"
#include "db/dbconf.h"
#include "source/writer.h"
#include "snapshot/table_list.h"

#include <stdbool.h>
#include <stdint.h>

#define IMPORT_METAINFO_TABLE "ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3"

/* What the snapshot import does, as the command's flags said (defaults applied). */
typedef struct snapshot_import_spec {
    db_conf *conf;              /* the database imported into; keeps a password entered at a prompt */
    const char *importer_role;  /* target_db_importer | source_replica_db_importer */
    const char *done_key;       /* status-record flag set when the snapshot import is complete */
    /*
     * Status-record flag set once this importer processed its cutover (NULL:
     * none). From then on the database is the primary and its sequences hold
     * the cutover's values or the application's: the snapshot's are not set again.
     */
    const char *cutover_done_key;
    int parallel_jobs;          /* connections loading batches (>= 1) */
    int64_t batch_rows;         /* rows per batch (>= 1) of the files not planned yet */
    /* the command was given its batch size: a warning names the files an earlier plan keeps */
    bool batch_rows_given;
    bool bars;                  /* progress bars, else periodic lines */
    bool start_clean;           /* forget this importer's progress on the selected tables */
    bool truncate_tables;       /* with start_clean: empty the tables first */
    bool enable_upsert;         /* YugabyteDB: load in upsert mode */
    const char *target_endpoints; /* YugabyteDB: host:port list to spread over; NULL: discover */
    bool use_public_ip;
    const table_patterns *include; /* the import's table list (empty: every exported table) */
    const table_patterns *exclude;
    /*
     * start_clean without truncate_tables, when tables are not empty: may the
     * import load into them? (The command asks the operator.) NULL answers no.
     */
    bool (*confirm)(void *arg, const char *question);
    void *confirm_arg;
    /*
     * start_clean, when set: clean_in_tx runs inside the transaction that
     * truncates the tables and forgets their batches (what else the import
     * must forget with them: the change apply's progress); it may run again
     * when that transaction is retried. clean_done runs after the clean start
     * is complete. Each returns false after logging.
     */
    bool (*clean_in_tx)(void *arg, writer_session *c);
    bool (*clean_done)(void *arg);
    void *clean_arg;
} snapshot_import_spec;

/*
 * Import the snapshot into the database of spec->conf, then set the sequences
 * from the snapshot's values. Errors are logged.
 */
engine_status snapshot_import_run(engine_ctx *eng, const snapshot_import_spec *spec);

#endif
