/*
 * From argv to a command's run function: parse, then prepare the export dir
 * (checks, layout, log file, lock, meta.db), run, and release in reverse.
 */
#include "cli/dispatch.h"

#include "cli/cmd_ctx.h"
#include "cli/export_dir_guard.h"
#include "core/exitcodes.h"
#include "core/exportdir.h"
#include "core/fd_limit.h"
#include "core/lock.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"
#include "db/connect.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef VOYAGER_COMMIT /* the Makefile gives it: the commit the binary was built from */
#define VOYAGER_COMMIT "unknown"
#endif

volatile sig_atomic_t cmd_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    cmd_interrupted = 1;
}

char *cmd_path(const cmd_ctx *ctx, const char *rel)
{
    return xasprintf("%s/%s", ctx->export_dir, rel);
}

bool cmd_require_flags(const cmd_ctx *ctx, ...)
{
    va_list ap;
    va_start(ap, ctx);
    bool ok = true;
    const char *name;
    while (ok && (name = va_arg(ap, const char *)) != NULL) {
        if (!opts_is_set(ctx->opts, name)) {
            log_error("required flag --%s not set (give it on the command line or in "
                      "--config-file)",
                      name);
            ok = false;
        }
    }
    va_end(ap);
    return ok;
}

bool cmd_confirm(const cmd_ctx *ctx, const char *question)
{
    if (opts_get_bool(ctx->opts, "yes"))
        return true;
    if (!isatty(STDIN_FILENO)) {
        log_report(LOG_ERROR, NULL, "pass --yes to answer yes", "%s: no terminal to ask on", question);
        return false;
    }
    fprintf(stderr, "%s [y/N]: ", question);
    char buf[16];
    if (!fgets(buf, sizeof buf, stdin))
        return false;
    return buf[0] == 'y' || buf[0] == 'Y';
}

/* Names of flags whose value must never be logged. */
static bool is_secret_arg(const char *arg, bool *value_follows)
{
    *value_follows = false;
    if (strncmp(arg, "--", 2) != 0 || !strstr(arg, "password"))
        return false;
    *value_follows = strchr(arg, '=') == NULL;
    return true;
}

/*
 * A password given by flag is in /proc/PID/cmdline, which every local user can
 * read (ps), for as long as the process runs. The parser copied every value,
 * so the originals are blanked right after parsing; the window left is the
 * process's first moments. --help recommends the environment variables.
 */
static void hide_secret_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        bool follows;
        if (!is_secret_arg(argv[i], &follows))
            continue;
        char *v = follows ? (i + 1 < argc ? argv[++i] : NULL) : strchr(argv[i], '=') + 1;
        if (v)
            memset(v, 0, strlen(v));
    }
}

static void log_command_line(int argc, char **argv)
{
    strbuf sb = STRBUF_INIT;
    for (int i = 0; i < argc; i++) {
        bool follows;
        if (i)
            strbuf_append_char(&sb, ' ');
        if (is_secret_arg(argv[i], &follows)) {
            const char *eq = strchr(argv[i], '=');
            strbuf_append_len(&sb, argv[i], eq ? (size_t)(eq - argv[i]) : strlen(argv[i]));
            strbuf_append(&sb, follows ? " ********" : "=********");
            if (follows)
                i++;
        } else {
            strbuf_append(&sb, argv[i]);
        }
    }
    log_info("command line: %s", strbuf_cstr(&sb));
    strbuf_free(&sb);
    if (*fd_limit_note())
        log_info("%s", fd_limit_note());
}

/* "export data" and "export data from source" are one command: one lock, one log. */
static char *log_name_for(const char *path)
{
    if (strcmp(path, "export data") == 0)
        return xstrdup("export-data-from-source");
    if (strcmp(path, "import data") == 0)
        return xstrdup("import-data-to-target");
    char *s = xstrdup(path);
    for (char *p = s; *p; p++)
        if (*p == ' ')
            *p = '-';
    return s;
}

int cli_main(int argc, char **argv)
{
    cli_parse_result res;
    cli_parse(argc, argv, &res);
    hide_secret_args(argc, argv);
    int rc = res.exit_code;
    if (rc != 0)
        goto out;
    if (res.version) {
        printf("yb-voyager version %s (voyager-c, commit %s)\n", VOYAGER_VERSION, VOYAGER_COMMIT);
        goto out;
    }
    if (res.help || !res.cmd->run) {
        cli_print_help(res.cmd, res.path, res.help_all);
        if (!res.help && res.cmd != &cli_root_command) {
            fprintf(stderr, "error: 'yb-voyager %s' needs a subcommand (listed above)\n", res.path);
            rc = EXIT_BAD_ARGS;
        }
        goto out;
    }

    log_level lvl = LOG_INFO;
    log_level_parse(opts_get(res.opts, "log-level"), &lvl);
    log_set_level(lvl);

    cmd_ctx ctx = {0};
    ctx.cmd = res.cmd;
    ctx.path = res.path;
    ctx.opts = res.opts;
    char *log_name = log_name_for(res.path);
    ctx.log_name = log_name;

    /* a command that only reads a migration makes nothing in a dir that has none */
    if ((res.cmd->flags & CMDF_NEEDS_MIGRATION) &&
        !export_dir_has_migration(opts_get(res.opts, "export-dir"))) {
        rc = EXIT_BAD_STATE;
        goto out_name;
    }
    ctx.export_dir = exportdir_prepare(opts_get(res.opts, "export-dir"));
    if (!ctx.export_dir) {
        rc = EXIT_BAD_STATE;
        goto out_name;
    }
    char *log_path = xasprintf("%s/logs/yb-voyager-%s.log", ctx.export_dir, log_name);
    if (!log_open_file(log_path)) {
        log_report(LOG_ERROR, NULL, "check the export dir's permissions", "cannot open log file %s: %s",
                   log_path, strerror(errno));
        free(log_path);
        rc = EXIT_BAD_STATE;
        goto out_dir;
    }
    free(log_path);
    log_command_line(argc, argv);
    if (res.alias_path)
        log_say("'yb-voyager %s' is the older name of 'yb-voyager %s': running that", res.alias_path,
                res.path);

    if (!(res.cmd->flags & CMDF_NO_LOCK)) {
        ctx.lock = cmd_lock_acquire(ctx.export_dir, log_name);
        if (!ctx.lock) {
            rc = EXIT_BAD_STATE;
            goto out_log;
        }
    }
    if (!export_dir_guard(ctx.export_dir)) {
        rc = EXIT_BAD_STATE;
        goto out_lock;
    }
    char *meta_path = xasprintf("%s/metainfo/meta.db", ctx.export_dir);
    ctx.meta = catalog_open(meta_path);
    free(meta_path);
    if (!ctx.meta) {
        rc = EXIT_BAD_STATE;
        goto out_lock;
    }
    db_connect_set_interrupt(&cmd_interrupted);
    ctx.eng = (engine_ctx){.export_dir = ctx.export_dir, .cat = ctx.meta, .interrupted = &cmd_interrupted};

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = res.cmd->run(&ctx);
    log_info("'yb-voyager %s' exited with code %d", res.path, rc);

    catalog_close(ctx.meta);
out_lock:
    cmd_lock_release(ctx.lock);
out_log:
    log_close();
out_dir:
    free(ctx.export_dir);
out_name:
    free(log_name);
out:
    cli_parse_result_free(&res);
    return rc;
}
