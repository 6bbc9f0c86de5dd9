#include "cdc/import_data.h"

#include "catalog/catalog.h"
#include "catalog/import_state.h"
#include "cdc/queue_generation.h"
#include "core/log.h"
#include "core/util.h"
#include "db/connect.h"
#include "db/db_identity.h"
#include "db/feed_names.h"
#include "migration/cutover.h"
#include "snapshot/snapshot_import.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define ROLE_TARGET "target_db_importer"
#define ROLE_SOURCE "source_db_importer"
#define ROLE_SOURCE_REPLICA "source_replica_db_importer"

static bool export_is_live(catalog *cat)
{
    cJSON *rec = catalog_status_load(cat);
    bool live = cutover_export_is_live(rec);
    cJSON_Delete(rec);
    return live;
}

static cdc_apply_spec apply_spec_of(const import_data_spec *spec, const char *importer_role)
{
    return (cdc_apply_spec){
        .conf = spec->conf,
        .importer_role = importer_role,
        .start_clean = spec->start_clean,
        .table_lists = spec->table_lists,
        .include = spec->include,
        .exclude = spec->exclude,
        .parallel_jobs = spec->parallel_jobs,
        .parallel_jobs_given = spec->parallel_jobs_given,
        .bars = spec->bars,
        .target_endpoints = spec->target_endpoints,
        .use_public_ip = spec->use_public_ip,
    };
}

typedef struct clean_arg {
    engine_ctx *eng;
    const cdc_apply_spec *apply;
} clean_arg;

/* The change progress goes with the truncated tables: the new snapshot is followed by every change. */
static bool clean_changes(void *arg, writer_session *c)
{
    clean_arg *a = arg;
    /* an offline import has no change progress (and gets no change bookkeeping tables) */
    return !export_is_live(a->eng->cat) || cdc_import_clean_in_tx(a->eng, a->apply->importer_role, c);
}

/* Only once the clean start is complete: recorded earlier, a failed one would let the new lists pass. */
static bool clean_done(void *arg)
{
    clean_arg *a = arg;
    return cdc_import_table_filter_check(a->eng, a->apply) == ENGINE_OK;
}

/*
 * Replication set up on the target would copy or overwrite what this import
 * writes (a subscription applying someone else's changes to the same tables,
 * a CDC slot or publication streaming them elsewhere): as upstream, abort
 * unless --skip-replication-checks. This migration's own slot and publication
 * (export data from target, after cutover) are not counted.
 */
static engine_status check_target_replication(engine_ctx *eng, const import_data_spec *spec)
{
    if (spec->skip_replication_checks)
        return ENGINE_OK;
    pgconn *c = db_connect_recorded(eng->cat, spec->conf, NULL);
    if (!c)
        return ENGINE_TARGET_FAILED;
    const char *uuid = catalog_migration_uuid(eng->cat);
    char *target_slot = feed_slot_name(uuid, true), *target_pub = feed_publication_name(uuid, true);
    const char *params[] = {target_slot, target_pub};
    PGresult *r = pgconn_query(
        c,
        "SELECT 'replication slot ' || quote_ident(slot_name) FROM pg_replication_slots"
        " WHERE database = current_database() AND slot_name <> $1"
        " UNION ALL SELECT 'publication ' || quote_ident(pubname) FROM pg_publication"
        " WHERE pubname <> $2"
        " UNION ALL SELECT 'subscription ' || quote_ident(subname) FROM pg_subscription"
        " WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " ORDER BY 1",
        2, params);
    free(target_slot);
    free(target_pub);
    engine_status rc = ENGINE_OK;
    if (!r) {
        rc = ENGINE_TARGET_FAILED;
    } else if (PQntuples(r) > 0) {
        strbuf list = STRBUF_INIT;
        /* export data's own slot and publication: dropping them would end this live migration */
        char *slot = feed_slot_name(uuid, false), *pub = feed_publication_name(uuid, false);
        char *own_slot = xasprintf("replication slot %s", slot);
        char *own_pub = xasprintf("publication %s", pub);
        free(slot);
        free(pub);
        bool own = false;
        for (int i = 0; i < PQntuples(r); i++) {
            if (i)
                strbuf_append(&list, ", ");
            strbuf_append(&list, PQgetvalue(r, i, 0));
            own = own || str_eq(PQgetvalue(r, i, 0), own_slot) || str_eq(PQgetvalue(r, i, 0), own_pub);
        }
        free(own_slot);
        free(own_pub);
        log_report(LOG_ERROR, NULL,
                   own ? "they are export data's own, for this migration's source: do not drop "
                         "them; give the target database's --target-db-host/--target-db-port/"
                         "--target-db-name"
                       : "drop it, or pass --skip-replication-checks true if it is intended",
                   "the target database has replication set up that would interfere with the "
                   "import (%s)",
                   strbuf_cstr(&list));
        strbuf_free(&list);
        rc = ENGINE_BAD_STATE;
    }
    PQclear(r);
    pgconn_close(c);
    return rc;
}

