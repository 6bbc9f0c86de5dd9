/*
 * import data to target | source | source-replica, between the command's
 * flags and the two engines it drives: first the checks against the
 * migration's state (fall-back and fall-forward exclude each other, a
 * source-replica is registered before cutover to target, no replication of
 * its own on the target), then the snapshot import (snapshot/snapshot_import.h;
 * not to source, which holds the data already) and, when the export is live,
 * the change apply (cdc/cdc_import.h).
 */
#ifndef VOYAGER_CDC_IMPORT_DATA_H
#define VOYAGER_CDC_IMPORT_DATA_H

#include "cdc/cdc_import.h"
#include "core/engine.h"
#include "db/dbconf.h"
#include "snapshot/table_list.h"

#include <stdbool.h>
#include <stdint.h>

/* The command's flags, checked and with defaults applied. */
typedef struct import_data_spec {
    db_conf *conf;              /* where to (conf->role); keeps a password entered at a prompt */
    int parallel_jobs;          /* >= 1 */
    bool parallel_jobs_given;   /* --parallel-jobs given (a positive value) */
    int64_t batch_rows;         /* rows per snapshot batch, >= 1 */
    bool batch_rows_given;      /* --batch-size given: files planned by an earlier run are named */
    bool bars;                  /* progress bars, else periodic lines */
    bool start_clean;
    bool truncate_tables;       /* only with start_clean */
    bool enable_upsert;
    const char *target_endpoints; /* NULL: discover the YugabyteDB nodes */
    bool use_public_ip;
    bool skip_replication_checks;
    /* The command takes --table-list / --exclude-table-list: include, exclude (empty: all). */
    bool table_lists;
    const table_patterns *include;
    const table_patterns *exclude;
    /* to source: --source-db-schema when given (it must be export data's), else NULL */
    const char *source_schema;
    /* asked before loading into tables that are not empty (start_clean only); NULL answers no */
    bool (*confirm)(void *arg, const char *question);
    void *confirm_arg;
} import_data_spec;

/*
 * Run the import into spec->conf's database. *next says what follows an
 * ENGINE_OK (the target importer, after its cutover with a way back
 * prepared: `export data from target`). Errors are logged.
 */
engine_status import_data_run(engine_ctx *eng, const import_data_spec *spec, cdc_apply_next *next);

#endif
