/*
 * The writer seam: what the change apply (cdc/cdc_import.c, cdc/channels.c)
 * and the snapshot import (snapshot/snapshot_import.c, snapshot/batch_loader.c)
 * need from the database they write to, as a table of operations
 * (writer_ops) over an opaque session. The import data commands apply
 * changes to the target (YugabyteDB, or PostgreSQL standing in for it), to
 * the source (fall-back) and to the source-replica (fall-forward); each of
 * those is a writer. PostgreSQL's implementation (source/pg_writer.c,
 * pg_apply.c, pg_load.c, pg_bookkeeping.c, pg_batches.c) serves all three
 * today, YugabyteDB included; a writer for another database (MySQL, for
 * fall-back into it) implements this table and lists itself in writer_for(),
 * and touches neither cdc/ nor snapshot/.
 *
 * What stays in the engines, whatever the database: routing (cdc_route),
 * the channels and their threads, conflict waits, batching, the snapshot's
 * batch plans, data files and workers, the retry policy and its timeouts
 * (db/retry.h), deciding whether a batch committed before a connection
 * dropped, progress, metrics. What a writer provides: the calls below.
 *
 * Exactly once: apply_batch commits a batch's changes and the channel's
 * progress (last applied vsn, counts) in one transaction, and only while the
 * progress recorded is still the one the batch follows (after_vsn): of two
 * sessions sending the same events (a killed importer's, still committing,
 * and its restart's) one commits. The engine reads that progress (progress)
 * after a failure. A
 * snapshot batch commits with its bookkeeping row (load_batch), which
 * batch_committed reads after an ambiguous failure.
 *
 * Order of calls, for one run of the change apply:
 *
 *   w = writer_for(eng, conf, ...)     NULL: this build has no such writer (logged)
 *   m = w->ops->connect(w, ...)        the bookkeeping session; records conf in the catalog
 *   create, generation_check, channels, total_applied, table_meta ... on m
 *   discover_nodes(w, m, ...)          YugabyteDB: the nodes channels spread over
 *   s[i] = connect_channel(w, i, ...)  one session per channel
 *   apply_setup(s[i], i, uuid)         then apply_batch(s[i], ...) from the channel's thread
 *   writer_session_close(...), writer_free(w)
 *
 * and for one run of the snapshot import:
 *
 *   m = connect, batches_create, discover_nodes, check_table, [clean start:
 *   table_has_rows, begin, truncate_tables, batches_forget_table, commit],
 *   batches_load, batches_undo_table (a table exported again), set_sequences
 *   per worker: s = connect_loader(w, i, ...); load_batch / batch_committed
 *
 * Memory: the writer and its sessions are the caller's (writer_free,
 * writer_session_close; sessions closed before their writer); table_meta
 * and import_metainfo_set results too; items, batches and sequence values
 * passed in stay the caller's.
 *
 * Sessions: one thread at a time each. Errors: calls answering bool log
 * their failure unless said otherwise; retryable() / unique_violation()
 * classify the last failure of a session for the engine's retry policy.
 */
#ifndef VOYAGER_SOURCE_WRITER_H
#define VOYAGER_SOURCE_WRITER_H

