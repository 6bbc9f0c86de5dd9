#include "cdc/handover.h"

#include "core/lock.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

engine_status cdc_handover(const engine_ctx *eng, const handover_spec *spec)
{
    strbuf cmd = STRBUF_INIT;
    for (const char *const *w = spec->words; *w; w++) {
        if (cmd.len)
            strbuf_append_char(&cmd, ' ');
        strbuf_append(&cmd, *w);
    }
    pid_t pid = 0;
    if (cmd_lock_is_held(eng->export_dir, spec->lock_name, &pid)) {
        log_say("'%s' is already running (pid %d)", strbuf_cstr(&cmd), (int)pid);
        strbuf_free(&cmd);
        return ENGINE_OK;
    }
    strlist argv = STRLIST_INIT;
    strlist_push(&argv, "yb-voyager");
    for (const char *const *w = spec->words; *w; w++)
        strlist_push(&argv, *w);
    strlist_push(&argv, "--export-dir");
    strlist_push(&argv, eng->export_dir);
    if (spec->log_level) {
        strlist_push(&argv, "--log-level");
        strlist_push(&argv, spec->log_level);
    }
    if (spec->disable_pb) {
        strlist_push(&argv, "--disable-pb");
        strlist_push(&argv, "true");
    }
    /* the password only through the environment, never in argv (ps shows argv) */
    if (spec->password)
        setenv(spec->pw_env, spec->password, 1);
    const char *older = spec->older_name;
    log_say("%s: this process now runs as '%s'. If it stops for any reason, restart it with: "
            "yb-voyager %s --export-dir %s%s%s%s",
            spec->why, strbuf_cstr(&cmd), strbuf_cstr(&cmd), eng->export_dir,
            older ? " (older name: yb-voyager " : "", older ? older : "", older ? ")" : "");
    fflush(NULL);
    execv("/proc/self/exe", argv.items);
    int err = errno;
    char *hint = xasprintf("start it by hand: yb-voyager %s --export-dir %s", strbuf_cstr(&cmd),
                           eng->export_dir);
    log_report(LOG_ERROR, NULL, hint, "could not start '%s': %s", strbuf_cstr(&cmd), strerror(err));
    free(hint);
    strlist_free(&argv);
    strbuf_free(&cmd);
    return ENGINE_FAILED;
}