/*
 * The target or source-replica given is the source itself (its flags copied
 * from the source's): a clean start would truncate the source's tables and
 * load an older snapshot into them, a rerun double its tables without a key.
 * Refused before anything is written, by the identity export data recorded
 * (db/db_identity.h). Not recorded (a MySQL source, an export dir older than
 * the check): nothing to compare. This connection records nothing: the
 * command is refused, and the right flags on the rerun must not look like a
 * switch of database.
 */
static engine_status refuse_source_database(engine_ctx *eng, const import_data_spec *spec)
{
    if (str_eq(spec->conf->type, "mysql"))
        return ENGINE_OK;
    cJSON *status = catalog_status_load(eng->cat);
    if (!status)
        return ENGINE_BAD_STATE;
    const cJSON *src_id = cJSON_GetObjectItemCaseSensitive(status, DB_IDENTITY_SOURCE_KEY);
    if (!cJSON_IsObject(src_id)) {
        cJSON_Delete(status);
        return ENGINE_OK;
    }
    engine_status rc = ENGINE_OK;
    /* A database down for now is waited for, as every later step of the import does. */
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    bool gave_up = false;
    pgconn *c = pgconn_connect_retrying(spec->conf, NULL, &rs, eng->interrupted, &gave_up);
    cJSON *id = c ? db_identity_read(c) : NULL;
    if (!c) {
        rc = gave_up ? ENGINE_BAD_STATE : db_role_failure(spec->conf->role);
    } else if (db_identity_same(id, src_id)) {
        bool replica = spec->conf->role == DB_SOURCE_REPLICA;
        const char *r = replica ? "source-replica" : "target";
        db_conf src = {0};
        db_conf_from_json(&src, cJSON_GetObjectItemCaseSensitive(status, "SourceDBConf"),
                          DB_SOURCE);
        char *hint = xasprintf("give the %s database's --%s-db-host/--%s-db-port/--%s-db-name",
                               r, r, r, r);
        log_report(LOG_ERROR, NULL, hint,
                   "the %s database given (%s:%d/%s) is this migration's source database "
                   "(%s:%d/%s): import data would overwrite the source",
                   r, spec->conf->host ? spec->conf->host : "", spec->conf->port,
                   spec->conf->name ? spec->conf->name : "", src.host ? src.host : "", src.port,
                   src.name ? src.name : "");
        free(hint);
        db_conf_free(&src);
        rc = ENGINE_BAD_STATE;
    }
    cJSON_Delete(id);
    pgconn_close(c);
    cJSON_Delete(status);
    return rc;
}

/* Why fall-forward may not start, as log_report's message, detail and hint (each owned, may be NULL). */
typedef struct ff_refusal {
    char *message;
    char *detail;
    char *hint;
} ff_refusal;

typedef struct ff_admission {
    catalog *cat;
    ff_refusal no; /* message set when fall-forward may not start */
} ff_admission;

/*
 * Registers fall-forward (FallForwardEnabled) in the same meta.db transaction
 * as its checks, so that cutover to target and archive changes, which take the
 * same write lock, see either a registered source-replica or none.
 */
