/*
 * meta.db is the only record of what the files of an export dir are and of
 * what was applied from them. A command that opened a missing (or another)
 * meta.db would start a new migration over them: a new migration UUID (so a
 * new replication slot, the old one left holding WAL), queue segments
 * rewritten from vsn 1. This check runs before meta.db is opened (or made).
 */
#ifndef VOYAGER_CLI_EXPORT_DIR_GUARD_H
#define VOYAGER_CLI_EXPORT_DIR_GUARD_H

#include <stdbool.h>

/*
 * False (after one error line naming meta.db and what to do) when the export
 * dir holds exported data (snapshot data files, change queue segments) that
 * its meta.db does not know: meta.db missing, or damaged / of another
 * migration (a queue segment it has no row for; data files and no exported
 * table). Reads only; never creates meta.db.
 */
bool export_dir_guard(const char *export_dir);

/*
 * For the commands that only read a migration (status, report, initiate
 * cutover: CMDF_NEEDS_MIGRATION), before anything is made in the export dir:
 * false (after one error line naming the dir and what to do) when dir holds
 * no migration (no metainfo/meta.db), so that a mistyped --export-dir is not
 * turned into a new migration. A dir with exported data but no meta.db gets
 * export_dir_guard's error. True when dir is not given (the dispatcher says so).
 */
bool export_dir_has_migration(const char *dir);

#endif
