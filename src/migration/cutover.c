#include "migration/cutover.h"

#include "catalog/catalog.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEEDS_LEFT_KEY "FeedsLeftAtCutover"

static const cutover_process to_target[] = {
    {"CutoverProcessedBySourceExporter", "export data from source", "export-data-from-source"},
    {"CutoverProcessedByTargetImporter", "import data to target", "import-data-to-target"},
    {NULL, NULL, NULL},
};
/*
 * With a way back prepared, cutover to target completes only once export data
 * from target has its replication slot: from then on every write the
 * application makes on the target is captured. Before that, a write would be
 * lost for the way back, so the operator must not switch yet.
 */
static const cutover_process to_target_way_back[] = {
    {"CutoverProcessedBySourceExporter", "export data from source", "export-data-from-source"},
    {"CutoverProcessedByTargetImporter", "import data to target", "import-data-to-target"},
    {"ExportFromTargetStarted", "export data from target", "export-data-from-target"},
    {NULL, NULL, NULL},
};
static const cutover_process to_source[] = {
    {"CutoverProcessedByTargetExporter", "export data from target", "export-data-from-target"},
    {"CutoverProcessedBySourceImporter", "import data to source", "import-data-to-source"},
    {NULL, NULL, NULL},
};
static const cutover_process to_source_replica[] = {
    {"CutoverProcessedByTargetExporter", "export data from target", "export-data-from-target"},
    {"CutoverProcessedBySourceReplicaImporter", "import data to source-replica",
     "import-data-to-source-replica"},
    {NULL, NULL, NULL},
};

const char *cutover_state_name(cutover_state s)
{
    switch (s) {
    case CUTOVER_NOT_INITIATED:
        return "NOT INITIATED";
    case CUTOVER_INITIATED:
        return "INITIATED";
    case CUTOVER_COMPLETED:
        return "COMPLETED";
    }
    return "?";
}

const char *cutover_kind_name(cutover_kind k)
{
    switch (k) {
    case CUTOVER_TO_TARGET:
        return "target";
    case CUTOVER_TO_SOURCE:
        return "source";
    case CUTOVER_TO_SOURCE_REPLICA:
        return "source-replica";
    }
    return "?";
}

const char *cutover_request_key(cutover_kind k)
{
    switch (k) {
    case CUTOVER_TO_TARGET:
        return "CutoverToTargetRequested";
    case CUTOVER_TO_SOURCE:
        return "CutoverToSourceRequested";
    case CUTOVER_TO_SOURCE_REPLICA:
        return "CutoverToSourceReplicaRequested";
    }
    return "?";
}

static bool flag(const cJSON *rec, const char *key);

const cutover_process *cutover_processes(const cJSON *rec, cutover_kind k)
{
    switch (k) {
    case CUTOVER_TO_TARGET:
        return flag(rec, "FallbackEnabled") || flag(rec, "FallForwardEnabled") ? to_target_way_back
                                                                               : to_target;
    case CUTOVER_TO_SOURCE:
        return to_source;
    case CUTOVER_TO_SOURCE_REPLICA:
        return to_source_replica;
    }
    return to_target;
}

static bool flag(const cJSON *rec, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, key));
}

cutover_state cutover_state_of(const cJSON *rec, cutover_kind k)
{
    if (!flag(rec, cutover_request_key(k)))
        return CUTOVER_NOT_INITIATED;
    for (const cutover_process *p = cutover_processes(rec, k); p->command; p++)
        if (!flag(rec, p->done_key))
            return CUTOVER_INITIATED;
    return CUTOVER_COMPLETED;
}

bool cutover_export_is_live(const cJSON *rec)
{
    const cJSON *type = rec ? cJSON_GetObjectItemCaseSensitive(rec, "ExportType") : NULL;
    return cJSON_IsString(type) && strcmp(type->valuestring, "snapshot-and-changes") == 0;
}

bool cutover_applies(const cJSON *rec, cutover_kind k)
{
    switch (k) {
    case CUTOVER_TO_TARGET:
        return true;
    case CUTOVER_TO_SOURCE:
        return flag(rec, "FallbackEnabled");
    case CUTOVER_TO_SOURCE_REPLICA:
        return flag(rec, "FallForwardEnabled");
    }
    return false;
}

typedef struct request_arg {
    const cutover_request *req;
    bool already;
    const char *refusal; /* set when the request is not allowed in this state */
    const char *detail;  /* why, when the refusal does not say it (or NULL) */
    const char *hint;    /* what to do about it (or NULL) */
} request_arg;

