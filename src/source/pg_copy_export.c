/*
 * The rows of a PostgreSQL table in an exported snapshot (source.h rows_*):
 * each reader is a connection of its own in the snapshot (REPEATABLE READ,
 * SET TRANSACTION SNAPSHOT) running COPY ... TO STDOUT in PostgreSQL's text
 * format, the data files' format. A large plain table is read in parts, as
 * ranges of heap blocks (ctid), so that one huge table keeps every worker of
 * the engine (snapshot/snapshot_export.c) busy.
 */
#include "source/pg_int.h"

#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct source_rows {
    pgconn *c;
};

int pg_rows_parts(source *s, const src_table *t, int64_t part_bytes, int max_parts)
{
    (void)s;
    /* Only a plain table has one heap to split by block; a partitioned one is read through its root. */
    if (t->relkind != 'r' || t->bytes <= part_bytes || t->block_size <= 0 || part_bytes <= 0)
        return 1;
    int64_t parts = (t->bytes + part_bytes - 1) / part_bytes;
    return (int)(parts > max_parts ? max_parts : parts);
}

source_rows *pg_rows_open(source *s, const char *snapshot, bool *transient)
{
    *transient = false;
    pgconn_options opt = {.application_name = "yb-voyager export data worker"};
    pgconn *c = pgconn_connect(s->conf, &opt);
    if (!c) {
        /* The run connected before it started the workers: the source went away meanwhile. */
        *transient = true;
        return NULL;
    }
    char *lit = pg_quote_literal(snapshot);
    char *set = xasprintf("SET TRANSACTION SNAPSHOT %s", lit);
    bool ok = pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") && pgconn_exec(c, set);
    free(set);
    free(lit);
    if (!ok) {
        /*
         * Lost, or the snapshot is gone with the connection that exported it
         * (22023: invalid snapshot identifier): a new snapshot mends both.
         */
        *transient = PQstatus(c->pg) == CONNECTION_BAD || c->last_error_retryable ||
                     strcmp(c->sqlstate, "22023") == 0;
        pgconn_close(c);
        return NULL;
    }
    source_rows *r = xcalloc(1, sizeof *r);
    r->c = c;
    return r;
}

void pg_rows_close(source_rows *r)
{
    if (!r)
        return;
    /* Read-only: closing ends the transaction, even in the middle of an aborted COPY. */
    pgconn_close(r->c);
    free(r);
}

/* The COPY of part `part` of `nparts` (caller frees). */
static char *part_sql(const src_table *t, int part, int nparts)
{
    int64_t from = -1, to = -1; /* -1: no bound */
    if (nparts > 1) {
        int64_t blocks = t->bytes / t->block_size;
        int64_t per = (blocks + nparts - 1) / nparts;
        from = part * per;
        to = part == nparts - 1 ? -1 : (part + 1) * per;
    }
    char *q = pg_quote_qualified(t->schema, t->name);
    char *sql;
    if (from < 0 && t->relkind == 'r') {
        sql = *t->column_list ? xasprintf("COPY %s (%s) TO STDOUT", q, t->column_list)
                              : xasprintf("COPY %s TO STDOUT", q);
    } else if (from < 0) {
        sql = xasprintf("COPY (SELECT %s FROM %s) TO STDOUT", t->column_list, q);
    } else if (to < 0) {
        sql = xasprintf("COPY (SELECT %s FROM ONLY %s WHERE ctid >= '(%lld,0)'::tid) TO STDOUT",
                        t->column_list, q, (long long)from);
    } else {
        sql = xasprintf("COPY (SELECT %s FROM ONLY %s WHERE ctid >= '(%lld,0)'::tid AND "
                        "ctid < '(%lld,0)'::tid) TO STDOUT",
                        t->column_list, q, (long long)from, (long long)to);
    }
    free(q);
    return sql;
}

#define COPY_GAVE_UP (-3)

/*
 * PQgetCopyData that never waits forever: COPY_GAVE_UP when the sink asked to
 * stop while waiting, or (*stalled) when nothing arrived for stall_ms: a
 * server process that stopped (or a peer that vanished without TCP noticing)
 * would otherwise hang the export for good.
 */
