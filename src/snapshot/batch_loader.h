/*
 * Loading one batch into the database: the batch's byte range of its data
 * file and the batch's metainfo row, in one transaction of the writer's
 * (source/writer.h: load_batch), so both commit together or not at all.
 * Here: the file, checked to be the one planned; retryable failures retried
 * with backoff, on a new session when the old one broke, after asking the
 * database whether the batch committed; a batch refused as too large sent
 * again in smaller pieces.
 */
#ifndef VOYAGER_SNAPSHOT_BATCH_LOADER_H
#define VOYAGER_SNAPSHOT_BATCH_LOADER_H

#include "snapshot/batcher.h"
#include "source/writer.h"

#include <stdatomic.h>
#include <stdbool.h>

#define BATCH_LOADER_BUFFER_BYTES WRITER_LOAD_BUFFER_BYTES

/* Shared by every worker of one import; read-only but for the atomics. */
typedef struct batch_loader {
    writer *w;                   /* the database (its nodes, YugabyteDB's included) */
    const char *export_dir;
    const char *migration_uuid;
    bool enable_upsert;          /* YugabyteDB only */
    atomic_int *abort;           /* set: give up instead of retrying */
    atomic_int warned_replication_role;
} batch_loader;

/*
 * Which file a batch plan was made from. The exporter writes a table again
 * under the same names when it restarts the table from a new snapshot, so a
 * path alone does not say the bytes are those planned.
 */
typedef struct data_file_id {
    long long dev, ino, size, mtime_sec, mtime_nsec;
} data_file_id;

/* Identity of an open file or of a path. False (errno set) when it cannot be read. */
bool data_file_id_of_fd(int fd, data_file_id *out);
bool data_file_id_of_path(const char *path, data_file_id *out);
bool data_file_id_equal(const data_file_id *a, const data_file_id *b);

typedef struct batch_job {
    const char *display;   /* table name for messages */
    const char *schema;
    const char *table;
    const char *load_sql;  /* the writer's statement for the table (load_statement) */
    const char *rel_path;  /* data/t_data.sql */
    const char *file_name; /* t_data.sql: data_file_name of the metainfo row */
    const data_file_id *planned; /* the file the plan was made from */
    batch_range r;
} batch_job;

typedef enum batch_load_result {
    BATCH_LOADED,
    BATCH_FAILED,  /* logged */
    BATCH_GAVE_UP, /* transient failures outlasted the retry policy (logged): a rerun goes on */
    BATCH_STALE,   /* the file is gone or is another file than planned: nothing loaded */
} batch_load_result;

/*
 * A worker session (worker idx picks the node), set for loading.
 * NULL on failure (logged as a warning: batch_loader_load() retries).
 */
writer_session *batch_loader_connect(batch_loader *l, int idx);

/*
 * Load b on *conn (reconnecting as needed; *conn may be NULL on entry and on
 * return). buf: BATCH_LOADER_BUFFER_BYTES of scratch. A failure is logged
 * with the table, batch and line range; a stale file is not (the caller
 * decides whether the exporter replaced it).
 */
batch_load_result batch_loader_load(batch_loader *l, int idx, writer_session **conn,
                                    const batch_job *b, char *buf);

#endif