static bool admit_fall_forward(cJSON *rec, void *arg)
{
    ff_admission *a = arg;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallbackEnabled"))) {
        a->no.message = xstrdup("fall-back and fall-forward exclude each other");
        a->no.detail = xstrdup(
            "this migration was prepared for fall-back (initiate cutover to target "
            "--prepare-for-fall-back true): the source is its way back, kept in sync by 'import "
            "data to source'");
        return false;
    }
    bool registered = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "FallForwardEnabled"));
    if (!registered &&
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "CutoverToTargetRequested"))) {
        a->no.message = xstrdup(
            "cutover to target was already initiated, so a source-replica started now would "
            "miss the writes made on the target since then");
        a->no.detail = xstrdup(
            "'import data to source-replica' must be started before 'initiate cutover to "
            "target': this migration can no longer get a source-replica");
        return false;
    }
    /* source changes the source-replica still needs that archive changes deleted */
    int64_t first, last;
    if (!import_state_deleted_unapplied(a->cat, "source_db_exporter", ROLE_SOURCE_REPLICA, &first,
                                        &last)) {
        a->no.message = xstrdup("cannot read the change queue's state from meta.db");
        return false;
    }
    if (first >= 0) {
        a->no.message = xasprintf(
            "archive changes --delete already deleted queue segments %lld..%lld, source changes "
            "the source-replica has not applied",
            (long long)first, (long long)last);
        a->no.detail = xstrdup("the source-replica can no longer be added to this migration");
        a->no.hint = xstrdup(
            "start 'import data to source-replica' before 'archive changes' (or archive with "
            "--move-to, which keeps the changes readable)");
        return false;
    }
    if (!registered)
        cJSON_AddBoolToObject(rec, "FallForwardEnabled", true);
    return true;
}

static engine_status register_fall_forward(engine_ctx *eng)
{
    ff_admission a = {eng->cat, {0}};
    if (catalog_status_update(eng->cat, admit_fall_forward, &a))
        return ENGINE_OK;
    if (!a.no.message)
        return ENGINE_BAD_STATE; /* meta.db failed, and said so */
    log_report(LOG_ERROR, a.no.detail, a.no.hint, "import data to source-replica: %s",
               a.no.message);
    free(a.no.message);
    free(a.no.detail);
    free(a.no.hint);
    return ENGINE_BAD_STATE;
}

typedef struct clean_admission {
    catalog *cat;
    const char *importer_role;
    bool cutover;             /* refused: cutover to that database was initiated */
    int64_t first_deleted;    /* refused when >= 0: archive deleted these segments */
    int64_t last_deleted;
} clean_admission;

/*
 * The checks and the forgetting of what this importer applied, in one meta.db
 * write transaction: archive changes re-checks a segment under the same lock
 * before it deletes it (queue_segment_mark_gone), so from this commit on it
 * keeps every segment the replay will read. Checked here and forgotten only in
 * the clean start's transaction, much later (after the connect retries of a
 * database that is down, the question about non-empty tables), archive still
 * took the segments for applied in between and deleted them: the tables were
 * then truncated and reloaded, and the replay stopped on a missing segment for
 * good. Forgetting early only makes the importer read its segments again: if
 * the clean start is then declined or fails, a plain rerun skips what its
 * channels committed, and marks the segments as it passes them. What the
 * channels committed (importer_channel_committed) is forgotten with the
 * tables, not here: a declined clean start keeps it, and with it the check
 * for a database that lost commits.
 */
static bool admit_clean_start(cJSON *rec, void *arg)
{
    clean_admission *a = arg;
    const char *key = strcmp(a->importer_role, ROLE_SOURCE_REPLICA) == 0
                          ? "CutoverToSourceReplicaRequested"
                          : "CutoverToTargetRequested";
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, key))) {
        a->cutover = true;
        return false;
    }
    if (!import_state_deleted_any(a->cat, &a->first_deleted, &a->last_deleted))
        return false;
    if (a->first_deleted >= 0)
        return false;
    return queue_generation_forget_applied(a->cat, a->importer_role);
}

/*
 * A clean start truncates the importer's tables and replays the queue from its
 * first event. Refused once cutover to that database was initiated (the
 * application may write there: its rows would go, and with a way back the
 * truncation would travel back too), or once archive changes deleted queue
 * segments the replay would need. Allowed, it keeps archive changes from
 * deleting them from now on (admit_clean_start).
 */
