#include "snapshot/snapshot_export.h"

#include "core/fsutil.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"
#include "snapshot/data_descriptor.h"
#include "snapshot/progress.h"
#include "catalog/snapshot_state.h"
#include "snapshot/table_list.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_BUFFER_BYTES (1024 * 1024)
/* Seconds a COPY may send nothing before its server counts as stalled (default 600). */
#define STALL_TIMEOUT_ENV "YB_VOYAGER_STALL_TIMEOUT"
#define MAX_PARTS 1024

typedef struct table_job {
    src_table *t;
    char *base;
    char *display;
    int nparts;
    int parts_done;            /* under mu */
    bool started;              /* under mu: a worker took one of its parts */
    int64_t *part_rows;        /* under mu */
    int64_t *part_size;        /* under mu */
    bool *part_done;           /* under mu: renamed into place */
    bool *part_recorded;       /* main thread only: in meta.db */
    int parts_recorded;        /* main thread only */
    atomic_llong rows;
    bool recorded;             /* main thread only: DONE in meta.db and the descriptor */
    bool marked_exporting;     /* main thread only */
    int64_t saved_rows;        /* main thread only: last count written to meta.db */
} table_job;

typedef struct unit {
    table_job *job;
    int part;
} unit;

typedef struct export_run {
    engine_ctx *eng;
    source *src;
    const char *snapshot;
    pthread_mutex_t mu;
    unit *units;
    size_t nunits;
    size_t next;          /* under mu */
    atomic_int abort;
    atomic_int workers_left;
    atomic_int failed;
    atomic_int no_space;  /* a write failed with ENOSPC/EDQUOT */
    atomic_int transient; /* a worker lost its source connection */
    atomic_int fatal;     /* a failure no retry mends */
    atomic_int local;     /* a failure of a data file (not of the source) */
    int64_t stall_ms;     /* a COPY silent this long is given up (transient) */
} export_run;

static void stall_warn(export_run *r, const char *table)
{
    atomic_store(&r->transient, 1);
    log_report(LOG_WARN, "the server stopped answering", NULL,
               "source database: exporting table %s: nothing received for %lld s (%s)", table,
               (long long)(r->stall_ms / 1000), STALL_TIMEOUT_ENV);
}

static int64_t stall_timeout_ms(void)
{
    const char *e = getenv(STALL_TIMEOUT_ENV);
    int64_t v;
    if (e && *e) {
        if (parse_int64(e, 1, INT64_MAX / 1000, &v))
            return v * 1000;
        log_warn("%s=%s is not a positive number of seconds; using the default", STALL_TIMEOUT_ENV, e);
    }
    return 600000;
}

/*
 * A data file could not be written (err: the write's errno, saved before any
 * other call can change it). The partial file goes at once: it holds space
 * the rerun needs.
 */
static void file_write_failed(export_run *r, const char *path, int err)
{
    unlink(path);
    if (err == ENOSPC || err == EDQUOT) {
        atomic_store(&r->no_space, 1);
        log_report(LOG_ERROR, NULL,
                   "free space on that file system and run the same command again (finished "
                   "parts are kept)",
                   "cannot write %s: %s", path, strerror(err));
    } else {
        atomic_store(&r->fatal, 1);
        atomic_store(&r->local, 1);
        log_error("cannot write %s: %s", path, strerror(err));
    }
}

static int64_t split_bytes(void)
{
    const char *e = getenv("VOYAGER_EXPORT_SPLIT_BYTES");
    int64_t v;
    if (e && parse_int64(e, 8192, INT64_MAX, &v))
        return v;
    return EXPORT_DEFAULT_SPLIT_BYTES;
}

static char *part_rel_path(const table_job *j, int part)
{
    if (part == 0)
        return xasprintf("data/%s_data.sql", j->base);
    return xasprintf("data/%s_data.part%d.sql", j->base, part);
}

