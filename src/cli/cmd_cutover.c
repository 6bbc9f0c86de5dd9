/* initiate cutover to target / source / source-replica, cutover status. */
#include "cli/commands.h"

#include "core/exitcodes.h"
#include "core/lock.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"
#include "migration/cutover.h"

#include <stdio.h>
#include <string.h>

typedef struct request_arg {
    cutover_kind kind;
    bool prepare_fall_back;
    bool prepare_given; /* --prepare-for-fall-back on the command line */
    bool already;
    const char *refusal; /* set when the request is not allowed in this state */
} request_arg;

static bool record_request(cJSON *rec, void *arg)
{
    request_arg *a = arg;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(rec, "ExportType");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "snapshot-and-changes") != 0) {
        a->refusal = "cutover is for live migrations: run 'export data --export-type "
                     "snapshot-and-changes' first (an offline migration needs no cutover)";
        return false;
    }
    if (a->kind != CUTOVER_TO_TARGET &&
        cutover_state_of(rec, CUTOVER_TO_TARGET) != CUTOVER_COMPLETED) {
        a->refusal = "cutover to target has not completed yet; check 'yb-voyager cutover status'";
        return false;
    }
    if (a->kind == CUTOVER_TO_SOURCE && !cutover_applies(rec, CUTOVER_TO_SOURCE)) {
        a->refusal = "fall-back was not prepared: it needs 'initiate cutover to target "
                     "--prepare-for-fall-back true'";
        return false;
    }
    if (a->kind == CUTOVER_TO_SOURCE_REPLICA && !cutover_applies(rec, CUTOVER_TO_SOURCE_REPLICA)) {
        a->refusal = "no source-replica in this migration: run 'import data to source-replica' "
                     "first";
        return false;
    }
    /*
     * Both ways back read the target's changes from one export from target;
     * with fall-forward on, a fall-back request would leave the source-replica
     * importer waiting for changes that go to the source instead.
     */
    if (a->kind == CUTOVER_TO_TARGET && a->prepare_fall_back &&
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallForwardEnabled"))) {
        a->refusal = "fall-forward is on ('import data to source-replica' was started), and "
                     "fall-back and fall-forward exclude each other: run 'initiate cutover to "
                     "target' without --prepare-for-fall-back; the source-replica is this "
                     "migration's way back";
        return false;
    }
    const char *key = cutover_request_key(a->kind);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, key))) {
        bool fb = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallbackEnabled"));
        if (a->kind == CUTOVER_TO_TARGET && a->prepare_given && a->prepare_fall_back != fb) {
            /* the running processes already acted on the first answer */
            a->refusal = fb ? "cutover to target was already initiated with fall-back prepared; "
                              "that cannot be undone now"
                            : "cutover to target was already initiated without "
                              "--prepare-for-fall-back true; fall-back cannot be prepared any more";
            return false;
        }
        a->already = true;
        return false;
    }
    cJSON_AddBoolToObject(rec, key, true);
    if (a->kind == CUTOVER_TO_TARGET) {
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "FallbackEnabled");
        cJSON_AddBoolToObject(rec, "FallbackEnabled", a->prepare_fall_back);
    }
    return true;
}

static int initiate(cmd_ctx *ctx, cutover_kind kind)
{
    bool given = opts_is_set(ctx->opts, "prepare-for-fall-back");
    request_arg a = {kind, given && opts_get_bool(ctx->opts, "prepare-for-fall-back"), given,
                     false, NULL};
    if (catalog_status_update(ctx->meta, record_request, &a)) {
        log_say("cutover to %s initiated; the running migration processes will complete it. "
                "Watch it with 'yb-voyager cutover status --export-dir %s'",
                cutover_kind_name(kind), ctx->export_dir);
        return EXIT_OK;
    }
    if (a.already) {
        log_say("cutover to %s was already initiated; see 'yb-voyager cutover status'",
                cutover_kind_name(kind));
        return EXIT_OK;
    }
    if (a.refusal)
        log_error("%s", a.refusal);
    return EXIT_BAD_STATE;
}

int cmd_initiate_cutover_to_target(cmd_ctx *ctx) { return initiate(ctx, CUTOVER_TO_TARGET); }
int cmd_initiate_cutover_to_source(cmd_ctx *ctx) { return initiate(ctx, CUTOVER_TO_SOURCE); }
int cmd_initiate_cutover_to_source_replica(cmd_ctx *ctx)
{
    return initiate(ctx, CUTOVER_TO_SOURCE_REPLICA);
}

int cmd_cutover_status(cmd_ctx *ctx)
{
    cJSON *rec = catalog_status_load(ctx->meta);
    if (!rec)
        return EXIT_BAD_STATE;
    for (cutover_kind k = CUTOVER_TO_TARGET; k <= CUTOVER_TO_SOURCE_REPLICA; k++) {
        if (!cutover_applies(rec, k))
            continue;
        cutover_state st = cutover_state_of(rec, k);
        printf("cutover to %s status: %s\n", cutover_kind_name(k), cutover_state_name(st));
        if (st != CUTOVER_INITIATED)
            continue;
        /* Tell the operator which process still has to act, and whether it runs. */
        for (const cutover_process *p = cutover_processes(rec, k); p->command; p++) {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, p->done_key)))
                continue;
            pid_t pid = 0;
            if (cmd_lock_is_held(ctx->export_dir, p->lock_name, &pid))
                printf("  waiting for '%s' (pid %d) to finish its part\n", p->command, (int)pid);
            else
                printf("  '%s' is not running: restart it with the same arguments to complete "
                       "the cutover\n",
                       p->command);
        }
    }
    cJSON_Delete(rec);
    return EXIT_OK;
}
