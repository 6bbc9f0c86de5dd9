/* archive changes, get data-migration-report, end migration. */
#include "cli/commands.h"

#include "migration/archive.h"
#include "migration/end_migration.h"

int cmd_archive_changes(cmd_ctx *ctx) { return migration_archive_changes(ctx); }
int cmd_get_data_migration_report(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
int cmd_end_migration(cmd_ctx *ctx) { return migration_end(ctx); }