/* 0, or the errno of the failed write. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The data file of one unit being written: rows buffered, then written in large blocks. */
typedef struct unit_file {
    export_run *r;
    table_job *j;
    int fd;
    char *buf; /* WRITE_BUFFER_BYTES */
    size_t used;
    int64_t size;      /* bytes written to fd */
    int64_t rows;      /* rows not yet added to j->rows */
    int64_t part_rows; /* rows of the part */
    int io_err;        /* the errno of a failed write: the sink stopped */
} unit_file;

static bool sink_row(void *arg, const char *row, size_t len)
{
    unit_file *f = arg;
    if (f->used + len > WRITE_BUFFER_BYTES) {
        if ((f->io_err = write_all(f->fd, f->buf, f->used)) != 0)
            return false;
        fs_start_writeback(f->fd, f->size, (int64_t)f->used);
        f->size += (int64_t)f->used;
        f->used = 0;
        atomic_fetch_add(&f->j->rows, f->rows);
        f->rows = 0;
    }
    if (len > WRITE_BUFFER_BYTES) {
        if ((f->io_err = write_all(f->fd, row, len)) != 0)
            return false;
        f->size += (int64_t)len;
    } else {
        memcpy(f->buf + f->used, row, len);
        f->used += len;
    }
    f->rows++;
    f->part_rows++;
    return true;
}

static bool sink_stop(void *arg)
{
    unit_file *f = arg;
    return atomic_load(&f->r->abort) != 0;
}

/* Read one unit from the source into its file. Logs and returns false on failure. */
static bool export_unit(export_run *r, source_rows *rows, const unit *u, char *buf)
{
    table_job *j = u->job;
    char *rel = part_rel_path(j, u->part);
    char *final = xasprintf("%s/%s", r->eng->export_dir, rel);
    char *tmp = xasprintf("%s.tmp", final);
    bool ok = false;
    unit_file f = {.r = r, .j = j, .buf = buf};
    f.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (f.fd < 0) {
        file_write_failed(r, tmp, errno);
        goto out;
    }
    source_rows_sink sink = {.table = j->display, .arg = &f, .row = sink_row, .stop = sink_stop};
    source_rows_result res =
        r->src->ops->rows_read(rows, j->t, u->part, j->nparts, r->stall_ms, &sink);
    if (f.io_err) {
        /* Nothing more can be written: stop the other workers too (the read dies with the reader). */
        atomic_store(&r->abort, 1);
        close(f.fd);
        f.fd = -1;
        file_write_failed(r, tmp, f.io_err);
        goto out;
    }
    switch (res) {
    case SOURCE_ROWS_DONE:
        break;
    case SOURCE_ROWS_STALLED:
        stall_warn(r, j->display);
        goto out_fd;
    case SOURCE_ROWS_TRANSIENT:
        atomic_store(&r->transient, 1);
        goto out_fd;
    case SOURCE_ROWS_FAILED:
        atomic_store(&r->fatal, 1);
        goto out_fd;
    case SOURCE_ROWS_STOPPED:
        goto out_fd;
    }
    int io_err = f.used > 0 ? write_all(f.fd, buf, f.used) : 0;
    f.size += (int64_t)f.used;
    atomic_fetch_add(&j->rows, f.rows);
    if (!io_err && fsync(f.fd) != 0)
        io_err = errno;
    if (!io_err && close(f.fd) != 0)
        io_err = errno;
    else if (io_err)
        close(f.fd);
    f.fd = -1;
    if (io_err) {
        file_write_failed(r, tmp, io_err);
        goto out;
    }
    if (rename(tmp, final) != 0) {
        atomic_store(&r->fatal, 1);
        atomic_store(&r->local, 1);
        log_error("cannot rename %s: %s", tmp, strerror(errno));
        goto out;
    }
    pthread_mutex_lock(&r->mu);
    j->part_size[u->part] = f.size;
    j->part_rows[u->part] = f.part_rows;
    j->part_done[u->part] = true;
    j->parts_done++;
    pthread_mutex_unlock(&r->mu);
    ok = true;
out_fd:
    if (f.fd >= 0) {
        close(f.fd);
        unlink(tmp);
    }
out:
    free(tmp);
    free(final);
    free(rel);
    return ok;
}

