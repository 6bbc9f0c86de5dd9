#include "cli/export_dir_guard.h"

#include "catalog/catalog_int.h" /* transitional (issue 14): SQL moves into src/catalog/ */
#include "cdc/queue_format.h"
#include "core/log.h"
#include "core/util.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Non-empty regular files: what a new migration would overwrite or orphan. */
static bool nonempty_file(const char *dir, const char *name)
{
    char *p = xasprintf("%s/%s", dir, name);
    struct stat st;
    bool yes = stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
    free(p);
    return yes;
}

typedef struct found {
    long long *segments; /* numbers of data/queue/segment.<N>.ndjson */
    size_t nsegments;
    size_t nsql;         /* snapshot data files, data/<name>.sql */
    char *example;       /* one of them, relative to the export dir */
} found;

static void scan(const char *export_dir, found *f)
{
    char *data = xasprintf("%s/data", export_dir);
    DIR *d = opendir(data);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (str_ends_with(e->d_name, ".sql") && nonempty_file(data, e->d_name)) {
            if (!f->example)
                f->example = xasprintf("data/%s", e->d_name);
            f->nsql++;
        }
    }
    if (d)
        closedir(d);
    char *qdir = xasprintf("%s/%s", export_dir, QUEUE_DIR);
    d = opendir(qdir);
    while (d && (e = readdir(d)) != NULL) {
        long long no;
        int end = 0;
        if (sscanf(e->d_name, "segment.%lld.ndjson%n", &no, &end) == 1 && e->d_name[end] == '\0' &&
            nonempty_file(qdir, e->d_name)) {
            f->segments = xrealloc(f->segments, (f->nsegments + 1) * sizeof *f->segments);
            f->segments[f->nsegments++] = no;
            free(f->example);
            f->example = xasprintf(QUEUE_SEGMENT_FMT, no);
        }
    }
    if (d)
        closedir(d);
    free(qdir);
    free(data);
}

/* 1: the statement returns a row, 0: no row or no such table, -1: another error. */
static int has_row(sqlite3 *db, const char *sql, long long arg)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return strstr(sqlite3_errmsg(db), "no such table") ? 0 : -1;
    sqlite3_bind_int64(st, 1, arg);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

#define WHAT_TO_DO                                                                                 \
    "restore this migration's meta.db (with meta.db-wal if it had one) from a backup and run "     \
    "the command again; to start a new migration instead, use a new, empty --export-dir (the "     \
    "old migration's replication slot voyager_slot_<migration uuid> on the source database "      \
    "holds WAL until it is dropped)"

bool export_dir_guard(const char *export_dir)
{
    found f = {0};
    scan(export_dir, &f);
    bool ok = true;
    sqlite3 *db = NULL;
    if (!f.example)
        goto out;
    char *path = xasprintf("%s/metainfo/meta.db", export_dir);
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size == 0) {
        log_error("%s is missing, but the export dir holds exported data (%s): meta.db says what "
                  "those files are and what was applied from them, so nothing may run without it: "
                  WHAT_TO_DO,
                  path, f.example);
        free(path);
        ok = false;
        goto out;
    }
    /* read-write without create: a read-only open could not read a WAL it must recover */
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    free(path);
    if (rc != SQLITE_OK) {
        log_error("cannot open %s/metainfo/meta.db: %s: " WHAT_TO_DO, export_dir,
                  db ? sqlite3_errmsg(db) : "out of memory");
        ok = false;
        goto out;
    }
    sqlite3_busy_timeout(db, 30000);
    for (size_t i = 0; ok && i < f.nsegments; i++) {
        int r = has_row(db, "SELECT 1 FROM queue_segment WHERE segment_no = ?1", f.segments[i]);
        if (r != 1) {
            char *seg = xasprintf(QUEUE_SEGMENT_FMT, f.segments[i]);
            if (r == 0)
                log_error("%s/metainfo/meta.db has no record of queue segment %s: meta.db is "
                          "damaged or of another migration: " WHAT_TO_DO,
                          export_dir, seg);
            else
                log_error("%s/metainfo/meta.db cannot be read: %s: " WHAT_TO_DO, export_dir,
                          sqlite3_errmsg(db));
            free(seg);
            ok = false;
        }
    }
    if (ok && f.nsql > 0) {
        /* tables are recorded before any of their files is written (snapshot_export_table_ensure) */
        int r = has_row(db, "SELECT 1 FROM snapshot_export_table LIMIT 1", 0);
        if (r != 1) {
            if (r == 0)
                log_error("%s/metainfo/meta.db has no record of the exported data files (%s ...): "
                          "meta.db is damaged or of another migration: " WHAT_TO_DO,
                          export_dir, f.example);
            else
                log_error("%s/metainfo/meta.db cannot be read: %s: " WHAT_TO_DO, export_dir,
                          sqlite3_errmsg(db));
            ok = false;
        }
    }
out:
    sqlite3_close(db);
    free(f.segments);
    free(f.example);
    return ok;
}