static bool record_request(cJSON *rec, void *arg)
{
    request_arg *a = arg;
    if (!cutover_export_is_live(rec)) {
        a->refusal = "cutover is for live migrations";
        a->hint = "run 'export data --export-type snapshot-and-changes' first (an offline "
                  "migration needs no cutover)";
        return false;
    }
    if (a->req->kind != CUTOVER_TO_TARGET &&
        cutover_state_of(rec, CUTOVER_TO_TARGET) != CUTOVER_COMPLETED) {
        a->refusal = "cutover to target has not completed yet";
        a->hint = "check 'yb-voyager cutover status'";
        return false;
    }
    if (a->req->kind == CUTOVER_TO_SOURCE && !cutover_applies(rec, CUTOVER_TO_SOURCE)) {
        a->refusal = "fall-back was not prepared";
        a->detail = "it needs 'initiate cutover to target --prepare-for-fall-back true'";
        return false;
    }
    if (a->req->kind == CUTOVER_TO_SOURCE_REPLICA && !cutover_applies(rec, CUTOVER_TO_SOURCE_REPLICA)) {
        a->refusal = "no source-replica in this migration";
        a->hint = "run 'import data to source-replica' first";
        return false;
    }
    /*
     * Both ways back read the target's changes from one export from target;
     * with fall-forward on, a fall-back request would leave the source-replica
     * importer waiting for changes that go to the source instead.
     */
    if (a->req->kind == CUTOVER_TO_TARGET && a->req->prepare_fall_back &&
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallForwardEnabled"))) {
        a->refusal = "fall-forward is on ('import data to source-replica' was started), and "
                     "fall-back and fall-forward exclude each other";
        a->hint = "run 'initiate cutover to target' without --prepare-for-fall-back; the "
                  "source-replica is this migration's way back";
        return false;
    }
    const char *key = cutover_request_key(a->req->kind);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, key))) {
        bool fb = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallbackEnabled"));
        if (a->req->kind == CUTOVER_TO_TARGET && a->req->prepare_given && a->req->prepare_fall_back != fb) {
            /* the running processes already acted on the first answer */
            a->refusal = fb ? "cutover to target was already initiated with fall-back prepared"
                            : "cutover to target was already initiated without "
                              "--prepare-for-fall-back true";
            a->detail = fb ? "that cannot be undone now" : "fall-back cannot be prepared any more";
            return false;
        }
        a->already = true;
        return false;
    }
    cJSON_AddBoolToObject(rec, key, true);
    if (a->req->kind == CUTOVER_TO_TARGET) {
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "FallbackEnabled");
        cJSON_AddBoolToObject(rec, "FallbackEnabled", a->req->prepare_fall_back);
    }
    return true;
}

/*
 * What a process that still has to act on a cutover does now, for cutover
 * status and initiate cutover: *running, or it is started by the running
 * target importer when that has done its part (export data from target), or
 * it is not running and must be restarted. Caller frees.
 */
static char *process_liveness(const engine_ctx *eng, const cJSON *rec, const cutover_process *p,
                              bool *running)
{
    pid_t pid = 0;
    *running = cmd_lock_is_held(eng->export_dir, p->lock_name, &pid);
    if (*running)
        return xasprintf("waiting for '%s' (pid %d) to finish its part", p->command, (int)pid);
    const cutover_process *importer = &to_target[1]; /* import data to target */
    if (strcmp(p->done_key, "ExportFromTargetStarted") == 0 && !flag(rec, importer->done_key)) {
        *running = cmd_lock_is_held(eng->export_dir, importer->lock_name, &pid);
        if (*running)
            return xasprintf("'%s' starts when '%s' (pid %d) has done its part: that process "
                             "turns into it",
                             p->command, importer->command, (int)pid);
        return xasprintf("'%s' is not running either: '%s' turns into it once restarted",
                         p->command, importer->command);
    }
    return xasprintf("'%s' is not running: restart it with the same arguments to complete the "
                     "cutover",
                     p->command);
}

/* After a request: which process completes the cutover, and which must be (re)started to. */
static void say_who_completes(const engine_ctx *eng, cutover_kind k)
{
    cJSON *rec = catalog_status_load(eng->cat);
    strlist lines = STRLIST_INIT;
    bool all_running = true;
    for (const cutover_process *p = cutover_processes(rec, k); rec && p->command; p++) {
        if (flag(rec, p->done_key))
            continue;
        bool running;
        strlist_push_owned(&lines, process_liveness(eng, rec, p, &running));
        all_running = all_running && running;
    }
    if (all_running)
        log_say("cutover to %s initiated; the running migration processes will complete it. "
                "Watch it with 'yb-voyager cutover status --export-dir %s'",
                cutover_kind_name(k), eng->export_dir);
    else
        log_say("cutover to %s initiated; it completes once each process below has done its "
                "part. Watch it with 'yb-voyager cutover status --export-dir %s'",
                cutover_kind_name(k), eng->export_dir);
    for (size_t i = 0; i < lines.count; i++)
        log_say("  %s", lines.items[i]);
    strlist_free(&lines);
    cJSON_Delete(rec);
}

