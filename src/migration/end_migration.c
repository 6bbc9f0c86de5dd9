#include "migration/end_migration.h"

#include "cli/cmd_connect.h"
#include "core/exitcodes.h"
#include "core/fsutil.h"
#include "core/lock.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"
#include "migration/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const migration_process_locks[] = {
    "export-schema", "import-schema", "analyze-schema", "export-data-from-source",
    "export-data-from-target", "import-data-to-target", "import-data-to-source",
    "import-data-to-source-replica", "archive-changes", NULL,
};

static bool refuse_if_running(const cmd_ctx *ctx)
{
    for (int i = 0; migration_process_locks[i]; i++) {
        pid_t pid = 0;
        if (cmd_lock_is_held(ctx->export_dir, migration_process_locks[i], &pid)) {
            char *cmd = xstrdup(migration_process_locks[i]);
            for (char *p = cmd; *p; p++)
                if (*p == '-')
                    *p = ' ';
            log_error("'yb-voyager %s' (pid %d) is still running on this export dir; stop it "
                      "before ending the migration",
                      cmd, (int)pid);
            free(cmd);
            return false;
        }
    }
    return true;
}

typedef struct backup_item {
    const char *flag;
    const char *subdir;
} backup_item;

static const backup_item backups[] = {
    {"backup-schema-files", "schema"},
    {"backup-data-files", "data"},
    {"save-migration-reports", "reports"},
    {"backup-log-files", "logs"},
};

static bool any_backup(const cmd_ctx *ctx)
{
    bool any = false;
    for (size_t i = 0; i < ARRAY_LEN(backups); i++)
        any = any || opts_get_bool(ctx->opts, backups[i].flag);
    return any;
}

/* Checked before the question: a bad --backup-dir must not cost the user a confirmation. */
static bool check_backup_dir(const cmd_ctx *ctx)
{
    if (!any_backup(ctx))
        return true;
    const char *dir = opts_get(ctx->opts, "backup-dir");
    if (!dir) {
        log_error("--backup-dir is required when a backup flag is true");
        return false;
    }
    if (!fs_is_dir(dir) || access(dir, W_OK) != 0) {
        log_error("backup directory %s does not exist or is not writable; create it or fix "
                  "--backup-dir",
                  dir);
        return false;
    }
    char *real_dir = realpath(dir, NULL);
    bool inside = real_dir && str_starts_with(real_dir, ctx->export_dir) &&
                  (real_dir[strlen(ctx->export_dir)] == '/' || real_dir[strlen(ctx->export_dir)] == '\0');
    free(real_dir);
    if (inside) {
        log_error("--backup-dir %s is inside the export dir, which end migration empties; "
                  "choose a directory outside it",
                  dir);
        return false;
    }
    return true;
}

/*
 * --save-migration-reports: the data-migration report is part of the reports
 * even when 'get data-migration-report' was never run, so it is made now
 * (before any database is cleaned, while its numbers still exist).
 */
static int save_data_report(cmd_ctx *ctx)
{
    if (!opts_get_bool(ctx->opts, "save-migration-reports"))
        return EXIT_OK;
    cJSON *rec = catalog_status_load(ctx->meta);
    bool data = rec && cJSON_GetObjectItemCaseSensitive(rec, db_conf_record_key(DB_SOURCE)) &&
                cJSON_GetObjectItemCaseSensitive(rec, "ExportType");
    cJSON_Delete(rec);
    if (!data)
        return EXIT_OK;
    report r = {0};
    int rc = migration_data_report_build(ctx, &r, true);
    if (rc == EXIT_OK) {
        char *table = report_render_table(&r);
        if (!migration_data_report_save(ctx, &r, table))
            rc = EXIT_BAD_STATE;
        free(table);
    }
    report_free(&r);
    if (rc != EXIT_OK)
        log_error("the data-migration report for --save-migration-reports could not be made (see "
                  "above); nothing was removed: fix that, or pass --save-migration-reports false");
    else
        log_say("data-migration report saved in reports/ for the backup");
    return rc;
}

static bool back_up(const cmd_ctx *ctx)
{
    if (!any_backup(ctx))
        return true;
    const char *dir = opts_get(ctx->opts, "backup-dir");
    for (size_t i = 0; i < ARRAY_LEN(backups); i++) {
        if (!opts_get_bool(ctx->opts, backups[i].flag))
            continue;
        char *src = cmd_path(ctx, backups[i].subdir);
        char *dst = xasprintf("%s/%s", dir, backups[i].subdir);
        bool ok = fs_copy_tree(src, dst);
        if (!ok)
            log_error("cannot back up %s to %s: %s", src, dst, strerror(errno));
        else
            log_say("backed up %s/ to %s", backups[i].subdir, dst);
        free(src);
        free(dst);
        if (!ok)
            return false;
    }
    return true;
}

