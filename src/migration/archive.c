#include "migration/archive.h"

#include "cdc/queue_format.h"
#include "core/exitcodes.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "catalog/catalog_int.h" /* transitional (issue 14): SQL moves into src/catalog/ */
#include "core/util.h"
#include "migration/cutover.h"

#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

bool archive_segment_eligible(const archive_segment *s, bool fall_forward)
{
    if (!s->closed || !s->exporter_role)
        return false;
    if (strcmp(s->exporter_role, "source_db_exporter") == 0)
        return s->imported_by_target && (!fall_forward || s->imported_by_source_replica);
    if (strcmp(s->exporter_role, "target_db_exporter_fb") == 0)
        return s->imported_by_source;
    if (strcmp(s->exporter_role, "target_db_exporter_ff") == 0)
        return s->imported_by_source_replica;
    return false; /* an exporter we do not know: keep its segments */
}

int archive_fs_utilization(const char *path)
{
    struct statvfs st;
    if (statvfs(path, &st) != 0)
        return -1;
    /* As df: used / (used + available to unprivileged users). */
    unsigned long long used = (unsigned long long)(st.f_blocks - st.f_bfree);
    unsigned long long total = used + (unsigned long long)st.f_bavail;
    if (total == 0)
        return 0;
    return (int)((used * 100 + total - 1) / total);
}

typedef enum archive_policy { POLICY_ARCHIVE, POLICY_DELETE } archive_policy;

typedef struct archiver {
    cmd_ctx *ctx;
    archive_policy policy;
    const char *move_to; /* POLICY_ARCHIVE: absolute destination directory */
    int threshold;       /* POLICY_DELETE: disk use percentage that triggers deletion */
    long long moved, deleted;
} archiver;

static bool parse_policy(cmd_ctx *ctx, archiver *a)
{
    const char *move_to = opts_get(ctx->opts, "move-to");
    const char *archive_dir = opts_get(ctx->opts, "archive-dir");
    const char *policy = opts_get(ctx->opts, "policy");
    bool del = opts_get_bool(ctx->opts, "delete") ||
               opts_get_bool(ctx->opts, "delete-changes-without-archiving");
    if (move_to && archive_dir && strcmp(move_to, archive_dir) != 0) {
        log_error("--move-to and --archive-dir name different directories; give one of them");
        return false;
    }
    if (!move_to)
        move_to = archive_dir;
    if (policy && strcmp(policy, "delete") == 0)
        del = true;
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
    a->threshold = (int)opts_get_int(ctx->opts, "fs-utilization-threshold");
    if (a->threshold < 0 || a->threshold > 100) {
        log_error("--fs-utilization-threshold must be a percentage between 0 and 100, not %d",
                  a->threshold);
        return false;
    }
    if (del) {
        a->policy = POLICY_DELETE;
        return true;
    }
    a->policy = POLICY_ARCHIVE;
    if (!fs_is_dir(move_to)) {
        log_error("--move-to %s: no such directory; create it first", move_to);
        return false;
    }
    if (access(move_to, W_OK | X_OK) != 0) {
        log_error("--move-to %s: not writable by this user; fix its permissions", move_to);
        return false;
    }
    char resolved[PATH_MAX];
    if (!realpath(move_to, resolved)) {
        log_error("--move-to %s: %s", move_to, strerror(errno));
        return false;
    }
    size_t n = strlen(ctx->export_dir);
    if (strncmp(resolved, ctx->export_dir, n) == 0 && (resolved[n] == '/' || resolved[n] == '\0')) {
        log_error("--move-to %s is inside the export dir; archive to a directory outside it",
                  move_to);
        return false;
    }
    a->move_to = xstrdup(resolved);
    return true;
}

