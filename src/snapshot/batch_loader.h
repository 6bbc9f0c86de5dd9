/*
 * Loading one batch into the database: BEGIN; COPY ... FROM STDIN with the
 * batch's byte range of its data file; the batch's metainfo row; COMMIT. Both
 * commit together or not at all. Retryable failures (pg_error_is_retryable)
 * are retried with backoff, on a new connection when the old one broke.
 */
#ifndef VOYAGER_SNAPSHOT_BATCH_LOADER_H
#define VOYAGER_SNAPSHOT_BATCH_LOADER_H

#include "db/pgconn.h"
#include "snapshot/batcher.h"
#include "db/yb_nodes.h"

#include <stdatomic.h>
#include <stdbool.h>

#define BATCH_LOADER_BUFFER_BYTES (1024 * 1024)

/* Shared by every worker of one import; read-only but for the atomics. */
typedef struct batch_loader {
    db_conf *conf;
    const char *export_dir;
    const char *migration_uuid;
    bool enable_upsert;          /* YugabyteDB only */
    const yb_nodes *nodes;       /* count 0: connect as conf says */
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
    const char *copy_sql;  /* COPY "s"."t" (cols) FROM STDIN */
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
 * A worker connection (worker idx picks the node), session set for loading.
 * NULL on failure (logged as a warning: batch_loader_load() retries).
 */
pgconn *batch_loader_connect(batch_loader *l, int idx);

/*
 * Load b on *conn (reconnecting as needed; *conn may be NULL on entry and on
 * return). buf: BATCH_LOADER_BUFFER_BYTES of scratch. A failure is logged
 * with the table, batch and line range; a stale file is not (the caller
 * decides whether the exporter replaced it).
 */
batch_load_result batch_loader_load(batch_loader *l, int idx, pgconn **conn, const batch_job *b,
                                    char *buf);

#endif
