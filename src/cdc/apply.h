/*
 * Applying change events to one database connection: per-table metadata from
 * the target's catalog, the SQL of each event (prepared once per statement
 * shape and connection), and the batch transaction that also records the
 * channel's progress (cdc/import_metainfo.h). Values travel as text
 * parameters of unknown type, so the server reads each one with the input
 * function of the column it lands in (arrays, json, enums, domains alike).
 */
#ifndef VOYAGER_CDC_APPLY_H
#define VOYAGER_CDC_APPLY_H

#include "cdc/event.h"
#include "cdc/strmap.h"
#include "core/util.h"
#include "db/pgconn.h"

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
    strlist col_names;  /* its columns, and each one's type as SQL (col_types[i], no typmod) */
    strlist col_types;
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

/*
 * Load the metadata of schema.table from the catalog. Returns false (logged,
 * naming the table) when it does not exist or the query fails.
 * Caller frees *out with table_meta_free().
 */
bool table_meta_load(pgconn *c, const char *schema, const char *table, int idx, table_meta **out);
void table_meta_free(table_meta *t);

/* An event in flight: waits for deps (other channels past a vsn) before it is applied. */
typedef struct cdc_dep {
    int channel;
    int64_t vsn;
} cdc_dep;

typedef struct cdc_item {
    cdc_event ev;
    size_t bytes;       /* memory it holds (its arena, >= its values' text): the channels'
                           bounds on queued memory and on a batch's size */
    table_meta *tm;
    cdc_dep *deps;
    size_t ndeps;
    cdc_arena *arena;   /* holds the item itself and its event when set (else malloc'd) */
} cdc_item;

void cdc_item_free(cdc_item *it);

/* One connection applying one channel's batches. */
typedef struct applier {
    pgconn *conn;
    int channel;
    const char *migration_uuid;
    strmap stmts;       /* statement shape -> prepared name (as intptr_t number) */
    int next_stmt;
    int64_t zero_row_changes; /* updates/deletes that found no row */
    int64_t merged_events;    /* events applied through multi-row statements */
} applier;

void applier_init(applier *a, pgconn *conn, int channel, const char *migration_uuid);
/* Forget prepared statements (after a reconnect). */
void applier_reset(applier *a);
void applier_free(applier *a);

/*
 * Apply items[0..n) in one transaction with the channel's progress
 * (last_applied_vsn = vsn of the last item, insert/update/delete counts, per
 * table counts). On failure rolls back and returns false; *failed is the
 * item the error is about (NULL when it is not one item's fault), the error
 * text goes into err, and a->conn->last_error_retryable tells whether to
 * retry.
 */
bool applier_apply_batch(applier *a, cdc_item **items, size_t n, cdc_item **failed, strbuf *err);

#endif
