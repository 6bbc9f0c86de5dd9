#include "snapshot/batch_loader.h"

#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void id_from_stat(const struct stat *st, data_file_id *out)
{
    *out = (data_file_id){(long long)st->st_dev, (long long)st->st_ino, (long long)st->st_size,
                          (long long)st->st_mtim.tv_sec, (long long)st->st_mtim.tv_nsec};
}

bool data_file_id_of_fd(int fd, data_file_id *out)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return false;
    id_from_stat(&st, out);
    return true;
}

bool data_file_id_of_path(const char *path, data_file_id *out)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    id_from_stat(&st, out);
    return true;
}

bool data_file_id_equal(const data_file_id *a, const data_file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_sec == b->mtime_sec &&
           a->mtime_nsec == b->mtime_nsec;
}

writer_session *batch_loader_connect(batch_loader *l, int idx)
{
    return l->w->ops->connect_loader(l->w, idx, l->enable_upsert, &l->warned_replication_role);
}

/* The batch's file, checked to be the one planned; -1 with *stale set when it is not. */
static int open_planned(const batch_loader *l, const batch_job *b, bool *stale)
{
    char *path = xasprintf("%s/%s", l->export_dir, b->rel_path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    *stale = fd < 0 && errno == ENOENT && b->planned;
    data_file_id now;
    if (fd >= 0 && b->planned && (!data_file_id_of_fd(fd, &now) || !data_file_id_equal(&now, b->planned))) {
        close(fd);
        fd = -1;
        *stale = true;
    }
    return fd;
}

/* Below this a COPY holds a row or two: halving again cannot get under an RPC limit. */
#define BATCH_LOADER_MIN_COPY_BYTES 1024

typedef enum batch_outcome {
    BATCH_DONE,
    BATCH_RETRY,
    BATCH_FATAL,
    BATCH_OUTDATED,
    BATCH_TOO_LARGE, /* the database refused it as too large a message: smaller pieces may pass */
} batch_outcome;

static writer_batch batch_of(const batch_job *b, int fd)
{
    return (writer_batch){.display = b->display,
                          .schema = b->schema,
                          .table = b->table,
                          .load_sql = b->load_sql,
                          .file_name = b->file_name,
                          .number = b->r.number,
                          .rows = b->r.rows,
                          .fd = fd,
                          .start = b->r.start_offset,
                          .end = b->r.end_offset};
}

static batch_outcome batch_once(batch_loader *l, writer_session *c, const batch_job *b, char *buf,
                                int64_t copy_cap, char **why)
{
    *why = NULL;
    bool stale = false;
    int fd = open_planned(l, b, &stale);
    if (fd < 0) {
        if (stale)
            return BATCH_OUTDATED;
        *why = xstrdup(strerror(errno));
        return BATCH_FATAL;
    }
    writer_batch wb = batch_of(b, fd);
    writer_load_result res = c->ops->load_batch(c, l->migration_uuid, &wb, copy_cap, buf, why);
    close(fd);
    switch (res) {
    case WRITER_LOAD_DONE:
        return BATCH_DONE;
    case WRITER_LOAD_RETRY:
        return BATCH_RETRY;
    case WRITER_LOAD_TOO_LARGE:
        return BATCH_TOO_LARGE;
    case WRITER_LOAD_FATAL:
        break;
    }
    return BATCH_FATAL;
}

batch_load_result batch_loader_load(batch_loader *l, int idx, writer_session **cp,
                                    const batch_job *b, char *buf)
{
    char *why = NULL;
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    int64_t copy_cap = 0; /* bytes per COPY; 0: the whole batch in one */
    for (;;) {
        if (!*cp)
            *cp = batch_loader_connect(l, idx);
        batch_outcome out = BATCH_RETRY;
        if (*cp && rs.attempt > 0) {
            writer_batch wb = batch_of(b, -1);
            int done = (*cp)->ops->batch_committed(*cp, l->migration_uuid, &wb);
            if (done == 1) {
                log_warn("%s: batch %lld of %s committed before the connection dropped: not "
                         "loaded again",
                         b->display, (long long)b->r.number, b->file_name);
                free(why);
                return BATCH_LOADED;
            }
            if (done < 0) {
                /* the new connection failed already: the next attempt reconnects */
                writer_session_close(*cp);
                *cp = NULL;
            }
        }
        if (*cp) {
            free(why);
            why = NULL;
            out = batch_once(l, *cp, b, buf, copy_cap, &why);
            /*
             * YugabyteDB refuses a write RPC above rpc_max_message_size, the same
             * batch every time (upstream stops and asks for a smaller --batch-size).
             * Rolled back, so it is sent again as COPYs of half the size, in one
             * transaction still, down to single rows.
             */
            if (out == BATCH_TOO_LARGE) {
                out = BATCH_FATAL;
                int64_t len = b->r.end_offset - b->r.start_offset;
                int64_t next = (copy_cap ? copy_cap : len) / 2;
                if (next >= BATCH_LOADER_MIN_COPY_BYTES) {
                    log_warn("%s: batch %lld of %s: %s; sending it again as COPYs of at most %lld bytes",
                             b->display, (long long)b->r.number, b->file_name, why, (long long)next);
                    copy_cap = next;
                    free(why);
                    why = NULL;
                    continue;
                }
                char *w = xasprintf("%s (rows too large for YugabyteDB's RPC message limit even in COPYs "
                                    "of %lld bytes: raise the cluster's rpc_max_message_size or import "
                                    "these rows separately)", why, (long long)(copy_cap ? copy_cap : len));
                free(why);
                why = w;
            }
            if (out == BATCH_DONE || out == BATCH_OUTDATED) {
                free(why);
                return out == BATCH_DONE ? BATCH_LOADED : BATCH_STALE;
            }
            /* A connection left inside a transaction is not reused: the next batch must start clean. */
            if (!(*cp)->ops->idle(*cp)) {
                writer_session_close(*cp);
                *cp = NULL;
                out = BATCH_RETRY;
            }
        } else if (!why) {
            why = xstrdup("cannot connect");
        }
        bool again = out != BATCH_FATAL && retry_failed(&rs);
        if (!again || atomic_load(l->abort)) {
            if (!atomic_load(l->abort) || out == BATCH_FATAL)
                log_report(LOG_ERROR, NULL,
                           out == BATCH_FATAL ? NULL
                                              : "run the same command again once the database is "
                                                "reachable (or raise " RETRY_TIMEOUT_ENV ")",
                           "%s database: importing table %s failed at batch %lld of %s (lines "
                           "%lld-%lld)%s: %s",
                           db_role_name(l->w->conf->role), b->display, (long long)b->r.number,
                           b->rel_path, (long long)b->r.first_line,
                           (long long)(b->r.first_line + b->r.rows - 1),
                           out == BATCH_FATAL ? "" : " after retrying", why ? why : "?");
            free(why);
            return out == BATCH_FATAL ? BATCH_FAILED : BATCH_GAVE_UP;
        }
        log_warn("%s: batch %lld of %s: %s; retrying (attempt %d, giving up after %llds)",
                 b->display, (long long)b->r.number, b->file_name, why ? why : "?",
                 rs.attempt + 1, (long long)(rs.policy.deadline_ms / 1000));
        free(why);
        why = NULL;
        retry_backoff(&rs, NULL);
    }
}

