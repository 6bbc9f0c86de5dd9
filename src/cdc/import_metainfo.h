/*
 * The change applier's bookkeeping on each database it imports into, schema
 * ybvoyager_metadata (SPEC.md): one row per channel with its last applied vsn,
 * and per table and channel the events applied. Both are written inside the
 * transaction of each applied batch, so they say exactly what committed.
 */
#ifndef VOYAGER_CDC_IMPORT_METAINFO_H
#define VOYAGER_CDC_IMPORT_METAINFO_H

#include "db/pgconn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CDC_META_SCHEMA "ybvoyager_metadata"
#define CDC_CHANNELS_TABLE "ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo"
#define CDC_COUNTS_TABLE "ybvoyager_metadata.ybvoyager_imported_event_count_by_table"

/*
 * Statements run inside each batch ($1 migration uuid, $2 channel, ...).
 * The progress only moves forward: a stale writer (a replayed batch, a second
 * importer) updates no row, and then the statement fails (the cast of the
 * message to integer; inside the CASE the planner cannot fold it away), so
 * the batch cannot commit without its progress.
 */
#define CDC_SQL_CHANNEL_PROGRESS                                                                   \
    "WITH u AS (UPDATE " CDC_CHANNELS_TABLE " SET last_applied_vsn = $3, "                         \
    "num_inserts = num_inserts + $4, num_updates = num_updates + $5, "                             \
    "num_deletes = num_deletes + $6 "                                                              \
    "WHERE migration_uuid = $1 AND channel_no = $2 AND last_applied_vsn < $3 RETURNING 1) "        \
    "SELECT (CASE WHEN count(*) = 1 THEN '1' ELSE 'stale batch: the progress of this channel is "  \
    "already at or past vsn ' || $3 || ' (another importer on this database?)' END)::int FROM u"
#define CDC_SQL_TABLE_COUNTS                                                                       \
    "INSERT INTO " CDC_COUNTS_TABLE " AS t (migration_uuid, channel_no, table_name, total_events, " \
    "num_inserts, num_updates, num_deletes) "                                                      \
    "VALUES ($1, $2, $3, $4::bigint + $5::bigint + $6::bigint, $4, $5, $6) "                       \
    "ON CONFLICT (migration_uuid, table_name, channel_no) DO UPDATE SET "                          \
    "total_events = t.total_events + EXCLUDED.total_events, "                                      \
    "num_inserts = t.num_inserts + EXCLUDED.num_inserts, "                                         \
    "num_updates = t.num_updates + EXCLUDED.num_updates, "                                         \
    "num_deletes = t.num_deletes + EXCLUDED.num_deletes"

/* Create the schema and both tables when missing (idempotent). */
bool cdc_metainfo_create(pgconn *c);

/*
 * The channels of this migration on this database. The number of channels is
 * fixed by the first run (routing depends on it): when rows exist, *nchannels
 * is set to their count and want is ignored; else want rows are created,
 * recording the queue generation (cdc/queue_generation.h) their vsns count in.
 * *last_applied: array of *nchannels vsns, caller frees.
 */
bool cdc_metainfo_channels(pgconn *c, const char *migration_uuid, const char *generation,
                           int want, int *nchannels, int64_t **last_applied);

/*
 * Is the progress on this database of the queue generation given? 0: yes (or
 * no progress yet; rows without a generation are adopted), 1: no, it counts
 * vsns of a queue that was started over (*applied_vsn: its highest), -1: error
 * (logged). Call before cdc_metainfo_channels.
 */
int cdc_metainfo_generation_check(pgconn *c, const char *migration_uuid, const char *generation,
                                  int64_t *applied_vsn);

/*
 * Forget every channel and count row of this migration: the next run starts
 * at vsn 0. Run it inside the caller's transaction, with whatever makes the
 * data match (the truncation of a clean snapshot import).
 */
bool cdc_metainfo_reset(pgconn *c, const char *migration_uuid);

/*
 * The channel's last applied vsn as the database says now (after a dropped
 * connection: did the batch in flight commit?). False on error (not logged:
 * the caller retries).
 */
bool cdc_metainfo_channel_progress(pgconn *c, const char *migration_uuid, int channel,
                                   int64_t *vsn);

/* Sum of events applied on this database for this migration (all channels). */
bool cdc_metainfo_total_applied(pgconn *c, const char *migration_uuid, int64_t *total);

/*
 * The name a table is counted under: schema.table, each part double-quoted
 * when it is not a plain lower-case identifier. Caller frees.
 */
char *cdc_metainfo_table_name(const char *schema, const char *table);

/* Per-table event counts for get data-migration-report. */
typedef struct cdc_table_count {
    char *schema_name;
    char *table_name;
    int64_t inserts, updates, deletes;
} cdc_table_count;

/*
 * The events applied on this database for migration_uuid, summed over
 * channels, one entry per table, ordered by schema and table. Returns true
 * with *count 0 when nothing was applied (or the tables do not exist yet).
 * The caller owns *out and frees it with cdc_import_counts_free().
 */
bool cdc_import_counts_by_table(pgconn *c, const char *migration_uuid, cdc_table_count **out,
                                size_t *count);
void cdc_import_counts_free(cdc_table_count *counts, size_t count);

#endif