static engine_status clean_start_allowed(engine_ctx *eng, bool replica)
{
    const char *db = replica ? "source-replica" : "target";
    clean_admission a = {eng->cat, replica ? ROLE_SOURCE_REPLICA : ROLE_TARGET, false, -1, -1};
    if (catalog_status_update(eng->cat, admit_clean_start, &a))
        return ENGINE_OK;
    if (a.cutover) {
        log_report(LOG_ERROR,
                   "the application may already write to it: a clean start would truncate its "
                   "tables and lose those rows",
                   "run the same command without --start-clean to go on; to start over, start a "
                   "new migration in a new export directory",
                   "cutover to %s was initiated for this migration, so import data cannot start "
                   "the %s database over (--start-clean)",
                   db, db);
        return ENGINE_BAD_STATE;
    }
    if (a.first_deleted >= 0) {
        log_report(LOG_ERROR, "a clean start replays the queue from its first change",
                   "run the same command without --start-clean to go on",
                   "archive changes --delete already deleted queue segments %lld..%lld, so import "
                   "data cannot start the %s database over (--start-clean)",
                   (long long)a.first_deleted, (long long)a.last_deleted, db);
        return ENGINE_BAD_STATE;
    }
    return ENGINE_FAILED; /* meta.db failed, and said so */
}

/* Snapshot import into the target or the source-replica, then the live changes when the export is live. */
static engine_status snapshot_then_changes(engine_ctx *eng, const import_data_spec *spec,
                                           cdc_apply_next *next)
{
    bool replica = spec->conf->role == DB_SOURCE_REPLICA;
    const char *importer_role = replica ? ROLE_SOURCE_REPLICA : ROLE_TARGET;
    /*
     * The clean start's admission first: it keeps archive changes from
     * deleting the segments the replay needs while the database is waited for.
     */
    if (spec->start_clean) {
        engine_status allowed = clean_start_allowed(eng, replica);
        if (allowed != ENGINE_OK)
            return allowed;
    }
    /*
     * Before anything is written to the database or recorded of it (the
     * replication check records the target's configuration); after
     * fall-forward is registered, which a source-replica that is down must
     * still get (its segments are kept for it).
     */
    engine_status rc;
    if (replica) {
        rc = register_fall_forward(eng);
        if (rc == ENGINE_OK)
            rc = refuse_source_database(eng, spec);
    } else {
        rc = refuse_source_database(eng, spec);
        if (rc == ENGINE_OK)
            rc = check_target_replication(eng, spec);
    }
    if (rc != ENGINE_OK)
        return rc;
    cdc_apply_spec apply = apply_spec_of(spec, importer_role);
    clean_arg ca = {eng, &apply};
    snapshot_import_spec snap = {
        .conf = spec->conf,
        .importer_role = importer_role,
        .done_key = replica ? "ImportDataToSourceReplicaDone" : "ImportDataDone",
        .cutover_done_key = replica ? "CutoverProcessedBySourceReplicaImporter"
                                    : "CutoverProcessedByTargetImporter",
        .parallel_jobs = spec->parallel_jobs,
        .batch_rows = spec->batch_rows,
        .batch_rows_given = spec->batch_rows_given,
        .bars = spec->bars,
        .start_clean = spec->start_clean,
        .truncate_tables = spec->truncate_tables,
        .enable_upsert = spec->enable_upsert,
        .target_endpoints = spec->target_endpoints,
        .use_public_ip = spec->use_public_ip,
        .include = spec->table_lists ? spec->include : NULL,
        .exclude = spec->table_lists ? spec->exclude : NULL,
        .confirm = spec->confirm,
        .confirm_arg = spec->confirm_arg,
        .clean_in_tx = clean_changes,
        .clean_done = clean_done,
        .clean_arg = &ca,
    };
    /* before the snapshot too: a restart with other lists is refused before it changes anything */
    if (!spec->start_clean && export_is_live(eng->cat))
        rc = cdc_import_table_filter_check(eng, &apply);
    if (rc == ENGINE_OK)
        rc = snapshot_import_run(eng, &snap);
    if (rc == ENGINE_OK && export_is_live(eng->cat))
        rc = cdc_import_apply(eng, &apply, next);
    return rc;
}

