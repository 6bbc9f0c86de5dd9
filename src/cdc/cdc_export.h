/*
 * Change capture (live migration), the export side: export data calls these
 * when --export-type is snapshot-and-changes; export data from target is
 * cdc_export_from_target(). Sequence values handed to importers are in
 * meta.db's sequence_last_values (catalog/catalog_schema.c).
 */
#ifndef VOYAGER_CDC_CDC_EXPORT_H
#define VOYAGER_CDC_CDC_EXPORT_H

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

#endif