/* Drop what this migration created on one database: slots, publications, metadata. */
static bool clean_database(cmd_ctx *ctx, db_role role, const char *uuid_hex)
{
    db_conf conf;
    if (!cmd_db_conf(ctx, role, &conf))
        return false;
    pgconn *c = cmd_connect(ctx, &conf, NULL);
    db_conf_free(&conf);
    if (!c)
        return false;
    bool ok = true;
    const char *p1[] = {uuid_hex};
    PGresult *r = pgconn_query(c,
                               "SELECT slot_name, active_pid FROM pg_replication_slots "
                               "WHERE database = current_database() AND position($1 in slot_name) > 0",
                               1, p1);
    for (int i = 0; r && i < PQntuples(r); i++) {
        const char *slot[] = {PQgetvalue(r, i, 0)};
        if (!PQgetisnull(r, i, 1)) {
            /* No voyager process runs (checked): an active slot has a leftover walsender. */
            const char *pid[] = {PQgetvalue(r, i, 1)};
            pgconn_exec_params(c, "SELECT pg_terminate_backend($1::int)", 1, pid);
            sleep(1);
        }
        if (pgconn_exec_params(c, "SELECT pg_drop_replication_slot($1)", 1, slot))
            log_say("%s database: dropped replication slot %s", db_role_name(role), slot[0]);
        else
            ok = false;
    }
    ok = ok && r != NULL;
    PQclear(r);
    r = pgconn_query(c, "SELECT pubname FROM pg_publication WHERE position($1 in pubname) > 0", 1, p1);
    for (int i = 0; r && i < PQntuples(r); i++) {
        char *q = pg_quote_ident(PQgetvalue(r, i, 0));
        char *sql = xasprintf("DROP PUBLICATION IF EXISTS %s", q);
        if (pgconn_exec(c, sql))
            log_say("%s database: dropped publication %s", db_role_name(role), PQgetvalue(r, i, 0));
        else
            ok = false;
        free(sql);
        free(q);
    }
    ok = ok && r != NULL;
    PQclear(r);
    char *has = pgconn_query_value(
        c, "SELECT count(*) FROM pg_namespace WHERE nspname = 'ybvoyager_metadata'", 0, NULL);
    if (has && strcmp(has, "0") != 0) {
        if (pgconn_exec(c, "DROP SCHEMA IF EXISTS ybvoyager_metadata CASCADE"))
            log_say("%s database: dropped schema ybvoyager_metadata", db_role_name(role));
        else
            ok = false;
    }
    free(has);
    pgconn_close(c);
    return ok;
}

int migration_end(cmd_ctx *ctx)
{
    if (!refuse_if_running(ctx) || !check_backup_dir(ctx))
        return EXIT_BAD_STATE;
    if (!cmd_confirm(ctx, "end the migration: drop its replication slots, publications and "
                          "metadata on every database and empty the export dir?"))
        return EXIT_BAD_STATE;
    int rc = save_data_report(ctx);
    if (rc != EXIT_OK)
        return rc;
    if (!back_up(ctx))
        return EXIT_BAD_STATE;

    cJSON *rec = catalog_status_load(ctx->meta);
    if (!rec)
        return EXIT_BAD_STATE;
    char uuid_hex[33];
    size_t n = 0;
    for (const char *p = catalog_migration_uuid(ctx->meta); *p && n < 32; p++)
        if (*p != '-')
            uuid_hex[n++] = *p;
    uuid_hex[n] = '\0';
    static const db_role roles[] = {DB_SOURCE, DB_TARGET, DB_SOURCE_REPLICA};
    for (size_t i = 0; i < ARRAY_LEN(roles); i++) {
        if (!cJSON_GetObjectItemCaseSensitive(rec, db_conf_record_key(roles[i])))
            continue;
        if (!clean_database(ctx, roles[i], uuid_hex)) {
            log_error("the %s database was not cleaned; fix the problem above and run end "
                      "migration again (the export dir is kept until every database is clean)",
                      db_role_name(roles[i]));
            cJSON_Delete(rec);
            return cmd_db_exit_code(roles[i]);
        }
    }
    cJSON_Delete(rec);

    /* Everything below lives in the export dir: close it all, then empty it. */
    catalog_close(ctx->meta);
    ctx->meta = NULL;
    cmd_lock_release(ctx->lock);
    ctx->lock = NULL;
    log_close();
    if (!fs_remove_contents(ctx->export_dir)) {
        log_error("cannot empty the export dir %s: %s", ctx->export_dir, strerror(errno));
        return EXIT_BAD_STATE;
    }
    log_say("migration ended: export dir %s emptied", ctx->export_dir);
    return EXIT_OK;
}
