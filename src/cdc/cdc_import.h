/*
 * Change apply (live migration), the import side: import data to
 * target|source|source-replica runs it once its snapshot import is done.
 */
#ifndef VOYAGER_CDC_CDC_IMPORT_H
#define VOYAGER_CDC_CDC_IMPORT_H

#include "core/engine.h"
#include "db/dbconf.h"
#include "snapshot/table_list.h"
#include "source/writer.h"

#include <stdbool.h>

/* What the change apply does, as the command's flags said (defaults applied). */
typedef struct cdc_apply_spec {
    db_conf *conf;             /* the database applied to; keeps a password entered at a prompt */
    const char *importer_role; /* target_db_importer | source_db_importer | source_replica_db_importer */
    bool start_clean;          /* forget the progress against an earlier queue */
    /*
     * The command takes --table-list / --exclude-table-list: the lists
     * (include, exclude; empty: every table) are fixed by the first run.
     */
    bool table_lists;
    const table_patterns *include;
    const table_patterns *exclude;
    int parallel_jobs;         /* channels of a first run (at most 64 are used) */
    bool parallel_jobs_given;  /* a later run keeps the first run's channels and says so */
    bool bars;                 /* progress screen, else periodic lines */
    const char *target_endpoints; /* YugabyteDB target: host:port list to spread over; NULL: discover */
    bool use_public_ip;
} cdc_apply_spec;

/* What the process does once the change apply returned ENGINE_OK. */
typedef enum cdc_apply_next {
    CDC_APPLY_DONE,            /* nothing more: the importer's part is over */
    CDC_APPLY_EXPORT_FROM_TARGET, /* become `export data from target` (a way back is prepared) */
} cdc_apply_next;

/*
 * Apply queued events to the database until the end-of-stream event of this
 * importer's cutover, or interruption. *next says what follows an ENGINE_OK.
 */
engine_status cdc_import_apply(engine_ctx *eng, const cdc_apply_spec *spec, cdc_apply_next *next);

/*
 * The table list of a live import is fixed by its first run: the importer's
 * progress moves past the changes of tables it leaves out, so a run with
 * other --table-list / --exclude-table-list would lose them for good. Records
 * the lists on the first run (and with spec->start_clean), refuses different
 * ones after (ENGINE_BAD_STATE, logged). ENGINE_OK when spec->table_lists is false.
 */
engine_status cdc_import_table_filter_check(engine_ctx *eng, const cdc_apply_spec *spec);

/*
 * import data --start-clean: inside the transaction that empties the tables
 * on s (a session of the writer), forget the change progress too (channel
 * and count rows), after marking every queue segment as not applied by
 * importer_role in meta.db. Idempotent. False after logging.
 */
bool cdc_import_clean_in_tx(engine_ctx *eng, const char *importer_role, writer_session *s);

#endif
