#include "migration/end_migration.h"

#include "core/fsutil.h"
#include "core/lock.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"
#include "db/connect.h"
#include "db/feed_names.h"
#include "db/replication/replstream.h"
#include "migration/cutover.h"
#include "migration/report.h"
#include "source/writer.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

const char *const migration_process_locks[] = {
    "export-schema", "import-schema", "analyze-schema", "export-data-from-source",
    "export-data-from-target", "import-data-to-target", "import-data-to-source",
    "import-data-to-source-replica", "archive-changes", NULL,
};

cmd_lock **migration_end_take_locks(const char *export_dir, const char *holder)
{
    size_t n = 0;
    while (migration_process_locks[n])
        n++;
    cmd_lock **held = xcalloc(n + 1, sizeof *held);
    for (size_t i = 0; i < n; i++) {
        bool busy = false;
        pid_t pid = 0;
        held[i] = cmd_lock_try(export_dir, migration_process_locks[i], holder, &busy, &pid);
        if (held[i])
            continue;
        if (busy) {
            char *cmd = xstrdup(migration_process_locks[i]);
            for (char *p = cmd; *p; p++)
                if (*p == '-')
                    *p = ' ';
            log_report(LOG_ERROR, NULL, "stop it before ending the migration",
                       "'yb-voyager %s' (pid %d) is still running on this export dir", cmd, (int)pid);
            free(cmd);
        }
        migration_end_release_locks(held);
        return NULL;
    }
    return held;
}

void migration_end_release_locks(cmd_lock **locks)
{
    for (size_t i = 0; locks && locks[i]; i++)
        cmd_lock_release(locks[i]);
    free(locks);
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

/* The backups end migration makes: each export-dir subdirectory to <backup-dir>/<same name>. */
static size_t backups_wanted(const end_migration_spec *spec, const char *out[4])
{
    size_t n = 0;
    if (spec->backup_schema)
        out[n++] = "schema";
    if (spec->backup_data)
        out[n++] = "data";
    if (spec->backup_reports)
        out[n++] = "reports";
    if (spec->backup_logs)
        out[n++] = "logs";
    return n;
}

/* The status key naming the --backup-dir an earlier attempt of this end migration wrote to. */
#define BACKUP_DIR_KEY "EndMigrationBackupDir"

bool migration_end_check_backup_dir(const engine_ctx *eng, const end_migration_spec *spec)
{
    const char *subdirs[4];
    size_t n = backups_wanted(spec, subdirs);
    if (n == 0)
        return true;
    /*
     * An earlier attempt that backed up and then failed on a database: these
     * subdirectories hold this migration's own backup, rewritten now.
     */
    char *real = realpath(spec->backup_dir, NULL);
    char *earlier = catalog_status_get_string(eng->cat, BACKUP_DIR_KEY);
    bool own = real && earlier && strcmp(real, earlier) == 0;
    free(real);
    free(earlier);
    if (own)
        return true;
    strbuf used = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        char *dst = xasprintf("%s/%s", spec->backup_dir, subdirs[i]);
        /* a file of that name: the copy would fail; a directory with entries: the copy would mix */
        if (fs_exists(dst) && (!fs_is_dir(dst) || !fs_dir_is_empty(dst)))
            strbuf_appendf(&used, "%s%s", used.len ? ", " : "", dst);
        free(dst);
    }
    bool ok = used.len == 0;
    if (!ok)
        log_report(LOG_ERROR,
                   "the backup would overwrite or mix with what is there (another migration's "
                   "backup?); nothing was changed",
                   "give another --backup-dir (an empty directory, one per migration)",
                   "--backup-dir %s already holds %s", spec->backup_dir, strbuf_cstr(&used));
    strbuf_free(&used);
    return ok;
}

static bool back_up(const engine_ctx *eng, const end_migration_spec *spec)
{
    const char *subdirs[4];
    size_t n = backups_wanted(spec, subdirs);
    /* recorded before the first byte is copied: a retry after a failed copy may rewrite it */
    char *real = n ? realpath(spec->backup_dir, NULL) : NULL;
    bool noted = !n || (real && catalog_status_set_string(eng->cat, BACKUP_DIR_KEY, real));
    free(real);
    if (!noted) {
        log_error("cannot note the backup dir %s in the migration status", spec->backup_dir);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char *src = xasprintf("%s/%s", eng->export_dir, subdirs[i]);
        char *dst = xasprintf("%s/%s", spec->backup_dir, subdirs[i]);
        bool ok = fs_copy_tree(src, dst);
        if (!ok)
            log_error("cannot back up %s to %s: %s", src, dst, strerror(errno));
        else
            log_say("backed up %s/ to %s", subdirs[i], dst);
        free(src);
        free(dst);
        if (!ok)
            return false;
    }
    return true;
}

/* The tables the importers create in ybvoyager_metadata, every row keyed by migration_uuid. */
static const char *const bookkeeping_tables[] = {
    "ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3",
    "ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo",
    "ybvoyager_metadata.ybvoyager_imported_event_count_by_table",
};

/* Is the query's single value "t"? -1 when it failed (logged). */
static int query_true(pgconn *c, const char *sql, int nparams, const char *const *params)
{
    char *v = pgconn_query_value(c, sql, nparams, params);
    int out = v ? strcmp(v, "t") == 0 : -1;
    free(v);
    return out;
}

