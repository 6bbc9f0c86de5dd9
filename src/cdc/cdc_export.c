/*
 * Change capture entry points (cdc/cdc_export.h): the set-up of the source's
 * change feed for export data from source (with the snapshot hand-off) and
 * the whole export data from target command. The feed's database work is the
 * source's (source/source.h); the stream itself is cdc_stream.c.
 */
#include "cdc/cdc_export.h"

#include "catalog/migration_state.h"
#include "catalog/queue_meta.h"
#include "cdc/cdc_stream.h"
#include "cdc/cdc_tables.h"
#include "cdc/queue_format.h"
#include "cdc/queue_generation.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"
#include "db/connect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROLE_SOURCE "source_db_exporter"
#define ROLE_TARGET_FB "target_db_exporter_fb"
#define ROLE_TARGET_FF "target_db_exporter_ff"

struct cdc_export_state {
    source *src;         /* the caller's */
    cdc_tables tables;
    strlist seq_schemas; /* the source schemas: their sequences are handed over at cutover */
    const char *name;    /* the feed's (source feed_init): the slot */
    const char *detail;  /* the publication */
    bool progress_bars;
    char *command_name;
};

/* Record the feed's names and tables; reset the position when reset_position (a new feed). */
static bool state_record(catalog *m, const char *role, const char *name, const char *detail,
                         const cdc_tables *t, bool reset_position)
{
    char *tj = cdc_tables_to_json(t);
    bool ok = qm_exporter_record(m, role, name, detail, tj, reset_position);
    free(tj);
    return ok;
}

static void state_free(cdc_export_state *st)
{
    if (!st)
        return;
    cdc_tables_free(&st->tables);
    strlist_free(&st->seq_schemas);
    free(st->command_name);
    free(st);
}

/*
 * --start-clean on a live export: the change stream starts over with the new
 * snapshot, so this migration's feed, the queue files and the queue's meta.db
 * rows (segments, counts, exporter positions, cutover sequence values) go.
 */
static bool reset_change_capture(engine_ctx *eng, cdc_export_state *st)
{
    /*
     * A new generation before anything goes: vsns restart at 1, and an
     * importer's progress in the old queue must never be read against the new.
     */
    if (!queue_generation_renew(eng->cat))
        return false;
    if (!st->src->ops->feed_drop(st->src, false))
        return false;
    char *qdir = xasprintf("%s/%s", eng->export_dir, QUEUE_DIR);
    bool ok = fs_remove_contents(qdir);
    if (!ok)
        log_error("cannot empty %s: %s", qdir, strerror(errno));
    free(qdir);
    ok = ok && qm_queue_reset(eng->cat);
    if (ok)
        log_info("--start-clean: removed the change queue and %s %s of earlier runs",
                 st->src->ops->feed_noun, st->name);
    return ok;
}

/*
 * An existing feed confirmed further than this export dir's queue knows (its
 * last commit, or the position recorded before an idle confirmation): the
 * server will not send those changes again, and they are in no queue of this
 * dir. It is an older copy restored, or another copy of it used the feed
 * (--start-clean there makes the feed again under the same name). Refused
 * (logged) instead of streaming on without them.
 */
static engine_status check_feed_position(engine_ctx *eng, source *src, const char *role, const char *name)
{
    const source_ops *ops = src->ops;
    if (!ops->feed_confirmed)
        return ENGINE_OK;
    qm_exporter pos;
    if (!qm_exporter_get(eng->cat, role, &pos))
        return ENGINE_FAILED;
    long long known = pos.confirmed_lsn, last_commit = pos.last_commit_lsn;
    qm_exporter_free(&pos);
    if (known < 0)
        return ENGINE_OK; /* recorded by an older build, or the feed was being made */
    if (last_commit > known)
        known = last_commit;
    src_position at = 0;
    engine_status rc = ops->feed_confirmed(src, &at);
    if (rc != ENGINE_OK || at <= (src_position)known)
        return rc;
    char a[32], b[32];
    log_report(LOG_ERROR, NULL,
               "run export data on the newest copy of this export directory (the one that ran "
               "last), or start the migration again with --start-clean",
               "%s database: %s %s was confirmed up to %s %s, but this export directory's queue "
               "ends at %s: the changes in between are in no queue of it and the server will not "
               "send them again (is this export directory an older copy, or did another copy of "
               "it use %s?)",
               db_role_name(src->conf->role), ops->feed_noun, name, ops->position_name,
               ops->format_position(at, a), ops->format_position((src_position)known, b), name);
    return ENGINE_BAD_STATE;
}

