/* end migration: back up what was asked, clean every database, empty the export dir. */
#ifndef VOYAGER_MIGRATION_END_MIGRATION_H
#define VOYAGER_MIGRATION_END_MIGRATION_H

#include "cli/cmd_ctx.h"

/* Returns an exit code. Closes ctx->meta and releases ctx->lock itself (they live in the dir). */
int migration_end(cmd_ctx *ctx);

/* The lock names of every command that changes a migration (checked before ending it). */
extern const char *const migration_process_locks[];

#endif