/*
 * Fall-back: the source already holds the snapshot, so this only applies the
 * target's changes (queued by export data from target) to the source.
 */
static engine_status changes_to_source(engine_ctx *eng, const import_data_spec *spec,
                                       cdc_apply_next *next)
{
    cJSON *status = catalog_status_load(eng->cat);
    if (!status)
        return ENGINE_BAD_STATE;
    bool ff = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(status, "FallForwardEnabled"));
    bool no_fb =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(status, "CutoverToTargetRequested")) &&
        !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(status, "FallbackEnabled"));
    /*
     * Changes go back to the tables they came from: another schema list than
     * export data's would be accepted and ignored. The same one (a shared
     * config file) is fine.
     */
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(status, "SourceDBConf");
    const cJSON *sch = src ? cJSON_GetObjectItemCaseSensitive(src, "Schema") : NULL;
    char *rec_schema = xstrdup(cJSON_IsString(sch) ? sch->valuestring : "");
    bool live = cutover_export_is_live(status);
    cJSON_Delete(status);
    engine_status rc = ENGINE_OK;
    /*
     * A flag that would be ignored is said first; then each state in which no
     * change would ever come for this importer (it would wait forever).
     */
    if (spec->source_schema && strcmp(spec->source_schema, rec_schema) != 0) {
        char *detail = xasprintf("the target's changes go back to the tables they came from (export "
                                  "data used '%s')",
                                  rec_schema);
        log_report(LOG_ERROR, detail, "remove it",
                   "--source-db-schema %s has no effect on import data to source",
                   spec->source_schema);
        free(detail);
        rc = ENGINE_BAD_INPUT;
    } else if (!live) {
        log_report(LOG_ERROR,
                   "the target's changes come back only in a live migration (export data "
                   "--export-type snapshot-and-changes, then cutover to target with "
                   "--prepare-for-fall-back true)",
                   "nothing to do for an offline migration; a live one starts with export data "
                   "--export-type snapshot-and-changes",
                   "import data to source: this migration is not live");
        rc = ENGINE_BAD_STATE;
    } else if (ff) {
        log_report(LOG_ERROR,
                   "fall-forward is on ('import data to source-replica' was started): the "
                   "target's changes go to the source-replica",
                   "keep the source-replica in sync with 'import data to source-replica'",
                   "import data to source: fall-back and fall-forward exclude each other");
        rc = ENGINE_BAD_STATE;
    } else if (no_fb) {
        log_report(LOG_ERROR, "this migration has no fall-back", NULL,
                   "import data to source: cutover to target was initiated without "
                   "--prepare-for-fall-back true, so no change is captured for the source");
        rc = ENGINE_BAD_STATE;
    }
    free(rec_schema);
    if (rc != ENGINE_OK)
        return rc;
    /*
     * A MySQL source is reached (and recorded) by its writer: this is
     * PostgreSQL's protocol. Started by export data at the cutover (or by hand
     * after it stopped): a source restarting or out of reach is waited out,
     * as the apply waits out its own faults.
     */
    if (!str_eq(spec->conf->type, "mysql")) {
        retry_policy pol = retry_policy_default();
        retry_state rs;
        retry_init(&rs, &pol);
        bool gave_up = false;
        pgconn *c = db_connect_recorded_retrying(eng->cat, spec->conf, NULL, &rs, eng->interrupted, &gave_up);
        if (!c)
            return gave_up ? ENGINE_BAD_STATE : ENGINE_SOURCE_FAILED;
        pgconn_close(c);
    }
    cdc_apply_spec apply = apply_spec_of(spec, ROLE_SOURCE);
    return cdc_import_apply(eng, &apply, next);
}

engine_status import_data_run(engine_ctx *eng, const import_data_spec *spec, cdc_apply_next *next)
{
    *next = CDC_APPLY_DONE;
    if (spec->conf->role == DB_SOURCE)
        return changes_to_source(eng, spec, next);
    return snapshot_then_changes(eng, spec, next);
}
