/* analyze schema. */
#include "cli/commands.h"

int cmd_analyze_schema(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
