/*
 * The change apply's bookkeeping on each database it writes to, schema
 * ybvoyager_metadata (SPEC.md): one row per channel with its last applied vsn,
 * and per table and channel the events applied. Both are written inside the
 * transaction of each applied batch, so they say exactly what committed.
 * Names and statements only (tests/integration/test_ambiguous_commit.sh runs
 * the progress statement as the writer sends it); the functions are in
 * source/pg_writer_int.h.
 */
#ifndef VOYAGER_SOURCE_PG_BOOKKEEPING_H
#define VOYAGER_SOURCE_PG_BOOKKEEPING_H

#define CDC_META_SCHEMA "ybvoyager_metadata"
#define CDC_CHANNELS_TABLE "ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo"
#define CDC_COUNTS_TABLE "ybvoyager_metadata.ybvoyager_imported_event_count_by_table"

/*
 * Statements run inside each batch ($1 migration uuid, $2 channel, ...).
 * The progress only moves forward, and only from the vsn the batch follows
 * ($7): a writer that read an older progress (a replayed batch; a restarted
 * importer while the killed one's last batch still commits; a second
 * importer) updates no row, and then the statement fails (the cast of the
 * message to integer; inside the CASE the planner cannot fold it away), so
 * the batch cannot commit.
 * Under READ COMMITTED the row lock makes the later of two such batches wait
 * for the earlier and then find the progress moved.
 */
#define CDC_SQL_CHANNEL_PROGRESS                                                                   \
    "WITH u AS (UPDATE " CDC_CHANNELS_TABLE " SET last_applied_vsn = $3, "                         \
    "num_inserts = num_inserts + $4, num_updates = num_updates + $5, "                             \
    "num_deletes = num_deletes + $6 "                                                              \
    "WHERE migration_uuid = $1 AND channel_no = $2 AND last_applied_vsn = $7 "                     \
    "AND last_applied_vsn < $3 RETURNING 1) "                                                      \
    "SELECT (CASE WHEN count(*) = 1 THEN '1' ELSE 'stale batch: the progress of this channel is "  \
    "no longer at vsn ' || $7 || ' (committed by another session: an importer killed while it "    \
    "committed, or a second importer on this database?)' END)::int FROM u"
#define CDC_SQL_TABLE_COUNTS                                                                       \
    "INSERT INTO " CDC_COUNTS_TABLE " AS t (migration_uuid, channel_no, table_name, total_events, " \
    "num_inserts, num_updates, num_deletes) "                                                      \
    "VALUES ($1, $2, $3, $4::bigint + $5::bigint + $6::bigint, $4, $5, $6) "                       \
    "ON CONFLICT (migration_uuid, table_name, channel_no) DO UPDATE SET "                          \
    "total_events = t.total_events + EXCLUDED.total_events, "                                      \
    "num_inserts = t.num_inserts + EXCLUDED.num_inserts, "                                         \
    "num_updates = t.num_updates + EXCLUDED.num_updates, "                                         \
    "num_deletes = t.num_deletes + EXCLUDED.num_deletes"

#endif
