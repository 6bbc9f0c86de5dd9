/*
 * Change capture entry points (cdc/cdc_export.h): set-up of slot and
 * publication for export data from source (with the snapshot hand-off) and
 * the whole export data from target command. The stream itself is cdc_stream.c.
 */
#include "cdc/cdc_export.h"

#include "cdc/cdc_prereq.h"
#include "cdc/cdc_stream.h"
#include "cdc/cdc_tables.h"
#include "cdc/queue_format.h"
#include "cdc/queue_generation.h"
#include "cdc/queue_writer.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "catalog/queue_meta.h"
#include "core/util.h"
#include "db/connect.h"
#include "db/pgconn.h"
#include "db/replication/replstream.h"
#include "migration/sequences.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROLE_SOURCE "source_db_exporter"
#define ROLE_TARGET_FB "target_db_exporter_fb"
#define ROLE_TARGET_FF "target_db_exporter_ff"

struct cdc_export_state {
    db_conf conf;
    cdc_tables tables;
    strlist seq_schemas; /* the source schemas: their sequences are handed over at cutover */
    char *slot;
    char *publication;
    pgconn *repl; /* holds the exported snapshot until the stream starts */
    bool progress_bars;
    char *command_name;
};

static void conf_copy(db_conf *dst, const db_conf *src)
{
    dst->role = src->role;
    dst->type = xstrdup(src->type);
    dst->host = xstrdup(src->host);
    dst->port = src->port;
    dst->user = xstrdup(src->user);
    dst->password = xstrdup(src->password);
    dst->name = xstrdup(src->name);
    dst->schema = xstrdup(src->schema);
    dst->ssl_mode = xstrdup(src->ssl_mode);
    dst->ssl_cert = xstrdup(src->ssl_cert);
    dst->ssl_key = xstrdup(src->ssl_key);
    dst->ssl_root_cert = xstrdup(src->ssl_root_cert);
    dst->ssl_crl = xstrdup(src->ssl_crl);
}

/* The migration UUID without dashes: what end migration looks for in slot/publication names. */
static char *uuid_hex(catalog *m)
{
    strbuf sb = STRBUF_INIT;
    for (const char *p = catalog_migration_uuid(m); *p; p++)
        if (*p != '-')
            strbuf_append_char(&sb, *p);
    return strbuf_detach(&sb);
}

/* Record slot, publication and tables; reset the position when reset_position (a new slot). */
static bool state_record(catalog *m, const char *role, const char *slot, const char *pub,
                         const cdc_tables *t, bool reset_position)
{
    char *tj = cdc_tables_to_json(t);
    bool ok = qm_exporter_record(m, role, slot, pub, tj, reset_position);
    free(tj);
    return ok;
}

