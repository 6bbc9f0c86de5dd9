#include "migration/end_migration.h"

#include "core/fsutil.h"
#include "core/lock.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"
#include "db/connect.h"
#include "db/replication/replstream.h"
#include "migration/cutover.h"
#include "migration/report.h"
#include "source/writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const migration_process_locks[] = {
    "export-schema", "import-schema", "analyze-schema", "export-data-from-source",
    "export-data-from-target", "import-data-to-target", "import-data-to-source",
    "import-data-to-source-replica", "archive-changes", NULL,
};

bool migration_end_check_idle(const char *export_dir)
{
    for (int i = 0; migration_process_locks[i]; i++) {
        pid_t pid = 0;
        if (cmd_lock_is_held(export_dir, migration_process_locks[i], &pid)) {
            char *cmd = xstrdup(migration_process_locks[i]);
            for (char *p = cmd; *p; p++)
                if (*p == '-')
                    *p = ' ';
            log_report(LOG_ERROR, NULL, "stop it before ending the migration",
                       "'yb-voyager %s' (pid %d) is still running on this export dir", cmd, (int)pid);
            free(cmd);
            return false;
        }
    }
    return true;
}

void migration_end_warn_unfinished(const engine_ctx *eng)
{
    cJSON *rec = catalog_status_load(eng->cat);
    if (!cutover_export_is_live(rec)) {
        cJSON_Delete(rec);
        return;
    }
    static const cutover_kind kinds[] = {CUTOVER_TO_TARGET, CUTOVER_TO_SOURCE, CUTOVER_TO_SOURCE_REPLICA};
    for (size_t i = 0; i < ARRAY_LEN(kinds); i++) {
        cutover_state st = cutover_state_of(rec, kinds[i]);
        /* a way back not taken is no unfinished cutover, unless it was requested */
        if (kinds[i] != CUTOVER_TO_TARGET && st == CUTOVER_NOT_INITIATED)
            continue;
        if (!cutover_applies(rec, kinds[i]) || st == CUTOVER_COMPLETED)
            continue;
        log_report(LOG_WARN,
                   "changes captured but not yet applied there are lost with the migration's "
                   "slots and queue",
                   "finish the cutover first ('yb-voyager cutover status' shows what waits), "
                   "or answer no",
                   "the cutover to the %s is %s: this live migration is ended before that "
                   "database has every change",
                   cutover_kind_name(kinds[i]), cutover_state_name(st));
        break;
    }
    cJSON_Delete(rec);
}

/*
 * --save-migration-reports: the data-migration report is part of the reports
 * even when 'get data-migration-report' was never run, so it is made now
 * (before any database is cleaned, while its numbers still exist).
 */
static engine_status save_data_report(const engine_ctx *eng, const end_migration_spec *spec)
{
    if (!spec->backup_reports)
        return ENGINE_OK;
    cJSON *rec = catalog_status_load(eng->cat);
    bool data = rec && cJSON_GetObjectItemCaseSensitive(rec, db_conf_record_key(DB_SOURCE)) &&
                cJSON_GetObjectItemCaseSensitive(rec, "ExportType");
    cJSON_Delete(rec);
    if (!data)
        return ENGINE_OK;
    report_spec rs = {.may_prompt = false};
    memcpy(rs.conf, spec->conf, sizeof rs.conf);
    report r = {0};
    engine_status rc = migration_data_report_build(eng, &rs, &r);
    if (rc == ENGINE_OK) {
        char *table = report_render_table(&r);
        if (!migration_data_report_save(eng, &r, table))
            rc = ENGINE_BAD_STATE;
        free(table);
    }
    report_free(&r);
    if (rc != ENGINE_OK)
        log_report(LOG_ERROR, "nothing was removed",
                   "fix that, or pass --save-migration-reports false",
                   "the data-migration report for --save-migration-reports could not be made "
                   "(see above)");
    else
        log_say("data-migration report saved in reports/ for the backup");
    return rc;
}

static bool back_up(const engine_ctx *eng, const end_migration_spec *spec)
{
    const struct {
        bool wanted;
        const char *subdir;
    } backups[] = {
        {spec->backup_schema, "schema"},
        {spec->backup_data, "data"},
        {spec->backup_reports, "reports"},
        {spec->backup_logs, "logs"},
    };
    for (size_t i = 0; i < ARRAY_LEN(backups); i++) {
        if (!backups[i].wanted)
            continue;
        char *src = xasprintf("%s/%s", eng->export_dir, backups[i].subdir);
        char *dst = xasprintf("%s/%s", spec->backup_dir, backups[i].subdir);
        bool ok = fs_copy_tree(src, dst);
        if (!ok)
            log_error("cannot back up %s to %s: %s", src, dst, strerror(errno));
        else
            log_say("backed up %s/ to %s", backups[i].subdir, dst);
        free(src);
        free(dst);
        if (!ok)
            return false;
    }
    return true;
}

/*
 * Drop what this migration created on one database: slots, publications, metadata.
 * Not cdc_drop_slot_and_publication(): that one waits a while for the
 * exporter's walsender to let go of one slot it knows by name; here no voyager
 * process runs (checked), so an active slot's walsender is a leftover and is
 * ended, and every slot and publication named after the migration goes.
 */
