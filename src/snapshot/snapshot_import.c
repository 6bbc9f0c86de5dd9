#include "snapshot/snapshot_import.h"

#include "catalog/export_state.h"
#include "catalog/snapshot_state.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/util.h"
#include "db/connect.h" /* db_role_failure */
#include "snapshot/batch_loader.h"
#include "snapshot/batcher.h"
#include "snapshot/data_descriptor.h"
#include "snapshot/progress.h"
#include "snapshot/table_list.h"
#include "source/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MESSAGE_EVERY_MS 30000
/* How often meta.db is read for new part files: a part is about a second of loading. */
#define EXPORT_POLL_MS 200

typedef struct imp_table {
    char *schema;
    char *name;
    char *display;
    char *load_sql;          /* set when its files are queued (the writer's load_statement) */
    int64_t total_rows;      /* main thread */
    atomic_llong imported;
    int64_t earlier;         /* main thread: of imported, rows of batches an earlier run committed */
    int pending;             /* batches queued and not committed, under mu */
    int64_t attempt;         /* main thread: the export attempt whose files are queued; 0: none yet */
    strlist queued;          /* main thread: paths of that attempt's files queued */
    bool files_queued;       /* main thread: the export is DONE and all its files are queued */
    bool done;               /* main thread */
    atomic_int stale;        /* a worker found one of its files gone or replaced */
    int64_t saved_imported;  /* last value written to meta.db */
} imp_table;

typedef struct imp_batch {
    imp_table *t;
    char *rel_path;   /* data/x_data.sql */
    char *file_name;  /* x_data.sql: data_file_name in the metainfo table */
    data_file_id planned;
    batch_range r;
} imp_batch;

typedef struct import_run {
    engine_ctx *eng;
    const snapshot_import_spec *spec;
    writer *w;               /* the database imported into (its nodes, YugabyteDB's included) */
    batch_loader loader;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    imp_batch **queue;       /* under mu; [0, qhead) taken by workers, freed at the end */
    size_t qlen, qcap, qhead;
    char *generation;        /* the export id this import loads files of */
    bool closed;             /* under mu: nothing more will be queued */
    atomic_int abort;
    atomic_int failed;
    atomic_int gave_up;      /* a worker outlasted the retry policy: a rerun goes on */
    bool main_gave_up;       /* main thread: its connection could not be re-established */
    /* main thread: files whose earlier plan the given --batch-size could not have made */
    size_t kept_plans, kept_reported;
    int64_t kept_rows;       /* the most rows of their batches */
    int64_t max_row_bytes;   /* batcher's limits, read (and a bad value warned about) once */
    int64_t max_batch_bytes;
} import_run;

/* ---- the queue ---- */

