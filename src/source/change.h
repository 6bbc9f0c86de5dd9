/*
 * The neutral change record: what a source's change feed hands the change
 * engine (cdc/cdc_stream.c), whatever the source's own protocol is
 * (PostgreSQL: pgoutput, decoded in source/pg_feed.c). The engine turns
 * these into queue events; it never sees the source's structures.
 *
 * Positions. src_position is an opaque, monotonically increasing commit
 * position: the queue records the end position of the last transaction it
 * holds durably, and a feed restarted "after" it sends only transactions
 * that commit later (plus, possibly, ones already queued, which the engine
 * skips: their commit position is below the recorded end). PostgreSQL maps
 * its LSN to it one to one. A source whose position is not one number maps
 * its own into 64 bits keeping the order (e.g. a MySQL binlog file index in
 * the high bits and the offset in the low ones) or keeps a string position
 * of its own beside the queue, keyed by this number.
 *
 * Lifetime. Every pointer in a src_change is the feed's and valid only for
 * the duration of the callback that receives it: the engine copies what it
 * keeps.
 */
#ifndef VOYAGER_SOURCE_CHANGE_H
#define VOYAGER_SOURCE_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t src_position;

typedef enum src_change_op {
    SRC_INSERT = 'c',
    SRC_UPDATE = 'u',
    SRC_DELETE = 'd',
    SRC_TRUNCATE = 't', /* the table emptied: no columns, no values */
} src_change_op;

/* One column value, in the source's text form. */
typedef enum src_value_kind {
    SRC_NULL = 'n',
    SRC_TEXT = 't',
    SRC_UNCHANGED = 'u', /* not sent by the source (an unchanged TOASTed value): leave it be */
} src_value_kind;

typedef struct src_value {
    char kind;        /* src_value_kind */
    const char *data; /* SRC_TEXT: len bytes, not NUL-terminated */
    size_t len;
} src_value;

typedef struct src_change {
    src_change_op op;
    const char *schema;
    const char *table;
    size_t ncols;
    const char *const *columns; /* ncols names, in the table's order */
    /* insert, update: the new row (ncols values); NULL otherwise */
    const src_value *after;
    /*
     * update, delete: the row before the change when the source sent it
     * (ncols values; NULL when it sent none). before_full: every column is
     * there; else only the key columns are (the others SRC_NULL).
     */
    const src_value *before;
    bool before_full;
    const size_t *key; /* nkey indexes into columns: the row's identity (primary key) */
    size_t nkey;
    /*
     * update, delete with the whole old row: ncols flags, true for the
     * columns whose old values the apply side needs besides the key's (the
     * columns of the table's unique indexes: conflict detection follows their
     * old values). The queue gets only those, not the whole old row (which
     * may hold values of many megabytes). NULL: not known, every old value is
     * written.
     */
    const bool *old_needed;
    /*
     * Nonzero: names this schema, table and columns array for the life of the
     * feed (never reused for other names), so the engine may keep what it
     * derives from them under it. 0: no such promise.
     */
    uint64_t shape_id;
} src_change;

/*
 * What a feed calls while it streams: begin, then the transaction's changes,
 * then commit, for each committed transaction in commit order (a feed sends
 * only committed transactions). Each returns ENGINE_OK (core/engine.h) to go
 * on, or a failure status that the feed's poll returns at once.
 *   begin:  txid is the source's transaction id (0 when it has none); commit
 *           is the commit position, below the end position of commit().
 *   commit: end is the position to record once the transaction is durable.
 */
typedef struct source_feed_handler {
    void *arg;
    int (*begin)(void *arg, uint64_t txid, src_position commit);
    int (*change)(void *arg, const src_change *ch);
    int (*commit)(void *arg, src_position end);
} source_feed_handler;

#endif
