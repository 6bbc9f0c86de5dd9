#include "migration/archive.h"

#include "cdc/queue_format.h"
#include "cdc/queue_generation.h"
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

/* The importers that have not applied segment s yet, of those its exporter's segments need. */
enum { NEEDS_TARGET = 1, NEEDS_SOURCE_REPLICA = 2, NEEDS_SOURCE = 4, NEEDS_UNKNOWN = 8 };

static int importers_missing(const archive_segment *s, bool fall_forward)
{
    if (strcmp(s->exporter_role, "source_db_exporter") == 0)
        return (s->imported_by_target ? 0 : NEEDS_TARGET) |
               (fall_forward && !s->imported_by_source_replica ? NEEDS_SOURCE_REPLICA : 0);
    if (strcmp(s->exporter_role, "target_db_exporter_fb") == 0)
        return s->imported_by_source ? 0 : NEEDS_SOURCE;
    if (strcmp(s->exporter_role, "target_db_exporter_ff") == 0)
        return s->imported_by_source_replica ? 0 : NEEDS_SOURCE_REPLICA;
    return NEEDS_UNKNOWN; /* an exporter we do not know: keep its segments */
}

bool archive_segment_eligible(const archive_segment *s, bool fall_forward)
{
    return s->closed && s->exporter_role && importers_missing(s, fall_forward) == 0;
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
    char *gen;   /* this pass: the queue generation the status record names (NULL: none yet) */
    char *qdir;  /* this pass: where this queue's segments go, made on the pass's first move */
} archiver;

/* A uuid as uuid_v4 writes it: the only text the archive builds a directory name of. */
static bool uuid_text(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') ||
              (s[n] >= 'A' && s[n] <= 'F') || s[n] == '-'))
            return false;
    return n == 36;
}

/*
 * This queue's directory in the archive: <move-to>/migration-<MigrationUUID>/
 * queue-<QueueGeneration>. Segment numbers restart at 0 in every migration and
 * in every queue of one (export data --start-clean), so a name of their own is
 * what keeps two queues archived to one directory from meeting. Made (and its
 * entries fsynced) when missing. NULL after logging.
 */
static const char *archive_queue_dir(archiver *a)
{
    if (a->qdir)
        return a->qdir;
    const char *uuid = catalog_migration_uuid(a->eng->cat);
    /* an export dir from before generations existed has one queue: it gets its id now, once */
    char *gen = a->gen ? xstrdup(a->gen) : queue_generation_get(a->eng->cat);
    if (!gen)
        return NULL;
    if (!uuid_text(uuid) || !uuid_text(gen)) {
        log_report(LOG_ERROR, "meta.db's status record was changed by hand or is damaged", NULL,
                   "archive changes: the migration id (%s) or the queue generation (%s) in "
                   "meta.db is not a uuid",
                   uuid, gen);
        free(gen);
        return NULL;
    }
    char *mdir = xasprintf("%s/migration-%s", a->spec->move_to, uuid);
    char *qdir = xasprintf("%s/queue-%s", mdir, gen);
    free(gen);
    bool ok = fs_is_dir(qdir) ||
              (fs_mkdir_p(qdir, 0700) && fs_fsync_parent(mdir) && fs_fsync_parent(qdir));
    if (!ok) {
        log_error("archive changes: cannot make %s: %s", qdir, strerror(errno));
        free(qdir);
    } else {
        a->qdir = qdir;
    }
    free(mdir);
    return a->qdir;
}

/*
 * Copy src into dir as name, never over another file: under a temporary name,
 * fsynced, then renamed only while name is free (fs_rename_noreplace). A file
 * already there is accepted when it holds the segment's bytes: a run that died
 * between the rename and the record in meta.db copies again. Any other file
 * is not this segment (another queue's, one put there by hand) and stops the
 * command: replacing it would destroy what another meta.db may point at.
 */
