/*
 * A driver, not a test: `VOYAGER_CDC_DRIVE=<args, one a line> unit-tests
 * cdc_apply_drive` runs cdc_import_apply() the way `import data to ...` will
 * once the snapshot import calls it (export dir prepared, log, lock, meta.db,
 * connection flags), then exits with its exit code. The integration tests of
 * the applier (tests/integration/test_cdc_import*.sh) use it to run, kill and
 * restart the applier as a process. Without the variable it does nothing.
 */
#include "testlib.h"

#include "cdc/cdc_import.h"
#include "cdc/import_metainfo.h"
#include "cli/cmd_connect.h"
#include "cli/snapshot_flags.h"
#include "core/exitcodes.h"
#include "core/exportdir.h"
#include "core/lock.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"

#include <signal.h>
#include <stdlib.h>

static void on_signal(int sig)
{
    (void)sig;
    cmd_interrupted = 1;
}

/* VOYAGER_CDC_COUNTS=1: print cdc_import_counts_by_table() as schema|table|ins|upd|del. */
static int print_counts(cmd_ctx *ctx, db_conf *conf)
{
    pgconn *c = cmd_connect(ctx, conf, NULL);
    if (!c)
        return EXIT_TARGET_ERROR;
    cdc_table_count *t = NULL;
    size_t n = 0;
    bool ok = cdc_import_counts_by_table(c, catalog_migration_uuid(ctx->meta), &t, &n);
    for (size_t i = 0; ok && i < n; i++)
        printf("%s|%s|%lld|%lld|%lld\n", t[i].schema_name, t[i].table_name, (long long)t[i].inserts,
               (long long)t[i].updates, (long long)t[i].deletes);
    cdc_import_counts_free(t, n);
    pgconn_close(c);
    return ok ? EXIT_OK : EXIT_TARGET_ERROR;
}

/* The change apply alone, its spec read from the flags as `import data to ...` reads them. */
static int apply(cmd_ctx *ctx, db_conf *conf, const char *importer)
{
    table_patterns include = {0}, exclude = {0};
    bool lists = opts_has_flag(ctx->opts, "table-list");
    if (lists && !table_filter_from_opts(ctx, &include, &exclude))
        return EXIT_BAD_ARGS;
    cdc_apply_spec spec = {
        .conf = conf,
        .importer_role = importer,
        .start_clean = opts_get_bool(ctx->opts, "start-clean"),
        .table_lists = lists,
        .include = &include,
        .exclude = &exclude,
        .parallel_jobs = snapshot_parallel_jobs(ctx),
        .parallel_jobs_given = opts_get_int(ctx->opts, "parallel-jobs") > 0,
        .bars = snapshot_use_bars(ctx),
        .target_endpoints = opts_get(ctx->opts, "target-endpoints"),
        .use_public_ip = opts_get_bool(ctx->opts, "use-public-ip"),
    };
    cdc_apply_next next;
    int rc = exit_code_of(cdc_import_apply(&ctx->eng, &spec, &next));
    /* the command would become export data from target now; the driver's run ends here */
    if (rc == EXIT_OK && next == CDC_APPLY_EXPORT_FROM_TARGET)
        log_say("cdc_apply_drive: next, export data from target");
    table_patterns_free(&include);
    table_patterns_free(&exclude);
    return rc;
}

static int drive(const char *spec)
{
    strlist args = STRLIST_INIT;
    strlist_push(&args, "yb-voyager");
    char *copy = xstrdup(spec);
    for (char *save = NULL, *a = strtok_r(copy, "\n", &save); a; a = strtok_r(NULL, "\n", &save))
        strlist_push(&args, a);
    free(copy);
    cli_parse_result res;
    cli_parse((int)args.count, args.items, &res);
    int rc = res.exit_code;
    if (rc != 0)
        goto out_args;
    db_role role = DB_TARGET;
    const char *importer = "target_db_importer";
    if (str_ends_with(res.path, "to source")) {
        role = DB_SOURCE;
        importer = "source_db_importer";
    } else if (str_ends_with(res.path, "to source-replica")) {
        role = DB_SOURCE_REPLICA;
        importer = "source_replica_db_importer";
    }
    log_level lvl = LOG_INFO;
    log_level_parse(opts_get(res.opts, "log-level"), &lvl);
    log_set_level(lvl);
    log_set_stderr_quiet(false);
    cmd_ctx ctx = {0};
    ctx.cmd = res.cmd;
    ctx.path = res.path;
    ctx.opts = res.opts;
    ctx.log_name = str_ends_with(res.path, "to source")           ? "import-data-to-source"
                   : str_ends_with(res.path, "to source-replica") ? "import-data-to-source-replica"
                                                                  : "import-data-to-target";
    ctx.export_dir = exportdir_prepare(opts_get(res.opts, "export-dir"));
    rc = EXIT_BAD_STATE;
    if (!ctx.export_dir)
        goto out_args;
    char *log_path = xasprintf("%s/logs/yb-voyager-%s.log", ctx.export_dir, ctx.log_name);
    log_open_file(log_path);
    free(log_path);
    ctx.lock = cmd_lock_acquire(ctx.export_dir, ctx.log_name);
    char *meta_path = xasprintf("%s/metainfo/meta.db", ctx.export_dir);
    ctx.meta = ctx.lock ? catalog_open(meta_path) : NULL;
    free(meta_path);
    ctx.eng = (engine_ctx){.export_dir = ctx.export_dir, .cat = ctx.meta, .interrupted = &cmd_interrupted};
    if (ctx.meta) {
        struct sigaction sa = {0};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        db_conf conf;
        if (cmd_db_conf(&ctx, role, &conf)) {
            rc = getenv("VOYAGER_CDC_COUNTS") ? print_counts(&ctx, &conf)
                                              : apply(&ctx, &conf, importer);
            db_conf_free(&conf);
        } else {
            rc = EXIT_BAD_ARGS;
        }
        catalog_close(ctx.meta);
    }
    cmd_lock_release(ctx.lock);
    log_close();
    free(ctx.export_dir);
out_args:
    cli_parse_result_free(&res);
    strlist_free(&args);
    return rc;
}

TEST(cdc_apply_drive)
{
    const char *spec = getenv("VOYAGER_CDC_DRIVE");
    if (!spec)
        return;
    fflush(stdout);
    exit(drive(spec));
}
