/*
 * The seam between the snapshot commands and change data capture (live
 * migration). export data / import data call these when --export-type is
 * snapshot-and-changes; the CDC modules implement them.
 */
#ifndef VOYAGER_CDC_CDC_LIVE_H
#define VOYAGER_CDC_CDC_LIVE_H

#include "cli/cmd_ctx.h"
#include "db/dbconf.h"
#include "db/pgconn.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct cdc_export_state cdc_export_state;

/*
 * Called by `export data` once the table list is known and before any snapshot
 * worker starts. Checks prerequisites, creates (or on restart finds) the
 * publication and the replication slot, and keeps the replication connection
 * open in *state.
 *   *snapshot_name: exported snapshot every snapshot worker must use with
 *     SET TRANSACTION SNAPSHOT (caller frees), or NULL when the snapshot phase
 *     already completed in an earlier run.
 *   *restart_snapshot: true when a new slot was made, so any partial snapshot
 *     data from an earlier run must be discarded and the snapshot redone.
 * Returns an exit code (EXIT_OK on success; errors already logged).
 */
int cdc_export_begin(cmd_ctx *ctx, db_conf *source, const char *const *schemas,
                     const char *const *tables, size_t ntables, cdc_export_state **state,
                     char **snapshot_name, bool *restart_snapshot);

/*
 * Record that the snapshot of this slot is complete and durable, so that a
 * restart streams from the slot instead of redoing the snapshot. Called
 * before ExportDataDone is set: an importer that saw the snapshot finished
 * must never see it redone. False after logging.
 */
bool cdc_export_snapshot_done(cmd_ctx *ctx);

/*
 * Called after the snapshot is complete and durable (or skipped): streams
 * changes into data/queue/ until cutover completes or the process is
 * interrupted. Frees state. Returns an exit code.
 */
int cdc_export_stream(cmd_ctx *ctx, cdc_export_state *state);

/* Frees state without streaming (e.g. the snapshot failed). */
void cdc_export_abort(cdc_export_state *state);

/*
 * The whole `export data from target` command: change capture from the target
 * after cutover to target (fall-back or fall-forward prepared), into the same
 * queue with exporter role target_db_exporter_fb / target_db_exporter_ff.
 * Started by the target importer after cutover, restartable by hand.
 */
int cdc_export_from_target(cmd_ctx *ctx);

/*
 * Sequence values handed from exporters to importers go in meta.db table
 * sequence_last_values(phase, schema_name, sequence_name, last_value,
 * is_called, PRIMARY KEY(phase, schema_name, sequence_name)); phase is
 * "snapshot" (read in the snapshot) or the cutover op of QUEUE_OP_CUTOVER_*
 * (final values read by the exporter while draining for that cutover).
 */

/*
 * Called by `import data to target|source|source-replica` after the snapshot import
 * is complete, when the migration is live: applies queued events to the
 * database until the end-of-stream marker (cutover) or interruption.
 * importer_role: "target_db_importer" | "source_db_importer" |
 * "source_replica_db_importer". Returns an exit code.
 */
int cdc_import_apply(cmd_ctx *ctx, db_conf *conf, const char *importer_role);

/*
 * The table list of a live import is fixed by its first run: the importer's
 * progress moves past the changes of tables it leaves out, so a run with
 * other --table-list / --exclude-table-list would lose them for good. Records
 * the lists on the first run (and with start_clean), refuses different ones
 * after (exit code; EXIT_OK when the command has no table-list flags).
 */
int cdc_import_table_filter_check(cmd_ctx *ctx, const char *importer_role, bool start_clean);

/*
 * import data --start-clean: inside the transaction that empties the tables
 * on c, forget the change progress too (channel and count rows), after
 * marking every queue segment as not applied by importer_role in meta.db.
 * False after logging.
 */
bool cdc_import_clean_in_tx(cmd_ctx *ctx, const char *importer_role, pgconn *c);

#endif
