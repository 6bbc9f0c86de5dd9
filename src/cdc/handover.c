#include "cdc/handover.h"

#include "cli/cli.h"
#include "core/exitcodes.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cdc_handover(cmd_ctx *ctx, const char *const *words, const char *lock_name,
                 const char *pw_env, const char *password, const char *why)
{
    strbuf cmd = STRBUF_INIT;
    for (const char *const *w = words; *w; w++) {
        if (cmd.len)
            strbuf_append_char(&cmd, ' ');
        strbuf_append(&cmd, *w);
    }
    pid_t pid = 0;
    if (cmd_lock_is_held(ctx->export_dir, lock_name, &pid)) {
        log_say("'%s' is already running (pid %d)", strbuf_cstr(&cmd), (int)pid);
        strbuf_free(&cmd);
        return EXIT_OK;
    }
    strlist argv = STRLIST_INIT;
    strlist_push(&argv, "yb-voyager");
    for (const char *const *w = words; *w; w++)
        strlist_push(&argv, *w);
    strlist_push(&argv, "--export-dir");
    strlist_push(&argv, ctx->export_dir);
    const char *lvl = opts_get(ctx->opts, "log-level");
    if (lvl) {
        strlist_push(&argv, "--log-level");
        strlist_push(&argv, lvl);
    }
    if (opts_get_bool(ctx->opts, "disable-pb")) {
        strlist_push(&argv, "--disable-pb");
        strlist_push(&argv, "true");
    }
    /* the password only through the environment, never in argv (ps shows argv) */
    if (password)
        setenv(pw_env, password, 1);
    /* runbooks written for the older pages know it by its older name */
    const char *older = NULL;
    for (const command_alias *a = cli_command_aliases; a->old_path && !older; a++) {
        char *p = cli_command_path(a->target);
        if (p && strcmp(p, strbuf_cstr(&cmd)) == 0)
            older = a->old_path;
        free(p);
    }
    log_say("%s: this process now runs as '%s'. If it stops for any reason, restart it with: "
            "yb-voyager %s --export-dir %s%s%s%s",
            why, strbuf_cstr(&cmd), strbuf_cstr(&cmd), ctx->export_dir,
            older ? " (older name: yb-voyager " : "", older ? older : "", older ? ")" : "");
    fflush(NULL);
    execv("/proc/self/exe", argv.items);
    log_error("could not start '%s': %s; start it by hand: yb-voyager %s --export-dir %s",
              strbuf_cstr(&cmd), strerror(errno), strbuf_cstr(&cmd), ctx->export_dir);
    strlist_free(&argv);
    strbuf_free(&cmd);
    return EXIT_INTERNAL;
}
