/* archive changes, get data-migration-report, end migration. */
#include "cli/cmd_connect.h"
#include "cli/commands.h"

#include "catalog/catalog.h"
#include "core/exitcodes.h"
#include "core/fsutil.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/util.h"
#include "migration/archive.h"
#include "migration/end_migration.h"
#include "migration/report.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- archive changes ---- */

/* The policy flags into spec (move_to: caller frees). False after an error. */
static bool archive_spec_from_opts(const cmd_ctx *ctx, archive_spec *spec)
{
    const char *move_to = opts_get(ctx->opts, "move-to");
    const char *archive_dir = opts_get(ctx->opts, "archive-dir");
    const char *policy = opts_get(ctx->opts, "policy");
    bool del = opts_get_bool(ctx->opts, "delete") ||
               opts_get_bool(ctx->opts, "delete-changes-without-archiving");
    if (move_to && archive_dir && strcmp(move_to, archive_dir) != 0) {
        log_report(LOG_ERROR, NULL, "give one of them", "--move-to and --archive-dir name different directories");
        return false;
    }
    const char *dir_flag = move_to ? "--move-to" : "--archive-dir";
    if (!move_to)
        move_to = archive_dir;
    if (policy && strcmp(policy, "delete") == 0) {
        /* unlike the older `--move-to DIR --delete`, this policy says: no archive */
        if (move_to) {
            log_report(LOG_ERROR, "--policy delete deletes applied changes without archiving them",
                       "give --policy archive to archive them there, or leave the directory out to "
                       "delete them",
                       "--policy delete cannot be used with %s", dir_flag);
            return false;
        }
        del = true;
    }
    if (del && move_to) {
        /*
         * The documented `--move-to DIR --delete`: archive to DIR, then delete
         * from the export dir, which is what a move does.
         */
        log_info("--move-to with --delete: applied segments are archived to %s, then deleted "
                 "from the export dir",
                 move_to);
        del = false;
    }
    if (!del && !move_to) {
        log_error("say what to do with applied changes: --move-to DIR to archive them, or "
                  "--delete to delete them");
        return false;
    }
    if (policy && strcmp(policy, "archive") == 0 && !move_to) {
        log_error("--policy archive needs --archive-dir DIR");
        return false;
    }
    spec->threshold = (int)opts_get_int(ctx->opts, "fs-utilization-threshold");
    if (spec->threshold < 0 || spec->threshold > 100) {
        log_error("--fs-utilization-threshold must be a percentage between 0 and 100, not %d",
                  spec->threshold);
        return false;
    }
    if (!del && opts_is_set(ctx->opts, "fs-utilization-threshold")) {
        /* archived segments leave as soon as they are applied: no threshold to wait for */
        log_report(LOG_ERROR,
                   "applied changes are archived as soon as every importer applied them; the "
                   "threshold only holds back deleting",
                   "remove it, or delete without archiving (--delete, or --policy delete, without "
                   "--move-to/--archive-dir)",
                   "--fs-utilization-threshold is used only when applied changes are deleted "
                   "without archiving");
        return false;
    }
    const char *poll_env = getenv("VOYAGER_ARCHIVE_POLL_MS");
    spec->poll_ms = poll_env ? atol(poll_env) : 5000;
    if (spec->poll_ms <= 0)
        spec->poll_ms = 5000;
    if (del) {
        spec->policy = ARCHIVE_DELETE;
        return true;
    }
    spec->policy = ARCHIVE_MOVE;
    if (!fs_is_dir(move_to)) {
        log_report(LOG_ERROR, NULL, "create it first", "--move-to %s: no such directory", move_to);
        return false;
    }
    if (access(move_to, W_OK | X_OK) != 0) {
        log_report(LOG_ERROR, NULL, "fix its permissions", "--move-to %s: not writable by this user", move_to);
        return false;
    }
    char resolved[PATH_MAX];
    if (!realpath(move_to, resolved)) {
        log_error("--move-to %s: %s", move_to, strerror(errno));
        return false;
    }
    size_t n = strlen(ctx->export_dir);
    if (strncmp(resolved, ctx->export_dir, n) == 0 && (resolved[n] == '/' || resolved[n] == '\0')) {
        log_report(LOG_ERROR, NULL, "archive to a directory outside it",
                   "--move-to %s is inside the export dir", move_to);
        return false;
    }
    spec->move_to = xstrdup(resolved);
    return true;
}

int cmd_archive_changes(cmd_ctx *ctx)
{
    archive_spec spec = {0};
    if (!archive_spec_from_opts(ctx, &spec))
        return EXIT_BAD_ARGS;
    engine_status st = migration_archive_changes(&ctx->eng, &spec);
    free((char *)spec.move_to);
    return exit_code_of(st);
}

/* ---- the databases of the migration ---- */

/*
 * A conf for each database the status record names (conf[role] NULL for the
 * others), from the record and this command's password flags. False after
 * an error (*failed: the role). Free with free_confs() either way.
 */
