/* import data [to target], import data to source / source-replica, import data status. */
#include "cli/commands.h"

int cmd_import_data_to_target(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
int cmd_import_data_to_source(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
int cmd_import_data_to_source_replica(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
int cmd_import_data_status(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