static void queue_push(import_run *r, imp_batch *b)
{
    pthread_mutex_lock(&r->mu);
    if (r->qlen == r->qcap) {
        r->qcap = r->qcap ? r->qcap * 2 : 64;
        r->queue = xrealloc(r->queue, r->qcap * sizeof *r->queue);
    }
    r->queue[r->qlen++] = b;
    b->t->pending++;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static imp_batch *queue_pop(import_run *r)
{
    pthread_mutex_lock(&r->mu);
    for (;;) {
        if (atomic_load(&r->abort) || *r->eng->interrupted) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        if (r->qhead < r->qlen) {
            imp_batch *b = r->queue[r->qhead++];
            pthread_mutex_unlock(&r->mu);
            return b;
        }
        if (r->closed) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
}

typedef struct worker_arg {
    import_run *r;
    int idx;
} worker_arg;

static void *worker_main(void *arg)
{
    worker_arg *w = arg;
    import_run *r = w->r;
    /* on its first batch (batch_loader_load): a rerun with every batch done needs none */
    writer_session *c = NULL;
    char *buf = xmalloc(BATCH_LOADER_BUFFER_BYTES);
    imp_batch *b;
    while ((b = queue_pop(r)) != NULL) {
        batch_job job = {b->t->display, b->t->schema, b->t->name, b->t->load_sql,
                         b->rel_path,   b->file_name, &b->planned, b->r};
        batch_load_result res = batch_loader_load(&r->loader, w->idx, &c, &job, buf);
        if (res == BATCH_FAILED || res == BATCH_GAVE_UP) {
            if (res == BATCH_GAVE_UP)
                atomic_store(&r->gave_up, 1);
            atomic_store(&r->failed, 1);
            atomic_store(&r->abort, 1);
            pthread_mutex_lock(&r->mu);
            pthread_cond_broadcast(&r->cv);
            pthread_mutex_unlock(&r->mu);
            break;
        }
        if (res == BATCH_LOADED)
            atomic_fetch_add(&b->t->imported, b->r.rows);
        else
            atomic_store(&b->t->stale, 1);
        pthread_mutex_lock(&r->mu);
        b->t->pending--;
        pthread_mutex_unlock(&r->mu);
    }
    free(buf);
    writer_session_close(c);
    return NULL;
}

/* ---- planning ---- */

typedef enum plan_result { PLAN_OK, PLAN_FAILED, PLAN_STALE } plan_result;

/*
 * Could batcher_plan_file have made plan with max_rows rows a batch? Its
 * batches end at max_rows rows, at the file's end, or before a row that would
 * pass max_bytes: a batch that ended early while it and the next one fit
 * within max_bytes together was cut by another batch size.
 */
static bool plan_fits(const batch_plan *p, int64_t max_rows, int64_t max_bytes)
{
    for (size_t i = 0; i < p->count; i++) {
        const batch_range *b = &p->items[i];
        if (b->rows > max_rows)
            return false;
        if (i + 1 == p->count || b->rows == max_rows)
            continue;
        const batch_range *next = &p->items[i + 1];
        if ((b->end_offset - b->start_offset) + (next->end_offset - next->start_offset) <= max_bytes)
            return false;
    }
    return true;
}

/* A stored plan the given --batch-size could not have made: counted for kept_plans_report(). */
static void note_kept_plan(import_run *r, const batch_plan *p)
{
    if (!r->spec->batch_rows_given || plan_fits(p, r->spec->batch_rows, r->max_batch_bytes))
        return;
    r->kept_plans++;
    for (size_t i = 0; i < p->count; i++)
        if (p->items[i].rows > r->kept_rows)
            r->kept_rows = p->items[i].rows;
}

/* --batch-size given but not used for files planned earlier: said once, and again for more. */
static void kept_plans_report(import_run *r)
{
    if (r->kept_plans == r->kept_reported)
        return;
    log_report(LOG_WARN,
               "a file's batches are fixed the first time it is imported, so that a restart "
               "never renumbers them; files not planned yet get the new size",
               "only import data --start-clean plans them again (it imports their tables again)",
               "--batch-size %lld: %zu data file(s) keep the batches an earlier run planned for "
               "them (up to %lld rows a batch)",
               (long long)r->spec->batch_rows, r->kept_plans - r->kept_reported,
               (long long)r->kept_rows);
    r->kept_reported = r->kept_plans;
}

/*
 * The batch plan of a file: the one fixed earlier, else a new scan. PLAN_STALE
 * when the file on disk is not the one meta.db describes (gone, other size,
 * replaced during the scan): the caller asks whether the export restarted
 * the table. *id: the file the plan belongs to.
 */
static plan_result plan_file(import_run *r, const snapshot_file *f, const imp_table *t, batch_plan *plan,
                             data_file_id *id)
{
    catalog *m = r->eng->cat;
    const char *role = r->spec->importer_role;
    char *path = xasprintf("%s/%s", r->eng->export_dir, f->path);
    bool seen = data_file_id_of_path(path, id);
    if (!seen || id->size != f->size) {
        free(path);
        return PLAN_STALE;
    }
    if (!snapshot_import_plan_load(m, role, f->path, plan)) {
        free(path);
        return PLAN_FAILED;
    }
    if (plan->count > 0) {
        free(path);
        if (plan->items[plan->count - 1].end_offset != f->size) {
            batch_plan_free(plan);
            return PLAN_STALE;
        }
        note_kept_plan(r, plan);
        return PLAN_OK;
    }
    int64_t bad_line = 0;
    int64_t max_row = r->max_row_bytes;
    batcher_result br = batcher_plan_file(path, r->spec->batch_rows, r->max_batch_bytes, max_row,
                                          plan, &bad_line);
    data_file_id after;
    if (br != BATCHER_ROW_TOO_LARGE && (!data_file_id_of_path(path, &after) || !data_file_id_equal(id, &after))) {
        free(path);
        batch_plan_free(plan);
        return PLAN_STALE;
    }
    plan_result out = br == BATCHER_OK ? PLAN_OK : PLAN_FAILED;
    if (br == BATCHER_IO_ERROR)
        log_error("cannot read data file %s: %s", path, strerror(errno));
    else if (br == BATCHER_ROW_TOO_LARGE)
        log_report(LOG_ERROR, NULL, "set CSV_READER_MAX_BUFFER_SIZE_BYTES higher",
                   "table %s: row at line %lld of %s is larger than %lld bytes", t->display,
                   (long long)bad_line, f->path, (long long)max_row);
    free(path);
    if (out == PLAN_OK && !snapshot_import_plan_store(m, role, t->schema, t->name, f->path, plan))
        out = PLAN_FAILED;
    if (out != PLAN_OK)
        batch_plan_free(plan);
    return out;
}

/* ---- the tables ---- */

/* Every table the exporter has (or will have) written, filtered by the import table lists. */
static bool load_tables(import_run *r, imp_table **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    export_table_rows rows = {0};
    if (!export_state_tables(r->eng->cat, true, &rows))
        return false;
    table_ref *refs = xcalloc(rows.count + 1, sizeof *refs);
    bool *keep = xcalloc(rows.count + 1, sizeof *keep);
    for (size_t i = 0; i < rows.count; i++)
        refs[i] = (table_ref){rows.items[i].schema, rows.items[i].table};
    static const table_patterns none;
    char *err = NULL;
    const char *hint = NULL;
    bool ok = table_filter_select(refs, rows.count, NULL, r->spec->include ? r->spec->include : &none,
                                  r->spec->exclude ? r->spec->exclude : &none, keep, &err, &hint);
    if (!ok) {
        log_report(LOG_ERROR, NULL, hint, "%s", err);
        free(err);
    }
    if (ok) {
        *out = xcalloc(rows.count + 1, sizeof **out);
        for (size_t i = 0; i < rows.count; i++) {
            if (!keep[i])
                continue;
            imp_table *t = &(*out)[(*n)++];
            t->schema = xstrdup(rows.items[i].schema);
            t->name = xstrdup(rows.items[i].table);
            t->display = table_display_name(t->schema, t->name);
            atomic_init(&t->imported, 0);
            atomic_init(&t->stale, 0);
        }
    }
    free(refs);
    free(keep);
    export_table_rows_free(&rows);
    return ok;
}

static imp_table *find_table(imp_table *ts, size_t n, const char *schema, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ts[i].schema, schema) == 0 && strcmp(ts[i].name, name) == 0)
            return &ts[i];
    return NULL;
}

