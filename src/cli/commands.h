/* Run functions of every command, one file per family (cli/cmd_*.c). */
#ifndef VOYAGER_CLI_COMMANDS_H
#define VOYAGER_CLI_COMMANDS_H

#include "cli/cmd_ctx.h"

/* cmd_export_schema.c, cmd_analyze_schema.c, cmd_import_schema.c */
int cmd_export_schema(cmd_ctx *ctx);
int cmd_analyze_schema(cmd_ctx *ctx);
int cmd_import_schema(cmd_ctx *ctx);
int cmd_finalize_schema_post_data_import(cmd_ctx *ctx);
/* cmd_export_data.c */
int cmd_export_data_from_source(cmd_ctx *ctx);
int cmd_export_data_from_target(cmd_ctx *ctx);
int cmd_export_data_status(cmd_ctx *ctx);
/* cmd_import_data.c */
int cmd_import_data_to_target(cmd_ctx *ctx);
int cmd_import_data_to_source(cmd_ctx *ctx);
int cmd_import_data_to_source_replica(cmd_ctx *ctx);
int cmd_import_data_status(cmd_ctx *ctx);
/* cmd_cutover.c */
int cmd_initiate_cutover_to_target(cmd_ctx *ctx);
int cmd_initiate_cutover_to_source(cmd_ctx *ctx);
int cmd_initiate_cutover_to_source_replica(cmd_ctx *ctx);
int cmd_cutover_status(cmd_ctx *ctx);
/* cmd_migration.c */
int cmd_archive_changes(cmd_ctx *ctx);
int cmd_get_data_migration_report(cmd_ctx *ctx);
int cmd_end_migration(cmd_ctx *ctx);
/* cmd_compare_data.c */
int cmd_compare_data(cmd_ctx *ctx);

#endif