/* Copy to <dir>/<name>.tmp, fsync, rename: a crash never leaves a half segment under its name. */
static bool copy_segment(const char *src, const char *dir, const char *name)
{
    char *tmp = xasprintf("%s/%s.tmp", dir, name);
    char *dst = xasprintf("%s/%s", dir, name);
    bool ok = fs_copy_tree(src, tmp) && rename(tmp, dst) == 0 && fs_fsync_parent(dst);
    if (!ok) {
        log_error("archive changes: cannot copy %s to %s: %s", src, dst, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    free(dst);
    return ok;
}

bool archive_mark_segment(catalog *m, long long no, const char *column, const char *location,
                          bool *kept)
{
    *kept = false;
    if (!catalog_begin(m)) {
        log_error("archive changes: cannot record segment %lld in meta.db", no);
        return false;
    }
    cJSON *rec = catalog_status_load(m);
    bool ff = rec && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallForwardEnabled"));
    long long needed = 0;
    bool ok = rec && (!ff || catalog_run(m, &needed,
                                        "SELECT count(*) FROM queue_segment WHERE segment_no = ?1"
                                        " AND exporter_role = 'source_db_exporter'"
                                        " AND imported_by_source_replica_db_importer = 0",
                                        "i", no));
    cJSON_Delete(rec);
    if (ok && needed) {
        catalog_rollback(m);
        *kept = true;
        log_info("archive changes: segment %lld kept: the source-replica importer needs it", no);
        return true;
    }
    /* column is one of two literals (archive.h), never user text */
    char *sql = xasprintf("UPDATE queue_segment SET %s = 1, archive_location = ?1 "
                          "WHERE segment_no = ?2",
                          strcmp(column, "archived") == 0 ? "archived" : "deleted");
    ok = ok && catalog_run(m, NULL, sql, "si", location, no) && catalog_commit(m);
    if (!ok) {
        catalog_rollback(m);
        log_error("archive changes: cannot record segment %lld in meta.db", no);
    }
    free(sql);
    return ok;
}

static bool remove_segment_file(const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT) {
        log_error("archive changes: cannot remove %s: %s", path, strerror(errno));
        return false;
    }
    fs_fsync_parent(path);
    return true;
}

/*
 * One segment leaves the export dir. Order makes every crash point safe: the
 * copy is complete before meta.db says archived, and meta.db says so before
 * the original goes; a segment marked but still present is removed next pass.
 */
static bool handle_segment(archiver *a, long long no, const char *rel_path)
{
    char *path = cmd_path(a->ctx, rel_path);
    const char *name = strrchr(rel_path, '/') ? strrchr(rel_path, '/') + 1 : rel_path;
    bool ok, kept = false;
    if (a->policy == POLICY_ARCHIVE) {
        char *dst = xasprintf("%s/%s", a->move_to, name);
        ok = (!fs_exists(path) || copy_segment(path, a->move_to, name)) &&
             archive_mark_segment(a->ctx->meta, no, "archived", dst, &kept) && (kept || remove_segment_file(path));
        if (ok && !kept) {
            a->moved++;
            log_say("moved %s to %s", rel_path, dst);
        }
        free(dst);
    } else {
        ok = archive_mark_segment(a->ctx->meta, no, "deleted", NULL, &kept) && (kept || remove_segment_file(path));
        if (ok && !kept) {
            a->deleted++;
            log_say("deleted %s", rel_path);
        }
    }
    free(path);
    return ok;
}

static bool migration_streams_finished(cJSON *rec)
{
    bool fb = cJSON_IsTrue(cJSON_GetObjectItem(rec, "FallbackEnabled"));
    bool ff = cJSON_IsTrue(cJSON_GetObjectItem(rec, "FallForwardEnabled"));
    if (cutover_state_of(rec, CUTOVER_TO_TARGET) != CUTOVER_COMPLETED)
        return false;
    if (fb && cutover_state_of(rec, CUTOVER_TO_SOURCE) != CUTOVER_COMPLETED)
        return false;
    if (ff && cutover_state_of(rec, CUTOVER_TO_SOURCE_REPLICA) != CUTOVER_COMPLETED)
        return false;
    return true;
}

typedef struct pass_result {
    bool ok;
    long long waiting; /* eligible but kept: disk use under the threshold */
} pass_result;

static pass_result archive_pass(archiver *a, bool fall_forward)
{
    pass_result r = {true, 0};
    sqlite3 *db = catalog_sqlite(a->ctx->meta);
    sqlite3_stmt *st = NULL;
    const char *sql =
        "SELECT segment_no, file_path, exporter_role, is_closed, imported_by_target_db_importer,"
        " imported_by_source_replica_db_importer, imported_by_source_db_importer, archived, deleted"
        " FROM queue_segment ORDER BY segment_no";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("archive changes: cannot read the queue from meta.db: %s", sqlite3_errmsg(db));
        r.ok = false;
        return r;
    }
    /* Collect first: handling a segment writes meta.db, which must not happen under a read cursor. */
    typedef struct todo { long long no; char *path; } todo;
    todo *list = NULL;
    size_t n = 0, cap = 0;
    char *queue_dir = cmd_path(a->ctx, QUEUE_DIR);
    bool over = a->policy == POLICY_ARCHIVE ||
                archive_fs_utilization(fs_is_dir(queue_dir) ? queue_dir : a->ctx->export_dir) >=
                    a->threshold;
    free(queue_dir);
    while (sqlite3_step(st) == SQLITE_ROW) {
        archive_segment s = {
            .exporter_role = (const char *)sqlite3_column_text(st, 2),
            .closed = sqlite3_column_int(st, 3),
            .imported_by_target = sqlite3_column_int(st, 4),
            .imported_by_source_replica = sqlite3_column_int(st, 5),
            .imported_by_source = sqlite3_column_int(st, 6),
        };
        bool done_before = sqlite3_column_int(st, 7) || sqlite3_column_int(st, 8);
        const char *rel = (const char *)sqlite3_column_text(st, 1);
        char *abs = rel ? cmd_path(a->ctx, rel) : NULL;
        bool present = abs && fs_exists(abs);
        free(abs);
        if (done_before && !present)
            continue;
        if (!done_before && (!archive_segment_eligible(&s, fall_forward) || !present))
            continue;
        if (!done_before && !over) {
            r.waiting++;
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            list = xrealloc(list, cap * sizeof *list);
        }
        list[n++] = (todo){sqlite3_column_int64(st, 0), xstrdup(rel)};
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        if (r.ok && !cmd_interrupted)
            r.ok = handle_segment(a, list[i].no, list[i].path);
        free(list[i].path);
    }
    free(list);
    return r;
}

