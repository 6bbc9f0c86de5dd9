/*
 * Loading snapshot batches into PostgreSQL or YugabyteDB: loader sessions
 * (spread over the nodes), one batch as COPY ... FROM STDIN of its bytes with
 * its metainfo row in one transaction, and whether a batch committed. The
 * engine (snapshot/batch_loader.c) keeps the files, retries and the halving
 * of a batch YugabyteDB refuses as too large a message.
 */
#include "source/pg_writer_int.h"

#include "core/log.h"
#include "core/util.h"
#include "db/yb_nodes.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

writer_session *pg_w_connect_loader(writer *w, int idx, bool upsert, atomic_int *warned)
{
    /*
     * A failure is a warning: batch_loader_load() retries under the policy and
     * logs the error when it gives up (the main connection, same settings, got
     * through: a worker's failure is the database's, for now).
     */
    pgconn_options opt = {.application_name = "yb-voyager import data worker", .warn = true};
    pgconn *c = yb_nodes_connect(pg_writer_nodes(w), (size_t)idx, w->conf, &opt);
    if (!c)
        return NULL;
    c->retries = true; /* batch_loader_load */
    if (c->is_yugabyte && upsert && !pgconn_exec(c, "SET yb_enable_upsert_mode = true")) {
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
    if (!res && !atomic_exchange(warned, 1))
        log_report(LOG_WARN, "tables are loaded in parallel, so foreign keys may fail", NULL,
                   "%s database: cannot disable triggers and foreign key checks for the import (%s)",
                   db_role_name(w->conf->role), PQerrorMessage(c->pg));
    PQclear(res);
    writer_session *s = pg_session_of(c);
    pg_ws(s)->upsert = c->is_yugabyte && upsert;
    return s;
}

/*
 * Before a retry: did the batch commit although its COMMIT got no answer (the
 * connection dropped after the server committed)? Its metainfo row commits
 * with it. 1 yes, 0 no, -1 unknown.
 */
int pg_w_batch_committed(writer_session *s, const char *uuid, const writer_batch *b)
{
    pgconn *c = pg_ws(s)->c;
    char no[32];
    snprintf(no, sizeof no, "%lld", (long long)b->number);
    const char *p[5] = {uuid, b->file_name, no, b->schema, b->table};
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
        if (want > WRITER_LOAD_BUFFER_BYTES)
            want = WRITER_LOAD_BUFFER_BYTES;
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

/*
 * The batch's metainfo row, first in its transaction: it claims the batch. A
 * session still committing the same batch (an importer killed meanwhile: its
 * server session goes on) holds that key, so this insert waits for it and then
 * fails on the key (the batch is loaded: WRITER_LOAD_DONE), before any row is
 * sent that would stop on the table's own keys. YugabyteDB's upsert mode turns
 * every INSERT of the session into an upsert, which never fails on the key:
 * off for this one. 1 claimed, 0 done, -1 failed (res kept in *res).
 */
static int claim_batch(pgconn *c, bool upsert, const char *uuid, const writer_batch *b,
                       PGresult **res)
{
    if (upsert) {
        *res = PQexec(c->pg, "SET LOCAL yb_enable_upsert_mode = false");
        if (PQresultStatus(*res) != PGRES_COMMAND_OK)
            return -1;
        PQclear(*res);
    }
    *res = import_metainfo_insert(c, uuid, b->file_name, b->number, b->schema, b->table, b->rows);
    if (upsert && PQresultStatus(*res) == PGRES_COMMAND_OK) {
        PQclear(*res);
        *res = PQexec(c->pg, "SET LOCAL yb_enable_upsert_mode = true");
    }
    if (PQresultStatus(*res) == PGRES_COMMAND_OK) {
        PQclear(*res);
        *res = NULL;
        return 1;
    }
    const char *st = PQresultErrorField(*res, PG_DIAG_SQLSTATE);
    if (st && strcmp(st, "23505") == 0) {
        PQclear(*res);
        *res = NULL;
        pgconn_exec(c, "ROLLBACK");
        return 0;
    }
    return -1;
}

/*
 * The batch in one transaction: BEGIN; its metainfo row (claim_batch); COPY
 * ... FROM STDIN with the batch's byte range (as several COPYs when copy_cap >
 * 0); COMMIT. Both commit together or not at all. b->fd stays the caller's.
 */
static writer_load_result batch_once(pgconn *c, bool upsert, const char *uuid,
                                     const writer_batch *b, char *buf, int64_t copy_cap, char **why)
{
    *why = NULL;
    int fd = b->fd;
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
    int claimed = claim_batch(c, upsert, uuid, b, &res);
    if (claimed == 0)
        return WRITER_LOAD_DONE; /* committed by an earlier run we did not know about: keep that one */
    if (claimed < 0)
        goto failed;
    /* copy_cap > 0: the batch goes as several COPYs, still one transaction (YugabyteDB's RPC limit) */
    int64_t copied = 0, pos = b->start;
    do {
        int64_t to = cut_after(fd, pos, b->end, copy_cap);
        if (to < 0) {
            *why = xstrdup(errno ? strerror(errno) : "data file is shorter than its batch plan");
            pgconn_exec(c, "ROLLBACK");
            return WRITER_LOAD_FATAL;
        }
        res = PQexec(c->pg, b->load_sql);
        if (PQresultStatus(res) != PGRES_COPY_IN)
            goto failed;
        PQclear(res);
        bool local = false;
        const char *err = send_range(c, pos, to, fd, buf, &local);
        if (err) {
            *why = xstrdup(err);
            PQputCopyEnd(c->pg, "aborted by yb-voyager");
            while ((res = PQgetResult(c->pg)) != NULL)
                PQclear(res);
            pgconn_exec(c, "ROLLBACK");
            return local ? WRITER_LOAD_FATAL : WRITER_LOAD_RETRY;
        }
        if (PQputCopyEnd(c->pg, NULL) != 1) {
            *why = xstrdup(PQerrorMessage(c->pg));
            return WRITER_LOAD_RETRY;
        }
        res = PQgetResult(c->pg);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            goto failed;
        copied += strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        while ((res = PQgetResult(c->pg)) != NULL)
            PQclear(res);
        pos = to;
    } while (pos < b->end);
    if (copied != b->rows) {
        log_warn("%s: batch %lld of %s loaded %lld rows, expected %lld", b->display,
                 (long long)b->number, b->file_name, (long long)copied, (long long)b->rows);
        res = import_metainfo_set_rows(c, uuid, b->file_name, b->number, b->schema, b->table,
                                       copied);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            goto failed;
        PQclear(res);
    }
    res = PQexec(c->pg, "COMMIT");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        goto failed;
    /* COMMIT of a transaction that failed underway answers ROLLBACK: not done. */
    bool committed = strcmp(PQcmdStatus(res), "COMMIT") == 0;
    PQclear(res);
    if (!committed) {
        *why = xstrdup("the transaction was rolled back at commit");
        return WRITER_LOAD_RETRY;
    }
    return WRITER_LOAD_DONE;

failed:;
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
    return retry ? WRITER_LOAD_RETRY : WRITER_LOAD_FATAL;
}

writer_load_result pg_w_load_batch(writer_session *s, const char *uuid, const writer_batch *b,
                                   int64_t copy_cap, char *buf, char **why)
{
    pgconn *c = pg_ws(s)->c;
    writer_load_result out = batch_once(c, pg_ws(s)->upsert, uuid, b, buf, copy_cap, why);
    /*
     * YugabyteDB refuses a write RPC above rpc_max_message_size, the same
     * batch every time: rolled back, a smaller COPY may pass.
     */
    if (out == WRITER_LOAD_FATAL && c->is_yugabyte && *why &&
        PQtransactionStatus(c->pg) == PQTRANS_IDLE && strstr(*why, "Sending too long RPC message"))
        out = WRITER_LOAD_TOO_LARGE;
    return out;
}

char *pg_w_load_statement(writer *w, const char *schema, const char *name, const char *columns_json)
{
    (void)w;
    cJSON *arr = cJSON_Parse(columns_json);
    strbuf cols = STRBUF_INIT;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it))
            continue;
        char *q = pg_quote_ident(it->valuestring);
        if (cols.len)
            strbuf_append(&cols, ", ");
        strbuf_append(&cols, q);
        free(q);
    }
    cJSON_Delete(arr);
    char *qt = pg_quote_qualified(schema, name);
    char *sql = cols.len ? xasprintf("COPY %s (%s) FROM STDIN", qt, strbuf_cstr(&cols))
                         : xasprintf("COPY %s FROM STDIN", qt);
    free(qt);
    strbuf_free(&cols);
    return sql;
}
