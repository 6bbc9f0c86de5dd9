/* analyze-schema: the flags into a schema_analyze_spec (schema/analyze/analyze_schema.h). */
#include "cli/commands.h"

#include "core/exitcodes.h"
#include "core/log.h"
#include "core/util.h"
#include "schema/analyze/analyze_schema.h"

#include <ctype.h>
#include <stdlib.h>

/* The YugabyteDB release the report speaks for when --target-db-version is not given. */
#define DEFAULT_TARGET_DB_VERSION "2024.2.0.0"

/* A YugabyteDB release as the report writes it: 2 to 4 numbers separated by dots (2.20, 2024.1.1.0). */
static bool version_form_ok(const char *v)
{
    int parts = 0;
    const char *p = v;
    for (;;) {
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
        parts++;
        if (*p == '\0')
            return parts >= 2 && parts <= 4;
        if (*p++ != '.')
            return false;
    }
}

int cmd_analyze_schema(cmd_ctx *ctx)
{
    const char *target_version = opts_get(ctx->opts, "target-db-version");
    if (target_version && !version_form_ok(target_version)) {
        log_report(LOG_ERROR, NULL, "give a YugabyteDB release such as 2.20 or 2024.2.0.0",
                   "--target-db-version '%s' is not a version: 2 to 4 numbers separated by dots",
                   target_version);
        return EXIT_BAD_ARGS;
    }
    const char *format = opts_get(ctx->opts, "output-format");
    char *lower = str_to_lower(format ? format : "html");
    schema_analyze_spec spec = {
        .target_db_version = target_version ? target_version : DEFAULT_TARGET_DB_VERSION,
        .format = lower,
    };
    int rc = exit_code_of(schema_analyze_run(&ctx->eng, &spec));
    free(lower);
    return rc;
}
