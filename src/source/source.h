/*
 * The source-driver seam: what the engines need from a source database, as a
 * table of operations (source_ops) over an opaque handle. The engines
 * (snapshot/export_data.c, snapshot/snapshot_export.c, cdc/cdc_export.c,
 * cdc/cdc_stream.c) call these only, never a database's own code, so that a
 * second source plugs in by implementing this table and listing itself in
 * source_for(); it touches neither snapshot/ nor cdc/.
 *
 * What stays in the engines, for every source: the worker pool, data file
 * naming, fsync and atomic rename, progress, the queue writer, checkpointing
 * the feed's position with the queue (exactly once), the retry / reconnect
 * policy and its timeouts, cutover draining, the consistent point for compare
 * data, metrics. What a source provides: the calls below.
 *
 * Order of calls, for one run of export data:
 *
 *   s = source_for(eng, conf, what)     NULL: this build has no such source (logged)
 *   s->ops->connect(s, quiet)           the control connection; records conf in the catalog
 *   resolve_schemas, list_tables        on the control connection, any number of times
 *   then either
 *     snapshot-only:  snapshot_begin -> read_sequences(s, NULL) -> rows_* (workers)
 *                     -> snapshot_end (the snapshot lives in the control connection's
 *                     transaction until then)
 *     with changes:   feed_init -> feed_find -> feed_prepare -> feed_create (with a
 *                     snapshot) -> read_sequences(s, snapshot) -> rows_* (workers)
 *                     -> feed_release_snapshot -> the stream (below)
 *   source_close(s)                     always
 *
 * The stream (cdc/cdc_stream.c), for the source and for the target after
 * cutover (export data from target: source_for_target, the same code):
 *
 *   feed_connect(s, stream, after)      again after each SOURCE_LOST, after the queue's position
 *   feed_poll(s, ...) -> begin/change/commit callbacks, keepalives
 *   feed_confirm(s, pos)                what the queue holds durably: the source may forget it
 *   feed_drain_point, feed_read_sequences at cutover; feed_drop once the stream ended
 *   feed_disconnect(s)
 *
 * Statuses: entries answering int return ENGINE_OK, SOURCE_LOST (the
 * connection broke in a way a new one may mend; s->lost says how, not
 * logged), or another engine_status after a logged error.
 */
#ifndef VOYAGER_SOURCE_SOURCE_H
#define VOYAGER_SOURCE_SOURCE_H

#include "catalog/migration_state.h"
#include "core/engine.h"
#include "core/util.h"
#include "db/dbconf.h"
#include "db/retry.h"
#include "source/change.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An int status of the seam: the connection broke, a new one may mend it (s->lost says how). */
#define SOURCE_LOST (-1)

/* One table of the source as export data sees it. */
typedef struct src_table {
    char *schema;
    char *name;
    char relkind;          /* 'r' table, 'p' partitioned (copied through its root) */
    int64_t est_rows;      /* estimated rows (summed over partitions), 0 when unknown */
    int64_t bytes;         /* size on the source, for splitting into parts */
    int block_size;
    char *columns_json;    /* JSON array of the columns copied (no generated, no dropped) */
    char *column_list;     /* the same, quoted for SQL: "a", "B" ("" when none) */
} src_table;

/* A partition of a listed table: not a table of its own (its rows come through its root). */
typedef struct src_partition {
    char *schema, *name;           /* the partition */
    char *root_schema, *root_name; /* its partition tree's root, an item of the list */
} src_partition;

typedef struct src_tables {
    src_table *items;
    size_t count;
    src_partition *parts; /* for messages naming a partition where a table is expected */
    size_t nparts;
} src_tables;

void src_tables_free(src_tables *t);

/* Why the rows of a snapshot could not be exported, beyond the log lines (snapshot/snapshot_export.h). */
typedef struct source_rows_failure {
    bool no_space;  /* a data file's file system is full (logged with the path and the fix) */
    bool transient; /* the source connection broke (restart, shutdown): a new snapshot may do */
    bool local;     /* a failure here (catalog, the descriptor, a data file): not the source's */
} source_rows_failure;

