/* end migration: back up what was asked, clean every database, empty the export dir. */
#ifndef VOYAGER_MIGRATION_END_MIGRATION_H
#define VOYAGER_MIGRATION_END_MIGRATION_H

#include "core/engine.h"
#include "migration/report.h"

#include <stdbool.h>

typedef struct end_migration_spec {
    /* the databases the migration recorded (by db_role; NULL: not used), cleaned in that order */
    db_conf *conf[3];
    const char *backup_dir; /* checked by the command: a writable directory outside the export dir */
    bool backup_schema, backup_data, backup_reports, backup_logs;
} end_migration_spec;

/*
 * False (after an error naming it) when a command that changes the migration
 * still runs on the export dir: ending the migration under it would break it.
 */
bool migration_end_check_idle(const char *export_dir);

/*
 * Warn (stderr and log) when a live migration is ended before its last
 * cutover completed: the database that was to take over has not got every
 * change, and ending drops the slots that still hold them. Reads only.
 */
void migration_end_warn_unfinished(const engine_ctx *eng);

/*
 * Everything but emptying the export dir: the data-migration report for
 * --save-migration-reports, the backups, then the slots, publications and
 * metadata of this migration on every database. On ENGINE_OK the caller
 * closes what lives in the export dir (meta.db, its lock, the log) and calls
 * migration_end_empty_export_dir().
 */
engine_status migration_end(const engine_ctx *eng, const end_migration_spec *spec);

/* The last step: remove everything under export_dir. Logs to stderr only: the log is gone. */
engine_status migration_end_empty_export_dir(const char *export_dir);

/* The lock names of every command that changes a migration (checked before ending it). */
extern const char *const migration_process_locks[];

#endif