bool cdc_export_keep_captured(engine_ctx *eng, src_table **sel, size_t *n, bool listed)
{
    qm_exporter pos;
    cdc_tables captured = {0};
    if (!qm_exporter_get(eng->cat, ROLE_SOURCE, &pos))
        return false;
    bool ok = true;
    /* Before its snapshot the feed is made again, with this run's tables; a feed recorded without them is not checked. */
    if (pos.snapshot_done && !pos.stream_done && pos.tables_json &&
        cdc_tables_from_json(&captured, pos.tables_json)) {
        size_t kept = 0;
        for (size_t i = 0; i < *n; i++) {
            bool found = false;
            for (size_t k = 0; k < captured.tables.count && !found; k++)
                found = str_eq(sel[i]->schema, captured.schemas.items[k]) &&
                        str_eq(sel[i]->name, captured.tables.items[k]);
            if (found) {
                sel[kept++] = sel[i];
            } else if (listed) {
                log_report(LOG_ERROR, NULL,
                           "run with the table list of the first run, or start the migration "
                           "again with --start-clean to add it",
                           "table %s.%s was not part of this live migration when its snapshot "
                           "was taken: it is in no snapshot and its changes are not captured",
                           sel[i]->schema, sel[i]->name);
                ok = false;
            } else {
                log_report(LOG_WARN, NULL,
                           "to migrate it, start the migration again with --start-clean",
                           "table %s.%s is not migrated: it was not part of this live migration "
                           "when its snapshot was taken (created, or a partition detached, since)",
                           sel[i]->schema, sel[i]->name);
            }
        }
        *n = kept;
    }
    cdc_tables_free(&captured);
    qm_exporter_free(&pos);
    return ok;
}

engine_status cdc_export_begin(engine_ctx *eng, const cdc_export_spec *spec, cdc_export_state **state,
                               char **snapshot_name, bool *restart_snapshot)
{
    source *src = spec->src;
    const source_ops *ops = src->ops;
    const char *who = db_role_name(src->conf->role);
    *state = NULL;
    *snapshot_name = NULL;
    *restart_snapshot = false;
    if (!ops->feed_init) {
        log_report(LOG_ERROR, NULL, "use a postgresql source or snapshot-only",
                   "--export-type snapshot-and-changes from a %s database is not built yet in this "
                   "version of voyager-c",
                   ops->type);
        return ENGINE_NOT_SUPPORTED;
    }
    cdc_export_state *st = xcalloc(1, sizeof *st);
    st->src = src;
    st->progress_bars = spec->progress_bars;
    st->command_name = xstrdup(spec->command_name);
    for (size_t i = 0; i < spec->ntables; i++) {
        strlist_push(&st->tables.schemas, spec->tables[i]->schema);
        strlist_push(&st->tables.tables, spec->tables[i]->name);
    }
    for (size_t i = 0; spec->schemas && spec->schemas[i]; i++)
        strlist_push(&st->seq_schemas, spec->schemas[i]);
    source_feed_spec fs = {.side = SOURCE_FEED_OF_SOURCE,
                           .schemas = &st->tables.schemas,
                           .tables = &st->tables.tables};
    ops->feed_init(src, &fs, &st->name, &st->detail);

    engine_status rc = ENGINE_FAILED;
    if (!qm_exporter_init(eng->cat, ROLE_SOURCE))
        goto fail;
    if (spec->start_clean) {
        if (!reset_change_capture(eng, st) || !qm_exporter_init(eng->cat, ROLE_SOURCE)) {
            rc = ENGINE_BAD_STATE;
            goto fail;
        }
    }
    qm_exporter pos;
    if (!qm_exporter_get(eng->cat, ROLE_SOURCE, &pos))
        goto fail;
    bool snapshot_done = pos.snapshot_done, stream_done = pos.stream_done;
    qm_exporter_free(&pos);
    if (stream_done) {
        /* Cutover already ended this stream: cdc_export_stream only finishes the bookkeeping. */
        *state = st;
        return ENGINE_OK;
    }
    bool exists = false;
    if ((rc = ops->feed_find(src, &exists)) != ENGINE_OK)
        goto fail;
    if (!exists && snapshot_done) {
        log_report(LOG_ERROR, NULL, "start the migration again with --start-clean",
                   "%s database: %s %s is gone, so the changes made since the snapshot are lost",
                   who, ops->feed_noun, st->name);
        rc = ENGINE_BAD_STATE;
        goto fail;
    }
    if ((rc = ops->feed_prepare(src, !exists, !snapshot_done)) != ENGINE_OK)
        goto fail;
    if (exists && snapshot_done) {
        if ((rc = check_feed_position(eng, src, ROLE_SOURCE, st->name)) != ENGINE_OK)
            goto fail;
        log_info("%s database: snapshot done earlier; changes continue from %s %s", who,
                 ops->feed_noun, st->name);
        *state = st;
        return ENGINE_OK;
    }
    if (exists) {
        log_say("the snapshot of an earlier run did not complete: making a new %s and starting "
                "the snapshot again",
                ops->feed_noun);
        if (!ops->feed_drop(src, false)) {
            rc = db_role_failure(src->conf->role);
            goto fail;
        }
    }
    if (!state_record(eng->cat, ROLE_SOURCE, st->name, st->detail, &st->tables, true)) {
        rc = ENGINE_FAILED;
        goto fail;
    }
    src_position start = 0;
    if ((rc = ops->feed_create(src, true, snapshot_name, &start)) != ENGINE_OK)
        goto fail;
    /* The new feed's start: where its server side stands confirmed. */
    if (!qm_exporter_set_confirmed(eng->cat, ROLE_SOURCE, (long long)start)) {
        rc = ENGINE_FAILED;
        goto fail;
    }
    *restart_snapshot = true;
    *state = st;
    return ENGINE_OK;
fail:
    free(*snapshot_name);
    *snapshot_name = NULL;
    state_free(st);
    return rc;
}

