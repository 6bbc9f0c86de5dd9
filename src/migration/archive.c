#include "migration/archive.h"

#include "cdc/queue_format.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "catalog/migration_state.h"
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

typedef struct archiver {
    const engine_ctx *eng;
    const archive_spec *spec;
    long long moved, deleted;
} archiver;

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
    if (!queue_segment_mark_gone(m, no, strcmp(column, "archived") == 0, location, kept)) {
        log_error("archive changes: cannot record segment %lld in meta.db", no);
        return false;
    }
    if (*kept)
        log_info("archive changes: segment %lld kept: an importer needs it (it joined or started "
                 "over since the segment was chosen)",
                 no);
    return true;
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
    char *path = xasprintf("%s/%s", a->eng->export_dir, rel_path);
    const char *name = strrchr(rel_path, '/') ? strrchr(rel_path, '/') + 1 : rel_path;
    const char *move_to = a->spec->move_to;
    bool ok, kept = false;
    if (a->spec->policy == ARCHIVE_MOVE) {
        char *dst = xasprintf("%s/%s", move_to, name);
        ok = (!fs_exists(path) || copy_segment(path, move_to, name)) &&
             archive_mark_segment(a->eng->cat, no, "archived", dst, &kept) &&
             (kept || remove_segment_file(path));
        if (ok && !kept) {
            a->moved++;
            log_say("moved %s to %s", rel_path, dst);
        }
        free(dst);
    } else {
        ok = archive_mark_segment(a->eng->cat, no, "deleted", NULL, &kept) &&
             (kept || remove_segment_file(path));
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
    queue_segment_state *segs = NULL;
    size_t nsegs = 0;
    /* all rows first: handling a segment writes meta.db */
    if (!queue_segment_states_load(a->eng->cat, &segs, &nsegs)) {
        r.ok = false;
        return r;
    }
    char *queue_dir = xasprintf("%s/%s", a->eng->export_dir, QUEUE_DIR);
    bool over = a->spec->policy == ARCHIVE_MOVE ||
                archive_fs_utilization(fs_is_dir(queue_dir) ? queue_dir : a->eng->export_dir) >=
                    a->spec->threshold;
    free(queue_dir);
    for (size_t i = 0; i < nsegs && r.ok && !*a->eng->interrupted; i++) {
        const queue_segment_state *q = &segs[i];
        archive_segment s = {
            .exporter_role = q->exporter_role,
            .closed = q->closed,
            .imported_by_target = q->imported_by_target,
            .imported_by_source_replica = q->imported_by_source_replica,
            .imported_by_source = q->imported_by_source,
        };
        bool done_before = q->archived || q->deleted;
        char *abs = q->file_path ? xasprintf("%s/%s", a->eng->export_dir, q->file_path) : NULL;
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
        r.ok = handle_segment(a, q->segment_no, q->file_path);
    }
    queue_segment_states_free(segs, nsegs);
    return r;
}

static void sleep_interruptible(long ms, const volatile sig_atomic_t *interrupted)
{
    while (ms > 0 && !*interrupted) {
        long step = ms < 100 ? ms : 100;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

engine_status migration_archive_changes(const engine_ctx *eng, const archive_spec *spec)
{
    archiver a = {.eng = eng, .spec = spec};
    cJSON *first = catalog_status_load(eng->cat);
    const cJSON *type = first ? cJSON_GetObjectItemCaseSensitive(first, "ExportType") : NULL;
    bool offline = cJSON_IsString(type) && strcmp(type->valuestring, "snapshot-only") == 0;
    bool no_export = !cJSON_IsString(type);
    cJSON_Delete(first);
    if (offline) {
        log_report(LOG_ERROR, "it has no queued changes to archive", NULL,
                   "this export dir holds an offline migration (export data --export-type "
                   "snapshot-only)");
        return ENGINE_BAD_STATE;
    }
    if (no_export)
        log_say("no live migration has started in this export dir yet: waiting for 'export data "
                "--export-type snapshot-and-changes' (Ctrl-C to stop)");
    log_say("archive changes runs until the migration's last cutover completes");
    if (spec->policy == ARCHIVE_MOVE)
        log_say("archiving applied changes to %s", spec->move_to);
    else
        log_say("deleting applied changes once disk use of the export dir reaches %d%%",
                spec->threshold);
    engine_status rc = ENGINE_OK;
    long long last_waiting = -1;
    for (;;) {
        cJSON *rec = catalog_status_load(eng->cat);
        bool ff = rec && cJSON_IsTrue(cJSON_GetObjectItem(rec, "FallForwardEnabled"));
        bool finished = rec && migration_streams_finished(rec);
        cJSON_Delete(rec);
        pass_result r = archive_pass(&a, ff);
        if (!r.ok) {
            rc = ENGINE_FAILED;
            break;
        }
        if (r.waiting != last_waiting && r.waiting > 0)
            log_info("%lld applied segment(s) kept: disk use is under %d%%", r.waiting,
                     spec->threshold);
        last_waiting = r.waiting;
        if (finished) {
            log_say("the migration's change streams are complete; archive changes is done");
            break;
        }
        if (*eng->interrupted)
            break;
        sleep_interruptible(spec->poll_ms, eng->interrupted);
        if (*eng->interrupted)
            break;
    }
    log_say("archive changes: %lld segment(s) moved, %lld deleted", a.moved, a.deleted);
    return rc;
}