static const char *base_name(const char *rel)
{
    const char *s = strrchr(rel, '/');
    return s ? s + 1 : rel;
}

static bool check_tables_exist(writer_session *c, imp_table *ts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!c->ops->check_table(c, ts[i].schema, ts[i].name))
            return false;
    return true;
}

/*
 * The data files must be those this importer started from: after export data
 * --start-clean, batches already imported describe files that are gone.
 */
static bool same_generation(import_run *r, const char *mine)
{
    catalog *m = r->eng->cat;
    char *now = catalog_status_get_string(m, SNAPSHOT_EXPORT_ID_KEY);
    bool ok = true;
    if (now && mine && strcmp(now, mine) != 0 && !r->spec->start_clean) {
        log_report(LOG_ERROR, NULL, "run import data with --start-clean (and --truncate-tables)",
                   "the data was exported again (export data --start-clean) after this import "
                   "started");
        ok = false;
    } else if (now && !mine) {
        ok = snapshot_import_generation_set(m, r->spec->importer_role, now);
    }
    /* A changed id with --start-clean is recorded once the clean start succeeded. */
    free(now);
    return ok;
}

static bool main_ready(import_run *r, writer_session *c, retry_state *rs);
static bool main_retry(import_run *r, writer_session *c, retry_state *rs);

/*
 * Loading into tables that already hold rows nobody confirmed needs the
 * operator's yes: on a clean start without --truncate-tables, and on this
 * importer's first run (rows it did not load: a table without a key would
 * hold them twice). Run once: its failures are errors.
 */
static engine_status may_load_into(import_run *r, writer_session *c, imp_table *ts, size_t n)
{
    if (r->spec->truncate_tables)
        return ENGINE_OK;
    bool first_run = !r->spec->start_clean;
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        int v = c->ops->table_has_rows(c, ts[i].schema, ts[i].name);
        if (v < 0) {
            /* unknown is not empty: importing could add to rows nobody confirmed */
            log_report(LOG_ERROR, NULL,
                       "fix that (e.g. grant SELECT on the table) and run the same command again",
                       "cannot tell whether %s is empty on the %s database (error above), so "
                       "the import stops before loading into it",
                       ts[i].display, db_role_name(r->spec->conf->role));
            strbuf_free(&sb);
            return db_role_failure(r->spec->conf->role);
        }
        if (v == 1)
            strbuf_appendf(&sb, "%s%s", sb.len ? ", " : "", ts[i].display);
    }
    bool yes = true;
    if (sb.len) {
        char *question = first_run
                             ? xasprintf("tables %s already hold rows on the %s database that this "
                                         "import did not load; import into them anyway",
                                         strbuf_cstr(&sb), db_role_name(r->spec->conf->role))
                             : xasprintf("tables %s are not empty on the %s database and "
                                         "--truncate-tables was not given; import into them anyway",
                                         strbuf_cstr(&sb), db_role_name(r->spec->conf->role));
        yes = r->spec->confirm && r->spec->confirm(r->spec->confirm_arg, question);
        free(question);
    }
    strbuf_free(&sb);
    if (!yes) {
        log_report(LOG_ERROR, NULL,
                   first_run ? "empty the tables, or run with --start-clean true --truncate-tables true "
                               "(or --yes to add to their rows)"
                             : "give --truncate-tables true with --start-clean, or empty the tables",
                   "import stopped");
        return ENGINE_BAD_STATE;
    }
    return ENGINE_OK;
}