/* One reader of rows inside a snapshot: one per export worker thread. */
typedef struct source_rows source_rows;

/* Where a reader hands the rows of a part, one call per row. */
typedef struct source_rows_sink {
    const char *table; /* the table as messages name it */
    void *arg;
    /* One row in the data file's format (PostgreSQL text COPY), newline included; false: stop. */
    bool (*row)(void *arg, const char *data, size_t len);
    /* Polled while waiting on the source: true when the run is being stopped. */
    bool (*stop)(void *arg);
} source_rows_sink;

typedef enum source_rows_result {
    SOURCE_ROWS_DONE,      /* every row of the part went to the sink */
    SOURCE_ROWS_STOPPED,   /* the sink or stop() ended it; nothing logged */
    SOURCE_ROWS_STALLED,   /* the source sent nothing for stall_ms; nothing logged */
    SOURCE_ROWS_TRANSIENT, /* the connection broke: logged as a warning, a new snapshot may do */
    SOURCE_ROWS_FAILED,    /* the source refused: logged as an error */
} source_rows_result;

/*
 * compare data: how the source compares a key column's values with a range's bounds, by the
 * column's type on the target, so that both databases put every row in the same range. The
 * bounds are the target's text forms under compare data's session settings.
 */
typedef enum source_key_kind {
    SOURCE_KEY_INTEGER,     /* int2/int4/int8: "-12" */
    SOURCE_KEY_NUMERIC,     /* numeric: "-12.50" (finite) */
    SOURCE_KEY_TEXT,        /* text, varchar, char (trailing blanks off): UTF-8 byte order ("C") */
    SOURCE_KEY_BYTES,       /* bytea, "\x0aff": byte order */
    SOURCE_KEY_DATE,        /* date, "YYYY-MM-DD" (years 1 to 9999) */
    SOURCE_KEY_TIMESTAMP,   /* timestamp, "YYYY-MM-DD HH:MM:SS[.ffffff]" */
    SOURCE_KEY_TIMESTAMPTZ, /* timestamptz in UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]+00" */
} source_key_kind;

/* Rows whose column key (named as on the target) is >= lo and < hi (NULL: open); key NULL: all. */
typedef struct source_key_range {
    const char *key;
    source_key_kind kind;
    const char *lo, *hi;
} source_key_range;

/* Which exporter a feed serves: its server-side objects are named after it. */
typedef enum source_feed_side {
    SOURCE_FEED_OF_SOURCE, /* export data from source */
    SOURCE_FEED_OF_TARGET, /* export data from target, after cutover to target */
} source_feed_side;

/* The change feed an exporter asks for (feed_init copies what it keeps). */
typedef struct source_feed_spec {
    source_feed_side side;
    const strlist *schemas; /* schemas.items[i] is the schema of tables.items[i] */
    const strlist *tables;
} source_feed_spec;

/* What feed_poll received besides the transactions it handed to the callbacks. */
typedef enum source_feed_kind {
    SOURCE_FEED_NOTHING = 0, /* nothing within the timeout */
    SOURCE_FEED_DATA,        /* part of a transaction (handed to the callbacks) */
    SOURCE_FEED_KEEPALIVE,   /* the source is alive; end: its current position */
} source_feed_kind;

typedef struct source_feed_poll {
    source_feed_kind kind;
    src_position end;     /* KEEPALIVE: every transaction committed before it has been sent */
    bool reply_requested; /* KEEPALIVE: the source wants feed_confirm now */
} source_feed_poll;

/*
 * export schema from a source pg_dump cannot read: its DDL converted to PostgreSQL, by the
 * PostgreSQL export's object kinds (schema/ writes each part to that kind's file), and what
 * the conversion could not do (analyze-schema reports it as needing a manual change).
 */
