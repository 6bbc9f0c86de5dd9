#include "cli/export_dir_guard.h"

#include "catalog/migration_state.h"
#include "cdc/queue_format.h"
#include "core/log.h"
#include "core/util.h"

#include <dirent.h>
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
    if (!f.example)
        goto out;
    char *path = xasprintf("%s/metainfo/meta.db", export_dir);
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size == 0) {
        log_report(LOG_ERROR,
                   "meta.db says what those files are and what was applied from them, so nothing "
                   "may run without it",
                   WHAT_TO_DO, "%s is missing, but the export dir holds exported data (%s)", path,
                   f.example);
        free(path);
        ok = false;
        goto out;
    }
    long long missing = -1;
    char *detail = NULL;
    catalog_records r = catalog_check_records(path, f.segments, f.nsegments, f.nsql > 0, &missing,
                                              &detail);
    free(path);
    ok = r == CATALOG_RECORDS_OK;
    if (r == CATALOG_RECORDS_CANNOT_OPEN) {
        log_report(LOG_ERROR, NULL, WHAT_TO_DO, "cannot open %s/metainfo/meta.db: %s", export_dir,
                   detail);
    } else if (r == CATALOG_RECORDS_UNREADABLE) {
        log_report(LOG_ERROR, NULL, WHAT_TO_DO, "%s/metainfo/meta.db cannot be read: %s", export_dir,
                   detail);
    } else if (r == CATALOG_RECORDS_NO_SEGMENT) {
        char *seg = xasprintf(QUEUE_SEGMENT_FMT, missing);
        log_report(LOG_ERROR, "meta.db is damaged or of another migration", WHAT_TO_DO,
                   "%s/metainfo/meta.db has no record of queue segment %s", export_dir, seg);
        free(seg);
    } else if (r == CATALOG_RECORDS_NO_TABLES) {
        /* tables are recorded before any of their files is written (snapshot_export_table_ensure) */
        log_report(LOG_ERROR, "meta.db is damaged or of another migration", WHAT_TO_DO,
                   "%s/metainfo/meta.db has no record of the exported data files (%s ...)",
                   export_dir, f.example);
    }
    free(detail);
out:
    free(f.segments);
    free(f.example);
    return ok;
}

bool export_dir_has_migration(const char *dir)
{
    if (!dir || !*dir)
        return true;
    char *path = xasprintf("%s/metainfo/meta.db", dir);
    struct stat st;
    bool ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
    free(path);
    if (ok || !export_dir_guard(dir))
        return ok;
    static const char fix[] = "check --export-dir: give the export dir of a migration (one that "
                              "'yb-voyager export schema' or 'export data' started)";
    if (stat(dir, &st) != 0)
        log_report(LOG_ERROR, NULL, fix, "no migration in export dir %s (it does not exist)", dir);
    else
        log_report(LOG_ERROR, NULL, fix, "no migration in export dir %s (it has no metainfo/meta.db)",
                   dir);
    return false;
}