static bool mark_snapshot_done(catalog *m) { return qm_exporter_set_snapshot_done(m, ROLE_SOURCE); }

bool cdc_export_snapshot_done(engine_ctx *eng) { return mark_snapshot_done(eng->cat); }

engine_status cdc_export_stream(engine_ctx *eng, cdc_export_state *st)
{
    if (!st)
        return ENGINE_FAILED;
    /* The snapshot is durable (our caller says so): the exported snapshot may go. */
    st->src->ops->feed_release_snapshot(st->src);
    engine_status rc = ENGINE_FAILED;
    if (mark_snapshot_done(eng->cat)) {
        cdc_stream_params p = {
            .src = st->src,
            .exporter_role = ROLE_SOURCE,
            .cutover = CUTOVER_TO_TARGET,
            .end_op = QUEUE_OP_CUTOVER_TARGET,
            .done_key = "CutoverProcessedBySourceExporter",
            .tables = &st->tables,
            .seq_schemas = &st->seq_schemas,
            .progress_bars = st->progress_bars,
            .command_name = st->command_name,
        };
        rc = cdc_stream_run(eng, &p);
    }
    state_free(st);
    return rc;
}

void cdc_export_abort(cdc_export_state *state)
{
    /* The snapshot goes with the run that failed: a retry makes a new feed, and needs the old free. */
    if (state)
        state->src->ops->feed_release_snapshot(state->src);
    state_free(state);
}

/* Tables of export from target: the ones the source exporter captured (same names on the target). */
static bool target_tables(engine_ctx *eng, cdc_tables *t)
{
    qm_exporter src;
    bool ok = qm_exporter_get(eng->cat, ROLE_SOURCE, &src) && src.tables_json &&
              cdc_tables_from_json(t, src.tables_json);
    qm_exporter_free(&src);
    if (!ok)
        log_report(LOG_ERROR, NULL,
                   "export data from source --export-type snapshot-and-changes must have run first",
                   "the table list of this live migration is not in the export dir");
    return ok;
}

engine_status cdc_export_from_target_ready(engine_ctx *eng)
{
    cJSON *rec = catalog_status_load(eng->cat);
    if (!rec)
        return ENGINE_FAILED;
    bool fb = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallbackEnabled"));
    bool ff = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallForwardEnabled"));
    /*
     * What matters is that the target importer drained (nothing it wrote may be
     * captured back); the source exporter's own acknowledgement can land a moment
     * after the importer, which starts this command right away.
     */
    bool cut = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "CutoverToTargetRequested")) &&
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "CutoverProcessedByTargetImporter"));
    cJSON_Delete(rec);
    if (!fb && !ff) {
        log_report(LOG_ERROR, NULL,
                   "use initiate cutover to target --prepare-for-fall-back true, or import data to "
                   "source-replica, first",
                   "export data from target is for a migration with a way back");
        return ENGINE_BAD_STATE;
    }
    if (!cut) {
        log_report(LOG_ERROR, "export data from target starts after it",
                   "run initiate cutover to target and wait for cutover status to say COMPLETED",
                   "cutover to target has not happened yet");
        return ENGINE_BAD_STATE;
    }
    return ENGINE_OK;
}