typedef enum source_ddl_part {
    SOURCE_DDL_TABLE = 0, /* tables, keys and checks, then the foreign keys: tables/table.sql */
    SOURCE_DDL_VIEW,      /* views/view.sql */
    SOURCE_DDL_COMMENT,   /* comments/comment.sql */
    SOURCE_DDL_INDEX,     /* tables/INDEXES_table.sql (post-data) */
    SOURCE_DDL_PART_COUNT
} source_ddl_part;

typedef struct source_ddl_issue {
    char *object_type; /* TABLE, COLUMN, INDEX, PROCEDURE, TRIGGER, ... */
    char *object_name;
    char *reason;
    char *suggestion;
} source_ddl_issue;

typedef struct source_ddl {
    strbuf parts[SOURCE_DDL_PART_COUNT];  /* statements, each ending in ";\n\n" */
    size_t counts[SOURCE_DDL_PART_COUNT]; /* statements per part */
    source_ddl_issue *issues;
    size_t nissues;
} source_ddl;

void source_ddl_free(source_ddl *d);

typedef struct source source;

typedef struct source_ops {
    const char *type;          /* --source-db-type: "postgresql" */
    const char *position_name; /* what messages call a src_position: "LSN" */
    const char *feed_noun;     /* what messages call the feed (feed_init's name): "replication slot" */
    /* Text of a position for messages, into buf (32 bytes); returns buf. */
    char *(*format_position)(src_position pos, char *buf);

    /*
     * Open the control connection and record the configuration in the
     * catalog. quiet: a refusal is a fault being waited out (a retry): not
     * logged as an error, its text goes to *why (caller frees; may be NULL).
     */
    engine_status (*connect)(source *s, bool quiet, char **why);
    /*
     * connect, waiting out a database that is restarting or out of reach
     * under rs (a process that takes over from one that was connected a
     * moment ago: a fault then is one to ride out). *gave_up: the wait ran
     * out. NULL: connect alone.
     */
    engine_status (*connect_waiting)(source *s, retry_state *rs, bool *gave_up);
    /* Replace each --source-db-schema item by the source's own name for it (logs a missing one). */
    bool (*resolve_schemas)(source *s, strlist *schemas);
    /* Tables of the NULL-terminated resolved schemas; caller frees out with src_tables_free. */
    bool (*list_tables)(source *s, const char *const *schemas, src_tables *out);
    /*
     * May the NULL-terminated resolved schemas be exported on their own? 1
     * yes; 0 no, logged with the fix (PostgreSQL: a partition tree crosses
     * their edge); -1 the check failed (logged). NULL: always yes.
     */
    int (*check_selection)(source *s, const char *const *schemas);

    /*
     * After a failed call on the control connection (resolve_schemas,
     * list_tables, snapshot_begin, read_sequences, the feed's set-up): did it
     * fail because the connection broke, which a new run may mend? NULL: never.
     */
    bool (*control_lost)(source *s);

    /* snapshot-only: begin a consistent snapshot on the control connection; its name, caller frees. */
    char *(*snapshot_begin)(source *s);
    /*
     * End the snapshot_begin transaction, if any (commit: it served its
     * purpose; else abandon it quietly), and close the control connection.
     */
    void (*snapshot_end)(source *s, bool commit);
    /*
     * The sequences of schemas and their values in the named snapshot (NULL:
     * the one snapshot_begin holds) into *out (caller frees with
     * sequence_values_free). False after logging.
     */
    bool (*read_sequences)(source *s, const char *snapshot, const strlist *schemas,
                           sequence_value **out, size_t *n);

    /*
     * The parts table t is read in (>= 1, <= max_parts): a table larger than
     * part_bytes may be read as several parts of about that size, each by a
     * worker of its own, when the source can split it.
     */
    int (*rows_parts)(source *s, const src_table *t, int64_t part_bytes, int max_parts);
    /*
     * A reader in the named snapshot on a connection of its own; called from
     * a worker thread (implementations keep no shared mutable state here).
     * NULL after a logged failure: *transient when a new snapshot may do
     * better (the source went away, or the snapshot with it).
     */
    source_rows *(*rows_open)(source *s, const char *snapshot, bool *transient);
    /*
     * Hand every row of part `part` of `nparts` of t to the sink, one call a
     * row. Gives up when the source sends nothing for stall_ms
     * (SOURCE_ROWS_STALLED): a server that stopped would hang the export.
     * After anything but DONE the reader is only fit for rows_close.
     */
    source_rows_result (*rows_read)(source_rows *r, const src_table *t, int part, int nparts,
                                    int64_t stall_ms, const source_rows_sink *sink);
    /* Close the reader (ends its transaction, even in the middle of a part). */
    void (*rows_close)(source_rows *r);

    /*
     * compare data (compare/) against a source it cannot query as PostgreSQL (NULL for
     * PostgreSQL, which compare reads with its own SQL). snapshot_begin for *readers readers
     * (rows_open each; lowered to what the source serves), ended by snapshot_end. rows_read_range: like
     * rows_read, the rows of t in the same text COPY form, but only those whose column `key`
     * (an integer column, named as on the target) is >= *lo and < *hi (NULL: unbounded on
     * that side); key NULL: every row. No order is promised.
     */
    char *(*snapshot_begin_readers)(source *s, int *readers);
    source_rows_result (*rows_read_range)(source_rows *r, const src_table *t, const char *key,
                                          const int64_t *lo, const int64_t *hi, int64_t stall_ms,
                                          const source_rows_sink *sink);
    /*
     * compare data, ranges of a key of any type it splits (source_key_range): the rows of t in
     * the range, like rows_read_range; rows_count_key_range counts them in the source's own SQL
     * instead (COUNT(*): no row crosses the network). NULL: not built for this source.
     */
    source_rows_result (*rows_read_key_range)(source_rows *r, const src_table *t,
                                              const source_key_range *range, int64_t stall_ms,
                                              const source_rows_sink *sink);
    source_rows_result (*rows_count_key_range)(source_rows *r, const src_table *t,
                                               const source_key_range *range, int64_t stall_ms,
                                               int64_t *count);
    /*
     * compare data during a live migration: snapshot_begin_readers, and *pos the feed position
     * exactly consistent with the snapshot: every transaction the feed hands with an end at or
     * before *pos is visible in it, none ending after. NULL: not built for this source.
     */
    char *(*snapshot_begin_point)(source *s, int *readers, src_position *pos);

    /*
     * Change feed: every feed_* entry, or none (NULL: a source without change
     * capture yet; export data then refuses snapshot-and-changes). feed_init names the feed of this migration and side (the
     * source's own objects: PostgreSQL's replication slot and publication)
     * and keeps the tables; *name (the object messages and meta.db name: the
     * slot) and *detail (more of it: the publication) are the source's,
     * valid until source_close.
     */
    void (*feed_init)(source *s, const source_feed_spec *spec, const char **name, const char **detail);
    /* Does the feed exist on the server? False after a logged error. */
    engine_status (*feed_find)(source *s, bool *exists);
    /*
     * How far the server side of an existing feed was confirmed (a
     * PostgreSQL slot's confirmed_flush_lsn): it never sends a change before
     * it again. NULL where the server keeps no such position (MySQL: the
     * queue's own binlog position is where reading starts again).
     */
    engine_status (*feed_confirmed)(source *s, src_position *out);
    /*
     * Check what a feed needs (settings, permissions, the tables' row images;
     * a new feed: a free slot) and create or update what it reads through
     * (update: make it cover exactly the tables). Logs every failed check.
     */
    engine_status (*feed_prepare)(source *s, bool new_feed, bool update);
    /*
     * Create the feed. with_snapshot: also a consistent snapshot at its start
     * (*snapshot, caller frees), held until feed_release_snapshot. *start:
     * where the feed begins. Logs what it made.
     */
    engine_status (*feed_create)(source *s, bool with_snapshot, char **snapshot, src_position *start);
    /* The snapshot of feed_create served its purpose (the rows are durable). */
    void (*feed_release_snapshot)(source *s);
    /*
     * Drop the feed's server-side objects (closing a stream of ours first).
     * whole: the objects it reads through too (the publication), logged;
     * else only the feed itself, quietly (it is made again). Quiet about
     * what is gone already. A broken connection or an object still in use
     * is retried under the retry policy. False after a logged message: an
     * error, or at the end of the stream (whole) a warning naming what is
     * left on the server and how to drop it (the engine records it, cutover
     * status reports it until a later drop succeeds).
     */
    bool (*feed_drop)(source *s, bool whole);

    /*
     * Open the feed's query connection and, when stream, start streaming
     * every transaction that commits after `after`. After the first success,
     * a refused connection is the fault being ridden out: SOURCE_LOST, not
     * logged. *describe (the source's): "slot X (publication Y)", for messages.
     */
    int (*feed_connect)(source *s, bool stream, src_position after, const char **describe);
    /*
     * The silence after which the stream counts as dead when the engine's
     * override (YB_VOYAGER_REPLICATION_TIMEOUT) is not set: derived from the
     * source's own keepalive interval.
     */
    int64_t (*feed_silence_ms)(source *s);
    /*
     * Receive, waiting at most timeout_ms (0: not at all), and hand what
     * completes to h. A failure h returns is returned as it is.
     */
    int (*feed_poll)(source *s, int timeout_ms, const source_feed_handler *h, source_feed_poll *out);
    /* Everything up to pos is durable: the source may forget it. reply: ask for a keepalive. */
    int (*feed_confirm)(source *s, src_position pos, bool reply);
    /*
     * The position the stream must pass before every transaction committed
     * before this call has been sent (cutover drains up to it); it makes the
     * source send a keepalive past it soon even when idle.
     */
    int (*feed_drain_point)(source *s, src_position *need);
    /* The current values of the sequences of schemas, on the query connection (caller frees). */
    int (*feed_read_sequences)(source *s, const strlist *schemas, sequence_value **out, size_t *n);
    /* Close the feed's connections (the server-side feed stays). */
    void (*feed_disconnect)(source *s);

    /*
     * export schema, for a source whose schema pg_dump cannot dump (NULL for PostgreSQL):
     * connect (recording conf), read the schema of conf's database and convert it into *out
     * (zeroed by the call; caller frees with source_ddl_free). False after logging.
     */
    bool (*dump_schema)(source *s, source_ddl *out);

    /* Close connections and free the implementation's state (source_close calls it). */
    void (*close)(source *s);
} source_ops;