/*
 * The clean start's transaction on the database: truncate the tables when
 * asked, forget their batches, and what clean_in_tx forgets. They commit
 * together: a crash between them must not leave empty tables whose batches
 * still count as imported. Idempotent, so run again whole after a transient
 * failure. False after logging, rolled back.
 */
static bool clean_tx(import_run *r, writer_session *c, imp_table *ts, size_t n)
{
    const char *uuid = catalog_migration_uuid(r->eng->cat);
    bool ok = c->ops->begin(c);
    if (ok && r->spec->truncate_tables && n > 0) {
        strlist schemas = STRLIST_INIT, names = STRLIST_INIT;
        for (size_t i = 0; i < n; i++) {
            strlist_push(&schemas, ts[i].schema);
            strlist_push(&names, ts[i].name);
        }
        ok = c->ops->truncate_tables(c, &schemas, &names);
        strlist_free(&schemas);
        strlist_free(&names);
    }
    for (size_t i = 0; ok && i < n; i++)
        ok = c->ops->batches_forget_table(c, uuid, ts[i].schema, ts[i].name);
    ok = ok && (!r->spec->clean_in_tx || r->spec->clean_in_tx(r->spec->clean_arg, c));
    ok = ok && c->ops->commit(c);
    if (!ok)
        c->ops->rollback_after_failure(c);
    return ok;
}

/*
 * --start-clean: forget this importer's progress on the selected tables, and
 * truncate them when asked; a transient failure of the database is retried
 * under the retry policy, as every other step of the import.
 */
static engine_status start_clean(import_run *r, writer_session *c, imp_table *ts, size_t n)
{
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    for (;;) {
        if (!main_ready(r, c, &rs))
            return ENGINE_BAD_STATE;
        if (clean_tx(r, c, ts, n))
            break;
        if (!main_retry(r, c, &rs))
            return r->main_gave_up ? ENGINE_BAD_STATE : db_role_failure(r->spec->conf->role);
    }
    if (r->spec->truncate_tables)
        log_say("truncated %zu tables on the %s database", n, db_role_name(r->spec->conf->role));
    for (size_t i = 0; i < n; i++)
        if (!snapshot_import_reset_table(r->eng->cat, r->spec->importer_role, ts[i].schema, ts[i].name))
            return ENGINE_BAD_STATE;
    if (r->spec->clean_done && !r->spec->clean_done(r->spec->clean_arg))
        return ENGINE_BAD_STATE;
    return ENGINE_OK;
}

static bool export_finished(catalog *m)
{
    return catalog_status_get_bool(m, "ExportDataDone") && snapshot_export_tables_unfinished(m) == 0;
}

/*
 * The main connection before a use: it idles while the workers load, and a
 * server restart meanwhile leaves it closed with PQstatus still OK.
 */
static bool main_ready(import_run *r, writer_session *c, retry_state *rs)
{
    if (c->ops->ensure(c, rs, "bookkeeping connection", r->eng->interrupted))
        return true;
    r->main_gave_up = true;
    return false;
}

/*
 * After a failed statement on the main connection: true when another attempt
 * (after main_ready) is worth it, once the backoff is slept.
 */
static bool main_retry(import_run *r, writer_session *c, retry_state *rs)
{
    if (c->ops->connected(c) && !c->ops->retryable(c))
        return false;
    if (retry_failed(rs) && retry_backoff(rs, r->eng->interrupted))
        return true;
    log_report(LOG_ERROR, NULL,
               "run the same command again once the database is reachable (or raise "
               RETRY_TIMEOUT_ENV ")",
               "%s database: the bookkeeping connection failed for %llds",
               db_role_name(r->spec->conf->role), (long long)(retry_elapsed_ms(rs) / 1000));
    r->main_gave_up = true;
    return false;
}

/*
 * Take back a table whose export restarted from a new snapshot after some of
 * its files were queued: drop its queued batches, let the ones underway
 * finish, remove what it committed on the database (one transaction), forget
 * its plans and progress. Main thread; false after logging.
 */
