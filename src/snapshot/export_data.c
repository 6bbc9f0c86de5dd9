#include "snapshot/export_data.h"

#include "catalog/catalog.h"
#include "catalog/export_state.h"
#include "catalog/snapshot_state.h"
#include "cdc/cdc_export.h"
#include "core/log.h"
#include "core/util.h"
#include "db/retry.h"
#include "migration/cutover.h"
#include "schema/schema_names.h"
#include "snapshot/snapshot_export.h"
#include "source/source.h"

#include <stdlib.h>
#include <string.h>

/* Tables of the source selected by the filters; NULL-terminated array into all. */
static bool select_tables(const export_data_spec *spec, const src_tables *all, src_table ***out,
                          size_t *n)
{
    table_ref *refs = xcalloc(all->count + 1, sizeof *refs);
    bool *keep = xcalloc(all->count + 1, sizeof *keep);
    for (size_t i = 0; i < all->count; i++)
        refs[i] = (table_ref){all->items[i].schema, all->items[i].name};
    table_ref *parts = xcalloc(all->nparts + 1, sizeof *parts), *roots = xcalloc(all->nparts + 1, sizeof *roots);
    for (size_t i = 0; i < all->nparts; i++) {
        parts[i] = (table_ref){all->parts[i].schema, all->parts[i].name};
        roots[i] = (table_ref){all->parts[i].root_schema, all->parts[i].root_name};
    }
    table_partitions partitions = {parts, roots, all->nparts};
    char *err = NULL;
    const char *hint = NULL;
    bool ok = table_filter_select(refs, all->count, &partitions, spec->include, spec->exclude, keep, &err, &hint);
    free(parts);
    free(roots);
    if (!ok) {
        log_report(LOG_ERROR, NULL, hint, "source database: %s", err);
        free(err);
    }
    *out = xcalloc(all->count + 1, sizeof **out);
    *n = 0;
    for (size_t i = 0; ok && i < all->count; i++)
        if (keep[i])
            (*out)[(*n)++] = &all->items[i];
    free(keep);
    free(refs);
    return ok;
}

/*
 * --source-db-schema as export schema reads it (a quoted name may hold commas
 * and doubled quotes), each item as resolve_schemas takes it: a quoted name
 * between quotes, its text unescaped. False after a one-line error.
 */
static bool schema_list(const char *given, strlist *out)
{
    strlist names = STRLIST_INIT;
    bool *quoted = NULL;
    const char *bad = NULL;
    bool ok = schema_names_parse_typed(given, &names, &quoted, &bad);
    if (!ok)
        log_report(LOG_ERROR, NULL, "names are separated by commas; quote a name with \"Name\"",
                   "--source-db-schema %s: %s", given, bad);
    for (size_t i = 0; ok && i < names.count; i++) {
        strlist_push_owned(out, quoted[i] ? xasprintf("\"%s\"", names.items[i]) : xstrdup(names.items[i]));
    }
    free(quoted);
    strlist_free(&names);
    return ok;
}

/* A new generation of data files: importers that loaded older files must start clean. */
static bool new_export_id(catalog *cat)
{
    char id[37];
    return uuid_v4(id) && catalog_status_set_string(cat, SNAPSHOT_EXPORT_ID_KEY, id);
}

/* An earlier run's tables that this run would not export: mixing them is refused. */
static bool check_same_tables(catalog *cat, src_table *const *sel, size_t n)
{
    export_table_rows rows;
    if (!export_state_tables(cat, false, &rows))
        return false;
    bool ok = true;
    for (size_t r = 0; ok && r < rows.count; r++) {
        const char *s = rows.items[r].schema, *t = rows.items[r].table;
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = strcmp(sel[i]->schema, s) == 0 && strcmp(sel[i]->name, t) == 0;
        if (!found) {
            log_report(LOG_ERROR, NULL,
                       "run with the same table list, or with --start-clean to start over",
                       "table %s.%s was part of an earlier export data run but is not selected now",
                       s, t);
            ok = false;
        }
    }
    export_table_rows_free(&rows);
    return ok;
}

/* The sequences of schemas read in snapshot (NULL: snapshot_begin's), recorded for the importers. */
static bool record_sequences(engine_ctx *eng, source *src, const char *snapshot, const strlist *schemas)
{
    sequence_value *v = NULL;
    size_t n = 0;
    bool ok = src->ops->read_sequences(src, snapshot, schemas, &v, &n) &&
              sequence_values_save(eng->cat, "snapshot", v, n);
    sequence_values_free(v, n);
    return ok;
}

static void print_summary(engine_ctx *eng, src_table *const *sel, size_t n)
{
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += export_state_table_rows(eng->cat, sel[i]->schema, sel[i]->name);
    log_say("exported %zu tables, %lld rows, into %s/data", n, (long long)total, eng->export_dir);
}

