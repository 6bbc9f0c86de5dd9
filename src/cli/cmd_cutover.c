/* initiate cutover to target / source / source-replica, cutover status. */
#include "cli/commands.h"

int cmd_initiate_cutover_to_target(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
int cmd_initiate_cutover_to_source(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
int cmd_initiate_cutover_to_source_replica(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
int cmd_cutover_status(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
