/* initiate cutover to target / source / source-replica, cutover status. */
#include "cli/cmd_connect.h"
#include "cli/commands.h"

#include "core/exitcodes.h"
#include "core/log.h"
#include "core/util.h"
#include "migration/cutover.h"

static int initiate(cmd_ctx *ctx, cutover_kind kind)
{
    bool given = opts_is_set(ctx->opts, "prepare-for-fall-back");
    cutover_request spec = {.kind = kind,
                            .prepare_fall_back = given && opts_get_bool(ctx->opts, "prepare-for-fall-back"),
                            .prepare_given = given};
    return exit_code_of(cutover_initiate(&ctx->eng, &spec));
}

int cmd_initiate_cutover_to_target(cmd_ctx *ctx)
{
    /* upstream's default is true (gRPC); here only its false, the PostgreSQL protocol, exists */
    if (opts_get_bool(ctx->opts, "use-yb-grpc-connector")) {
        log_report(LOG_ERROR,
                   "this build streams YugabyteDB's changes with logical replication over the "
                   "PostgreSQL protocol; the gRPC connector is not built",
                   "leave the flag out, or give --use-yb-grpc-connector false",
                   "--use-yb-grpc-connector true is not built yet in this version of voyager-c");
        return EXIT_NOT_IMPLEMENTED;
    }
    return initiate(ctx, CUTOVER_TO_TARGET);
}
int cmd_initiate_cutover_to_source(cmd_ctx *ctx) { return initiate(ctx, CUTOVER_TO_SOURCE); }
int cmd_initiate_cutover_to_source_replica(cmd_ctx *ctx)
{
    return initiate(ctx, CUTOVER_TO_SOURCE_REPLICA);
}

int cmd_cutover_status(cmd_ctx *ctx) { return exit_code_of(cutover_print_status(&ctx->eng)); }