engine_status cdc_export_from_target(engine_ctx *eng, const cdc_target_spec *spec)
{
    engine_status rc = cdc_export_from_target_ready(eng);
    if (rc != ENGINE_OK)
        return rc;
    bool fb = catalog_status_get_bool(eng->cat, "FallbackEnabled");
    const char *role = fb ? ROLE_TARGET_FB : ROLE_TARGET_FF;
    cdc_tables t = {STRLIST_INIT, STRLIST_INIT};
    source *src = source_for_target(eng, spec->target);
    const source_ops *ops = src->ops;
    const char *name = NULL, *detail = NULL;
    qm_exporter pos = {0};
    if (!target_tables(eng, &t) || !qm_exporter_init(eng->cat, role)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    source_feed_spec fs = {.side = SOURCE_FEED_OF_TARGET, .schemas = &t.schemas, .tables = &t.tables};
    ops->feed_init(src, &fs, &name, &detail);
    bool exists = false;
    /*
     * Started by the target importer at the cutover, or by hand once it
     * stopped: the target was reached a moment ago, so a restart or an outage
     * now is waited out as the stream waits out its own.
     */
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    bool gave_up = false;
    rc = ops->connect_waiting ? ops->connect_waiting(src, &rs, &gave_up) : ops->connect(src, false, NULL);
    if (rc != ENGINE_OK) {
        if (gave_up)
            rc = ENGINE_BAD_STATE;
        goto out;
    }
    if ((rc = ops->feed_find(src, &exists)) != ENGINE_OK)
        goto out;
    if (!qm_exporter_get(eng->cat, role, &pos)) {
        rc = ENGINE_FAILED;
        goto out;
    }
    /*
     * A feed an earlier run created (recorded with its name) and that is gone
     * now: what the target committed since is lost, whether or not a change
     * of it reached the queue (an idle exporter records no position).
     */
    bool created_before = pos.last_commit_lsn != 0 || pos.slot != NULL;
    bool stream_done = pos.stream_done;
    if (!exists && created_before && !stream_done) {
        log_error("%s database: %s %s is gone, so changes made on the target since export data "
                  "from target started are lost",
                  db_role_name(src->conf->role), ops->feed_noun, name);
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    if (!stream_done) {
        src_position at = 0;
        if ((rc = ops->feed_prepare(src, !exists, false)) != ENGINE_OK ||
            (!exists && (rc = ops->feed_create(src, false, NULL, &at)) != ENGINE_OK) ||
            (exists && (rc = check_feed_position(eng, src, role, name)) != ENGINE_OK))
            goto out;
        if (!exists && !qm_exporter_set_confirmed(eng->cat, role, (long long)at)) {
            rc = ENGINE_FAILED;
            goto out;
        }
        if (!state_record(eng->cat, role, name, detail, &t, false)) {
            rc = ENGINE_FAILED;
            goto out;
        }
    }
    /* The feed exists: cutover to target may now say COMPLETED (migration/cutover.c). */
    if (!catalog_status_set_bool(eng->cat, "ExportFromTargetStarted", true)) {
        rc = ENGINE_FAILED;
        goto out;
    }
    /*
     * The sequences handed back at cutover: those of every schema the source
     * exporter handed over (its --source-db-schema list), not only the schemas
     * of captured tables: a schema of sequences alone would keep its
     * pre-cutover values on the source, and nextval there would repeat
     * values the target has used.
     */
    strlist seq_schemas = STRLIST_INIT;
    sequence_value *handed = NULL;
    size_t nhanded = 0;
    if (!sequence_values_load(eng->cat, QUEUE_OP_CUTOVER_TARGET, &handed, &nhanded)) {
        rc = ENGINE_FAILED;
        goto out;
    }
    for (size_t i = 0; i < nhanded; i++)
        if (!strlist_contains(&seq_schemas, handed[i].schema))
            strlist_push(&seq_schemas, handed[i].schema);
    sequence_values_free(handed, nhanded);
    /* The stream opens connections of its own: the set-up's goes. */
    ops->snapshot_end(src, false);
    cdc_stream_params p = {
        .src = src,
        .exporter_role = role,
        .cutover = fb ? CUTOVER_TO_SOURCE : CUTOVER_TO_SOURCE_REPLICA,
        .end_op = fb ? QUEUE_OP_CUTOVER_SOURCE : QUEUE_OP_CUTOVER_SOURCE_REPLICA,
        .done_key = "CutoverProcessedByTargetExporter",
        .tables = &t,
        .seq_schemas = &seq_schemas,
        .progress_bars = spec->progress_bars,
        .command_name = spec->command_name,
    };
    rc = cdc_stream_run(eng, &p);
    strlist_free(&seq_schemas);
out:
    qm_exporter_free(&pos);
    source_close(src);
    cdc_tables_free(&t);
    return rc;
}
