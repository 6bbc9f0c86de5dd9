/*
 * What a command's run function gets: parsed options and the prepared export
 * directory (layout created, log open, per-command lock held, meta.db open).
 * The dispatcher (cli/dispatch.c) owns everything here and releases it after run.
 */
#ifndef VOYAGER_CLI_CMD_CTX_H
#define VOYAGER_CLI_CMD_CTX_H

#include "cli/cli.h"
#include "cli/exit_status.h"
#include "core/engine.h"

#include <signal.h>
#include <stdbool.h>

struct catalog;
struct cmd_lock;

typedef struct cmd_ctx {
    const command *cmd;
    const char *path;        /* "export data from source" */
    const char *log_name;    /* "export-data-from-source": log and lock file names */
    opts *opts;
    char *export_dir;        /* absolute path */
    struct catalog *meta;     /* metainfo/meta.db */
    struct cmd_lock *lock;   /* NULL for CMDF_NO_LOCK commands */
    engine_ctx eng;          /* what engines get: export_dir, meta, the interrupt flag */
} cmd_ctx;

/* Set by SIGINT/SIGTERM; long-running loops poll it (engines through engine_ctx). */
extern volatile sig_atomic_t cmd_interrupted;

/* export_dir + "/" + rel. Caller frees. */
char *cmd_path(const cmd_ctx *ctx, const char *rel);

/*
 * Fail with the standard "required flag" message (and false) when any of the
 * NULL-terminated names is not set by flag, env or config.
 */
bool cmd_require_flags(const cmd_ctx *ctx, ...) __attribute__((sentinel));

/* Ask a yes/no question on the TTY; --yes answers yes; no TTY answers no. */
bool cmd_confirm(const cmd_ctx *ctx, const char *question);

#endif
