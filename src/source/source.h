/*
 * The source-driver seam: what `export data` (and `export schema`) need from
 * a source database, as a table of operations (source_ops) over an opaque
 * handle. The export engines call these only, never a database's own code,
 * so that a second source (source_mysql.c) plugs in by implementing this
 * table and listing itself in source_for().
 *
 * Order of calls, for one run of export data:
 *
 *   s = source_for(eng, conf, what)     NULL: this build has no such source (logged)
 *   s->ops->connect(s, quiet)           the control connection; records conf in the catalog
 *   resolve_schemas, list_tables        on the control connection, any number of times
 *   then either
 *     snapshot-only:  snapshot_begin -> record_sequences(s, NULL, ...) -> export_rows
 *                     -> snapshot_end (the snapshot lives in the control connection's
 *                     transaction until then)
 *     with changes:   feed_begin -> record_sequences(s, snapshot, ...) -> export_rows
 *                     -> feed_snapshot_done -> feed_stream (until cutover)
 *   source_close(s)                     always; ends a feed not streamed (feed_abort)
 *
 * "Resume": feed_begin finds the feed of an earlier run (slot, position) and
 * continues it when its snapshot was completed (then *snapshot is NULL and no
 * rows are exported again); otherwise it makes a new feed and a new snapshot
 * (*redo_all: every table is exported again). feed_stream starts after the
 * last change the queue holds durably, so a change is queued exactly once.
 *
 * drop_feed removes the feed's server-side objects (the PostgreSQL slot and
 * publication) once the stream ended for good; end migration and cutover use it.
 *
 * The PostgreSQL implementation (source_pg.c) still drives code that lives in
 * snapshot/snapshot_export.c (COPY workers) and cdc/ (slot, publication,
 * pgoutput stream): those move under source/ when the second source comes.
 */
#ifndef VOYAGER_SOURCE_SOURCE_H
#define VOYAGER_SOURCE_SOURCE_H

#include "core/engine.h"
#include "core/util.h"
#include "db/dbconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One table of the source as export data sees it. */
typedef struct src_table {
    char *schema;
    char *name;
    char relkind;          /* 'r' table, 'p' partitioned (copied through its root) */
    int64_t est_rows;      /* estimated rows (summed over partitions), 0 when unknown */
    int64_t bytes;         /* heap size, for splitting into parts */
    int block_size;
    char *columns_json;    /* JSON array of the columns copied (no generated, no dropped) */
    char *column_list;     /* the same, quoted for SQL: "a", "B" ("" when none) */
} src_table;

typedef struct src_tables {
    src_table *items;
    size_t count;
} src_tables;

void src_tables_free(src_tables *t);

/* Why export_rows failed, beyond its log lines. */
typedef struct source_rows_failure {
    bool no_space;  /* a data file's file system is full (logged with the path and the fix) */
    bool transient; /* the source connection broke (restart, shutdown): a new snapshot may do */
    bool local;     /* a failure here (catalog, the descriptor, a data file): not the source's */
} source_rows_failure;

/* The change feed export data asks for. */
typedef struct source_feed_spec {
    const char *const *schemas;   /* NULL-terminated: their sequences go over at cutover */
    const src_table *const *tables;
    size_t ntables;
    bool start_clean;             /* remove the feed and the queue of earlier runs first */
    bool progress_bars;
    const char *command_name;     /* "export data from source" */
} source_feed_spec;

typedef struct source source;

typedef struct source_ops {
    const char *type; /* --source-db-type: "postgresql" */

    /*
     * Open the control connection and record the configuration in the
     * catalog. quiet: a refusal is a fault being waited out (a retry): not
     * logged as an error, its text goes to *why (caller frees; may be NULL).
     */
    engine_status (*connect)(source *s, bool quiet, char **why);
    /* Replace each --source-db-schema item by the source's own name for it (logs a missing one). */
    bool (*resolve_schemas)(source *s, strlist *schemas);
    /* Tables of the NULL-terminated resolved schemas; caller frees out with src_tables_free. */
    bool (*list_tables)(source *s, const char *const *schemas, src_tables *out);

    /* snapshot-only: begin a consistent snapshot on the control connection; its name, caller frees. */
    char *(*snapshot_begin)(source *s);
    /*
     * End the snapshot_begin transaction, if any (commit: it served its
     * purpose; else abandon it quietly), and close the control connection.
     */
    void (*snapshot_end)(source *s, bool commit);
    /*
     * Record the values of the sequences of schemas in the catalog under
     * phase, read in the named snapshot (NULL: the one snapshot_begin holds).
     */
    bool (*record_sequences)(source *s, const char *snapshot, const strlist *schemas, const char *phase);
    /*
     * Export tables[0..n) in the snapshot into data files of the export dir,
     * recording each file in the catalog as it is durable, with parallel
     * workers (progress bars when bars). False after a logged failure, or
     * when interrupted; *why says what kind.
     */
    bool (*export_rows)(source *s, const char *snapshot, src_table *const *tables, size_t n,
                        int parallel, bool bars, source_rows_failure *why);

    /*
     * Set up (or find) the change feed of these tables. *snapshot (caller
     * frees): the snapshot the rows must be exported in, NULL when an earlier
     * run completed it; *redo_all: a new feed, so every table is exported again.
     */
    engine_status (*feed_begin)(source *s, const source_feed_spec *spec, char **snapshot, bool *redo_all);
    /* The snapshot of the feed is durable: a restart streams instead of exporting again. */
    bool (*feed_snapshot_done)(source *s);
    /* Stream the feed into the queue until the cutover that ends it (or an interruption). */
    engine_status (*feed_stream)(source *s);
    /* Forget a feed set up but not streamed (the snapshot failed); nothing is dropped on the server. */
    void (*feed_abort)(source *s);
    /* Drop the feed's server-side objects (slot, publication); quiet about what is gone already. */
    bool (*drop_feed)(source *s);

    /* Dump the DDL of schemas (exact names) and extensions into out_path; tool errors to err_path. */
    bool (*dump_schema)(source *s, const strlist *schemas, const strlist *extensions,
                        const char *out_path, const char *err_path);

    /* Close connections and free the implementation's state (source_close calls it). */
    void (*close)(source *s);
} source_ops;

struct source {
    const source_ops *ops;
    engine_ctx *eng;
    db_conf *conf;  /* the caller's; a password entered at a prompt is kept in it */
    void *impl;     /* the implementation's state */
};

/*
 * The source of conf->type, or NULL after logging "<what> type X is not built
 * yet" (what: "export data from source"). *status: ENGINE_NOT_SUPPORTED for a
 * type this build lacks, ENGINE_BAD_INPUT when no type was given. conf stays
 * the caller's and must outlive the source. Free with source_close().
 */
source *source_for(engine_ctx *eng, db_conf *conf, const char *what, engine_status *status);
void source_close(source *s);

#endif
