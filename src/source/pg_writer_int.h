/*
 * The PostgreSQL writer's own state and helpers, shared by its files only:
 *   pg_writer.c       the ops table (writer_pg_ops), sessions, YugabyteDB's nodes
 *   pg_apply.c        table metadata from the catalog and the batch transaction: the SQL
 *                     of each change (prepared once per statement shape and connection)
 *                     and the channel's progress, in one transaction. Values travel as
 *                     text parameters of unknown type, so the server reads each one with
 *                     the input function of the column it lands in (arrays, json, enums,
 *                     domains alike).
 *   pg_bookkeeping.c  the ybvoyager_metadata tables of the change apply (pg_bookkeeping.h)
 *   pg_batches.c      the snapshot import's table of committed batches
 *   pg_load.c         loader sessions and one snapshot batch: COPY FROM STDIN of its bytes
 *                     with its bookkeeping row, in one transaction
 * It serves YugabyteDB and PostgreSQL targets, and PostgreSQL as source and
 * source-replica. Nothing outside src/source includes this.
 */
#ifndef VOYAGER_SOURCE_PG_WRITER_INT_H
#define VOYAGER_SOURCE_PG_WRITER_INT_H

#include "core/strmap.h"
#include "db/pgconn.h"
#include "db/yb_nodes.h"
#include "source/pg_bookkeeping.h"
#include "source/writer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One connection applying one channel's batches. */
typedef struct applier {
    pgconn *conn;
    int channel;
    const char *migration_uuid;
    strmap stmts;       /* statement shape -> prepared name (as intptr_t number) */
    int next_stmt;
    int64_t zero_row_changes; /* updates/deletes that found no row */
    int64_t merged_events;    /* events applied through multi-row statements */
    int64_t folded_into_inserts; /* updates folded into their row's insert (committed batches) */
    int64_t folded_into_updates; /* ... into their row's update before them (committed batches) */
} applier;

/* A session: its connection (owned) and, on a channel's, the applier. */
typedef struct pg_wsession {
    writer_session pub;
    pgconn *c;
    applier ap;
    bool upsert; /* a loader session on YugabyteDB in yb_enable_upsert_mode */
} pg_wsession;

static inline pg_wsession *pg_ws(writer_session *s) { return (pg_wsession *)s->impl; }

/* pg_apply.c */
bool table_meta_load(pgconn *c, const char *schema, const char *table, int idx, table_meta **out);
void applier_init(applier *a, pgconn *conn, int channel, const char *migration_uuid);
/* Forget prepared statements (after a reconnect). */
void applier_reset(applier *a);
void applier_free(applier *a);
/* writer_ops.apply_batch on a's connection (its contract). */
bool applier_apply_batch(applier *a, int64_t after_vsn, writer_item **items, size_t n,
                         writer_item **failed, strbuf *err);
/* writer_ops.apply_progress on a's connection (its contract). */
bool applier_apply_progress(applier *a, int64_t after_vsn, int64_t vsn);

/* pg_bookkeeping.c: writer_ops' bookkeeping entries on a connection (their contracts). */
bool cdc_metainfo_create(pgconn *c);
bool cdc_metainfo_channels(pgconn *c, const char *migration_uuid, const char *generation,
                           int want, int *nchannels, int64_t **last_applied);
int cdc_metainfo_generation_check(pgconn *c, const char *migration_uuid, const char *generation,
                                  int64_t *applied_vsn);
bool cdc_metainfo_reset(pgconn *c, const char *migration_uuid);
bool cdc_metainfo_channel_progress(pgconn *c, const char *migration_uuid, int channel,
                                   int64_t *vsn);
bool cdc_metainfo_total_applied(pgconn *c, const char *migration_uuid, int64_t *total);
/*
 * The name a table is counted under: schema.table, each part double-quoted
 * when it is not a plain lower-case identifier. Caller frees.
 */
char *cdc_metainfo_table_name(const char *schema, const char *table);

/* pg_batches.c: ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3. */
bool import_metainfo_create(pgconn *c);
bool import_metainfo_load(pgconn *c, const char *migration_uuid, import_metainfo_set *out);
/* The INSERT of a batch's row, inside the caller's transaction. Caller PQclear()s. */
PGresult *import_metainfo_insert(pgconn *c, const char *migration_uuid, const char *file_name,
                                 int64_t batch, const char *schema, const char *table, int64_t rows);
/* Its row count, in the same transaction (the batch loaded other than planned). Caller PQclear()s. */
PGresult *import_metainfo_set_rows(pgconn *c, const char *migration_uuid, const char *file_name,
                                   int64_t batch, const char *schema, const char *table, int64_t rows);
bool import_metainfo_delete_table(pgconn *c, const char *migration_uuid, const char *schema,
                                  const char *table);
/* writer_ops.batches_undo_table's contract. */
bool import_metainfo_undo_table(pgconn *c, const char *migration_uuid, const char *schema,
                                const char *table, int64_t *rows_removed);

/* pg_load.c: writer_ops' entries of the same names (their contracts). */
writer_session *pg_w_connect_loader(writer *w, int idx, bool upsert, atomic_int *warned);
writer_load_result pg_w_load_batch(writer_session *s, const char *uuid, const writer_batch *b,
                                   int64_t copy_cap, char *buf, char **why);
int pg_w_batch_committed(writer_session *s, const char *uuid, const writer_batch *b);
char *pg_w_load_statement(writer *w, const char *schema, const char *table,
                          const char *columns_json);

/* pg_writer.c: a session over c (owned), and the nodes of the writer (count 0: none). */
writer_session *pg_session_of(pgconn *c);
const yb_nodes *pg_writer_nodes(writer *w);

#endif
