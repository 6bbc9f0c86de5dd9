/* import schema. */
#include "cli/commands.h"

int cmd_import_schema(cmd_ctx *ctx) { return cmd_not_implemented(ctx); }
