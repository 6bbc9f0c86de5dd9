/* Replication protocol client side, after pg_recvlogical.c's receive loop. */
#include "db/replication/replstream.h"

#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

/* Microseconds between the Unix and the PostgreSQL epoch (2000-01-01). */
#define PG_EPOCH_OFFSET_US 946684800000000LL
/*
 * When nothing has arrived, how long to let the walsender's messages gather
 * in the socket before waiting on it. Woken for every few messages, this
 * process spent most of its CPU in wakeups and small reads, and the
 * walsender a third of its own in waking it and taking the ACKs of those
 * reads (bench/RESULTS-cdc.md: on a backlog, 2 ms took the exporter from
 * ~1.2 to ~0.35 CPU-s and the walsender from ~2.4 to ~1.5). A change that
 * arrives on an idle stream waits at most this much longer.
 */
#define GATHER_MS 2

char *lsn_format(uint64_t lsn, char *buf)
{
    snprintf(buf, 20, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
    return buf;
}

bool lsn_parse(const char *s, uint64_t *out)
{
    unsigned int hi, lo;
    int n = 0;
    if (!s || sscanf(s, "%X/%X%n", &hi, &lo, &n) != 2 || s[n] != '\0')
        return false;
    *out = (uint64_t)hi << 32 | lo;
    return true;
}

bool repl_create_slot(pgconn *c, const char *slot, bool export_snapshot, char **snapshot_name,
                      uint64_t *consistent_lsn)
{
    *snapshot_name = NULL;
    char *q = pg_quote_ident(slot);
    /* PostgreSQL 15 takes the option list; older servers the keyword form. */
    char *sql = c->server_version_num >= 150000
                    ? xasprintf("CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT '%s')", q,
                                export_snapshot ? "export" : "nothing")
                    : xasprintf("CREATE_REPLICATION_SLOT %s LOGICAL pgoutput %s", q,
                                export_snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT");
    free(q);
    PGresult *r = pgconn_query(c, sql, 0, NULL);
    free(sql);
    if (!r)
        return false;
    bool ok = PQntuples(r) == 1 && PQnfields(r) >= 3 &&
              lsn_parse(PQgetvalue(r, 0, 1), consistent_lsn);
    if (ok && export_snapshot && !PQgetisnull(r, 0, 2))
        *snapshot_name = xstrdup(PQgetvalue(r, 0, 2));
    if (!ok)
        log_error("unexpected answer to CREATE_REPLICATION_SLOT for slot %s", slot);
    PQclear(r);
    return ok;
}

bool repl_start(pgconn *c, const char *slot, uint64_t start, const char *publication, char *err,
                size_t errlen)
{
    char lsn[24];
    char *qs = pg_quote_ident(slot);
    /* publication_names is a list of identifiers inside a string literal. */
    char *qp = pg_quote_ident(publication);
    char *lit = pg_quote_literal(qp);
    char *sql = xasprintf("START_REPLICATION SLOT %s LOGICAL %s (proto_version '1', "
                          "publication_names %s)",
                          qs, lsn_format(start, lsn), lit);
    free(qs), free(qp), free(lit);
    PGresult *r = PQexec(c->pg, sql);
    free(sql);
    bool ok = PQresultStatus(r) == PGRES_COPY_BOTH;
    c->sqlstate[0] = '\0';
    c->last_error_retryable = false;
    if (!ok) {
        const char *msg = pgconn_note_result(c, r);
        /* The caller says how bad it is; the server's severity word would contradict a warning. */
        if (strncmp(msg, "ERROR:  ", 8) == 0 || strncmp(msg, "FATAL:  ", 8) == 0)
            msg += 8;
        snprintf(err, errlen, "%s", msg);
        err[strcspn(err, "\n")] = '\0';
    }
    PQclear(r);
    return ok;
}

/* Note why the stream failed, for the caller to report. */
static void stream_failed(repl_stream *s, const PGresult *r, const char *what)
{
    const char *msg = pgconn_note_result(s->conn, r);
    if (strncmp(msg, "ERROR:  ", 8) == 0 || strncmp(msg, "FATAL:  ", 8) == 0)
        msg += 8;
    snprintf(s->error, sizeof s->error, "%s: %s", what, msg);
    s->error[strcspn(s->error, "\n")] = '\0';
    s->retryable = s->conn->last_error_retryable;
}

static uint64_t be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

/*
 * Wait up to timeout_ms for fd to be readable: at once if it already is,
 * else after a GATHER_MS pause. >0: readable, 0: timed out, <0: poll's or
 * nanosleep's error in errno (EINTR: a signal).
 */
static int wait_readable(int fd, int64_t timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc = poll(&p, 1, 0);
    if (rc != 0)
        return rc;
    int64_t nap = timeout_ms < GATHER_MS ? timeout_ms : GATHER_MS;
    struct timespec ts = {0, (long)nap * 1000000L};
    if (nanosleep(&ts, NULL) != 0)
        return -1;
    timeout_ms -= nap;
    return poll(&p, 1, (int)timeout_ms);
}

void repl_receive(repl_stream *s, int timeout_ms, repl_msg *out)
{
    memset(out, 0, sizeof *out);
    if (s->buf) {
        PQfreemem(s->buf);
        s->buf = NULL;
    }
    PGconn *pg = s->conn->pg;
    int64_t deadline = -1; /* taken only when we have to wait: the hot path stays cheap */
    for (;;) {
        int n = PQgetCopyData(pg, &s->buf, 1);
        if (n > 0) {
            const unsigned char *p = (const unsigned char *)s->buf;
            if (p[0] == 'w' && n >= 25) {
                out->kind = REPL_XLOGDATA;
                out->wal_start = be64(p + 1);
                out->wal_end = be64(p + 9);
                out->data = s->buf + 25;
                out->len = (size_t)n - 25;
                return;
            }
            if (p[0] == 'k' && n >= 18) {
                out->kind = REPL_KEEPALIVE;
                out->wal_end = be64(p + 1);
                out->reply_requested = p[17] != 0;
                return;
            }
            snprintf(s->error, sizeof s->error, "unexpected replication message of type %d", p[0]);
            s->retryable = false;
            out->kind = REPL_ERROR;
            return;
        }
        if (n == -1) {
            PGresult *r = PQgetResult(pg);
            bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
            if (ok) {
                /* The server ended the stream itself (shutting down): a new one may continue. */
                snprintf(s->error, sizeof s->error, "the server ended the replication stream");
                s->retryable = true;
            } else {
                stream_failed(s, r, "replication stream ended");
            }
            PQclear(r);
            out->kind = ok ? REPL_END : REPL_ERROR;
            return;
        }
        if (n == -2) {
            stream_failed(s, NULL, "replication stream failed");
            out->kind = REPL_ERROR;
            return;
        }
        if (timeout_ms <= 0)
            return;
        if (deadline < 0)
            deadline = now_monotonic_ms() + timeout_ms;
        int64_t left = deadline - now_monotonic_ms();
        if (left <= 0)
            return;
        int rc = wait_readable(PQsocket(pg), left);
        if (rc < 0 && errno != EINTR) {
            snprintf(s->error, sizeof s->error, "waiting on the replication connection failed: %s",
                     strerror(errno));
            s->retryable = false;
            out->kind = REPL_ERROR;
            return;
        }
        if (rc < 0)
            return; /* a signal: let the caller look at its flags */
        if (rc > 0 && !PQconsumeInput(pg)) {
            stream_failed(s, NULL, "replication connection lost");
            out->kind = REPL_ERROR;
            return;
        }
    }
}

bool repl_send_status(repl_stream *s, uint64_t lsn, bool reply_requested)
{
    unsigned char m[34];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - PG_EPOCH_OFFSET_US;
    m[0] = 'r';
    put64(m + 1, lsn);
    put64(m + 9, lsn);
    put64(m + 17, lsn);
    put64(m + 25, (uint64_t)now_us);
    m[33] = reply_requested ? 1 : 0;
    if (PQputCopyData(s->conn->pg, (const char *)m, sizeof m) <= 0 || PQflush(s->conn->pg) != 0) {
        stream_failed(s, NULL, "could not send replication status");
        /* A socket that takes no more bytes is as good as lost. */
        s->retryable = true;
        return false;
    }
    return true;
}

void repl_stream_clear(repl_stream *s)
{
    if (s->buf)
        PQfreemem(s->buf);
    s->buf = NULL;
}

bool repl_drop_slot(pgconn *c, const char *slot, bool terminate_active, bool *dropped)
{
    const char *p[] = {slot};
    *dropped = false;
    for (int i = 0; i < 100; i++) {
        PGresult *r = pgconn_query(c, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1",
                                   1, p);
        if (!r)
            return false;
        bool exists = PQntuples(r) > 0;
        bool busy = exists && !PQgetisnull(r, 0, 0);
        char *pid = busy ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
        PQclear(r);
        if (!exists)
            return true;
        if (!busy) {
            free(pid);
            *dropped = pgconn_exec_params(c, "SELECT pg_drop_replication_slot($1)", 1, p);
            return *dropped;
        }
        if (terminate_active && i == 0) {
            const char *tp[] = {pid};
            pgconn_exec_params(c, "SELECT pg_terminate_backend($1::int)", 1, tp);
        }
        free(pid);
        usleep(100 * 1000);
    }
    /* object_in_use, as the server says it: a caller that retries can tell (pgconn.h retries). */
    snprintf(c->sqlstate, sizeof c->sqlstate, "55006");
    if (c->retries)
        log_warn("%s database: replication slot %s is still in use by another process",
                 db_role_name(c->role), slot);
    else
        log_report(LOG_ERROR, NULL, "stop it first",
                   "%s database: replication slot %s is still in use by another process",
                   db_role_name(c->role), slot);
    return false;
}
