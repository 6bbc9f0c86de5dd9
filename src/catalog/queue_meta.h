/*
 * The change queue's rows in meta.db (tables in catalog/catalog_schema.c):
 * queue_segment and queue_table_counts (written by the exporter's queue
 * writer, imported_by_* by importers), cdc_exporter_state (each change
 * exporter's durable position and slot), and the two tables through which
 * compare data finds a consistent point with the running exporter and
 * importers (compare_point, compare_hold).
 *
 * Every accessor finishes its statements before it returns. The ones that
 * say "in one transaction" are atomic by themselves; the others may be
 * grouped by the caller with catalog_begin/catalog_commit/catalog_rollback.
 * All log their errors (catalog_log_error) and return false.
 */
#ifndef VOYAGER_CATALOG_QUEUE_META_H
#define VOYAGER_CATALOG_QUEUE_META_H

#include "catalog/catalog.h"

#include <stdbool.h>
#include <stddef.h>

/* ---- cdc_exporter_state: one row per exporter role ---- */

typedef struct qm_exporter {
    bool found;              /* the role has a row */
    char *slot;              /* NULL when not recorded; owned by the struct */
    char *publication;       /* likewise */
    char *tables_json;       /* the captured tables (cdc_tables_to_json), or NULL */
    bool snapshot_done;
    bool stream_done;
    long long last_commit_lsn;
    long long last_vsn;
    long long total_events;
    /*
     * The highest position confirmed to the feed beyond last_commit_lsn (an
     * idle stream's, or the feed's start): recorded before it is confirmed,
     * so a feed confirmed further than this export dir knows is told apart
     * (a restored copy of the dir). -1: not known (a feed recorded by an
     * older build, or one being made).
     */
    long long confirmed_lsn;
} qm_exporter;

/* Create the role's row when missing. */
bool qm_exporter_init(catalog *m, const char *role);
/* Load the role's row into *out (out->found false when none); free with qm_exporter_free. */
bool qm_exporter_get(catalog *m, const char *role, qm_exporter *out);
void qm_exporter_free(qm_exporter *e);
/*
 * Record the role's slot, publication and captured tables; reset_position (a
 * new slot): the snapshot and the stream position start over too.
 */
bool qm_exporter_record(catalog *m, const char *role, const char *slot, const char *publication,
                        const char *tables_json, bool reset_position);
/* Raise the role's confirmed_lsn to lsn (never lowers it). */
bool qm_exporter_set_confirmed(catalog *m, const char *role, long long lsn);
/* The snapshot of this role's slot is complete and durable. */
bool qm_exporter_set_snapshot_done(catalog *m, const char *role);

/*
 * Forget the whole queue, in one transaction: segments, counts, what its
 * events carry per table, every exporter's position, and the sequence values read at cutovers (--start-clean
 * of a live export).
 */
bool qm_queue_reset(catalog *m);

/* ---- the queue writer's steps ---- */

/* The queue's last segment, and the highest vsn any segment recorded. */
typedef struct qm_tail {
    long long max_vsn;        /* 0 when no segment recorded a vsn */
    long long seg_no;         /* -1 when there is no segment yet; then the rest is 0 */
    bool is_closed;
    long long committed_size;
    long long total_events;
    long long first_vsn;      /* 0 when none */
    bool role_matches;        /* written by the role asked about */
} qm_tail;
bool qm_queue_tail(catalog *m, const char *role, qm_tail *out);

/* A new, empty segment row owned by role (rel_path relative to the export dir). */
bool qm_segment_insert(catalog *m, long long seg_no, const char *rel_path, const char *role);

/*
 * queue_table_keys: the columns (JSON array of names) whose old values role's events carry
 * for a table. set replaces; get gives *columns_json NULL when none is recorded (caller frees).
 */
bool qm_table_keys_set(catalog *m, const char *role, const char *schema, const char *table,
                       const char *columns_json);
bool qm_table_keys_get(catalog *m, const char *role, const char *schema, const char *table,
                       char **columns_json);

/* Per-table event counts of one durable step. */
typedef struct qm_count {
    const char *schema;
    const char *table;
    long long inserts, updates, deletes;
} qm_count;

/* One durable step of the queue writer: everything below moves together. */
typedef struct qm_step {
    const char *role;
    long long seg_no;
    long long committed_size;
    long long first_vsn;      /* 0: the segment holds no event yet */
    long long last_vsn;
    long long seg_events;     /* events in the segment */
    long long commit_lsn;     /* the exporter's position after this step */
    long long added_events;   /* events this step adds to the exporter's total */
    const qm_count *counts;
    size_t ncounts;
    bool ends_stream;         /* the segment is closed as the last and the stream marked done */
} qm_step;

/* Record a durable step, in one transaction. */
bool qm_record_step(catalog *m, const qm_step *s);

/*
 * Close segment seg_no at committed_size and insert the row of segment
 * seg_no + 1 (next_rel_path, role's), in one transaction. The last segment is
 * closed by the step that ends the stream (qm_step.ends_stream).
 */
bool qm_segment_close(catalog *m, const char *role, long long seg_no, long long committed_size,
                      const char *next_rel_path);

/* Did the last failed step of the store fail because its file system is full? */
bool qm_store_full(catalog *m);

/*
 * --start-clean of an importer: every segment counts as not yet applied by
 * importer_role (one of the three importer roles; anything else is a bug).
 */
bool qm_segments_forget_applied(catalog *m, const char *importer_role);

/* ---- compare data's consistent point (cdc/consistent_point.h) ---- */

/* The request waiting for the exporter: *asked false when none; *snapshot caller frees. */
bool qm_point_asked(catalog *m, bool *asked, long long *lsn, char **snapshot);
/* Answer the waiting request: state "answered" or "retry", with vsn. */
bool qm_point_answer(catalog *m, const char *state, long long vsn);
/* Put a new request (replacing any). */
bool qm_point_ask(catalog *m, long long lsn, const char *snapshot);
/* The request's state: *state caller frees (NULL when no request); *vsn when answered. */
bool qm_point_state(catalog *m, char **state, long long *vsn);
bool qm_point_clear(catalog *m);

/* The hold row of an importer: false when there is none (or the read failed). */
bool qm_hold_get(catalog *m, const char *role, long long *pid, long long *hold_vsn,
                 long long *held_vsn);
/* Ask role to pause (hold_vsn and held_vsn -1), for requester pid. */
bool qm_hold_request(catalog *m, const char *role, long long pid);
bool qm_hold_set_held(catalog *m, const char *role, long long held_vsn);
bool qm_hold_advance(catalog *m, const char *role, long long hold_vsn);
bool qm_hold_release(catalog *m, const char *role);

#endif