/*
 * A source error before the rows of this run: worth a new run when the control
 * connection broke (a drop before the first row is the same fault as one in
 * the middle of a table), or whatever it was once the run is retrying (the
 * source was reached before, so it is taken for the same fault). Asked before
 * snapshot_end closes that connection.
 */
static bool source_broke(source *src, int retry)
{
    return retry > 0 || (src->ops->control_lost && src->ops->control_lost(src));
}

/*
 * One run of export data from source. *transient: it failed in the snapshot
 * phase, from its first query on, in a way a new snapshot may mend (the source
 * restarted or dropped the connection); retry is the number of this run (> 0:
 * see source_broke). start_clean: this run starts over (only the first run of
 * a command does).
 */
static engine_status export_once(engine_ctx *eng, const export_data_spec *spec, source *src,
                                 int retry, bool start_clean, bool *transient)
{
    *transient = false;
    db_conf *conf = spec->source;
    bool live = str_case_eq(spec->export_type, EXPORT_TYPE_LIVE);
    engine_status rc = ENGINE_OK;
    strlist schemas = STRLIST_INIT;
    src_tables all = {0};
    src_table **sel = NULL;
    size_t nsel = 0;
    char *snap = NULL;
    cdc_export_state *feed = NULL;
    bool redo_all = false; /* live: a new feed, so even tables DONE earlier are exported again */

    if (start_clean && catalog_status_get_bool(eng->cat, cutover_request_key(CUTOVER_TO_TARGET))) {
        /* The application may already write to the target: starting over here would lose that. */
        log_report(LOG_ERROR, NULL,
                   "start a new migration in a new export directory (and 'yb-voyager end "
                   "migration' for this one)",
                   "cutover to target was initiated for this migration, so export data cannot "
                   "start it over (--start-clean)");
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    /* On a retry the source was reached before: a refusal is the fault being waited out. */
    char *why = NULL;
    rc = src->ops->connect(src, retry > 0, &why);
    if (rc != ENGINE_OK) {
        if (retry > 0)
            log_warn("%s", why ? why : "source database: cannot connect");
        free(why);
        *transient = retry > 0;
        goto out;
    }
    if (!schema_list(conf->schema && *conf->schema ? conf->schema : "public", &schemas)) {
        rc = ENGINE_BAD_INPUT;
        goto out;
    }
    int whole = 1; /* a selection the source refuses is the flags' fault, not the source's */
    if (!src->ops->resolve_schemas(src, &schemas) ||
        (src->ops->check_selection &&
         (whole = src->ops->check_selection(src, (const char *const *)schemas.items)) < 0)) {
        rc = ENGINE_SOURCE_FAILED;
        *transient = source_broke(src, retry);
        goto out;
    }
    if (!whole) {
        rc = ENGINE_BAD_INPUT;
        goto out;
    }
    if (!src->ops->list_tables(src, (const char *const *)schemas.items, &all)) {
        rc = ENGINE_SOURCE_FAILED;
        *transient = source_broke(src, retry);
        goto out;
    }
    if (!select_tables(spec, &all, &sel, &nsel)) {
        rc = ENGINE_BAD_INPUT;
        goto out;
    }
    if (nsel == 0) {
        log_report(LOG_ERROR, NULL, "check --source-db-schema and the table lists",
                   "no tables to export in schema(s) %s", conf->schema ? conf->schema : "public");
        rc = ENGINE_BAD_INPUT;
        goto out;
    }

    if (start_clean) {
        if (!snapshot_export_remove_files(eng->export_dir) || !snapshot_export_reset(eng->cat)) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
        catalog_status_set_bool(eng->cat, "ExportDataDone", false);
        new_export_id(eng->cat);
        log_info("--start-clean: removed the data files and export state of earlier runs");
    } else {
        char *prev = catalog_status_get_string(eng->cat, "ExportType");
        bool differs = prev && !str_case_eq(prev, spec->export_type) && export_state_started(eng->cat);
        if (differs)
            log_report(LOG_ERROR, NULL, "use the same, or --start-clean to start over",
                       "an earlier export data run used --export-type %s", prev);
        free(prev);
        bool listed = spec->include && spec->include->count > 0;
        if (differs || (live && !cdc_export_keep_captured(eng, sel, &nsel, listed)) ||
            !check_same_tables(eng->cat, sel, nsel)) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
    }
    char *id = catalog_status_get_string(eng->cat, SNAPSHOT_EXPORT_ID_KEY);
    if (!id && !new_export_id(eng->cat)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    free(id);
    for (size_t i = 0; i < nsel; i++)
        if (!snapshot_export_table_ensure(eng->cat, sel[i]->schema, sel[i]->name, sel[i]->est_rows)) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }

    if (live) {
        cdc_export_spec fs = {
            .src = src,
            .schemas = (const char *const *)schemas.items,
            .tables = (const src_table *const *)sel,
            .ntables = nsel,
            .start_clean = start_clean,
            .progress_bars = spec->progress_bars,
            .command_name = spec->command_name,
        };
        rc = cdc_export_begin(eng, &fs, &feed, &snap, &redo_all);
        if (rc != ENGINE_OK) {
            *transient = rc == ENGINE_SOURCE_FAILED && source_broke(src, retry);
            goto out;
        }
        if (!catalog_status_set_string(eng->cat, "ExportType", EXPORT_TYPE_LIVE)) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
        if (redo_all) {
            /*
             * A new feed, so a new snapshot: every table is exported again (each
             * under a new attempt), and importers take back what they loaded of the old one.
             */
            log_info("a new %s was created: the snapshot is exported (again)", src->ops->feed_noun);
            if (!catalog_status_set_bool(eng->cat, "ExportDataDone", false)) {
                rc = ENGINE_BAD_STATE;
                goto out;
            }
        }
        if (snap && !record_sequences(eng, src, snap, &schemas)) {
            rc = ENGINE_SOURCE_FAILED;
            *transient = source_broke(src, retry);
            goto out;
        }
    } else {
        if (!catalog_status_set_string(eng->cat, "ExportType", EXPORT_TYPE_SNAPSHOT)) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
        snap = src->ops->snapshot_begin(src);
        if (!snap || !record_sequences(eng, src, NULL, &schemas)) {
            rc = ENGINE_SOURCE_FAILED;
            *transient = source_broke(src, retry);
            goto out;
        }
    }

    if (snap) {
        src_table **todo = xcalloc(nsel + 1, sizeof *todo);
        size_t ntodo = 0;
        for (size_t i = 0; i < nsel; i++) {
            char *st = snapshot_export_table_status(eng->cat, sel[i]->schema, sel[i]->name);
            if (redo_all || strcmp(st, SNAP_DONE) != 0)
                todo[ntodo++] = sel[i];
            free(st);
        }
        if (ntodo == 0)
            log_say("every table was exported by an earlier run (--start-clean to export again)");
        else if (ntodo < nsel)
            log_say("resuming: %zu of %zu tables were exported by an earlier run", nsel - ntodo, nsel);
        source_rows_failure why_rows;
        bool ok = snapshot_export_tables(eng, src, snap, todo, ntodo, spec->parallel_jobs,
                                         spec->progress_bars, &why_rows);
        free(todo);
        if (!ok) {
            /* A full disk (or meta.db) is no fault of the source: fix, run again (exit 3). */
            rc = *eng->interrupted || why_rows.no_space || why_rows.local ? ENGINE_BAD_STATE
                                                                          : ENGINE_SOURCE_FAILED;
            *transient = why_rows.transient || (retry > 0 && rc == ENGINE_SOURCE_FAILED);
            goto out;
        }
        print_summary(eng, sel, nsel);
    }
    if (live && !cdc_export_snapshot_done(eng)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    catalog_status_set_bool(eng->cat, "ExportDataDone", true);
    src->ops->snapshot_end(src, true);
    if (live) {
        rc = cdc_export_stream(eng, feed);
        feed = NULL;
    }

out:
    if (rc != ENGINE_OK) {
        cdc_export_abort(feed);
        src->ops->snapshot_end(src, false);
    }
    free(snap);
    free(sel);
    src_tables_free(&all);
    strlist_free(&schemas);
    return rc;
}

engine_status export_data_run(engine_ctx *eng, const export_data_spec *spec)
{
    engine_status rc = ENGINE_OK;
    source *src = source_for(eng, spec->source, "export data from source", &rc);
    if (!src)
        return rc;
    /*
     * A source restart (or a dropped connection) in the snapshot phase takes
     * the snapshot with it: the run starts again as a rerun of the command
     * would (tables not DONE are exported again under new attempts, a live
     * export makes a new feed). The change stream rides out its own faults.
     */
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    /* The retry is a rerun of the same command: --start-clean was done by the first. */
    bool start_clean = spec->start_clean;
    for (int retry = 0;; retry++) {
        bool transient = false;
        rc = export_once(eng, spec, src, retry, start_clean, &transient);
        start_clean = false;
        if (!transient || *eng->interrupted)
            break;
        if (!retry_failed(&rs)) {
            log_report(LOG_ERROR, NULL, "run the same command again",
                       "source database: the snapshot could not be exported (the source kept "
                       "failing for %lld s, %s)",
                       (long long)(retry_elapsed_ms(&rs) / 1000), RETRY_TIMEOUT_ENV);
            rc = ENGINE_BAD_STATE;
            break;
        }
        log_warn("source database: the snapshot export lost the source; starting it again "
                 "(attempt %d, giving up after %lld s)",
                 rs.attempt, (long long)(rs.policy.deadline_ms / 1000));
        if (!retry_backoff(&rs, eng->interrupted)) {
            log_report(LOG_ERROR, NULL, "run the same command again to resume", "export data interrupted");
            rc = ENGINE_BAD_STATE;
            break;
        }
    }
    source_close(src);
    return rc;
}