static int copy_row(PGconn *pg, int64_t stall_ms, const source_rows_sink *sink, char **row,
                    bool *stalled)
{
    int64_t since = -1;
    for (;;) {
        int n = PQgetCopyData(pg, row, 1);
        if (n != 0)
            return n;
        if (sink->stop(sink->arg))
            return COPY_GAVE_UP;
        int64_t now = now_monotonic_ms();
        if (since < 0) {
            since = now;
        } else if (now - since >= stall_ms) {
            *stalled = true;
            return COPY_GAVE_UP;
        }
        struct pollfd pfd = {.fd = PQsocket(pg), .events = POLLIN};
        int rc = poll(&pfd, 1, 1000);
        if (rc < 0 && errno != EINTR)
            return -2;
        if (rc > 0 && !PQconsumeInput(pg))
            return -2;
    }
}

/*
 * Wait until the query's result can be read without blocking: false when the
 * sink asked to stop meanwhile, or (*stalled) when the server said nothing for
 * stall_ms (it may stop between two parts as well as inside one).
 */
static bool wait_result(PGconn *pg, int64_t stall_ms, const source_rows_sink *sink, bool *stalled)
{
    int64_t since = now_monotonic_ms();
    while (PQisBusy(pg)) {
        if (sink->stop(sink->arg))
            return false;
        if (now_monotonic_ms() - since >= stall_ms) {
            *stalled = true;
            return false;
        }
        struct pollfd pfd = {.fd = PQsocket(pg), .events = POLLIN};
        int rc = poll(&pfd, 1, 1000);
        if ((rc < 0 && errno != EINTR) || (rc > 0 && !PQconsumeInput(pg)))
            return true; /* broken: PQgetResult reports it */
    }
    return true;
}

/* A source error: a warning when a new connection may do better (the engine retries). */
static source_rows_result source_failed(pgconn *c, const char *table, const char *msg)
{
    char line[1024];
    snprintf(line, sizeof line, "%s", msg);
    line[strcspn(line, "\n")] = '\0';
    bool transient = PQstatus(c->pg) == CONNECTION_BAD || c->last_error_retryable;
    log_msg(transient ? LOG_WARN : LOG_ERROR, "source database: exporting table %s: %s", table, line);
    return transient ? SOURCE_ROWS_TRANSIENT : SOURCE_ROWS_FAILED;
}

source_rows_result pg_rows_read(source_rows *r, const src_table *t, int part, int nparts,
                                int64_t stall_ms, const source_rows_sink *sink)
{
    pgconn *c = r->c;
    char *sql = part_sql(t, part, nparts);
    bool sent = PQsendQuery(c->pg, sql);
    free(sql);
    if (!sent)
        return source_failed(c, sink->table, pgconn_note_result(c, NULL));
    bool stalled = false;
    if (!wait_result(c->pg, stall_ms, sink, &stalled))
        return stalled ? SOURCE_ROWS_STALLED : SOURCE_ROWS_STOPPED;
    PGresult *res = PQgetResult(c->pg);
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        source_rows_result rc = source_failed(c, sink->table, pgconn_note_result(c, res));
        PQclear(res);
        return rc;
    }
    PQclear(res);
    char *row;
    int len;
    while ((len = copy_row(c->pg, stall_ms, sink, &row, &stalled)) > 0) {
        bool more = sink->row(sink->arg, row, (size_t)len);
        PQfreemem(row);
        /* Stopped in the middle: the COPY dies with the connection (rows_close). */
        if (!more || sink->stop(sink->arg))
            return SOURCE_ROWS_STOPPED;
    }
    if (stalled)
        return SOURCE_ROWS_STALLED;
    if (len == COPY_GAVE_UP)
        return SOURCE_ROWS_STOPPED;
    res = PQgetResult(c->pg);
    if (len == -2 || PQresultStatus(res) != PGRES_COMMAND_OK) {
        source_rows_result rc = source_failed(c, sink->table, pgconn_note_result(c, res));
        PQclear(res);
        return rc;
    }
    PQclear(res);
    while ((res = PQgetResult(c->pg)) != NULL)
        PQclear(res);
    return SOURCE_ROWS_DONE;
}