struct source {
    const source_ops *ops;
    engine_ctx *eng;
    db_conf *conf;   /* the caller's; a password entered at a prompt is kept in it */
    void *impl;      /* the implementation's state */
    char lost[768];  /* why the last SOURCE_LOST: one line, not logged */
    /*
     * compare data's --statement-timeout for a source it reads through this seam (MySQL): how
     * long every statement on the source's connections may run, seconds, 0: no limit (set so,
     * over a server-wide limit). -1 (source_for's default): the server's own setting.
     */
    int statement_timeout_s;
};

/*
 * The source of conf->type, or NULL after logging "<what> type X is not built
 * yet" (what: "export data from source"). *status: ENGINE_NOT_SUPPORTED for a
 * type this build lacks, ENGINE_BAD_INPUT when no type was given. conf stays
 * the caller's and must outlive the source. Free with source_close().
 */
source *source_for(engine_ctx *eng, db_conf *conf, const char *what, engine_status *status);
/*
 * The target database (YugabyteDB, or PostgreSQL as source-replica) as the
 * source of export data from target: spoken to as PostgreSQL, whatever the
 * migration's source is.
 */
source *source_for_target(engine_ctx *eng, db_conf *conf);
void source_close(source *s);

/* Set s->lost (one line) and return SOURCE_LOST: for implementations. */
int source_lost(source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
