/* export data [from source], export data from target, export data status. */
#include "cdc/cdc_live.h"
#include "cli/commands.h"

int cmd_export_data_from_source(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
int cmd_export_data_from_target(cmd_ctx *ctx) { return cdc_export_from_target(ctx); }
int cmd_export_data_status(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
