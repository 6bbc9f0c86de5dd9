/*
 * A live-migration process that turns into the next one at cutover, as the
 * docs describe: `import data to target` becomes `export data from target`,
 * and (fall-back) `export data from source` becomes `import data to source`.
 */
#ifndef VOYAGER_CDC_HANDOVER_H
#define VOYAGER_CDC_HANDOVER_H

#include "cli/cmd_ctx.h"

/*
 * Replace this process by `yb-voyager <words> --export-dir <dir>` (plus this
 * command's --log-level and --disable-pb). The password goes to the new
 * process through the environment variable pw_env, never through argv.
 * Returns only on failure (after telling the user the command to run by
 * hand), with an exit code; when lock_name is already held by another process
 * it says so and returns EXIT_OK without exec.
 */
int cdc_handover(cmd_ctx *ctx, const char *const *words, const char *lock_name,
                 const char *pw_env, const char *password, const char *why);

#endif