engine_status cutover_initiate(const engine_ctx *eng, const cutover_request *req)
{
    request_arg a = {req, false, NULL, NULL, NULL};
    if (catalog_status_update(eng->cat, record_request, &a)) {
        say_who_completes(eng, req->kind);
        return ENGINE_OK;
    }
    if (a.already) {
        log_say("cutover to %s was already initiated; see 'yb-voyager cutover status'",
                cutover_kind_name(req->kind));
        return ENGINE_OK;
    }
    if (a.refusal)
        log_report(LOG_ERROR, a.detail, a.hint, "%s", a.refusal);
    return ENGINE_BAD_STATE;
}

typedef struct feed_left_arg {
    const char *done_key;
    const char *what;
    bool left;
} feed_left_arg;

static bool record_feed_left(cJSON *rec, void *arg)
{
    const feed_left_arg *a = arg;
    cJSON *o = cJSON_GetObjectItemCaseSensitive(rec, FEEDS_LEFT_KEY);
    if (!a->left) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, a->done_key);
        if (o && !o->child)
            cJSON_DeleteItemFromObjectCaseSensitive(rec, FEEDS_LEFT_KEY);
        return true;
    }
    if (!cJSON_IsObject(o)) {
        cJSON_DeleteItemFromObjectCaseSensitive(rec, FEEDS_LEFT_KEY);
        o = cJSON_AddObjectToObject(rec, FEEDS_LEFT_KEY);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(o, a->done_key);
    cJSON_AddStringToObject(o, a->done_key, a->what);
    return true;
}

bool cutover_note_feed_left(const engine_ctx *eng, const char *done_key, const char *what, bool left,
                            bool *cleared)
{
    *cleared = false;
    if (!left) {
        /* The usual case, a feed dropped as it should be: no write. */
        cJSON *rec = catalog_status_load(eng->cat);
        if (!rec)
            return false;
        bool noted = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, FEEDS_LEFT_KEY),
                                                      done_key) != NULL;
        cJSON_Delete(rec);
        if (!noted)
            return true;
    }
    feed_left_arg a = {done_key, what, left};
    if (!catalog_status_update(eng->cat, record_feed_left, &a))
        return false;
    *cleared = !left;
    return true;
}

/*
 * The feeds an exporter could not drop (FeedsLeftAtCutover of rec), each a
 * line of cutover status (stdout) or a warning (as_warning). A slot left
 * behind retains WAL on its database for ever: the operator must hear of it.
 */
static void print_feeds_left(const cJSON *rec, bool as_warning)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rec, FEEDS_LEFT_KEY)) {
        if (!cJSON_IsString(it))
            continue;
        const char *cmd = it->string;
        for (const cutover_process *p = to_source; p->command; p++)
            if (strcmp(p->done_key, it->string) == 0)
                cmd = p->command;
        for (const cutover_process *p = to_target; p->command; p++)
            if (strcmp(p->done_key, it->string) == 0)
                cmd = p->command;
        static const char fmt[] = "'%s' could not drop its %s at the end of its stream: it retains "
                                  "WAL there until dropped. Run '%s' again to retry the drop, or "
                                  "'yb-voyager end migration'";
        if (as_warning) {
            log_warn(fmt, cmd, it->valuestring, cmd);
        } else {
            printf("  warning: ");
            printf(fmt, cmd, it->valuestring, cmd);
            printf("\n");
        }
    }
}

void cutover_warn_feeds_left(const engine_ctx *eng)
{
    cJSON *rec = catalog_status_load(eng->cat);
    if (rec)
        print_feeds_left(rec, true);
    cJSON_Delete(rec);
}

engine_status cutover_print_status(const engine_ctx *eng)
{
    cJSON *rec = catalog_status_load(eng->cat);
    if (!rec)
        return ENGINE_BAD_STATE;
    for (cutover_kind k = CUTOVER_TO_TARGET; k <= CUTOVER_TO_SOURCE_REPLICA; k++) {
        if (!cutover_applies(rec, k))
            continue;
        cutover_state st = cutover_state_of(rec, k);
        printf("cutover to %s status: %s\n", cutover_kind_name(k), cutover_state_name(st));
        if (st == CUTOVER_INITIATED) {
            /* Tell the operator which process still has to act, and whether it runs. */
            for (const cutover_process *p = cutover_processes(rec, k); p->command; p++) {
                if (flag(rec, p->done_key))
                    continue;
                bool running;
                char *line = process_liveness(eng, rec, p, &running);
                printf("  %s\n", line);
                free(line);
            }
        } else if (st == CUTOVER_NOT_INITIATED && k != CUTOVER_TO_TARGET &&
                   cutover_state_of(rec, CUTOVER_TO_TARGET) == CUTOVER_COMPLETED) {
            /*
             * The application writes to the target now: the way back holds only
             * while its processes run. Each one that does not is named.
             */
            for (const cutover_process *p = cutover_processes(rec, k); p->command; p++)
                if (!cmd_lock_is_held(eng->export_dir, p->lock_name, NULL))
                    printf("  '%s' is not running: restart it with the same arguments (the way "
                           "back to the %s needs it)\n",
                           p->command, cutover_kind_name(k));
        }
    }
    print_feeds_left(rec, false);
    cJSON_Delete(rec);
    return ENGINE_OK;
}