static bool clean_database(catalog *cat, db_conf *conf, const char *uuid_hex)
{
    db_role role = conf->role;
    pgconn *c = db_connect_recorded(cat, conf, NULL);
    if (!c)
        return false;
    bool ok = true;
    const char *p1[] = {uuid_hex};
    PGresult *r = pgconn_query(c,
                               "SELECT slot_name FROM pg_replication_slots "
                               "WHERE database = current_database() AND position($1 in slot_name) > 0",
                               1, p1);
    for (int i = 0; r && i < PQntuples(r); i++) {
        /* No voyager process runs (checked): an active slot has a leftover walsender to end. */
        bool dropped = false;
        if (!repl_drop_slot(c, PQgetvalue(r, i, 0), true, &dropped))
            ok = false;
        else if (dropped)
            log_say("%s database: dropped replication slot %s", db_role_name(role), PQgetvalue(r, i, 0));
    }
    ok = ok && r != NULL;
    PQclear(r);
    r = pgconn_query(c, "SELECT pubname FROM pg_publication WHERE position($1 in pubname) > 0", 1, p1);
    for (int i = 0; r && i < PQntuples(r); i++) {
        char *q = pg_quote_ident(PQgetvalue(r, i, 0));
        char *sql = xasprintf("DROP PUBLICATION IF EXISTS %s", q);
        if (pgconn_exec(c, sql))
            log_say("%s database: dropped publication %s", db_role_name(role), PQgetvalue(r, i, 0));
        else
            ok = false;
        free(sql);
        free(q);
    }
    ok = ok && r != NULL;
    PQclear(r);
    char *has = pgconn_query_value(
        c, "SELECT count(*) FROM pg_namespace WHERE nspname = 'ybvoyager_metadata'", 0, NULL);
    if (has && strcmp(has, "0") != 0) {
        if (pgconn_exec(c, "DROP SCHEMA IF EXISTS ybvoyager_metadata CASCADE"))
            log_say("%s database: dropped schema ybvoyager_metadata", db_role_name(role));
        else
            ok = false;
    }
    free(has);
    pgconn_close(c);
    return ok;
}

/*
 * A database whose writer drops its own bookkeeping (MySQL: the database
 * ybvoyager_metadata on its server; no slot or publication there, the binlog
 * is the server's): *handled then, and false when it could not be dropped
 * (logged). Otherwise the libpq path of clean_database.
 */
static bool clean_by_writer(const engine_ctx *eng, db_conf *conf, bool *handled)
{
    engine_status st = ENGINE_OK;
    *handled = false;
    /* writer_for keeps eng for its sessions, which record conf in eng's catalog */
    writer *w = writer_for((engine_ctx *)eng, conf, &st);
    if (!w)
        return true; /* no writer of that type: clean_database */
    if (!w->ops->drop_bookkeeping) {
        writer_free(w);
        return true;
    }
    *handled = true;
    retry_policy pol = {.deadline_ms = 0, .max_attempts = 1};
    retry_state rs;
    retry_init(&rs, &pol);
    bool gave_up = false, dropped = false;
    writer_session *m = w->ops->connect(w, &rs, eng->interrupted, &gave_up);
    bool ok = m && w->ops->drop_bookkeeping(m, &dropped);
    if (ok && dropped)
        log_say("%s database: dropped database ybvoyager_metadata (%s)", db_role_name(conf->role),
                w->ops->type);
    else if (ok)
        log_say("%s database: no ybvoyager_metadata database to drop (%s)",
                db_role_name(conf->role), w->ops->type);
    writer_session_close(m);
    writer_free(w);
    return ok;
}

/*
 * The exporter whose change feed lives on the database of role (its cutover
 * flag, the key of FeedsLeftAtCutover), or NULL.
 */
static const char *exporter_on(db_role role)
{
    switch (role) {
    case DB_SOURCE:
        return "CutoverProcessedBySourceExporter";
    case DB_TARGET:
        return "CutoverProcessedByTargetExporter";
    case DB_SOURCE_REPLICA:
        break;
    }
    return NULL;
}

/*
 * The database of role is clean: a feed an exporter left on it at cutover is
 * gone too, so cutover status must stop warning of it even when a later
 * database fails and the export dir (with its status record) is kept.
 */
static bool forget_feed_left(const engine_ctx *eng, db_role role)
{
    const char *key = exporter_on(role);
    if (!key)
        return true;
    bool cleared = false;
    if (!cutover_note_feed_left(eng, key, NULL, false, &cleared))
        return false;
    if (cleared)
        log_say("%s database: the change feed an exporter left there at cutover is dropped too",
                db_role_name(role));
    return true;
}

engine_status migration_end(const engine_ctx *eng, const end_migration_spec *spec)
{
    engine_status rc = save_data_report(eng, spec);
    if (rc != ENGINE_OK)
        return rc;
    if (!back_up(eng, spec))
        return ENGINE_BAD_STATE;

    char uuid_hex[33];
    size_t n = 0;
    for (const char *p = catalog_migration_uuid(eng->cat); *p && n < 32; p++)
        if (*p != '-')
            uuid_hex[n++] = *p;
    uuid_hex[n] = '\0';
    for (size_t i = 0; i < ARRAY_LEN(spec->conf); i++) {
        if (!spec->conf[i])
            continue;
        bool by_writer = false;
        bool cleaned = clean_by_writer(eng, spec->conf[i], &by_writer);
        if (!by_writer)
            cleaned = clean_database(eng->cat, spec->conf[i], uuid_hex);
        if (!cleaned) {
            log_report(LOG_ERROR, "the export dir is kept until every database is clean",
                       "fix the problem above and run end migration again",
                       "the %s database was not cleaned", db_role_name(spec->conf[i]->role));
            return db_role_failure(spec->conf[i]->role);
        }
        if (!forget_feed_left(eng, spec->conf[i]->role))
            return ENGINE_BAD_STATE;
    }
    return ENGINE_OK;
}

engine_status migration_end_empty_export_dir(const char *export_dir)
{
    if (!fs_remove_contents(export_dir)) {
        log_error("cannot empty the export dir %s: %s", export_dir, strerror(errno));
        return ENGINE_BAD_STATE;
    }
    log_say("migration ended: export dir %s emptied", export_dir);
    return ENGINE_OK;
}
