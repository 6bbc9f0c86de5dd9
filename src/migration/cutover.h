/*
 * The cutover state machine, recorded in the migration status record and
 * polled by the running exporters and importers (SPEC.md, "Cutover state
 * machine"). Keys are yb-voyager's:
 *   CutoverToTargetRequested, CutoverProcessedBySourceExporter,
 *   CutoverProcessedByTargetImporter, FallbackEnabled, FallForwardEnabled,
 *   CutoverToSourceRequested, CutoverProcessedByTargetExporter,
 *   CutoverProcessedBySourceImporter, CutoverToSourceReplicaRequested,
 *   CutoverProcessedBySourceReplicaImporter; and ours, ExportFromTargetStarted
 *   (export data from target has its slot: target writes are captured) and
 *   FeedsLeftAtCutover (cutover_note_feed_left).
 */
#ifndef VOYAGER_MIGRATION_CUTOVER_H
#define VOYAGER_MIGRATION_CUTOVER_H

#include "core/engine.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

typedef enum cutover_kind {
    CUTOVER_TO_TARGET = 0,
    CUTOVER_TO_SOURCE,
    CUTOVER_TO_SOURCE_REPLICA,
} cutover_kind;

typedef enum cutover_state {
    CUTOVER_NOT_INITIATED = 0,
    CUTOVER_INITIATED,
    CUTOVER_COMPLETED,
} cutover_state;

const char *cutover_state_name(cutover_state s); /* "NOT INITIATED" ... */
const char *cutover_kind_name(cutover_kind k);   /* "target", "source", "source-replica" */
/* Status-record key of the request flag of k. */
const char *cutover_request_key(cutover_kind k);

/* The state of cutover k, from a status record. */
cutover_state cutover_state_of(const cJSON *rec, cutover_kind k);
/* Did export data record a live migration (--export-type snapshot-and-changes)? */
bool cutover_export_is_live(const cJSON *rec);
/* Is cutover k part of this migration (fall-back prepared, fall-forward used)? */
bool cutover_applies(const cJSON *rec, cutover_kind k);

/* The processes that must have acknowledged cutover k for it to be complete. */
typedef struct cutover_process {
    const char *done_key;  /* status-record flag it sets when done */
    const char *command;   /* "export data from source" */
    const char *lock_name; /* "export-data-from-source" */
} cutover_process;
/*
 * NULL-terminated (command == NULL) list for k in the migration rec describes
 * (a way back adds export data from target to cutover to target).
 */
const cutover_process *cutover_processes(const cJSON *rec, cutover_kind k);

typedef struct cutover_request {
    cutover_kind kind;
    bool prepare_fall_back; /* to target: prepare the way back to the source */
    bool prepare_given;     /* --prepare-for-fall-back was given (true or false) */
} cutover_request;

/*
 * Record the request in the status record, if this migration's state allows
 * it (ENGINE_BAD_STATE after an error saying why not). Asking again is
 * ENGINE_OK, unless it contradicts the first answer about fall-back.
 */
engine_status cutover_initiate(const engine_ctx *eng, const cutover_request *req);

/*
 * The exporter whose cutover flag is done_key (CutoverProcessedBySourceExporter)
 * could not drop its change feed's server-side objects at the end of its
 * stream (left: what stays, e.g. "replication slot on the source database"),
 * or has dropped them now (!left). Kept in the status record
 * (FeedsLeftAtCutover) so that cutover status keeps saying so. *cleared: an
 * earlier run's note went. False after a logged error.
 */
bool cutover_note_feed_left(const engine_ctx *eng, const char *done_key, const char *what, bool left,
                            bool *cleared);

/* A warning for each feed an exporter could not drop (cutover_note_feed_left). */
void cutover_warn_feeds_left(const engine_ctx *eng);

/*
 * Print each cutover's state, for one in progress which process it waits for,
 * and the feeds an exporter could not drop.
 */
engine_status cutover_print_status(const engine_ctx *eng);

#endif
