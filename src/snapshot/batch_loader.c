#include "snapshot/batch_loader.h"

#include "core/log.h"
#include "core/util.h"
#include "snapshot/import_metainfo.h"

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

pgconn *batch_loader_connect(batch_loader *l, int idx)
{
    /*
     * A failure is a warning: batch_loader_load() retries under the policy and
     * logs the error when it gives up (the main connection, same settings, got
     * through: a worker's failure is the database's, for now).
     */
    pgconn_options opt = {.application_name = "yb-voyager import data worker", .warn = true};
    pgconn *c = yb_nodes_connect(l->nodes, (size_t)idx, l->conf, &opt);
    if (!c)
        return NULL;
    c->retries = true; /* batch_loader_load */
    if (c->is_yugabyte && l->enable_upsert && !pgconn_exec(c, "SET yb_enable_upsert_mode = true")) {
        pgconn_close(c);
        return NULL;
    }
    if (!pgconn_exec(c, "SET statement_timeout = 0")) {
        pgconn_close(c);
        return NULL;
    }
    /*
     * Tables are loaded in any order, in parallel: foreign keys and triggers
     * must not fire (as in yb-voyager). Needs a superuser; without one, say so once.
     */
    PGresult *res = pgconn_query_quiet(c, "SET session_replication_role = replica", 0, NULL);
    if (!res && !atomic_exchange(&l->warned_replication_role, 1))
        log_report(LOG_WARN, "tables are loaded in parallel, so foreign keys may fail", NULL,
                   "%s database: cannot disable triggers and foreign key checks for the import (%s)",
                   db_role_name(l->conf->role), PQerrorMessage(c->pg));
    PQclear(res);
    return c;
}

/*
 * Before a retry: did the batch commit although its COMMIT got no answer (the
 * connection dropped after the server committed)? Its metainfo row commits
 * with it. 1 yes, 0 no, -1 unknown.
 */
