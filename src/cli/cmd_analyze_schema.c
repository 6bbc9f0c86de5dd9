/* analyze-schema: the flags into a schema_analyze_spec (schema/analyze/analyze_schema.h). */
#include "cli/commands.h"

#include "core/util.h"
#include "schema/analyze/analyze_schema.h"

#include <stdlib.h>

/* The YugabyteDB release the report speaks for when --target-db-version is not given. */
#define DEFAULT_TARGET_DB_VERSION "2024.2.0.0"

int cmd_analyze_schema(cmd_ctx *ctx)
{
    const char *target_version = opts_get(ctx->opts, "target-db-version");
    const char *format = opts_get(ctx->opts, "output-format");
    char *lower = str_to_lower(format ? format : "html");
    schema_analyze_spec spec = {
        .target_db_version = target_version && *target_version ? target_version
                                                               : DEFAULT_TARGET_DB_VERSION,
        .format = lower,
    };
    int rc = exit_code_of(schema_analyze_run(&ctx->eng, &spec));
    free(lower);
    return rc;
}
