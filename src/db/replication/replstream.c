/* Replication protocol client side, after pg_recvlogical.c's receive loop. */
#include "db/replication/replstream.h"

#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

/* Microseconds between the Unix and the PostgreSQL epoch (2000-01-01). */
#define PG_EPOCH_OFFSET_US 946684800000000LL

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

bool repl_start(pgconn *c, const char *slot, uint64_t start, const char *publication)
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
    const char *state = ok ? NULL : PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
    /* 55006: the slot is still held by the walsender of a process that just died. */
    if (!ok)
        log_msg(strcmp(c->sqlstate, "55006") == 0 ? LOG_INFO : LOG_ERROR,
                "%s database: could not start replication from slot %s: %s", db_role_name(c->role),
                slot, PQerrorMessage(c->pg));
    PQclear(r);
    return ok;
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
            log_error("%s database: unexpected replication message of type %d",
                      db_role_name(s->conn->role), p[0]);
            out->kind = REPL_ERROR;
            return;
        }
        if (n == -1) {
            PGresult *r = PQgetResult(pg);
            bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
            if (!ok)
                log_error("%s database: replication stream ended: %s", db_role_name(s->conn->role),
                          r ? PQresultErrorMessage(r) : PQerrorMessage(pg));
            PQclear(r);
            out->kind = ok ? REPL_END : REPL_ERROR;
            return;
        }
        if (n == -2) {
            log_error("%s database: replication stream failed: %s", db_role_name(s->conn->role),
                      PQerrorMessage(pg));
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
        int fd = PQsocket(pg);
        fd_set rfds;
        FD_ZERO(&rfds);
        FD_SET(fd, &rfds);
        struct timeval tv = {left / 1000, (left % 1000) * 1000};
        int rc = select(fd + 1, &rfds, NULL, NULL, &tv);
        if (rc < 0 && errno != EINTR) {
            log_error("%s database: select on the replication connection failed: %s",
                      db_role_name(s->conn->role), strerror(errno));
            out->kind = REPL_ERROR;
            return;
        }
        if (rc < 0)
            return; /* a signal: let the caller look at its flags */
        if (rc > 0 && !PQconsumeInput(pg)) {
            log_error("%s database: replication connection lost: %s", db_role_name(s->conn->role),
                      PQerrorMessage(pg));
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
        log_error("%s database: could not send replication status: %s", db_role_name(s->conn->role),
                  PQerrorMessage(s->conn->pg));
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
