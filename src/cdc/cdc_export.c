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
#include "cli/cmd_connect.h"
#include "core/exitcodes.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "catalog/catalog_int.h" /* transitional (issue 14): SQL moves into src/catalog/ */
#include "core/util.h"
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

/* Read one integer/text column of this role's state row. */
static char *state_get(catalog *m, const char *role, const char *column)
{
    char *sql = xasprintf("SELECT %s FROM cdc_exporter_state WHERE exporter_role = ?1", column);
    sqlite3_stmt *st;
    char *out = NULL;
    if (sqlite3_prepare_v2(catalog_sqlite(m), sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            out = xstrdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    } else {
        log_error("metadata store (meta.db): %s", sqlite3_errmsg(catalog_sqlite(m)));
    }
    free(sql);
    return out;
}

static bool state_init(catalog *m, const char *role)
{
    sqlite3_stmt *st;
    bool ok = sqlite3_prepare_v2(catalog_sqlite(m),
                                 "INSERT OR IGNORE INTO cdc_exporter_state(exporter_role) VALUES (?1)",
                                 -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
    }
    if (!ok)
        log_error("metadata store (meta.db): %s", sqlite3_errmsg(catalog_sqlite(m)));
    return ok;
}

/* Record slot, publication and tables; reset the position when reset_position (a new slot). */
static bool state_record(catalog *m, const char *role, const char *slot, const char *pub,
                         const cdc_tables *t, bool reset_position)
{
    char *tj = cdc_tables_to_json(t);
    sqlite3_stmt *st;
    bool ok = sqlite3_prepare_v2(catalog_sqlite(m),
                                 "UPDATE cdc_exporter_state SET slot_name = ?2, publication_name = ?3, "
                                 "tables = ?4, snapshot_done = CASE WHEN ?5 THEN 0 ELSE snapshot_done END, "
                                 "last_commit_lsn = CASE WHEN ?5 THEN 0 ELSE last_commit_lsn END "
                                 "WHERE exporter_role = ?1",
                                 -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, slot, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, pub, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, tj, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, reset_position);
        ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
    }
    if (!ok)
        log_error("metadata store (meta.db): %s", sqlite3_errmsg(catalog_sqlite(m)));
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

/* Drop a slot nobody uses (a killed exporter's walsender may need a moment to go). */
static bool drop_slot(pgconn *c, const char *slot)
{
    const char *p[] = {slot};
    for (int i = 0; i < 100; i++) {
        char *active =
            pgconn_query_value(c, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", 1, p);
        bool busy = active && active[0] == 't';
        free(active);
        if (!busy)
            return pgconn_exec_params(c, "SELECT pg_drop_replication_slot($1)", 1, p);
        usleep(100 * 1000);
    }
    log_error("%s database: replication slot %s is still in use by another process: stop it first",
              db_role_name(c->role), slot);
    return false;
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
    free(st);
}

/*
 * --start-clean on a live export: the change stream starts over with the new
 * snapshot, so this migration's slot, the queue files and the queue's meta.db
 * rows (segments, counts, exporter positions, cutover sequence values) go.
 */
static bool reset_change_capture(cmd_ctx *ctx, pgconn *c, const char *slot)
{
    /*
     * A new generation before anything goes: vsns restart at 1, and an
     * importer's progress in the old queue must never be read against the new.
     */
    if (!queue_generation_renew(ctx->meta))
        return false;
    bool exists = false;
    if (!slot_exists(c, slot, &exists) || (exists && !drop_slot(c, slot)))
        return false;
    char *qdir = cmd_path(ctx, QUEUE_DIR);
    bool ok = fs_remove_contents(qdir);
    if (!ok)
        log_error("cannot empty %s: %s", qdir, strerror(errno));
    free(qdir);
    ok = ok && catalog_exec(ctx->meta, "DELETE FROM queue_segment; DELETE FROM queue_table_counts; "
                                      "DELETE FROM cdc_exporter_state");
    ok = ok && catalog_exec(ctx->meta, "DELETE FROM sequence_last_values WHERE phase LIKE 'cutover.%'");
    if (ok)
        log_info("--start-clean: removed the change queue and replication slot %s of earlier runs", slot);
    return ok;
}

int cdc_export_begin(cmd_ctx *ctx, db_conf *source, const char *const *schemas,
                     const char *const *tables, size_t ntables, cdc_export_state **state,
                     char **snapshot_name, bool *restart_snapshot)
{
    *state = NULL;
    *snapshot_name = NULL;
    *restart_snapshot = false;
    if (source->type && strcmp(source->type, "postgresql") != 0) {
        log_error("--export-type snapshot-and-changes from a %s database is not built yet in this "
                  "version of voyager-c; use a postgresql source or snapshot-only",
                  source->type);
        return EXIT_NOT_IMPLEMENTED;
    }
    cdc_export_state *st = xcalloc(1, sizeof *st);
    conf_copy(&st->conf, source);
    for (size_t i = 0; i < ntables; i++) {
        char *sch = NULL, *tab = NULL;
        if (!cdc_parse_qualified(tables[i], &sch, &tab)) {
            log_bug("table name %s is not of the form \"schema\".\"table\"", tables[i]);
            free(sch), free(tab);
            state_free(st);
            return EXIT_INTERNAL;
        }
        strlist_push_owned(&st->tables.schemas, sch);
        strlist_push_owned(&st->tables.tables, tab);
    }
    for (size_t i = 0; schemas && schemas[i]; i++)
        strlist_push(&st->seq_schemas, schemas[i]);
    char *hex = uuid_hex(ctx->meta);
    st->slot = xasprintf("voyager_slot_%s", hex);
    st->publication = xasprintf("voyager_pub_%s", hex);
    free(hex);

    int rc = EXIT_SOURCE_ERROR;
    pgconn *c = NULL;
    if (!state_init(ctx->meta, ROLE_SOURCE)) {
        rc = EXIT_INTERNAL;
        goto fail;
    }
    pgconn_options o = {.application_name = "yb-voyager-cdc"};
    c = pgconn_connect(&st->conf, &o);
    if (!c)
        goto fail;
    if (opts_get_bool(ctx->opts, "start-clean")) {
        if (!reset_change_capture(ctx, c, st->slot) || !state_init(ctx->meta, ROLE_SOURCE)) {
            rc = EXIT_BAD_STATE;
            goto fail;
        }
    }
    char *done = state_get(ctx->meta, ROLE_SOURCE, "snapshot_done");
    bool snapshot_done = done && strcmp(done, "1") == 0;
    free(done);
    char *ended = state_get(ctx->meta, ROLE_SOURCE, "stream_done");
    bool stream_done = ended && strcmp(ended, "1") == 0;
    free(ended);
    if (stream_done) {
        /* Cutover already ended this stream: cdc_export_stream only finishes the bookkeeping. */
        pgconn_close(c);
        *state = st;
        return EXIT_OK;
    }
    bool exists = false;
    if (!slot_exists(c, st->slot, &exists))
        goto fail;
    if (!exists && snapshot_done) {
        log_error("source database: replication slot %s is gone, so the changes made since the "
                  "snapshot are lost: start the migration again with --start-clean",
                  st->slot);
        rc = EXIT_BAD_STATE;
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
        return EXIT_OK;
    }
    if (exists) {
        log_say("the snapshot of an earlier run did not complete: making a new replication slot "
                "and starting the snapshot again");
        if (!drop_slot(c, st->slot))
            goto fail;
    }
    if (!state_record(ctx->meta, ROLE_SOURCE, st->slot, st->publication, &st->tables, true)) {
        rc = EXIT_INTERNAL;
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
    return EXIT_OK;
fail:
    free(*snapshot_name);
    *snapshot_name = NULL;
    pgconn_close(c);
    state_free(st);
    return rc;
}

static bool mark_snapshot_done(catalog *m)
{
    return catalog_exec(m, "UPDATE cdc_exporter_state SET snapshot_done = 1 "
                          "WHERE exporter_role = '" ROLE_SOURCE "'");
}

bool cdc_export_snapshot_done(cmd_ctx *ctx) { return mark_snapshot_done(ctx->meta); }

int cdc_export_stream(cmd_ctx *ctx, cdc_export_state *st)
{
    if (!st)
        return EXIT_INTERNAL;
    /* The snapshot is durable (our caller says so): the exported snapshot may go. */
    pgconn_close(st->repl);
    st->repl = NULL;
    int rc = EXIT_INTERNAL;
    if (mark_snapshot_done(ctx->meta)) {
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
        };
        rc = cdc_stream_run(ctx, &p);
    }
    state_free(st);
    return rc;
}

void cdc_export_abort(cdc_export_state *state) { state_free(state); }

/* Tables of export from target: the ones the source exporter captured (same names on the target). */
static bool target_tables(cmd_ctx *ctx, cdc_tables *t)
{
    char *tj = state_get(ctx->meta, ROLE_SOURCE, "tables");
    bool ok = tj && cdc_tables_from_json(t, tj);
    free(tj);
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

int cdc_export_from_target(cmd_ctx *ctx)
{
    cJSON *rec = catalog_status_load(ctx->meta);
    if (!rec)
        return EXIT_INTERNAL;
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
        return EXIT_BAD_STATE;
    }
    if (!cut) {
        log_error("cutover to target has not happened yet: export data from target starts after "
                  "it (run initiate cutover to target and wait for cutover status to say COMPLETED)");
        return EXIT_BAD_STATE;
    }
    const char *role = fb ? ROLE_TARGET_FB : ROLE_TARGET_FF;
    cdc_tables t = {STRLIST_INIT, STRLIST_INIT};
    db_conf conf = {0};
    pgconn *c = NULL;
    char *hex = uuid_hex(ctx->meta);
    char *slot = xasprintf("voyager_target_slot_%s", hex);
    char *pub = xasprintf("voyager_target_pub_%s", hex);
    free(hex);
    int rc = EXIT_INTERNAL;
    if (!target_tables(ctx, &t) || !state_init(ctx->meta, role)) {
        rc = EXIT_BAD_STATE;
        goto out;
    }
    if (!cmd_db_conf(ctx, DB_TARGET, &conf)) {
        rc = EXIT_BAD_ARGS;
        goto out;
    }
    rc = EXIT_TARGET_ERROR;
    c = cmd_connect(ctx, &conf, NULL);
    bool exists = false;
    if (!c || !slot_exists(c, slot, &exists))
        goto out;
    char *lsn = state_get(ctx->meta, role, "last_commit_lsn");
    bool streamed = lsn && strcmp(lsn, "0") != 0;
    free(lsn);
    char *sd = state_get(ctx->meta, role, "stream_done");
    bool stream_done = sd && strcmp(sd, "1") == 0;
    free(sd);
    if (!exists && streamed && !stream_done) {
        log_error("target database: replication slot %s is gone, so changes made on the target "
                  "since export data from target started are lost",
                  slot);
        rc = EXIT_BAD_STATE;
        goto out;
    }
    if (!stream_done) {
        if (!cdc_check_prereqs(c, &t, !exists, false) || !target_replica_identity(c, &t) ||
            !ensure_publication(c, pub, &t, false))
            goto out;
        if (!exists) {
            pgconn_options ro = {.replication = "database", .application_name = "yb-voyager-cdc"};
            pgconn *r = pgconn_connect(&conf, &ro);
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
        if (!state_record(ctx->meta, role, slot, pub, &t, false)) {
            rc = EXIT_INTERNAL;
            goto out;
        }
    }
    /* The slot exists: cutover to target may now say COMPLETED (migration/cutover.c). */
    if (!catalog_status_set_bool(ctx->meta, "ExportFromTargetStarted", true)) {
        rc = EXIT_INTERNAL;
        goto out;
    }
    pgconn_close(c);
    c = NULL;
    cdc_stream_params p = {
        .conf = &conf,
        .slot = slot,
        .publication = pub,
        .exporter_role = role,
        .cutover = fb ? CUTOVER_TO_SOURCE : CUTOVER_TO_SOURCE_REPLICA,
        .end_op = fb ? QUEUE_OP_CUTOVER_SOURCE : QUEUE_OP_CUTOVER_SOURCE_REPLICA,
        .done_key = "CutoverProcessedByTargetExporter",
        .tables = &t,
    };
    rc = cdc_stream_run(ctx, &p);
out:
    pgconn_close(c);
    db_conf_free(&conf);
    cdc_tables_free(&t);
    free(slot);
    free(pub);
    return rc;
}