static bool slot_exists(pgconn *c, const char *slot, bool *exists)
{
    const char *p[] = {slot};
    PGresult *r = pgconn_query(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", 1, p);
    if (!r)
        return false;
    *exists = PQntuples(r) > 0;
    PQclear(r);
    return true;
}

/* Create the publication when missing; when update, make it cover exactly the tables. */
static bool ensure_publication(pgconn *c, const char *pub, const cdc_tables *t, bool update)
{
    const char *p[] = {pub};
    PGresult *r = pgconn_query(c, "SELECT 1 FROM pg_publication WHERE pubname = $1", 1, p);
    if (!r)
        return false;
    bool exists = PQntuples(r) > 0;
    PQclear(r);
    if (exists && !update)
        return true;
    char *q = pg_quote_ident(pub);
    char *list = cdc_tables_quoted_list(t);
    char *sql;
    if (exists)
        sql = t->tables.count ? xasprintf("ALTER PUBLICATION %s SET TABLE %s", q, list) : NULL;
    else
        /* Changes of partitions carry the partitioned table's name, as the snapshot does. */
        sql = t->tables.count
                  ? xasprintf("CREATE PUBLICATION %s FOR TABLE %s%s", q, list,
                              c->server_version_num >= 130000
                                  ? " WITH (publish_via_partition_root = true)"
                                  : "")
                  : xasprintf("CREATE PUBLICATION %s", q);
    bool ok = !sql || pgconn_exec(c, sql);
    if (ok && !exists)
        log_info("%s database: created publication %s for %zu table(s)", db_role_name(c->role), pub,
                 t->tables.count);
    free(sql), free(list), free(q);
    return ok;
}

static void state_free(cdc_export_state *st)
{
    if (!st)
        return;
    pgconn_close(st->repl);
    db_conf_free(&st->conf);
    cdc_tables_free(&st->tables);
    strlist_free(&st->seq_schemas);
    free(st->slot);
    free(st->publication);
    free(st->command_name);
    free(st);
}

/*
 * --start-clean on a live export: the change stream starts over with the new
 * snapshot, so this migration's slot, the queue files and the queue's meta.db
 * rows (segments, counts, exporter positions, cutover sequence values) go.
 */
static bool reset_change_capture(engine_ctx *eng, pgconn *c, const char *slot)
{
    /*
     * A new generation before anything goes: vsns restart at 1, and an
     * importer's progress in the old queue must never be read against the new.
     */
    if (!queue_generation_renew(eng->cat))
        return false;
    bool dropped = false;
    if (!repl_drop_slot(c, slot, false, &dropped))
        return false;
    char *qdir = xasprintf("%s/%s", eng->export_dir, QUEUE_DIR);
    bool ok = fs_remove_contents(qdir);
    if (!ok)
        log_error("cannot empty %s: %s", qdir, strerror(errno));
    free(qdir);
    ok = ok && qm_queue_reset(eng->cat);
    if (ok)
        log_info("--start-clean: removed the change queue and replication slot %s of earlier runs", slot);
    return ok;
}

engine_status cdc_export_begin(engine_ctx *eng, const cdc_export_spec *spec, cdc_export_state **state,
                               char **snapshot_name, bool *restart_snapshot)
{
    const db_conf *source = spec->source;
    const char *const *schemas = spec->schemas;
    const char *const *tables = spec->tables;
    size_t ntables = spec->ntables;
    *state = NULL;
    *snapshot_name = NULL;
    *restart_snapshot = false;
    if (source->type && strcmp(source->type, "postgresql") != 0) {
        log_error("--export-type snapshot-and-changes from a %s database is not built yet in this "
                  "version of voyager-c; use a postgresql source or snapshot-only",
                  source->type);
        return ENGINE_NOT_SUPPORTED;
    }
    cdc_export_state *st = xcalloc(1, sizeof *st);
    conf_copy(&st->conf, source);
    st->progress_bars = spec->progress_bars;
    st->command_name = xstrdup(spec->command_name);
    for (size_t i = 0; i < ntables; i++) {
        char *sch = NULL, *tab = NULL;
        if (!cdc_parse_qualified(tables[i], &sch, &tab)) {
            log_bug("table name %s is not of the form \"schema\".\"table\"", tables[i]);
            free(sch), free(tab);
            state_free(st);
            return ENGINE_FAILED;
        }
        strlist_push_owned(&st->tables.schemas, sch);
        strlist_push_owned(&st->tables.tables, tab);
    }
    for (size_t i = 0; schemas && schemas[i]; i++)
        strlist_push(&st->seq_schemas, schemas[i]);
    char *hex = uuid_hex(eng->cat);
    st->slot = xasprintf("voyager_slot_%s", hex);
    st->publication = xasprintf("voyager_pub_%s", hex);
    free(hex);

    engine_status rc = ENGINE_SOURCE_FAILED;
    pgconn *c = NULL;
    if (!qm_exporter_init(eng->cat, ROLE_SOURCE)) {
        rc = ENGINE_FAILED;
        goto fail;
    }
    pgconn_options o = {.application_name = "yb-voyager-cdc"};
    c = pgconn_connect(&st->conf, &o);
    if (!c)
        goto fail;
    if (spec->start_clean) {
        if (!reset_change_capture(eng, c, st->slot) || !qm_exporter_init(eng->cat, ROLE_SOURCE)) {
            rc = ENGINE_BAD_STATE;
            goto fail;
        }
    }
    qm_exporter pos;
    if (!qm_exporter_get(eng->cat, ROLE_SOURCE, &pos)) {
        rc = ENGINE_FAILED;
        goto fail;
    }
    bool snapshot_done = pos.snapshot_done, stream_done = pos.stream_done;
    qm_exporter_free(&pos);
    if (stream_done) {
        /* Cutover already ended this stream: cdc_export_stream only finishes the bookkeeping. */
        pgconn_close(c);
        *state = st;
        return ENGINE_OK;
    }
    bool exists = false;
    if (!slot_exists(c, st->slot, &exists))
        goto fail;
    if (!exists && snapshot_done) {
        log_error("source database: replication slot %s is gone, so the changes made since the "
                  "snapshot are lost: start the migration again with --start-clean",
                  st->slot);
        rc = ENGINE_BAD_STATE;
        goto fail;
    }
    if (!cdc_check_prereqs(c, &st->tables, !exists, true))
        goto fail;
    if (!ensure_publication(c, st->publication, &st->tables, !snapshot_done))
        goto fail;
    if (exists && snapshot_done) {
        log_info("source database: snapshot done earlier; changes continue from slot %s", st->slot);
        pgconn_close(c);
        *state = st;
        return ENGINE_OK;
    }
    if (exists) {
        log_say("the snapshot of an earlier run did not complete: making a new replication slot "
                "and starting the snapshot again");
        bool dropped = false;
        if (!repl_drop_slot(c, st->slot, false, &dropped))
            goto fail;
    }
    if (!state_record(eng->cat, ROLE_SOURCE, st->slot, st->publication, &st->tables, true)) {
        rc = ENGINE_FAILED;
        goto fail;
    }
    pgconn_options ro = {.replication = "database", .application_name = "yb-voyager-cdc-snapshot"};
    st->repl = pgconn_connect(&st->conf, &ro);
    uint64_t lsn = 0;
    if (!st->repl || !repl_create_slot(st->repl, st->slot, true, snapshot_name, &lsn))
        goto fail;
    if (!*snapshot_name) {
        log_error("source database: the replication slot %s came without an exported snapshot",
                  st->slot);
        goto fail;
    }
    char a[24];
    log_info("source database: created replication slot %s at %s with snapshot %s", st->slot,
             lsn_format(lsn, a), *snapshot_name);
    *restart_snapshot = true;
    pgconn_close(c);
    *state = st;
    return ENGINE_OK;
fail:
    free(*snapshot_name);
    *snapshot_name = NULL;
    pgconn_close(c);
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
    pgconn_close(st->repl);
    st->repl = NULL;
    engine_status rc = ENGINE_FAILED;
    if (mark_snapshot_done(eng->cat)) {
        cdc_stream_params p = {
            .conf = &st->conf,
            .slot = st->slot,
            .publication = st->publication,
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

void cdc_export_abort(cdc_export_state *state) { state_free(state); }

bool cdc_export_drop_feed(engine_ctx *eng, pgconn *c)
{
    char *hex = uuid_hex(eng->cat);
    char *slot = xasprintf("voyager_slot_%s", hex);
    char *pub = xasprintf("voyager_pub_%s", hex);
    bool ok = cdc_drop_slot_and_publication(c, slot, pub);
    free(slot), free(pub), free(hex);
    return ok;
}

/* Tables of export from target: the ones the source exporter captured (same names on the target). */
static bool target_tables(engine_ctx *eng, cdc_tables *t)
{
    qm_exporter src;
    bool ok = qm_exporter_get(eng->cat, ROLE_SOURCE, &src) && src.tables_json &&
              cdc_tables_from_json(t, src.tables_json);
    qm_exporter_free(&src);
    if (!ok)
        log_error("the table list of this live migration is not in the export dir: export data "
                  "from source --export-type snapshot-and-changes must have run first");
    return ok;
}

/* Our own tables on the target get REPLICA IDENTITY FULL, so before_fields is complete. */
static bool target_replica_identity(pgconn *c, const cdc_tables *t)
{
    strlist bad = STRLIST_INIT;
    bool ok = cdc_tables_without_full_identity(c, t, &bad);
    for (size_t i = 0; ok && i < bad.count; i++) {
        char *sql = xasprintf("ALTER TABLE %s REPLICA IDENTITY FULL", bad.items[i]);
        ok = pgconn_exec(c, sql);
        if (ok)
            log_info("target database: set REPLICA IDENTITY FULL on %s", bad.items[i]);
        free(sql);
    }
    strlist_free(&bad);
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
        log_error("export data from target is for a migration with a way back: use "
                  "initiate cutover to target --prepare-for-fall-back true, or import data to "
                  "source-replica, first");
        return ENGINE_BAD_STATE;
    }
    if (!cut) {
        log_error("cutover to target has not happened yet: export data from target starts after "
                  "it (run initiate cutover to target and wait for cutover status to say COMPLETED)");
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
    db_conf *conf = spec->target;
    pgconn *c = NULL;
    char *hex = uuid_hex(eng->cat);
    char *slot = xasprintf("voyager_target_slot_%s", hex);
    char *pub = xasprintf("voyager_target_pub_%s", hex);
    free(hex);
    qm_exporter pos = {0};
    if (!target_tables(eng, &t) || !qm_exporter_init(eng->cat, role)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    rc = ENGINE_TARGET_FAILED;
    c = db_connect_recorded(eng->cat, conf, NULL);
    bool exists = false;
    if (!c || !slot_exists(c, slot, &exists))
        goto out;
    if (!qm_exporter_get(eng->cat, role, &pos)) {
        rc = ENGINE_FAILED;
        goto out;
    }
    bool streamed = pos.last_commit_lsn != 0;
    bool stream_done = pos.stream_done;
    if (!exists && streamed && !stream_done) {
        log_error("target database: replication slot %s is gone, so changes made on the target "
                  "since export data from target started are lost",
                  slot);
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    if (!stream_done) {
        if (!cdc_check_prereqs(c, &t, !exists, false) || !target_replica_identity(c, &t) ||
            !ensure_publication(c, pub, &t, false))
            goto out;
        if (!exists) {
            pgconn_options ro = {.replication = "database", .application_name = "yb-voyager-cdc"};
            pgconn *r = pgconn_connect(conf, &ro);
            char *snap = NULL;
            uint64_t at = 0;
            bool ok = r && repl_create_slot(r, slot, false, &snap, &at);
            free(snap);
            pgconn_close(r);
            if (!ok)
                goto out;
            char a[24];
            log_info("target database: created replication slot %s at %s", slot, lsn_format(at, a));
        }
        if (!state_record(eng->cat, role, slot, pub, &t, false)) {
            rc = ENGINE_FAILED;
            goto out;
        }
    }
    /* The slot exists: cutover to target may now say COMPLETED (migration/cutover.c). */
    if (!catalog_status_set_bool(eng->cat, "ExportFromTargetStarted", true)) {
        rc = ENGINE_FAILED;
        goto out;
    }
    pgconn_close(c);
    c = NULL;
    cdc_stream_params p = {
        .conf = conf,
        .slot = slot,
        .publication = pub,
        .exporter_role = role,
        .cutover = fb ? CUTOVER_TO_SOURCE : CUTOVER_TO_SOURCE_REPLICA,
        .end_op = fb ? QUEUE_OP_CUTOVER_SOURCE : QUEUE_OP_CUTOVER_SOURCE_REPLICA,
        .done_key = "CutoverProcessedByTargetExporter",
        .tables = &t,
        .progress_bars = spec->progress_bars,
        .command_name = spec->command_name,
    };
    rc = cdc_stream_run(eng, &p);
out:
    qm_exporter_free(&pos);
    pgconn_close(c);
    cdc_tables_free(&t);
    free(slot);
    free(pub);
    return rc;
}