#include "catalog/migration_state.h"
#include "core/engine.h"
#include "core/util.h"
#include "db/dbconf.h"
#include "db/retry.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the applier knows of a table; loaded once, shared read-only by all channels. */
typedef struct table_meta {
    int idx;            /* dense number, for per-batch counts */
    char *schema_name;
    char *table_name;
    char *qualified;    /* "schema"."table" */
    char *count_name;   /* name in ybvoyager_imported_event_count_by_table */
    strlist pk;         /* primary-key columns; empty: no PK (rows matched on all key columns) */
    size_t nuniq;
    strlist *uniq;      /* columns of each other unique index cdc/conflicts.h follows by value */
    /*
     * Columns any unique index other than the primary key reads (key columns,
     * and those its expressions and predicate use; ucols_all: the whole row).
     * An update setting one is never merged with others: a multi-row statement
     * changes its rows in no defined order.
     */
    strlist ucols;
    bool ucols_all;
    /*
     * A unique index whose conflicts cannot be found by comparing the events'
     * text values: an expression or partial index, or a column whose equal
     * values can be written differently (numeric without scale, citext,
     * nondeterministic collations, ...). Its changes must keep source order.
     */
    bool unique_serial;
    /*
     * A unique index or the primary key is DEFERRABLE on this database: rows
     * may share a key inside a transaction there (checked at commit, and not
     * at all under session_replication_role = replica). Its changes keep
     * source order (unique_serial), and an update or delete by key that would
     * find two rows fails instead of changing both.
     */
    bool key_deferrable;
    /*
     * The system column that finds one row where no key does (no primary key,
     * or a DEFERRABLE one): "ctid" on PostgreSQL, "ybctid" on YugabyteDB, which
     * refuses ctid ("System column is not supported"). Static storage.
     */
    const char *row_locator;
    strlist col_names;  /* its columns, and each one's type as SQL (col_types[i], no typmod) */
    strlist col_types;
    strlist col_match;  /* how a keyless row is found by each column: "e", "t" or "b" (pg_apply.c) */
    char *fk_group;     /* foreign keys link it: least "schema\x1ftable" of its group; else NULL */

    /* Set by the importer before the first event of the table is routed. */
    char *route_group;  /* non-NULL: routed by this name alone (one channel, source order) */
    int order_group;    /* a batch keeps source order among the tables of one order group */
    bool apply_alone;   /* each change applied alone, everything before it committed first */
    /*
     * Changes of different rows may apply in any order within a batch: a
     * primary key and no other unique index, no source order needed (no
     * route_group). Channels already apply different rows in no order.
     */
    bool rows_commute;
} table_meta;

void table_meta_free(table_meta *t);

/* What a change does (the values of cdc_op for the row changes). */
typedef enum writer_op {
    WRITER_OP_INSERT = 0,
    WRITER_OP_UPDATE,
    WRITER_OP_DELETE,
    WRITER_OP_TRUNCATE = 4, /* empty the table; no key, no fields; alone in its batch */
} writer_op;

/* A set of columns with text values (value NULL = SQL NULL), borrowed from the caller. */
typedef struct writer_cols {
    const char **names;
    const char **values;
    size_t count;
} writer_cols;

/* One change to apply; every pointer is the caller's, valid for the call. */
typedef struct writer_change {
    int64_t vsn;
    writer_op op;
    const char *exporter_role;
    writer_cols key;    /* old key (update/delete); may be empty for inserts */
    writer_cols fields; /* insert: whole row; update: changed columns (new values) */
    writer_cols before; /* update/delete: old row when the exporter gave it */
} writer_change;

/* A change and the table it is about. */
typedef struct writer_item {
    writer_change ev;
    const table_meta *tm;
} writer_item;

/* Value of column name in cols; *found tells NULL value from missing column. */
const char *writer_cols_get(const writer_cols *cols, const char *name, bool *found);
/* The old value of column name for an update or delete: from key, else from before. */
const char *writer_old_value(const writer_change *ev, const char *name, bool *found);

/* Per-table counts of the bookkeeping (names as the target spells them). */
typedef struct writer_table_count {
    char *schema_name;
    char *table_name;
    int64_t inserts, updates, deletes; /* changes applied */
    int64_t snapshot_rows;             /* rows its snapshot batches loaded; -1: no batch recorded */
} writer_table_count;

void writer_table_counts_free(writer_table_count *counts, size_t n);

/* One committed snapshot batch, as the bookkeeping records it. */
typedef struct import_metainfo_row {
    char *file_name;
    int64_t batch_number;
    int64_t rows;
} import_metainfo_row;

/* Batches already committed for this migration, sorted for lookup (owned). */
typedef struct import_metainfo_set {
    import_metainfo_row *items;
    size_t count;
} import_metainfo_set;

/* Sort set's rows for import_metainfo_set_has (a writer's batches_load does). */
void import_metainfo_set_sort(import_metainfo_set *s);
bool import_metainfo_set_has(const import_metainfo_set *s, const char *file_name, int64_t batch,
                             int64_t *rows);
void import_metainfo_set_free(import_metainfo_set *s);

/* One snapshot batch to load: every pointer is the caller's, valid for the call. */
typedef struct writer_batch {
    const char *display;   /* the table as messages name it */
    const char *schema;
    const char *table;
    const char *load_sql;  /* the table's statement (writer_ops.load_statement) */
    const char *file_name; /* data_file_name of its bookkeeping row */
    int64_t number;        /* its batch number */
    int64_t rows;          /* rows planned: another count loaded is a warning */
    int fd;                /* the data file (PostgreSQL text COPY: rows are lines) */
    int64_t start, end;    /* the batch's bytes in it */
} writer_batch;