static bool recorded_confs(cmd_ctx *ctx, db_conf *conf[3], db_role *failed)
{
    cJSON *rec = catalog_status_load(ctx->meta);
    bool ok = rec != NULL;
    for (db_role role = DB_SOURCE; ok && role <= DB_SOURCE_REPLICA; role++) {
        if (!cJSON_GetObjectItemCaseSensitive(rec, db_conf_record_key(role)))
            continue;
        conf[role] = xcalloc(1, sizeof *conf[role]);
        ok = cmd_db_conf(ctx, role, conf[role]);
        *failed = role;
    }
    cJSON_Delete(rec);
    return ok;
}

static void free_confs(db_conf *conf[3])
{
    for (int i = 0; i < 3; i++) {
        if (conf[i])
            db_conf_free(conf[i]);
        free(conf[i]);
        conf[i] = NULL;
    }
}

/* ---- get data-migration-report ---- */

int cmd_get_data_migration_report(cmd_ctx *ctx)
{
    report_spec spec = {.may_prompt = isatty(STDIN_FILENO),
                        .json = str_eq(opts_get(ctx->opts, "output-format"), "json")};
    db_role failed = DB_SOURCE;
    int rc = recorded_confs(ctx, spec.conf, &failed)
                 ? exit_code_of(migration_data_report(&ctx->eng, &spec))
                 : EXIT_BAD_ARGS;
    free_confs(spec.conf);
    return rc;
}

/* ---- end migration ---- */

/* --backup-dir with every backup flag false would be ignored: refused before anything is checked or asked. */
static bool refuse_unused_backup_dir(const cmd_ctx *ctx)
{
    static const char *const what[] = {"backup-schema-files", "backup-data-files", "backup-log-files",
                                       "save-migration-reports"};
    if (!opts_is_set(ctx->opts, "backup-dir"))
        return true;
    for (size_t i = 0; i < ARRAY_LEN(what); i++)
        if (opts_get_bool(ctx->opts, what[i]))
            return true;
    log_report(LOG_ERROR, "--backup-schema-files, --backup-data-files, --backup-log-files and "
                          "--save-migration-reports are all false",
               "remove --backup-dir, or set true the backup flags of what to keep",
               "nothing to back up: --backup-dir is not used");
    return false;
}

/* The backup flags into spec; checked before the question: a bad --backup-dir must not cost a confirmation. */
static bool end_spec_from_opts(const cmd_ctx *ctx, end_migration_spec *spec)
{
    spec->backup_schema = opts_get_bool(ctx->opts, "backup-schema-files");
    spec->backup_data = opts_get_bool(ctx->opts, "backup-data-files");
    spec->backup_reports = opts_get_bool(ctx->opts, "save-migration-reports");
    spec->backup_logs = opts_get_bool(ctx->opts, "backup-log-files");
    if (!spec->backup_schema && !spec->backup_data && !spec->backup_reports && !spec->backup_logs)
        return true;
    const char *dir = opts_get(ctx->opts, "backup-dir");
    if (!dir) {
        log_error("--backup-dir is required when a backup flag is true");
        return false;
    }
    if (!fs_is_dir(dir) || access(dir, W_OK) != 0) {
        log_report(LOG_ERROR, NULL, "create it or fix --backup-dir",
                   "backup directory %s does not exist or is not writable", dir);
        return false;
    }
    char *real_dir = realpath(dir, NULL);
    size_t n = strlen(ctx->export_dir);
    bool inside = real_dir && strncmp(real_dir, ctx->export_dir, n) == 0 &&
                  (real_dir[n] == '/' || real_dir[n] == '\0');
    free(real_dir);
    if (inside) {
        log_report(LOG_ERROR, NULL, "choose a directory outside it",
                   "--backup-dir %s is inside the export dir, which end migration empties", dir);
        return false;
    }
    spec->backup_dir = dir;
    return true;
}

int cmd_end_migration(cmd_ctx *ctx)
{
    end_migration_spec spec = {0};
    if (!refuse_unused_backup_dir(ctx))
        return EXIT_BAD_ARGS;
    /*
     * The other commands' locks are taken, not only probed, and kept until the
     * export dir is emptied: one started during the question or the cleaning
     * would be wiped under its feet.
     */
    cmd_lock **locks = migration_end_take_locks(ctx->export_dir, ctx->log_name);
    if (!locks)
        return EXIT_BAD_STATE;
    int rc = EXIT_BAD_STATE;
    if (!end_spec_from_opts(ctx, &spec) ||
        (spec.backup_dir && !migration_end_check_backup_dir(&ctx->eng, &spec)))
        goto out;
    migration_end_warn_unfinished(&ctx->eng);
    if (!cmd_confirm(ctx, "end the migration: drop its replication slots, publications and "
                          "metadata on every database and empty the export dir?"))
        goto out;
    db_role failed = DB_SOURCE;
    engine_status st = recorded_confs(ctx, spec.conf, &failed) ? migration_end(&ctx->eng, &spec)
                                                               : db_role_failure(failed);
    free_confs(spec.conf);
    rc = exit_code_of(st);
    if (st != ENGINE_OK)
        goto out;
    /* Everything left lives in the export dir: close it all, then empty it. */
    catalog_close(ctx->meta);
    ctx->meta = NULL;
    ctx->eng.cat = NULL;
    cmd_lock_release(ctx->lock);
    ctx->lock = NULL;
    log_close();
    rc = exit_code_of(migration_end_empty_export_dir(ctx->export_dir));
out:
    migration_end_release_locks(locks);
    return rc;
}
