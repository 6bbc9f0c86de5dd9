/*
 * The export data engine (export data from source): pick the tables, take one
 * consistent snapshot of the source (snapshot-only: a transaction of the
 * source's own; snapshot-and-changes: the change feed's), read the sequences
 * in it, export every table not yet DONE in parallel, then (live) stream the
 * changes into the queue until cutover. Talks to the source only through
 * source/source.h.
 */
#ifndef VOYAGER_SNAPSHOT_EXPORT_DATA_H
#define VOYAGER_SNAPSHOT_EXPORT_DATA_H

#include "core/engine.h"
#include "db/dbconf.h"
#include "snapshot/table_list.h"

#include <stdbool.h>

#define EXPORT_TYPE_LIVE "snapshot-and-changes"
#define EXPORT_TYPE_SNAPSHOT "snapshot-only"

typedef struct export_data_spec {
    db_conf *source;                 /* the engine keeps a password entered at the prompt in it */
    const char *export_type;         /* --export-type as given (EXPORT_TYPE_*, any case) */
    const table_patterns *include;   /* --table-list / --table-list-file-path (parsed) */
    const table_patterns *exclude;   /* --exclude-table-list / ...-file-path (parsed) */
    int parallel_jobs;               /* >= 1 */
    bool progress_bars;
    bool start_clean;                /* remove what earlier runs exported, and start over */
    const char *command_name;        /* "export data from source", for messages */
} export_data_spec;

/*
 * Run export data from source. A source restart (or a dropped connection) in
 * the snapshot phase takes the snapshot with it: the run starts over as a
 * rerun of the command would, under the one retry policy (db/retry.h).
 * ENGINE_OK once the snapshot is exported (and, live, the stream reached its
 * cutover); errors are logged.
 */
engine_status export_data_run(engine_ctx *eng, const export_data_spec *spec);

#endif
