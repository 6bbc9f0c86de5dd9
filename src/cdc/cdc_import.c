/* Placeholder until change apply lands: live import says so plainly. */
#include "cdc/cdc_live.h"

#include "core/exitcodes.h"
#include "core/log.h"

int cdc_import_apply(cmd_ctx *ctx, db_conf *conf, const char *importer_role)
{
    (void)ctx, (void)conf, (void)importer_role;
    log_error("applying live changes is not built yet in this version of voyager-c");
    return EXIT_NOT_IMPLEMENTED;
}