static void *worker_main(void *arg)
{
    export_run *r = arg;
    bool transient = false;
    source_rows *rows = r->src->ops->rows_open(r->src, r->snapshot, &transient);
    char *buf = NULL;
    if (!rows) {
        atomic_store(transient ? &r->transient : &r->fatal, 1);
        atomic_store(&r->failed, 1);
        atomic_store(&r->abort, 1);
        goto out;
    }
    buf = xmalloc(WRITE_BUFFER_BYTES);
    for (;;) {
        if (atomic_load(&r->abort))
            break;
        pthread_mutex_lock(&r->mu);
        unit *u = r->next < r->nunits ? &r->units[r->next++] : NULL;
        if (u)
            u->job->started = true;
        pthread_mutex_unlock(&r->mu);
        if (!u)
            break;
        if (!export_unit(r, rows, u, buf)) {
            if (!atomic_load(&r->abort))
                atomic_store(&r->failed, 1);
            atomic_store(&r->abort, 1);
            break;
        }
    }
out:
    free(buf);
    if (rows)
        r->src->ops->rows_close(rows);
    atomic_fetch_sub(&r->workers_left, 1);
    return NULL;
}

/*
 * One of this table's files: <base>_data.sql or <base>_data.part<k>.sql, or
 * either with .tmp. Exactly those: a prefix also matches another table's file
 * (public.t's "t_data." begins "t_data.x_data.sql", the file of t_data.x).
 */
static bool is_table_file(const char *name, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(name, base, n) != 0 || !str_starts_with(name + n, "_data."))
        return false;
    const char *p = name + n + strlen("_data.");
    if (str_starts_with(p, "part") && isdigit((unsigned char)p[4])) {
        p += 4;
        while (isdigit((unsigned char)*p))
            p++;
        if (*p++ != '.')
            return false;
    }
    return strcmp(p, "sql") == 0 || strcmp(p, "sql.tmp") == 0;
}

/* Delete the files of this table left by an interrupted run. */
static void remove_table_files(const char *export_dir, const char *base)
{
    char *dir = xasprintf("%s/data", export_dir);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (is_table_file(e->d_name, base)) {
            char *p = xasprintf("%s/%s", dir, e->d_name);
            unlink(p);
            free(p);
        }
    }
    if (d)
        closedir(d);
    free(dir);
}

bool snapshot_export_remove_files(const char *export_dir)
{
    char *dir = xasprintf("%s/data", export_dir);
    DIR *d = opendir(dir);
    struct dirent *e;
    bool ok = true;
    while (d && (e = readdir(d)) != NULL) {
        if (!str_ends_with(e->d_name, ".sql") && !str_ends_with(e->d_name, ".sql.tmp"))
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name);
        if (unlink(p) != 0 && errno != ENOENT) {
            log_error("cannot remove %s: %s", p, strerror(errno));
            ok = false;
        }
        free(p);
    }
    if (d)
        closedir(d);
    free(dir);
    char *desc = xasprintf("%s/%s", export_dir, DATA_DESCRIPTOR_PATH);
    unlink(desc);
    free(desc);
    return ok;
}