static engine_status copy_segment(long long no, const char *src, const char *dir, const char *name)
{
    /* the pid in it: two export dirs copied from one migration share dir */
    char *tmp = xasprintf("%s/%s.tmp-%d", dir, name, (int)getpid());
    char *dst = xasprintf("%s/%s", dir, name);
    engine_status rc = ENGINE_OK;
    bool same = false;
    if (!fs_copy_tree(src, tmp)) {
        log_error("archive changes: cannot copy %s to %s: %s", src, tmp, strerror(errno));
        rc = ENGINE_FAILED;
    } else if (fs_rename_noreplace(tmp, dst)) {
        /* renamed: tmp is gone */
    } else if (errno != EEXIST) {
        log_error("archive changes: cannot rename %s to %s: %s", tmp, dst, strerror(errno));
        rc = ENGINE_FAILED;
    } else if (!fs_same_bytes(src, dst, &same)) {
        log_error("archive changes: cannot compare %s with %s, which already exists: %s", dst, src,
                  strerror(errno));
        rc = ENGINE_FAILED;
    } else if (!same) {
        log_report(LOG_ERROR, NULL,
                   "archive changes never replaces a file: move the file out of the archive "
                   "directory (keep it: another queue may need it), then run archive changes "
                   "again",
                   "archive changes: %s already exists and is not segment %lld of this queue (%s)",
                   dst, no, src);
        rc = ENGINE_BAD_STATE;
    } else {
        log_info("archive changes: %s already holds segment %lld (an earlier run copied it)", dst,
                 no);
    }
    unlink(tmp); /* still there unless renamed */
    if (rc == ENGINE_OK && !fs_fsync_parent(dst)) {
        log_error("archive changes: cannot fsync %s: %s", dir, strerror(errno));
        rc = ENGINE_FAILED;
    }
    free(tmp);
    free(dst);
    return rc;
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
static engine_status handle_segment(archiver *a, long long no, const char *rel_path)
{
    char *path = xasprintf("%s/%s", a->eng->export_dir, rel_path);
    const char *name = strrchr(rel_path, '/') ? strrchr(rel_path, '/') + 1 : rel_path;
    engine_status rc = ENGINE_OK;
    bool kept = false;
    if (a->spec->policy == ARCHIVE_MOVE) {
        const char *dir = archive_queue_dir(a);
        if (!dir) {
            free(path);
            return ENGINE_FAILED;
        }
        char *dst = xasprintf("%s/%s", dir, name);
        if (fs_exists(path))
            rc = copy_segment(no, path, dir, name);
        if (rc == ENGINE_OK && (!archive_mark_segment(a->eng->cat, no, "archived", dst, &kept) ||
                                (!kept && !remove_segment_file(path))))
            rc = ENGINE_FAILED;
        if (rc == ENGINE_OK && !kept) {
            a->moved++;
            log_say("moved %s to %s", rel_path, dst);
        }
        free(dst);
    } else {
        if (!archive_mark_segment(a->eng->cat, no, "deleted", NULL, &kept) ||
            (!kept && !remove_segment_file(path)))
            rc = ENGINE_FAILED;
        if (rc == ENGINE_OK && !kept) {
            a->deleted++;
            log_say("deleted %s", rel_path);
        }
    }
    free(path);
    return rc;
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
    engine_status rc;
    long long waiting;  /* eligible but kept: disk use under the threshold */
    /* closed, still in the export dir, and not recorded as applied by an importer */
    long long unmarked, first_unmarked, last_unmarked;
    int missing;        /* NEEDS_* of those */
} pass_result;

static pass_result archive_pass(archiver *a, bool fall_forward)
{
    pass_result r = {ENGINE_OK, 0, 0, -1, -1, 0};
    queue_segment_state *segs = NULL;
    size_t nsegs = 0;
    /* all rows first: handling a segment writes meta.db */
    if (!queue_segment_states_load(a->eng->cat, &segs, &nsegs)) {
        r.rc = ENGINE_FAILED;
        return r;
    }
    char *queue_dir = xasprintf("%s/%s", a->eng->export_dir, QUEUE_DIR);
    bool over = a->spec->policy == ARCHIVE_MOVE ||
                archive_fs_utilization(fs_is_dir(queue_dir) ? queue_dir : a->eng->export_dir) >=
                    a->spec->threshold;
    free(queue_dir);
    for (size_t i = 0; i < nsegs && r.rc == ENGINE_OK && !*a->eng->interrupted; i++) {
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
        if (!done_before && present && q->closed && q->exporter_role) {
            int missing = importers_missing(&s, fall_forward) & ~NEEDS_UNKNOWN;
            if (missing) {
                if (r.unmarked++ == 0)
                    r.first_unmarked = q->segment_no;
                r.last_unmarked = q->segment_no;
                r.missing |= missing;
            }
        }
        if (!done_before && (!archive_segment_eligible(&s, fall_forward) || !present))
            continue;
        if (!done_before && !over) {
            r.waiting++;
            continue;
        }
        r.rc = handle_segment(a, q->segment_no, q->file_path);
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

/*
 * After the last cutover completed, how long archive changes waits for closed
 * segments still not recorded as applied. An importer records its cutover
 * before it marks its last segments (cdc/cdc_import.c on_cutover), so those
 * marks normally land milliseconds after the flag this command ends on; an
 * importer that died in between marks them when it runs again.
 */
#define ARCHIVE_FINISH_GRACE_MS 10000
#define ARCHIVE_FINISH_STEP_MS 200

/* The segments left at the end, and which importer has to run again to record them. */
static void report_unmarked(const pass_result *r)
{
    strbuf who = STRBUF_INIT;
    static const struct {
        int bit;
        const char *cmd;
    } names[] = {{NEEDS_TARGET, "import data to target"},
                 {NEEDS_SOURCE_REPLICA, "import data to source-replica"},
                 {NEEDS_SOURCE, "import data to source"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (r->missing & names[i].bit)
            strbuf_appendf(&who, "%s'%s'", who.len ? ", " : "", names[i].cmd);
    char *hint = xasprintf("run %s again: it records them and exits; then run archive changes "
                           "again",
                           strbuf_cstr(&who));
    log_report(LOG_ERROR,
               "the importer stopped after recording its cutover, before recording its last "
               "segments",
               hint,
               "the migration's change streams are complete, but %lld closed queue segment(s) "
               "(%lld..%lld) are not recorded as applied by %s",
               r->unmarked, r->first_unmarked, r->last_unmarked, strbuf_cstr(&who));
    free(hint);
    strbuf_free(&who);
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
        log_say("archiving applied changes to %s/migration-%s/ (a directory queue-<id> for each "
                "change queue of this migration)",
                spec->move_to, catalog_migration_uuid(eng->cat));
    else
        log_say("deleting applied changes once disk use of the export dir reaches %d%%",
                spec->threshold);
    engine_status rc = ENGINE_OK;
    long long last_waiting = -1;
    int64_t finished_at = -1;
    for (;;) {
        cJSON *rec = catalog_status_load(eng->cat);
        bool ff = rec && cJSON_IsTrue(cJSON_GetObjectItem(rec, "FallForwardEnabled"));
        bool finished = rec && migration_streams_finished(rec);
        const cJSON *gen = rec ? cJSON_GetObjectItemCaseSensitive(rec, QUEUE_GENERATION_KEY) : NULL;
        a.gen = cJSON_IsString(gen) ? xstrdup(gen->valuestring) : NULL;
        cJSON_Delete(rec);
        pass_result r = archive_pass(&a, ff);
        free(a.gen);
        free(a.qdir);
        a.gen = a.qdir = NULL;
        if (r.rc != ENGINE_OK) {
            rc = r.rc;
            break;
        }
        if (r.waiting != last_waiting && r.waiting > 0)
            log_info("%lld applied segment(s) kept: disk use is under %d%%", r.waiting,
                     spec->threshold);
        last_waiting = r.waiting;
        if (finished && r.unmarked == 0) {
            log_say("the migration's change streams are complete; archive changes is done");
            break;
        }
        long wait_ms = spec->poll_ms;
        if (finished) {
            /* the pass may have read the segments before the last marks landed: again soon */
            if (finished_at < 0)
                finished_at = now_monotonic_ms();
            if (now_monotonic_ms() - finished_at >= ARCHIVE_FINISH_GRACE_MS) {
                report_unmarked(&r);
                rc = ENGINE_BAD_STATE;
                break;
            }
            if (wait_ms > ARCHIVE_FINISH_STEP_MS)
                wait_ms = ARCHIVE_FINISH_STEP_MS;
        }
        if (*eng->interrupted)
            break;
        sleep_interruptible(wait_ms, eng->interrupted);
        if (*eng->interrupted)
            break;
    }
    log_say("archive changes: %lld segment(s) moved, %lld deleted", a.moved, a.deleted);
    return rc;
}