static bool undo_table(import_run *r, writer_session *c, imp_table *t, import_metainfo_set *done)
{
    pthread_mutex_lock(&r->mu);
    size_t keep = r->qhead;
    for (size_t i = r->qhead; i < r->qlen; i++) {
        imp_batch *b = r->queue[i];
        if (b->t == t) {
            t->pending--;
            free(b->rel_path);
            free(b->file_name);
            free(b);
        } else {
            r->queue[keep++] = b;
        }
    }
    r->qlen = keep;
    while (t->pending > 0 && !atomic_load(&r->abort)) {
        pthread_mutex_unlock(&r->mu);
        usleep(20000);
        pthread_mutex_lock(&r->mu);
    }
    bool drained = t->pending == 0;
    pthread_mutex_unlock(&r->mu);
    if (!drained)
        return false;
    const char *uuid = catalog_migration_uuid(r->eng->cat);
    int64_t removed = 0;
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    /* one transaction: run again after a lost connection, it finds what is left to remove */
    for (;;) {
        if (!main_ready(r, c, &rs))
            return false;
        if (c->ops->batches_undo_table(c, uuid, t->schema, t->name, &removed))
            break;
        if (!main_retry(r, c, &rs))
            return false;
    }
    if (!snapshot_import_reset_table(r->eng->cat, r->spec->importer_role, t->schema, t->name))
        return false;
    for (;;) {
        import_metainfo_set_free(done);
        if (c->ops->batches_load(c, uuid, done))
            break;
        if (!main_retry(r, c, &rs) || !main_ready(r, c, &rs))
            return false;
    }
    if (removed > 0)
        log_say("table %s: export data restarted it from a new snapshot; the %lld rows imported from "
                "its earlier files were removed from the %s database and it is imported again",
                t->display, (long long)removed, db_role_name(r->spec->conf->role));
    else
        log_info("table %s: export data restarted it from a new snapshot", t->display);
    strlist_free(&t->queued);
    /* the new files may have other columns: their descriptor names them */
    free(t->load_sql);
    t->load_sql = NULL;
    t->attempt = 0;
    t->files_queued = false;
    t->done = false;
    t->total_rows = 0;
    atomic_store(&t->imported, 0);
    t->earlier = 0;
    atomic_store(&t->stale, 0);
    t->saved_imported = -1;
    return true;
}

typedef struct export_row {
    imp_table *t;
    const char *status;
    int64_t attempt;
    const snapshot_file *f; /* f->path NULL: the table has no file yet */
} export_row;

/*
 * The exporter's tables and files, one consistent read of meta.db, of the
 * tables this import selected. The rows of *out point into *entries (the caller frees both).
 */
static bool read_export_rows(import_run *r, imp_table *ts, size_t n, snapshot_export_entry **entries,
                             size_t *nentries, export_row **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (!snapshot_export_entries_load(r->eng->cat, entries, nentries))
        return false;
    *out = xcalloc(*nentries + 1, sizeof **out);
    for (size_t i = 0; i < *nentries; i++) {
        const snapshot_export_entry *e = &(*entries)[i];
        imp_table *t = find_table(ts, n, e->file.schema, e->file.table);
        if (t)
            (*out)[(*count)++] = (export_row){t, e->status, e->attempt, &e->file};
    }
    return true;
}

static bool queue_file(import_run *r, imp_table *t, const snapshot_file *f, int64_t attempt,
                       const import_metainfo_set *done)
{
    batch_plan plan;
    data_file_id id;
    plan_result pr = plan_file(r, f, t, &plan, &id);
    if (pr == PLAN_FAILED)
        return false;
    if (pr == PLAN_STALE) {
        if (snapshot_export_table_attempt(r->eng->cat, t->schema, t->name) != attempt)
            return true; /* the next poll takes the table back */
        log_report(LOG_ERROR, NULL,
                   "run export data with --start-clean, then import data with --start-clean",
                   "data file %s of table %s is missing or differs from what export data "
                   "recorded",
                   f->path, t->display);
        return false;
    }
    strlist_push(&t->queued, f->path);
    if (!t->load_sql)
        t->load_sql = r->w->ops->load_statement(r->w, t->schema, t->name, f->columns_json);
    const char *fname = base_name(f->path);
    for (size_t k = 0; k < plan.count; k++) {
        t->total_rows += plan.items[k].rows;
        int64_t rows;
        if (import_metainfo_set_has(done, fname, plan.items[k].number, &rows)) {
            atomic_fetch_add(&t->imported, rows);
            t->earlier += rows;
            continue;
        }
        imp_batch *b = xcalloc(1, sizeof *b);
        b->t = t;
        b->rel_path = xstrdup(f->path);
        b->file_name = xstrdup(fname);
        b->planned = id;
        b->r = plan.items[k];
        queue_push(r, b);
    }
    batch_plan_free(&plan);
    return true;
}

/*
 * One look at the export: a table exported again from a new snapshot is taken
 * back; the finished files of each table's current attempt are queued, also
 * while the rest of the table still exports. False after logging a failure
 * of the export dir's files or state (*db_failed: of the database).
 */