typedef enum writer_load_result {
    WRITER_LOAD_DONE,      /* committed with its bookkeeping row (or an earlier run had) */
    WRITER_LOAD_RETRY,     /* a failure worth retrying (*why) */
    WRITER_LOAD_FATAL,     /* a failure retrying does not cure (*why) */
    WRITER_LOAD_TOO_LARGE, /* refused as too large a message: smaller pieces may pass (*why) */
} writer_load_result;

typedef struct writer writer;
typedef struct writer_session writer_session;

/* What end migration left of a database's bookkeeping (drop_bookkeeping). */
typedef enum writer_bookkeeping_end {
    BOOKKEEPING_NONE,    /* there was none */
    BOOKKEEPING_DROPPED, /* this migration's was the last: the bookkeeping database is dropped */
    BOOKKEEPING_KEPT,    /* this migration's rows are gone; what else is there stays (logged) */
} writer_bookkeeping_end;

typedef struct writer_ops {
    const char *type; /* the db_conf type it writes: "postgresql", "mysql" */

    /*
     * The bookkeeping session: connect (recording conf in the catalog),
     * waiting out a database that is restarting or out of reach under rs.
     * NULL after logging; *gave_up when the policy's deadline passed.
     */
    writer_session *(*connect)(writer *w, retry_state *rs, const volatile sig_atomic_t *interrupt,
                               bool *gave_up);
    /*
     * YugabyteDB: the nodes sessions spread over (endpoints: host:port list,
     * NULL: ask the cluster). False after logging a malformed list.
     */
    bool (*discover_nodes)(writer *w, writer_session *s, const char *endpoints, bool use_public_ip);
    /* How many nodes sessions spread over (0 or 1: one server). */
    size_t (*node_count)(writer *w);
    /*
     * A channel's session: every node once (quiet), then channel idx's own
     * node under rs. NULL after logging; *gave_up as for connect.
     */
    writer_session *(*connect_channel)(writer *w, int idx, retry_state *rs,
                                       const volatile sig_atomic_t *interrupt, bool *gave_up);
    /*
     * The channel's server does not take it back: connect s to the next node
     * that answers (quiet), keeping the session. Thread-safe. False when none.
     */
    bool (*move)(writer *w, writer_session *s, int idx);

    /* Is the session's connection up (as far as the client knows)? */
    bool (*connected)(writer_session *s);
    /* Reconnect to the same server (quiet); the session's prepared state is forgotten. */
    bool (*reset)(writer_session *s);
    /*
     * Make a long-lived session usable before relying on it (a round trip;
     * reconnect under rs). False once the policy gave up (logged) or on interrupt.
     */
    bool (*ensure)(writer_session *s, retry_state *rs, const char *what,
                   const volatile sig_atomic_t *interrupt);
    /* The last failure is worth a retry (connection lost, serialization, ...). */
    bool (*retryable)(writer_session *s);
    /* The last failure was a unique violation (PostgreSQL: or an exclusion violation). */
    bool (*unique_violation)(writer_session *s);
    /*
     * After a reconnect that failed: the connection's error (first line is
     * the message), which becomes the session's last failure (retryable).
     */
    const char *(*error_line)(writer_session *s);
    /* The session's user, quoted for SQL in messages (caller frees). */
    char *(*user_ident)(writer_session *s);

    /* The database is YugabyteDB (its load settings apply). */
    bool (*is_yugabyte)(writer_session *s);
    /*
     * Is the caller retrying the session's failures (on: logged as warnings,
     * the default of connect's sessions) or not (errors)?
     */
    void (*set_retrying)(writer_session *s, bool on);
    /* Connected with no transaction open: fit for the next batch. */
    bool (*idle)(writer_session *s);

    /* Transactions around bookkeeping the engine does with meta.db. */
    bool (*begin)(writer_session *s);
    bool (*commit)(writer_session *s);
    /* End a failed transaction, keeping the failure's classification. */
    void (*rollback_after_failure)(writer_session *s);

    /*
     * The metadata of schema.table (caller frees with table_meta_free).
     * False (logged, naming the table) when it does not exist or the query fails.
     */
    bool (*table_meta)(writer_session *s, const char *schema, const char *table, int idx,
                       table_meta **out);

    /* The bookkeeping (SPEC.md "ybvoyager_metadata"): create it when missing (idempotent). */
    bool (*create)(writer_session *s);
    /*
     * Is the progress of the queue generation given? 0: yes (or none yet),
     * 1: no, of a queue started over (*applied_vsn: its highest), -1: error (logged).
     */
    int (*generation_check)(writer_session *s, const char *uuid, const char *generation,
                            int64_t *applied_vsn);
    /*
     * The channels of this migration: fixed by the first run (*nchannels from
     * the rows), else want rows made with generation. *last_applied: caller frees.
     */
    bool (*channels)(writer_session *s, const char *uuid, const char *generation, int want,
                     int *nchannels, int64_t **last_applied);
    /* Forget every channel and count row (inside the caller's transaction). */
    bool (*reset_progress)(writer_session *s, const char *uuid);
    /* The channel's last applied vsn as the database says now. False on error, not logged. */
    bool (*progress)(writer_session *s, const char *uuid, int channel, int64_t *vsn);
    /* Sum of events applied for this migration (all channels). */
    bool (*total_applied)(writer_session *s, const char *uuid, int64_t *total);

    /* The snapshot's bookkeeping: create it when missing (idempotent). */
    bool (*batches_create)(writer_session *s);
    /* The batches committed for this migration into *out (caller frees). */
    bool (*batches_load)(writer_session *s, const char *uuid, import_metainfo_set *out);
    /* Forget the table's batches, inside the caller's transaction. */
    bool (*batches_forget_table)(writer_session *s, const char *uuid, const char *schema,
                                 const char *table);
    /*
     * Take back everything this migration loaded into a table, in one
     * transaction: when it has committed batches, empty the table and forget
     * them. *rows_removed: the rows those batches had loaded.
     */
    bool (*batches_undo_table)(writer_session *s, const char *uuid, const char *schema,
                               const char *table, int64_t *rows_removed);
    /* Does schema.table exist? False after logging (a missing one: how to make it). */
    bool (*check_table)(writer_session *s, const char *schema, const char *table);
    /* Does schema.table hold a row? 1 yes, 0 no, -1 the query failed (logged). */
    int (*table_has_rows)(writer_session *s, const char *schema, const char *table);
    /* Empty the tables (schemas.items[i].names.items[i]) in one statement, in the caller's transaction. */
    bool (*truncate_tables)(writer_session *s, const strlist *schemas, const strlist *names);
    /* The statement that loads a table's rows from a data file of these columns (caller frees). */
    char *(*load_statement)(writer *w, const char *schema, const char *table,
                            const char *columns_json);
    /*
     * A session for loading batches (idx picks the node), set for loading:
     * upsert mode when asked and the database has one; triggers and foreign
     * keys off when allowed, else warned about once (*warned). NULL after a
     * warning: the caller retries.
     */
    writer_session *(*connect_loader)(writer *w, int idx, bool upsert, atomic_int *warned);
    /*
     * Load b in one transaction with its bookkeeping row, as one statement,
     * or as statements of at most copy_cap bytes (> 0). buf:
     * WRITER_LOAD_BUFFER_BYTES of scratch. *why (caller frees) on failure;
     * the transaction is rolled back when the connection is up.
     */
    writer_load_result (*load_batch)(writer_session *s, const char *uuid, const writer_batch *b,
                                     int64_t copy_cap, char *buf, char **why);
    /* Did b commit (its bookkeeping row is there)? 1 yes, 0 no, -1 unknown (not logged). */
    int (*batch_committed)(writer_session *s, const char *uuid, const writer_batch *b);

    /*
     * Set the sequences to seqs[0..n) (those without a name skipped); one the
     * database lacks is a warning. Never backwards: one already at or past its
     * value is left (an application may write to the database by then).
     * *restored counts those set. Idempotent.
     * The values come from meta.db's sequence_last_values: the snapshot
     * exporter records phase "snapshot", a draining exporter its cutover op;
     * an importer sets those of the phase it reached.
     */
    bool (*set_sequences)(writer_session *s, const sequence_value *seqs, size_t n, int *restored);

    /*
     * Set the session up to apply channel `channel`'s batches. False when it
     * cannot skip foreign-key checks and triggers (PostgreSQL: the replica
     * role), not logged: the engine then keeps foreign-key order itself.
     */
    bool (*apply_setup)(writer_session *s, int channel, const char *uuid);
    /*
     * Apply items[0..n) in one transaction with the channel's progress (the
     * vsn of the last item, counts), moved from after_vsn: when the progress
     * recorded is no longer after_vsn the transaction fails (another session
     * committed meanwhile). On failure rolls back and returns false;
     * *failed is the item the error is about (NULL when it is not one item's
     * fault), the error's first line goes to err, retryable() and
     * unique_violation() classify it. Not logged.
     */
    bool (*apply_batch)(writer_session *s, int64_t after_vsn, writer_item **items, size_t n,
                        writer_item **failed, strbuf *err);
    /*
     * Optional (NULL: an idle channel's progress moves only with its batches).
     * Record, in a transaction of its own, that the channel's progress is vsn
     * with no change applied (counts unchanged), if it still is after_vsn (as
     * apply_batch): the engine calls it for an idle channel once every change
     * routed to it up to vsn is committed, so that a restart can read the
     * queue from there (the least progress of all channels). False on any
     * error, rolled back; not logged.
     */
    bool (*apply_progress)(writer_session *s, int64_t after_vsn, int64_t vsn);

    /*
     * Optional (NULL: nothing to give back). Called between batches, after one
     * of more than WRITER_RENEW_AFTER_BYTES committed: give back memory the
     * session's client library kept at that batch's size (PostgreSQL: libpq
     * keeps its output buffer at the largest message sent) by a new session
     * with the same parameters, set up as apply_setup did. When the new one
     * cannot be had the old one stays. Not logged.
     */
    void (*apply_renew)(writer_session *s);

    /*
     * get data-migration-report and end migration. Each optional: NULL means
     * the existing path (migration/report.c, end_migration.c read and drop
     * PostgreSQL's bookkeeping through libpq), so the PostgreSQL writer sets none.
     *
     * table_counts: this migration's counts per table from the bookkeeping
     * (*out caller frees with writer_table_counts_free; none when the database
     * has no bookkeeping). False after logging.
     */
    bool (*table_counts)(writer_session *s, const char *uuid, writer_table_count **out,
                         size_t *n);
    /*
     * Rows in the table the target calls schema.table: 1 counted (*rows), 0 the
     * database has no such table (quiet), -1 the query failed (logged).
     */
    int (*row_count)(writer_session *s, const char *schema, const char *table, int64_t *rows);
    /*
     * end migration: delete this migration's bookkeeping rows, drop each
     * bookkeeping table no other migration has rows in, and the bookkeeping
     * database when nothing is left in it. *outcome says which. False after
     * logging.
     */
    bool (*drop_bookkeeping)(writer_session *s, const char *migration_uuid, writer_bookkeeping_end *outcome);

    void (*close_session)(writer_session *s);
    void (*free)(writer *w);
} writer_ops;

/* A batch larger than this (one large event) is followed by apply_renew. */
#define WRITER_RENEW_AFTER_BYTES (16u << 20)

#define WRITER_LOAD_BUFFER_BYTES (1024 * 1024)

struct writer {
    const writer_ops *ops;
    engine_ctx *eng;
    db_conf *conf; /* the caller's; a password entered at a prompt is kept in it */
    void *impl;
};

struct writer_session {
    const writer_ops *ops;
    db_role role;             /* the database, for messages */
    int64_t zero_row_changes; /* apply_batch: updates/deletes that found no row */
    int64_t merged_events;    /* apply_batch: events applied through multi-row statements */
    int64_t folded_into_inserts; /* apply_batch: updates folded into their row's insert */
    int64_t folded_into_updates; /* apply_batch: ... into their row's update before them */
    void *impl;
};

/*
 * The writer of conf's database: conf->type for the source (fall-back) and the
 * source-replica (fall-forward), PostgreSQL's protocol for the target. NULL after
 * logging when this build has none (*status set). conf must outlive it.
 */
writer *writer_for(engine_ctx *eng, db_conf *conf, engine_status *status);
void writer_free(writer *w);
void writer_session_close(writer_session *s);

#endif
