/* export schema. */
#include "cli/commands.h"

int cmd_export_schema(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
