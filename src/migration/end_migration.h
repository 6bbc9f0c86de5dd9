/* end migration: back up what was asked, clean every database, empty the export dir. */
#ifndef VOYAGER_MIGRATION_END_MIGRATION_H
#define VOYAGER_MIGRATION_END_MIGRATION_H

#include "core/engine.h"
#include "core/lock.h"
#include "migration/report.h"

#include <stdbool.h>

typedef struct end_migration_spec {
    /* the databases the migration recorded (by db_role; NULL: not used), cleaned in that order */
    db_conf *conf[3];
    const char *backup_dir; /* checked by the command: a writable directory outside the export dir */
    bool backup_schema, backup_data, backup_reports, backup_logs;
} end_migration_spec;

/*
 * Take the lock of every command that changes the migration (recording holder,
 * so such a command started meanwhile is told who holds it) and keep them until
 * migration_end_release_locks(): ending the migration under a running command
 * would wipe its work. NULL after an error naming the command that runs.
 * The caller owns the NULL-terminated array.
 */
cmd_lock **migration_end_take_locks(const char *export_dir, const char *holder);
void migration_end_release_locks(cmd_lock **locks);

/*
 * False (after an error naming them and the fix) when a subdirectory of
 * spec->backup_dir that the backups would write is not empty: another
 * migration's backup would be overwritten or mixed. Before anything changes.
 * The --backup-dir an earlier attempt of this end migration wrote to (noted in
 * the status record) passes: a retry rewrites its own backup.
 */
bool migration_end_check_backup_dir(const engine_ctx *eng, const end_migration_spec *spec);

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