static int by_size_desc(const void *a, const void *b)
{
    const src_table *x = *(src_table *const *)a, *y = *(src_table *const *)b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/*
 * Record the part files finished since the last call (main thread), so that an
 * importer can load them while the rest of their table exports. The renames
 * are made durable first: meta.db must not name a file a crash could lose.
 * done[k] is a copy of part_done taken under the lock.
 */
static bool record_parts(export_run *r, table_job *j, const bool *done)
{
    bool synced = false, ok = true;
    for (int k = 0; ok && k < j->nparts; k++) {
        if (!done[k] || j->part_recorded[k])
            continue;
        if (!synced) {
            char *datadir = xasprintf("%s/data/x", r->eng->export_dir);
            ok = fs_fsync_parent(datadir);
            free(datadir);
            synced = true;
        }
        char *rel = part_rel_path(j, k);
        pthread_mutex_lock(&r->mu);
        int64_t rows = j->part_rows[k], size = j->part_size[k];
        pthread_mutex_unlock(&r->mu);
        ok = ok && snapshot_export_file_add(r->eng->cat, j->t->schema, j->t->name, k, rel, rows, size,
                                            j->t->columns_json);
        free(rel);
        if (ok) {
            j->part_recorded[k] = true;
            j->parts_recorded++;
        }
    }
    return ok;
}

/* A table whose parts are all recorded: DONE, and into the descriptor (main thread). */
static bool record_table_done(export_run *r, table_job *j)
{
    return snapshot_export_table_set(r->eng->cat, j->t->schema, j->t->name, SNAP_DONE,
                                     atomic_load(&j->rows)) &&
           data_descriptor_write(r->eng->cat, r->eng->export_dir);
}

bool snapshot_export_tables(engine_ctx *eng, source *src, const char *snapshot_name,
                            src_table *const *tables, size_t n, int parallel, bool bars,
                            snapshot_export_failure *why)
{
    if (why)
        *why = (snapshot_export_failure){0};
    if (n == 0)
        return true;
    src_table **sorted = xcalloc(n, sizeof *sorted);
    memcpy(sorted, tables, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_size_desc);

    int64_t split = split_bytes();
    table_job *jobs = xcalloc(n, sizeof *jobs);
    size_t nunits = 0;
    for (size_t i = 0; i < n; i++) {
        table_job *j = &jobs[i];
        j->t = sorted[i];
        j->base = src_table_file_base(j->t->schema, j->t->name);
        j->display = table_display_name(j->t->schema, j->t->name);
        j->nparts = src->ops->rows_parts(src, j->t, split, MAX_PARTS);
        if (j->nparts < 1 || j->nparts > MAX_PARTS) {
            log_bug("the source splits %s into %d parts", j->display, j->nparts);
            j->nparts = 1;
        }
        j->part_rows = xcalloc((size_t)j->nparts, sizeof *j->part_rows);
        j->part_size = xcalloc((size_t)j->nparts, sizeof *j->part_size);
        j->part_done = xcalloc((size_t)j->nparts, sizeof *j->part_done);
        j->part_recorded = xcalloc((size_t)j->nparts, sizeof *j->part_recorded);
        atomic_init(&j->rows, 0);
        nunits += (size_t)j->nparts;
    }
    export_run r = {.eng = eng, .src = src, .snapshot = snapshot_name, .stall_ms = stall_timeout_ms()};
    pthread_mutex_init(&r.mu, NULL);
    r.units = xcalloc(nunits, sizeof *r.units);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        table_job *j = &jobs[i];
        /* A new attempt in meta.db before the old files go: an importer loading them sees why. */
        ok = snapshot_export_table_restart(eng->cat, j->t->schema, j->t->name);
        remove_table_files(eng->export_dir, j->base);
        for (int k = 0; k < j->nparts; k++)
            r.units[r.nunits++] = (unit){.job = j, .part = k};
    }
    /* A table restarted after it was DONE (a new live snapshot) leaves the descriptor now. */
    ok = ok && data_descriptor_write(eng->cat, eng->export_dir);
    int nworkers = parallel < 1 ? 1 : parallel;
    if ((size_t)nworkers > nunits)
        nworkers = (int)nunits;
    pthread_t *th = xcalloc((size_t)nworkers, sizeof *th);
    atomic_init(&r.abort, 0);
    atomic_init(&r.failed, 0);
    atomic_init(&r.no_space, 0);
    atomic_init(&r.transient, 0);
    atomic_init(&r.fatal, 0);
    atomic_init(&r.local, 0);
    atomic_init(&r.workers_left, 0);
    int started = 0;
    if (ok) {
        log_info("exporting %zu tables (%zu parts) with %d workers in snapshot %s", n, nunits,
                 nworkers, snapshot_name);
        for (int i = 0; i < nworkers; i++) {
            atomic_fetch_add(&r.workers_left, 1);
            int err = pthread_create(&th[i], NULL, worker_main, &r);
            if (err != 0) {
                atomic_fetch_sub(&r.workers_left, 1);
                log_report(LOG_ERROR, NULL,
                           "lower --parallel-jobs or raise the process's thread limit, then run "
                           "the same command again",
                           "cannot start export worker thread %d of %d: %s", i + 1, nworkers,
                           strerror(err));
                atomic_store(&r.abort, 1);
                ok = false;
                atomic_store(&r.local, 1); /* the machine's limits, not the source */
                break;
            }
            started++;
        }
    }

    progress_item *items = xcalloc(n, sizeof *items);
    bool *done_copy = xcalloc(MAX_PARTS, sizeof *done_copy);
    progress *pb = progress_new(bars, "exported", n);
    bool last_round = false;
    int64_t last_save = now_monotonic_ms();
    while (ok || started > 0) {
        if (*eng->interrupted)
            atomic_store(&r.abort, 1);
        bool all_exited = atomic_load(&r.workers_left) == 0;
        int64_t now = now_monotonic_ms();
        bool save_due = now - last_save >= 2000;
        if (save_due)
            last_save = now;
        for (size_t i = 0; i < n; i++) {
            table_job *j = &jobs[i];
            pthread_mutex_lock(&r.mu);
            bool started_j = j->started;
            memcpy(done_copy, j->part_done, (size_t)j->nparts * sizeof *done_copy);
            int parts_done = j->parts_done;
            pthread_mutex_unlock(&r.mu);
            items[i].name = j->display;
            items[i].done = atomic_load(&j->rows);
            items[i].total = j->t->est_rows;
            items[i].active = started_j && parts_done < j->nparts;
            if (ok && parts_done > j->parts_recorded && !record_parts(&r, j, done_copy)) {
                atomic_store(&r.abort, 1);
                ok = false;
            }
            bool finished = j->parts_recorded == j->nparts;
            if (started_j && !finished && ok &&
                (!j->marked_exporting || (save_due && items[i].done != j->saved_rows))) {
                /* Progress for export data status, every few seconds. */
                j->marked_exporting = true;
                j->saved_rows = items[i].done;
                snapshot_export_table_set(eng->cat, j->t->schema, j->t->name, SNAP_EXPORTING,
                                          items[i].done);
            }
            if (finished && !j->recorded && ok) {
                j->recorded = true;
                if (!record_table_done(&r, j)) {
                    atomic_store(&r.abort, 1);
                    ok = false;
                }
            }
            items[i].finished = finished;
        }
        progress_show(pb, items, n);
        if (last_round)
            break;
        if (all_exited)
            last_round = true; /* one more pass records what the last workers finished */
        else
            usleep(bars ? 200000 : 100000);
    }
    progress_free(pb);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    bool main_ok = ok; /* no failure of meta.db or the descriptor (not worth a retry) */
    if (atomic_load(&r.failed) || atomic_load(&r.abort))
        ok = false;
    for (size_t i = 0; i < n; i++)
        if (!jobs[i].recorded)
            ok = false;
    if (*eng->interrupted)
        log_report(LOG_ERROR, NULL, "run the same command again to resume", "export data interrupted");
    if (!ok && why) {
        why->no_space = atomic_load(&r.no_space) != 0;
        why->local = atomic_load(&r.local) || !main_ok;
        why->transient = atomic_load(&r.transient) && !atomic_load(&r.fatal) && !why->no_space &&
                         main_ok && !*eng->interrupted;
    }

    free(items);
    free(done_copy);
    free(th);
    free(r.units);
    pthread_mutex_destroy(&r.mu);
    for (size_t i = 0; i < n; i++) {
        free(jobs[i].base);
        free(jobs[i].display);
        free(jobs[i].part_rows);
        free(jobs[i].part_size);
        free(jobs[i].part_done);
        free(jobs[i].part_recorded);
    }
    free(jobs);
    free(sorted);
    return ok;
}
