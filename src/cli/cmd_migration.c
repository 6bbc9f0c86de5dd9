/* archive changes, get data-migration-report, end migration. */
#include "cli/commands.h"

#include "migration/archive.h"
#include "migration/end_migration.h"
#include "migration/report.h"

int cmd_archive_changes(cmd_ctx *ctx) { return migration_archive_changes(ctx); }
int cmd_get_data_migration_report(cmd_ctx *ctx) { return migration_data_report(ctx); }
int cmd_end_migration(cmd_ctx *ctx) { return migration_end(ctx); }