static bool poll_export(import_run *r, writer_session *c, imp_table *ts, size_t n, import_metainfo_set *done,
                        bool *db_failed)
{
    *db_failed = false;
    char *now = catalog_status_get_string(r->eng->cat, SNAPSHOT_EXPORT_ID_KEY);
    bool same = !now || !r->generation || strcmp(now, r->generation) == 0;
    free(now);
    if (!same) {
        log_report(LOG_ERROR, NULL, "run import data with --start-clean (and --truncate-tables)",
                   "the data was exported again (export data --start-clean) while this import "
                   "ran");
        return false;
    }
    /* Read before meta.db: the exporter records a new attempt before it removes the old files. */
    bool *stale = xcalloc(n + 1, sizeof *stale);
    for (size_t i = 0; i < n; i++)
        stale[i] = atomic_exchange(&ts[i].stale, 0) != 0;
    snapshot_export_entry *entries = NULL;
    size_t nentries = 0;
    export_row *rows;
    size_t count;
    bool ok = read_export_rows(r, ts, n, &entries, &nentries, &rows, &count);
    for (size_t i = 0; ok && i < count; i++) {
        export_row *e = &rows[i];
        imp_table *t = e->t;
        if (i > 0 && rows[i - 1].t == t) {
            /* the table's next file */
        } else {
            if (e->attempt == 0)
                continue;
            if (t->attempt != 0 && t->attempt != e->attempt) {
                if (!undo_table(r, c, t, done)) {
                    *db_failed = true;
                    ok = false;
                    break;
                }
            } else if (stale[t - ts]) {
                log_report(LOG_ERROR, NULL,
                           "run export data with --start-clean, then import data with "
                           "--start-clean",
                           "a data file of table %s disappeared or changed while export data did "
                           "not restart the table",
                           t->display);
                ok = false;
                break;
            }
            if (t->attempt == 0 && e->f->path) {
                /* Recorded before any batch of this attempt commits: a restart then knows what the database holds. */
                if (!snapshot_import_attempt_set(r->eng->cat, r->spec->importer_role, t->schema, t->name,
                                                 e->attempt)) {
                    ok = false;
                    break;
                }
                t->attempt = e->attempt;
            }
        }
        if (t->done || e->attempt == 0 || e->attempt != t->attempt || !e->f->path ||
            strlist_contains(&t->queued, e->f->path))
            continue;
        ok = queue_file(r, t, e->f, e->attempt, done);
    }
    /* A table's files are recorded before its DONE status, so a DONE table read here has them all. */
    for (size_t i = 0; ok && i < count; i++) {
        export_row *e = &rows[i];
        if (i + 1 < count && rows[i + 1].t == e->t)
            continue; /* judged on the table's last row */
        size_t nfiles = 0;
        for (size_t k = i + 1; k-- > 0 && rows[k].t == e->t;)
            nfiles += rows[k].f->path != NULL;
        if (strcmp(e->status, SNAP_DONE) == 0 && e->attempt == e->t->attempt &&
            e->t->queued.count == nfiles)
            e->t->files_queued = true;
    }
    free(rows);
    snapshot_export_entries_free(entries, nentries);
    free(stale);
    return ok;
}

/* The sequences meta.db holds for phase, set on the database. False after logging. */
static bool restore_sequences(catalog *m, writer_session *c, const char *phase, int *restored)
{
    sequence_value *seqs = NULL;
    size_t n = 0;
    *restored = 0;
    if (!sequence_values_load(m, phase, &seqs, &n))
        return false;
    bool ok = c->ops->set_sequences(c, seqs, n, restored);
    sequence_values_free(seqs, n);
    return ok;
}

static void save_counts(import_run *r, imp_table *ts, size_t n, bool force)
{
    for (size_t i = 0; i < n; i++) {
        imp_table *t = &ts[i];
        int64_t imp = atomic_load(&t->imported);
        if (!force && imp == t->saved_imported)
            continue;
        const char *st = t->done ? SNAP_DONE : (imp > 0 || t->queued.count > 0) ? SNAP_IMPORTING : SNAP_NOT_STARTED;
        snapshot_import_table_set(r->eng->cat, r->spec->importer_role, t->schema, t->name, st, imp,
                                  t->total_rows);
        t->saved_imported = imp;
    }
}

