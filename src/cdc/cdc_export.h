/*
 * Change capture (live migration), the export side: export data calls these
 * when --export-type is snapshot-and-changes; export data from target is
 * cdc_export_from_target(). Sequence values handed to importers are in
 * meta.db's sequence_last_values (catalog/catalog_schema.c).
 */
#ifndef VOYAGER_CDC_CDC_EXPORT_H
#define VOYAGER_CDC_CDC_EXPORT_H

#include "core/engine.h"
#include "core/util.h"
#include "db/dbconf.h"
#include "source/source.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct cdc_export_state cdc_export_state;

/* Change capture from the source, as export data --export-type snapshot-and-changes sets it up. */
typedef struct cdc_export_spec {
    source *src;                  /* connected; must outlive the state */
    const char *const *schemas;   /* NULL-terminated, resolved: their sequences go over at cutover */
    const src_table *const *tables; /* the captured tables */
    size_t ntables;
    bool start_clean;             /* drop the slot and the queue of earlier runs first */
    bool progress_bars;           /* live metrics redrawn in place */
    const char *command_name;     /* "export data from source" */
} cdc_export_spec;

/*
 * A live export run again once its snapshot was taken exports only the
 * tables its feed captured from the start: the publication is not widened
 * then and no table is snapshotted again, so a table added would be in no
 * snapshot and no change, missing from the target with exit 0. sel[0..*n)
 * loses the others (*n shrinks), each with a warning; when listed (the
 * operator named the tables: --table-list) they are refused instead (logged,
 * false). Fewer tables are refused by the snapshot's own table check. Called
 * before anything of this run is recorded.
 */
bool cdc_export_keep_captured(engine_ctx *eng, src_table **sel, size_t *n, bool listed);

/*
 * Called by `export data` once the table list is known and before any snapshot
 * worker starts. Has the source check its prerequisites and create (or on
 * restart find) its change feed (PostgreSQL: publication and replication
 * slot), which holds the feed's snapshot until cdc_export_stream.
 *   *snapshot_name: the snapshot every snapshot worker reads in (caller
 *     frees), or NULL when the snapshot phase already completed in an earlier run.
 *   *restart_snapshot: true when a new feed was made, so any partial snapshot
 *     data from an earlier run must be discarded and the snapshot redone.
 * Errors are logged.
 */
engine_status cdc_export_begin(engine_ctx *eng, const cdc_export_spec *spec, cdc_export_state **state,
                               char **snapshot_name, bool *restart_snapshot);

/*
 * Record that the snapshot of this slot is complete and durable, so that a
 * restart streams from the slot instead of redoing the snapshot. Called
 * before ExportDataDone is set: an importer that saw the snapshot finished
 * must never see it redone. False after logging.
 */
bool cdc_export_snapshot_done(engine_ctx *eng);

/*
 * Called after the snapshot is complete and durable (or skipped): streams
 * changes into data/queue/ until cutover completes or the process is
 * interrupted. Frees state.
 */
engine_status cdc_export_stream(engine_ctx *eng, cdc_export_state *state);

/* Frees state without streaming (e.g. the snapshot failed); the feed stays on the server. */
void cdc_export_abort(cdc_export_state *state);

/* `export data from target`: change capture from the target after cutover to target. */
typedef struct cdc_target_spec {
    db_conf *target;              /* the engine keeps a password entered at the prompt */
    bool progress_bars;
    const char *command_name;
} cdc_target_spec;

/*
 * May export data from target run now (a way back prepared, cutover to target
 * processed by the target importer)? Logs why not. The command asks before it
 * reads the target's connection flags.
 */
engine_status cdc_export_from_target_ready(engine_ctx *eng);

/*
 * The whole `export data from target` command: change capture from the target
 * after cutover to target (fall-back or fall-forward prepared), into the same
 * queue with exporter role target_db_exporter_fb / target_db_exporter_ff,
 * through the same feed code as the source's (source_for_target). Started by
 * the target importer after cutover, restartable by hand.
 */
engine_status cdc_export_from_target(engine_ctx *eng, const cdc_target_spec *spec);

#endif