/*
 * This migration's rows in ybvoyager_metadata, and no more: another migration
 * into the same database keeps its bookkeeping there (else it loads again what
 * it had loaded), and the schema may be a user's (a source schema of that name
 * is refused by export, but one made by hand is not ours to drop). A table goes
 * when no row is left, the schema when it held a bookkeeping table and nothing
 * is left in it; one transaction, the tables locked so an importer of another
 * migration cannot write between the count and the drop.
 */
static bool clean_bookkeeping(pgconn *c, db_role role, const char *uuid)
{
    int has = query_true(
        c, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'ybvoyager_metadata')", 0, NULL);
    if (has != 1)
        return has == 0;
    if (!pgconn_exec(c, "BEGIN"))
        return false;
    bool ok = true, other_rows = false, ours = false;
    const char *p1[] = {uuid};
    for (size_t i = 0; ok && i < ARRAY_LEN(bookkeeping_tables); i++) {
        const char *t = bookkeeping_tables[i];
        const char *pt[] = {t};
        int exists = query_true(c, "SELECT to_regclass($1) IS NOT NULL", 1, pt);
        if (exists != 1) {
            ok = exists == 0;
            continue;
        }
        ours = true;
        char *lock = xasprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", t);
        char *del = xasprintf("DELETE FROM %s WHERE migration_uuid = $1", t);
        char *left = xasprintf("SELECT EXISTS (SELECT 1 FROM %s)", t);
        char *drop = xasprintf("DROP TABLE %s", t);
        int rows_left = -1;
        ok = pgconn_exec(c, lock) && pgconn_exec_params(c, del, 1, p1) &&
             (rows_left = query_true(c, left, 0, NULL)) >= 0;
        if (ok && rows_left)
            other_rows = true;
        else if (ok)
            ok = pgconn_exec(c, drop);
        free(lock);
        free(del);
        free(left);
        free(drop);
    }
    /* every object in a schema depends on it (deptype 'n'): none left, the schema is empty */
    int in_use = ok ? query_true(c,
                                 "SELECT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_namespace n ON "
                                 "d.refobjid = n.oid WHERE d.refclassid = 'pg_namespace'::regclass "
                                 "AND n.nspname = 'ybvoyager_metadata')",
                                 0, NULL)
                    : -1;
    /* a schema of that name without any bookkeeping table was not made by this tool */
    bool drop = ours && in_use == 0;
    ok = in_use >= 0 && (!drop || pgconn_exec(c, "DROP SCHEMA ybvoyager_metadata")) &&
         pgconn_exec(c, "COMMIT");
    if (!ok) {
        pgconn_exec(c, "ROLLBACK");
        return false;
    }
    if (drop)
        log_say("%s database: dropped schema ybvoyager_metadata", db_role_name(role));
    else if (ours)
        log_say("%s database: deleted this migration's rows from ybvoyager_metadata; the schema is "
                "kept: it holds %s",
                db_role_name(role),
                other_rows ? "other migrations' bookkeeping" : "objects this tool did not create");
    else
        log_say("%s database: schema ybvoyager_metadata kept: it holds no bookkeeping of this tool",
                db_role_name(role));
    return true;
}

/*
 * Drop what this migration created on one database: slots, publications, metadata.
 * Not cdc_drop_slot_and_publication(): that one waits a while for the
 * exporter's walsender to let go of one slot it knows by name; here no voyager
 * process runs (checked), so an active slot's walsender is a leftover and is
 * ended, and every slot and publication named after the migration goes.
 */
static bool clean_database(catalog *cat, db_conf *conf, const char *uuid, const char *uuid_hex)
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
    ok = ok && clean_bookkeeping(c, role, uuid);
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
    bool gave_up = false;
    writer_session *m = w->ops->connect(w, &rs, eng->interrupted, &gave_up);
    writer_bookkeeping_end outcome = BOOKKEEPING_NONE;
    bool ok = m && w->ops->drop_bookkeeping(m, catalog_migration_uuid(eng->cat), &outcome);
    if (ok && outcome == BOOKKEEPING_DROPPED)
        log_say("%s database: dropped database ybvoyager_metadata (%s)", db_role_name(conf->role),
                w->ops->type);
    else if (ok && outcome == BOOKKEEPING_NONE)
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

    char *uuid_hex = feed_uuid_hex(catalog_migration_uuid(eng->cat));
    for (size_t i = 0; rc == ENGINE_OK && i < ARRAY_LEN(spec->conf); i++) {
        if (!spec->conf[i])
            continue;
        bool by_writer = false;
        bool cleaned = clean_by_writer(eng, spec->conf[i], &by_writer);
        if (!by_writer)
            cleaned = clean_database(eng->cat, spec->conf[i], catalog_migration_uuid(eng->cat),
                                     uuid_hex);
        if (!cleaned) {
            log_report(LOG_ERROR, "the export dir is kept until every database is clean",
                       "fix the problem above and run end migration again",
                       "the %s database was not cleaned", db_role_name(spec->conf[i]->role));
            rc = db_role_failure(spec->conf[i]->role);
        } else if (!forget_feed_left(eng, spec->conf[i]->role)) {
            rc = ENGINE_BAD_STATE;
        }
    }
    free(uuid_hex);
    return rc;
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