static void sleep_interruptible(long ms)
{
    while (ms > 0 && !cmd_interrupted) {
        long step = ms < 100 ? ms : 100;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

int migration_archive_changes(cmd_ctx *ctx)
{
    archiver a = {.ctx = ctx};
    if (!parse_policy(ctx, &a))
        return EXIT_BAD_ARGS;
    cJSON *first = catalog_status_load(ctx->meta);
    const cJSON *type = first ? cJSON_GetObjectItemCaseSensitive(first, "ExportType") : NULL;
    bool offline = cJSON_IsString(type) && strcmp(type->valuestring, "snapshot-only") == 0;
    bool no_export = !cJSON_IsString(type);
    cJSON_Delete(first);
    if (offline) {
        log_error("this export dir holds an offline migration (export data --export-type "
                  "snapshot-only): it has no queued changes to archive");
        free((char *)a.move_to);
        return EXIT_BAD_STATE;
    }
    if (no_export)
        log_say("no live migration has started in this export dir yet: waiting for 'export data "
                "--export-type snapshot-and-changes' (Ctrl-C to stop)");
    log_say("archive changes runs until the migration's last cutover completes");
    const char *poll_env = getenv("VOYAGER_ARCHIVE_POLL_MS");
    long poll_ms = poll_env ? atol(poll_env) : 5000;
    if (poll_ms <= 0)
        poll_ms = 5000;
    if (a.policy == POLICY_ARCHIVE)
        log_say("archiving applied changes to %s", a.move_to);
    else
        log_say("deleting applied changes once disk use of the export dir reaches %d%%",
                a.threshold);
    int rc = EXIT_OK;
    long long last_waiting = -1;
    for (;;) {
        cJSON *rec = catalog_status_load(ctx->meta);
        bool ff = rec && cJSON_IsTrue(cJSON_GetObjectItem(rec, "FallForwardEnabled"));
        bool finished = rec && migration_streams_finished(rec);
        cJSON_Delete(rec);
        pass_result r = archive_pass(&a, ff);
        if (!r.ok) {
            rc = EXIT_INTERNAL;
            break;
        }
        if (r.waiting != last_waiting && r.waiting > 0)
            log_info("%lld applied segment(s) kept: disk use is under %d%%", r.waiting,
                     a.threshold);
        last_waiting = r.waiting;
        if (finished) {
            log_say("the migration's change streams are complete; archive changes is done");
            break;
        }
        if (cmd_interrupted)
            break;
        sleep_interruptible(poll_ms);
        if (cmd_interrupted)
            break;
    }
    log_say("archive changes: %lld segment(s) moved, %lld deleted", a.moved, a.deleted);
    free((char *)a.move_to);
    return rc;
}
