/*
 * archive changes: frees the export dir of queue segments every importer that
 * needs them has applied, by moving them elsewhere or deleting them.
 */
#ifndef VOYAGER_MIGRATION_ARCHIVE_H
#define VOYAGER_MIGRATION_ARCHIVE_H

#include "catalog/catalog.h"
#include "core/engine.h"

#include <stdbool.h>

/* One row of meta.db queue_segment, as archive sees it. */
typedef struct archive_segment {
    const char *exporter_role;
    bool closed;
    bool imported_by_target;
    bool imported_by_source_replica;
    bool imported_by_source;
} archive_segment;

/*
 * May the segment leave the export dir? Only a closed segment, once every
 * importer that reads its exporter's events has it recorded as applied:
 * source_db_exporter -> target (and source-replica when fall-forward is on),
 * target_db_exporter_fb -> source, target_db_exporter_ff -> source-replica.
 */
bool archive_segment_eligible(const archive_segment *s, bool fall_forward);

/*
 * Record segment no as gone: column "archived" (location: where it went) or
 * "deleted" (location NULL). The pass chose it from a status read earlier; a
 * source-replica may have registered since (import data to source-replica
 * checks the queue and sets FallForwardEnabled under the same write lock), so
 * this re-checks in the transaction that marks: when the source-replica still
 * needs the segment, nothing changes and *kept is set. False on a meta.db error.
 */
bool archive_mark_segment(catalog *m, long long no, const char *column, const char *location,
                          bool *kept);

/* Disk use of the file system holding path, in percent as df shows it; -1 on error. */
int archive_fs_utilization(const char *path);

typedef enum archive_policy { ARCHIVE_MOVE, ARCHIVE_DELETE } archive_policy;

typedef struct archive_spec {
    archive_policy policy;
    const char *move_to; /* ARCHIVE_MOVE: absolute, resolved, writable, outside the export dir */
    int threshold;       /* ARCHIVE_DELETE: disk use (percent) from which segments are deleted */
    long poll_ms;        /* between two passes over the queue */
} archive_spec;

/*
 * archive changes. Runs until interrupted or until the migration's last
 * stream is archived.
 */
engine_status migration_archive_changes(const engine_ctx *eng, const archive_spec *spec);

#endif