static int batch_committed(batch_loader *l, pgconn *c, const batch_job *b)
{
    char no[32];
    snprintf(no, sizeof no, "%lld", (long long)b->r.number);
    const char *p[5] = {l->migration_uuid, b->file_name, no, b->schema, b->table};
    PGresult *r = pgconn_query_quiet(c,
                                     "SELECT 1 FROM ybvoyager_metadata."
                                     "ybvoyager_import_data_batches_metainfo_v3 WHERE "
                                     "migration_uuid = $1 AND data_file_name = $2 AND "
                                     "batch_number = $3 AND schema_name = $4 AND table_name = $5",
                                     5, p);
    if (!r)
        return -1;
    int out = PQntuples(r) > 0;
    PQclear(r);
    return out;
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

/*
 * Send the batch's bytes from fd. Returns NULL on success, else a message
 * (static or owned by libpq/errno) describing the failure.
 */
static const char *send_range(pgconn *c, int64_t from, int64_t to, int fd, char *buf, bool *local)
{
    *local = false;
    int64_t off = from;
    const char *err = NULL;
    while (off < to && !err) {
        size_t want = (size_t)(to - off);
        if (want > BATCH_LOADER_BUFFER_BYTES)
            want = BATCH_LOADER_BUFFER_BYTES;
        ssize_t n = pread(fd, buf, want, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *local = true;
            err = n < 0 ? strerror(errno) : "data file is shorter than its batch plan";
            break;
        }
        if (PQputCopyData(c->pg, buf, (int)n) != 1)
            err = PQerrorMessage(c->pg);
        off += n;
    }
    return err;
}

/* Below this a COPY holds a row or two: halving again cannot get under an RPC limit. */
#define BATCH_LOADER_MIN_COPY_BYTES 1024

typedef enum batch_outcome { BATCH_DONE, BATCH_RETRY, BATCH_FATAL, BATCH_OUTDATED } batch_outcome;

/*
 * Where a COPY of at most cap bytes starting at from ends: just past the first
 * row end at or after from + cap (rows are lines: COPY text escapes newlines),
 * never past to. -1 when the file cannot be read.
 */
static int64_t cut_after(int fd, int64_t from, int64_t to, int64_t cap)
{
    int64_t pos = from + cap - 1;
    if (cap <= 0 || pos >= to - 1)
        return to;
    char chunk[8192];
    while (pos < to) {
        size_t want = (size_t)(to - pos) < sizeof chunk ? (size_t)(to - pos) : sizeof chunk;
        ssize_t n = pread(fd, chunk, want, pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        char *nl = memchr(chunk, '\n', (size_t)n);
        if (nl)
            return pos + (nl - chunk) + 1;
        pos += n;
    }
    return to;
}

static batch_outcome batch_once(batch_loader *l, pgconn *c, const batch_job *b, char *buf, int64_t copy_cap,
                                char **why)
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
    PGresult *res = PQexec(c->pg, "BEGIN");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        goto failed;
    PQclear(res);
    /*
     * YugabyteDB transparently retries the first statement of a transaction on
     * a read restart; a COPY's data stream cannot be replayed that way. A trivial
     * first statement (as upstream) leaves every retry of the batch to us.
     */
    if (c->is_yugabyte) {
        res = PQexec(c->pg, "SELECT 1");
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            goto failed;
        PQclear(res);
    }
    /* copy_cap > 0: the batch goes as several COPYs, still one transaction (YugabyteDB's RPC limit) */
    int64_t copied = 0, pos = b->r.start_offset;
    do {
        int64_t to = cut_after(fd, pos, b->r.end_offset, copy_cap);
        if (to < 0) {
            *why = xstrdup(errno ? strerror(errno) : "data file is shorter than its batch plan");
            close(fd);
            pgconn_exec(c, "ROLLBACK");
            return BATCH_FATAL;
        }
        res = PQexec(c->pg, b->copy_sql);
        if (PQresultStatus(res) != PGRES_COPY_IN)
            goto failed;
        PQclear(res);
        bool local = false;
        const char *err = send_range(c, pos, to, fd, buf, &local);
        if (err) {
            close(fd);
            *why = xstrdup(err);
            PQputCopyEnd(c->pg, "aborted by yb-voyager");
            while ((res = PQgetResult(c->pg)) != NULL)
                PQclear(res);
            pgconn_exec(c, "ROLLBACK");
            return local ? BATCH_FATAL : BATCH_RETRY;
        }
        if (PQputCopyEnd(c->pg, NULL) != 1) {
            close(fd);
            *why = xstrdup(PQerrorMessage(c->pg));
            return BATCH_RETRY;
        }
        res = PQgetResult(c->pg);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            goto failed;
        copied += strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        while ((res = PQgetResult(c->pg)) != NULL)
            PQclear(res);
        pos = to;
    } while (pos < b->r.end_offset);
    close(fd);
    fd = -1;
    if (copied != b->r.rows)
        log_warn("%s: batch %lld of %s loaded %lld rows, expected %lld", b->display,
                 (long long)b->r.number, b->file_name, (long long)copied, (long long)b->r.rows);
    res = import_metainfo_insert(c, l->migration_uuid, b->file_name, b->r.number,
                                 b->schema, b->table, copied);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (st && strcmp(st, "23505") == 0) {
            /* Committed by an earlier run we did not know about: keep that one. */
            PQclear(res);
            pgconn_exec(c, "ROLLBACK");
            return BATCH_DONE;
        }
        goto failed;
    }
    PQclear(res);
    res = PQexec(c->pg, "COMMIT");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        goto failed;
    /* COMMIT of a transaction that failed underway answers ROLLBACK: not done. */
    bool committed = strcmp(PQcmdStatus(res), "COMMIT") == 0;
    PQclear(res);
    if (!committed) {
        *why = xstrdup("the transaction was rolled back at commit");
        return BATCH_RETRY;
    }
    return BATCH_DONE;

failed:
    if (fd >= 0)
        close(fd);
    const char *msg = pgconn_note_result(c, res);
    *why = xstrdup(msg);
    (*why)[strcspn(*why, "\n")] = '\0';
    PQclear(res);
    bool retry = c->last_error_retryable;
    if (PQstatus(c->pg) == CONNECTION_OK) {
        while ((res = PQgetResult(c->pg)) != NULL)
            PQclear(res);
        PGresult *rb = PQexec(c->pg, "ROLLBACK");
        PQclear(rb);
    }
    return retry ? BATCH_RETRY : BATCH_FATAL;
}

batch_load_result batch_loader_load(batch_loader *l, int idx, pgconn **cp, const batch_job *b,
                                    char *buf)
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
            int done = batch_committed(l, *cp, b);
            if (done == 1) {
                log_warn("%s: batch %lld of %s committed before the connection dropped: not "
                         "loaded again",
                         b->display, (long long)b->r.number, b->file_name);
                free(why);
                return BATCH_LOADED;
            }
            if (done < 0) {
                /* the new connection failed already: the next attempt reconnects */
                pgconn_close(*cp);
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
            if (out == BATCH_FATAL && (*cp)->is_yugabyte && why &&
                PQtransactionStatus((*cp)->pg) == PQTRANS_IDLE &&
                strstr(why, "Sending too long RPC message")) {
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
            if (PQstatus((*cp)->pg) != CONNECTION_OK ||
                PQtransactionStatus((*cp)->pg) != PQTRANS_IDLE) {
                pgconn_close(*cp);
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
                           db_role_name(l->conf->role), b->display, (long long)b->r.number,
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

