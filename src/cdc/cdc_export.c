/* Placeholder until change capture lands: live export says so plainly. */
#include "cdc/cdc_live.h"

#include "core/exitcodes.h"
#include "core/log.h"

int cdc_export_begin(cmd_ctx *ctx, db_conf *source, const char *const *schemas,
                     const char *const *tables, size_t ntables, cdc_export_state **state,
                     char **snapshot_name, bool *restart_snapshot)
{
    (void)ctx, (void)source, (void)schemas, (void)tables, (void)ntables;
    *state = NULL;
    *snapshot_name = NULL;
    *restart_snapshot = false;
    log_error("--export-type snapshot-and-changes is not built yet in this version of voyager-c; "
              "use snapshot-only");
    return EXIT_NOT_IMPLEMENTED;
}

int cdc_export_stream(cmd_ctx *ctx, cdc_export_state *state)
{
    (void)ctx, (void)state;
    return EXIT_NOT_IMPLEMENTED;
}

void cdc_export_abort(cdc_export_state *state) { (void)state; }

int cdc_export_from_target(cmd_ctx *ctx)
{
    (void)ctx;
    log_error("export data from target is not built yet in this version of voyager-c");
    return EXIT_NOT_IMPLEMENTED;
}