engine_status snapshot_import_run(engine_ctx *eng, const snapshot_import_spec *spec)
{
    import_run r = {.eng = eng,
                    .spec = spec,
                    .max_row_bytes = batcher_max_row_bytes(),
                    .max_batch_bytes = batcher_max_batch_bytes()};
    db_conf *conf = spec->conf;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    atomic_init(&r.abort, 0);
    atomic_init(&r.failed, 0);
    atomic_init(&r.gave_up, 0);
    engine_status rc = ENGINE_OK;
    imp_table *ts = NULL;
    size_t n = 0;
    import_metainfo_set done = {0};
    pthread_t *th = NULL;
    worker_arg *wa = NULL;
    int started = 0;
    progress *pb = NULL;
    progress_item *items = NULL;
    writer_session *c = NULL;

    char *etype;
    /* An exporter that just started records the export type in a moment. */
    while (!(etype = catalog_status_get_string(eng->cat, "ExportType")) && !*eng->interrupted &&
           cmd_lock_is_held(eng->export_dir, "export-data-from-source", NULL))
        usleep(100000);
    free(etype);
    if (!etype) {
        log_report(LOG_ERROR, NULL, "run 'yb-voyager export data' first",
                   "no data has been exported into %s yet", eng->export_dir);
        rc = ENGINE_BAD_STATE;
        goto out_nc;
    }
    /* a restart during a target outage waits for it, as a running import does */
    retry_policy spol = retry_policy_default();
    retry_state srs;
    retry_init(&srs, &spol);
    bool gave_up = false;
    r.w = writer_for(eng, conf, &rc);
    if (!r.w)
        goto out_nc;
    c = r.w->ops->connect(r.w, &srs, eng->interrupted, &gave_up);
    if (!c) {
        rc = gave_up ? ENGINE_BAD_STATE : db_role_failure(conf->role);
        goto out_nc;
    }
    /* its statements run under main_ready() */
    r.loader = (batch_loader){.w = r.w,
                              .export_dir = eng->export_dir,
                              .migration_uuid = catalog_migration_uuid(eng->cat),
                              .enable_upsert = spec->enable_upsert,
                              .abort = &r.abort};
    atomic_init(&r.loader.warned_replication_role, 0);
    if (!c->ops->is_yugabyte(c))
        log_info("the %s database is PostgreSQL: YugabyteDB load settings (upsert mode) are not used",
                 db_role_name(conf->role));
    if (!load_tables(&r, &ts, &n)) {
        rc = ENGINE_BAD_INPUT;
        goto out;
    }
    for (;;) {
        if (!main_ready(&r, c, &srs)) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
        if (c->ops->batches_create(c)) {
            /* its failures are the flags' (bad endpoints, a PostgreSQL target), logged */
            if (!r.w->ops->discover_nodes(r.w, c, spec->target_endpoints, spec->use_public_ip)) {
                rc = ENGINE_BAD_INPUT;
                goto out;
            }
            break;
        }
        if (!main_retry(&r, c, &srs)) {
            rc = r.main_gave_up ? ENGINE_BAD_STATE : db_role_failure(conf->role);
            goto out;
        }
    }
    for (;;) {
        if (!main_ready(&r, c, &srs)) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
        if (check_tables_exist(c, ts, n))
            break;
        if (!main_retry(&r, c, &srs)) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
    }
    /* No generation recorded: this importer has loaded no file yet (set before the first). */
    char *mine = snapshot_import_generation_get(eng->cat, spec->importer_role);
    if (!mine && !spec->start_clean) {
        c->ops->set_retrying(c, false); /* run once: its failures are errors */
        rc = may_load_into(&r, c, ts, n);
        c->ops->set_retrying(c, true);
    }
    /* a refused first run records no generation: the next run asks again */
    bool same = rc == ENGINE_OK && same_generation(&r, mine);
    free(mine);
    if (rc != ENGINE_OK)
        goto out;
    if (!same) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    if (spec->start_clean) {
        c->ops->set_retrying(c, false); /* run once: its failures are errors */
        rc = may_load_into(&r, c, ts, n);
        c->ops->set_retrying(c, true);
        if (rc == ENGINE_OK)
            rc = start_clean(&r, c, ts, n);
        if (rc != ENGINE_OK)
            goto out;
        char *now = catalog_status_get_string(eng->cat, SNAPSHOT_EXPORT_ID_KEY);
        bool ok = !now || snapshot_import_generation_set(eng->cat, spec->importer_role, now);
        free(now);
        if (!ok) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
    }
    for (;;) {
        if (!main_ready(&r, c, &srs)) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
        if (c->ops->batches_load(c, catalog_migration_uuid(eng->cat), &done))
            break;
        if (!main_retry(&r, c, &srs)) {
            rc = r.main_gave_up ? ENGINE_BAD_STATE : db_role_failure(conf->role);
            goto out;
        }
    }
    r.generation = catalog_status_get_string(eng->cat, SNAPSHOT_EXPORT_ID_KEY);
    for (size_t i = 0; i < n; i++) {
        ts[i].attempt = snapshot_import_attempt_get(eng->cat, spec->importer_role, ts[i].schema, ts[i].name);
        if (ts[i].attempt < 0) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
    }

    int nworkers = spec->parallel_jobs < 1 ? 1 : spec->parallel_jobs;
    th = xcalloc((size_t)nworkers, sizeof *th);
    wa = xcalloc((size_t)nworkers, sizeof *wa);
    for (int i = 0; i < nworkers; i++) {
        wa[i] = (worker_arg){&r, i};
        int err = pthread_create(&th[i], NULL, worker_main, &wa[i]);
        if (err != 0) {
            log_report(LOG_ERROR, NULL, "lower --parallel-jobs or raise the process's thread limit",
                       "cannot start import worker thread %d of %d: %s", i + 1, nworkers,
                       strerror(err));
            atomic_store(&r.abort, 1);
            break;
        }
        started++;
    }
    items = xcalloc(n + 1, sizeof *items);
    pb = progress_new(spec->bars, "imported", n);
    int64_t last_poll = 0, last_save = 0, wait_msg = 0;
    bool export_done = false, local_failure = false, failed_db = false;
    for (;;) {
        int64_t now = now_monotonic_ms();
        if (*eng->interrupted)
            atomic_store(&r.abort, 1);
        if (atomic_load(&r.abort))
            break;
        if (now - last_poll >= EXPORT_POLL_MS) {
            last_poll = now;
            export_done = export_finished(eng->cat);
            bool db_failed = false;
            if (!poll_export(&r, c, ts, n, &done, &db_failed)) {
                local_failure = !db_failed; /* the export dir's files or state, not the database */
                failed_db = db_failed;
                atomic_store(&r.abort, 1);
                break;
            }
            kept_plans_report(&r);
            if (!export_done && now - wait_msg >= WAIT_MESSAGE_EVERY_MS) {
                wait_msg = now;
                bool running = cmd_lock_is_held(eng->export_dir, "export-data-from-source", NULL);
                log_say("waiting for export data to finish%s", running ? "" : " (it is not running: start it again)");
            }
        }
        bool all_done = export_done;
        pthread_mutex_lock(&r.mu);
        for (size_t i = 0; i < n; i++) {
            imp_table *t = &ts[i];
            /* A stale file is judged by the next poll, never counted as done. */
            if (!t->done && t->files_queued && t->pending == 0 && !atomic_load(&t->stale))
                t->done = true;
            all_done = all_done && t->done;
            items[i] = (progress_item){t->display, atomic_load(&t->imported), t->total_rows,
                                       t->files_queued && !t->done, t->done, t->earlier};
        }
        if (all_done) {
            r.closed = true;
            pthread_cond_broadcast(&r.cv);
        }
        pthread_mutex_unlock(&r.mu);
        progress_show(pb, items, n);
        if (now - last_save >= 1000 || all_done) {
            last_save = now;
            save_counts(&r, ts, n, false);
        }
        if (all_done)
            break;
        usleep(100000);
    }
    pthread_mutex_lock(&r.mu);
    r.closed = true;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    progress_free(pb);
    pb = NULL;
    save_counts(&r, ts, n, true);
    if (local_failure || failed_db || atomic_load(&r.failed)) {
        rc = local_failure || atomic_load(&r.gave_up) || r.main_gave_up ? ENGINE_BAD_STATE
                                                                       : db_role_failure(conf->role);
        goto out;
    }
    if (atomic_load(&r.abort) || *eng->interrupted) {
        log_report(LOG_ERROR, NULL, "run the same command again to resume", "import data interrupted");
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    int nseq = 0;
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    bool after_cutover = spec->cutover_done_key && catalog_status_get_bool(eng->cat, spec->cutover_done_key);
    if (after_cutover)
        log_info("sequences left as they are: this importer's cutover already set them");
    while (!after_cutover) {
        if (!main_ready(&r, c, &rs)) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
        /* setval is idempotent: a restore cut off half-way is run again whole */
        if (restore_sequences(eng->cat, c, "snapshot", &nseq))
            break;
        if (!main_retry(&r, c, &rs)) {
            rc = r.main_gave_up ? ENGINE_BAD_STATE : db_role_failure(conf->role);
            goto out;
        }
    }
    if (!after_cutover)
        log_info("restored %d sequences", nseq);
    int64_t total = 0, earlier = 0;
    for (size_t i = 0; i < n; i++) {
        total += atomic_load(&ts[i].imported);
        earlier += ts[i].earlier;
    }
    catalog_status_set_bool(eng->cat, spec->done_key, true);
    /* what earlier runs loaded is counted from their batch records, not from the tables now */
    if (earlier > 0)
        log_say("imported %zu tables, %lld rows, into the %s database: %lld of them by this run, "
                "%lld by earlier runs",
                n, (long long)total, db_role_name(conf->role), (long long)(total - earlier),
                (long long)earlier);
    else
        log_say("imported %zu tables, %lld rows, into the %s database", n, (long long)total,
                db_role_name(conf->role));

out:
out_nc:
    writer_session_close(c);
    progress_free(pb);
    free(items);
    free(th);
    free(wa);
    for (size_t i = 0; i < r.qlen; i++) {
        free(r.queue[i]->rel_path);
        free(r.queue[i]->file_name);
        free(r.queue[i]);
    }
    free(r.queue);
    for (size_t i = 0; i < n; i++) {
        free(ts[i].schema);
        free(ts[i].name);
        free(ts[i].display);
        free(ts[i].load_sql);
        strlist_free(&ts[i].queued);
    }
    free(ts);
    import_metainfo_set_free(&done);
    free(r.generation);
    writer_free(r.w);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    return rc;
}
