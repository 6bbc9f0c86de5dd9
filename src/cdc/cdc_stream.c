/*
 * Receive loop: decode pgoutput, turn row changes into event lines, group
 * commits into durable steps (fsync + meta.db), confirm to the server only
 * what is durable, watch for the cutover request and drain.
 */
#include "cdc/cdc_stream.h"

#include "cdc/consistent_point.h"
#include "cdc/crash_point.h"
#include "cdc/event_json.h"
#include "cdc/export_metrics.h"
#include "cdc/queue_format.h"
#include "cdc/queue_writer.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"
#include "db/connect.h"
#include "db/pgconn.h"
#include "db/replication/pgoutput.h"
#include "db/replication/replstream.h"
#include "db/retry.h"
#include "migration/sequences.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Commits are grouped: one fsync + meta.db step at most this often while data flows. */
#define DURABLE_EVERY_MS 250
#define METRICS_EVERY_MS 250
#define STATUS_EVERY_MS 10000
#define POLL_CUTOVER_MS 1000
#define DRAIN_PING_MS 200
/* A connection that stayed up this long ends a run of failures (as a durable step does). */
#define HEALTHY_AFTER_MS 30000

/*
 * Seconds without any message from the server (data or keepalive) after which
 * the replication connection counts as dead; default: twice the server's
 * wal_sender_timeout, at least 60 s (the walsender sends a keepalive within
 * half of it when asked, and during long decoding on its own).
 */
#define REPLICATION_TIMEOUT_ENV "YB_VOYAGER_REPLICATION_TIMEOUT"

/*
 * stream_loop / stream_connect answer an engine_status, or this: the
 * connection broke in a way a new one may mend (s->lost says how).
 */
#define STREAM_LOST (-1)

long long cdc_segment_max_bytes(void)
{
    const char *s = getenv("QUEUE_SEGMENT_MAX_BYTES");
    int64_t v;
    if (s && *s) {
        if (parse_int64(s, 1, INT64_MAX, &v))
            return v;
        log_warn("QUEUE_SEGMENT_MAX_BYTES=%s is not a positive number of bytes; using the default", s);
    }
    return QUEUE_DEFAULT_SEGMENT_MAX_BYTES;
}

typedef struct rel_entry {
    pgo_relation rel;
    int *key_cols;
    size_t nkey;
} rel_entry;

typedef struct stream {
    engine_ctx *eng;
    const cdc_stream_params *p;
    pgconn *sql;  /* normal connection: key columns, cutover LSN, sequences */
    pgconn *repl; /* replication connection */
    repl_stream rs;
    queue_writer *qw;
    rel_entry *rels;
    size_t nrels, caprels;
    strbuf line;
    bool in_tx, skip_tx;
    uint64_t confirmed;   /* last LSN sent as flushed */
    uint64_t idle_wal_end; /* keepalive position when nothing was open or pending */
    long long skipped_tx;
    bool ever_connected;   /* a failure to connect after this is a fault to ride out */
    int64_t connected_ms;  /* when the current replication connection started */
    int64_t silence_ms;    /* nothing heard for this long: the connection is dead */
    char lost[768];        /* why the last connection was lost (STREAM_LOST) */
    cp_exporter cp;        /* recent commits, for compare data's consistent point */
    uint32_t tx_xid;
    uint64_t tx_commit_lsn;
    long long tx_first_vsn;
} stream;

static int lost(stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int lost(stream *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->lost, sizeof s->lost, fmt, ap);
    va_end(ap);
    s->lost[strcspn(s->lost, "\n")] = '\0';
    return STREAM_LOST;
}

/* A failed statement on the normal connection: lost when a new connection may do better. */
static int sql_failed(stream *s)
{
    pgconn *c = s->sql;
    if (PQstatus(c->pg) == CONNECTION_BAD || c->last_error_retryable)
        return lost(s, "query connection: %s", PQerrorMessage(c->pg));
    return db_role_failure(s->p->conf->role);
}

static int queue_failed(stream *s) { return qw_no_space(s->qw) ? ENGINE_BAD_STATE : ENGINE_FAILED; }

static rel_entry *rel_find(stream *s, uint32_t relid)
{
    for (size_t i = 0; i < s->nrels; i++)
        if (s->rels[i].rel.relid == relid)
            return &s->rels[i];
    return NULL;
}

/* Primary-key columns of rel (else its replica identity columns, else all columns). */
static bool rel_load_keys(stream *s, rel_entry *e)
{
    char oid[16];
    snprintf(oid, sizeof oid, "%u", e->rel.relid);
    const char *p[] = {oid};
    PGresult *r = pgconn_query_quiet(s->sql,
                               "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                               "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                               "WHERE i.indrelid = $1::oid AND i.indisprimary "
                               "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                               1, p);
    if (!r) {
        if (PQstatus(s->sql->pg) != CONNECTION_BAD && !s->sql->last_error_retryable)
            log_error("%s database: reading the key of %s.%s: %s", db_role_name(s->p->conf->role),
                      e->rel.nspname, e->rel.relname, PQerrorMessage(s->sql->pg));
        return false;
    }
    free(e->key_cols);
    e->key_cols = xcalloc(e->rel.natts ? e->rel.natts : 1, sizeof(int));
    e->nkey = 0;
    for (int i = 0; i < PQntuples(r); i++)
        for (uint16_t c = 0; c < e->rel.natts; c++)
            if (strcmp(e->rel.columns[c].name, PQgetvalue(r, i, 0)) == 0)
                e->key_cols[e->nkey++] = c;
    PQclear(r);
    if (e->nkey == 0) {
        for (uint16_t c = 0; c < e->rel.natts; c++)
            if (e->rel.columns[c].is_key && e->rel.replident != 'f')
                e->key_cols[e->nkey++] = c;
    }
    if (e->nkey == 0) {
        log_warn("table %s.%s has no primary key: its events use the whole row as key",
                 e->rel.nspname, e->rel.relname);
        for (uint16_t c = 0; c < e->rel.natts; c++)
            e->key_cols[e->nkey++] = c;
    }
    return true;
}

static bool on_relation(stream *s, pgo_msg *m)
{
    rel_entry *e = rel_find(s, m->relation.relid);
    if (!e) {
        if (s->nrels == s->caprels) {
            s->caprels = s->caprels ? s->caprels * 2 : 16;
            s->rels = xrealloc(s->rels, s->caprels * sizeof *s->rels);
        }
        e = &s->rels[s->nrels++];
        memset(e, 0, sizeof *e);
    } else {
        pgo_relation_clear(&e->rel);
    }
    e->rel = m->relation; /* moved */
    memset(&m->relation, 0, sizeof m->relation);
    return rel_load_keys(s, e);
}

static bool on_row(stream *s, pgo_msg *m)
{
    rel_entry *e = rel_find(s, m->relid);
    if (!e) {
        log_bug("row change for relation %u before its relation message", m->relid);
        return false;
    }
    char op = m->kind == PGO_INSERT ? 'c' : m->kind == PGO_UPDATE ? 'u' : 'd';
    cdc_row_change ch = {
        .vsn = qw_next_vsn(s->qw),
        .op = op,
        .rel = &e->rel,
        .key_cols = e->key_cols,
        .nkey = e->nkey,
        .old_kind = m->old_kind,
        .old_tuple = m->old_kind ? &m->old_tuple : NULL,
        .new_tuple = m->kind == PGO_DELETE ? NULL : &m->new_tuple,
        .exporter_role = s->p->exporter_role,
    };
    strbuf_reset(&s->line);
    if (!event_json_append_change(&s->line, &ch)) {
        log_bug("change of %s.%s does not match its relation (%u columns)", e->rel.nspname,
                e->rel.relname, e->rel.natts);
        return false;
    }
    return qw_add_event(s->qw, s->line.data, s->line.len, e->rel.nspname, e->rel.relname, op);
}

/* One table of a TRUNCATE: an event of its own (the publication sends only captured tables). */
static bool on_truncate(stream *s, uint32_t relid)
{
    rel_entry *e = rel_find(s, relid);
    if (!e) {
        log_bug("truncate of relation %u before its relation message", relid);
        return false;
    }
    strbuf_reset(&s->line);
    event_json_append_truncate(&s->line, qw_next_vsn(s->qw), e->rel.nspname, e->rel.relname,
                               s->p->exporter_role);
    log_info("TRUNCATE of %s.%s on the %s database: queued as vsn %lld", e->rel.nspname,
             e->rel.relname, db_role_name(s->p->conf->role), (long long)qw_next_vsn(s->qw));
    return qw_add_event(s->qw, s->line.data, s->line.len, e->rel.nspname, e->rel.relname, 't');
}

/* One XLogData payload: ENGINE_OK, STREAM_LOST or a failure (logged). */
static int on_message(stream *s, const char *data, size_t len)
{
    pgo_msg m;
    const char *err = NULL;
    if (!pgo_decode(data, len, &m, &err)) {
        log_error("%s database: cannot decode a pgoutput message: %s", db_role_name(s->p->conf->role),
                  err);
        return ENGINE_FAILED;
    }
    int rc = ENGINE_OK;
    char a[24], b[24];
    switch (m.kind) {
    case PGO_BEGIN:
        s->in_tx = true;
        /* Already in the queue: its commit ended at or before the recorded commit end. */
        s->skip_tx = m.lsn < qw_last_commit_lsn(s->qw);
        if (s->skip_tx) {
            s->skipped_tx++;
            log_msg(s->skipped_tx == 1 ? LOG_INFO : LOG_DEBUG, "skipping transaction %u (commit %s <= %s): already in the queue", m.xid,
                      lsn_format(m.lsn, a), lsn_format(qw_last_commit_lsn(s->qw), b));
        }
        s->tx_xid = m.xid;
        s->tx_commit_lsn = m.lsn;
        s->tx_first_vsn = qw_next_vsn(s->qw);
        break;
    case PGO_COMMIT:
        if (!s->skip_tx && s->cp.ring)
            cp_exporter_commit(&s->cp, s->tx_xid, s->tx_commit_lsn, s->tx_first_vsn);
        if (!s->skip_tx)
            qw_end_tx(s->qw, m.end_lsn);
        s->in_tx = s->skip_tx = false;
        break;
    case PGO_RELATION:
        if (!on_relation(s, &m))
            rc = sql_failed(s);
        break;
    case PGO_INSERT:
    case PGO_UPDATE:
    case PGO_DELETE:
        if (!s->skip_tx && !on_row(s, &m))
            rc = queue_failed(s);
        break;
    case PGO_TRUNCATE:
        for (uint32_t i = 0; rc == ENGINE_OK && !s->skip_tx && i < m.ntruncate; i++)
            if (!on_truncate(s, m.truncate_relids[i]))
                rc = queue_failed(s);
        break;
    default:
        break; /* origin, type, message: nothing to export */
    }
    pgo_msg_clear(&m);
    return rc;
}

static bool confirm(stream *s, bool reply)
{
    uint64_t lsn = qw_last_commit_lsn(s->qw);
    if (s->idle_wal_end > lsn)
        lsn = s->idle_wal_end;
    if (lsn < s->confirmed)
        lsn = s->confirmed;
    s->confirmed = lsn;
    return repl_send_status(&s->rs, lsn, reply);
}

static bool read_sequences(stream *s, const char *phase)
{
    strlist schemas = STRLIST_INIT;
    for (size_t i = 0; i < s->p->tables->schemas.count; i++)
        if (!strlist_contains(&schemas, s->p->tables->schemas.items[i]))
            strlist_push(&schemas, s->p->tables->schemas.items[i]);
    for (size_t i = 0; s->p->seq_schemas && i < s->p->seq_schemas->count; i++)
        if (!strlist_contains(&schemas, s->p->seq_schemas->items[i]))
            strlist_push(&schemas, s->p->seq_schemas->items[i]);
    int n = 0;
    bool ok = sequences_record(s->sql, &schemas, s->eng->cat, phase, &n);
    strlist_free(&schemas);
    if (ok)
        log_info("recorded %d sequence value(s) of the %s database for %s", n,
                 db_role_name(s->p->conf->role), phase);
    return ok;
}

bool cdc_drop_slot_and_publication(pgconn *c, const char *slot, const char *publication)
{
    bool dropped = false;
    bool ok = repl_drop_slot(c, slot, false, &dropped);
    if (dropped)
        log_info("dropped replication slot %s", slot);
    char *q = pg_quote_ident(publication);
    char *sql = xasprintf("DROP PUBLICATION IF EXISTS %s", q);
    if (pgconn_exec(c, sql))
        log_info("dropped publication %s", publication);
    else
        ok = false;
    free(sql), free(q);
    return ok;
}

static bool set_done(catalog *m, const char *key)
{
    return catalog_status_set_bool(m, key, true);
}

/* Cutover bookkeeping once the end marker is durable (also redone on a restart). */
static int finish(stream *s)
{
    if (s->repl) {
        repl_stream_clear(&s->rs);
        pgconn_close(s->repl);
        s->repl = NULL;
    }
    cdc_drop_slot_and_publication(s->sql, s->p->slot, s->p->publication);
    if (!set_done(s->eng->cat, s->p->done_key))
        return ENGINE_FAILED;
    log_say("cutover to %s: every change of the %s database is in the queue (last vsn %lld); "
            "%s is done",
            cutover_kind_name(s->p->cutover), db_role_name(s->p->conf->role),
            qw_next_vsn(s->qw) - 1, s->p->command_name);
    return ENGINE_OK;
}

/*
 * LSN the stream must pass before every commit made before the cutover
 * request is in. A transactional logical message committed with
 * synchronous_commit on is written after every earlier commit and flushed at
 * once, so even an idle walsender (which only reads flushed WAL, and whose WAL
 * writer may hibernate for seconds) moves past it promptly. pgoutput does not
 * send it (messages are off).
 */
static bool drain_point(stream *s, uint64_t *need)
{
    char *x = pgconn_query_value(s->sql, "SELECT pg_current_wal_insert_lsn()", 0, NULL);
    uint64_t lx = 0;
    bool ok = x && lsn_parse(x, &lx);
    free(x);
    if (!ok)
        return false;
    *need = lx;
    pgconn_exec(s->sql, "SET synchronous_commit = on");
    PGresult *r = pgconn_query_quiet(
        s->sql, "SELECT pg_logical_emit_message(true, 'yb-voyager-cutover', '')", 0, NULL);
    uint64_t ly;
    if (r && PQntuples(r) == 1 && lsn_parse(PQgetvalue(r, 0, 0), &ly) && ly >= lx) {
        *need = ly + 1;
    } else {
        /* No logical messages here: a committed xid still forces the flush. */
        PGresult *t = pgconn_query_quiet(s->sql, "SELECT txid_current()", 0, NULL);
        PQclear(t);
    }
    PQclear(r);
    return true;
}

/* A failed status update: the socket took no more, the connection is as good as lost. */
static int confirm_failed(stream *s) { return lost(s, "%s", s->rs.error); }

/* The stream ended with an error: lost when a new connection may continue, else fatal (logged). */
static int stream_failed(stream *s)
{
    if (s->rs.retryable)
        return lost(s, "%s", s->rs.error);
    log_error("%s database: %s", db_role_name(s->p->conf->role), s->rs.error);
    return db_role_failure(s->p->conf->role);
}

/* One replication connection's life: ENGINE_OK at cutover, STREAM_LOST, or a failure (logged). */
static int stream_loop(stream *s, retry_state *rs)
{
    const cdc_stream_params *p = s->p;
    export_metrics mx;
    bool tty = p->progress_bars;
    long long total0 = qw_total_events(s->qw);
    export_metrics_init(&mx, tty, total0);
    int64_t last_durable = now_monotonic_ms(), last_status = 0, last_poll = 0, last_ping = 0,
            last_metrics = 0;
    int64_t last_heard = now_monotonic_ms(), last_probe = last_heard;
    bool draining = false;
    uint64_t need = 0, wal_end = 0;
    char a[24];
    int rc;
    for (;;) {
        if (*s->eng->interrupted) {
            if (qw_make_durable(s->qw))
                confirm(s, false);
            log_error("interrupted: changes are in the queue up to LSN %s; run the same command "
                      "again to continue",
                      lsn_format(qw_last_commit_lsn(s->qw), a));
            return ENGINE_BAD_STATE;
        }
        bool pending = qw_has_pending(s->qw);
        repl_msg msg;
        repl_receive(&s->rs, pending ? 0 : 100, &msg);
        if (msg.kind == REPL_ERROR || msg.kind == REPL_END)
            return stream_failed(s);
        int64_t now = now_monotonic_ms();
        if (msg.kind != REPL_NONE) {
            last_heard = last_probe = now;
            if (rs->attempt > 0 && now - s->connected_ms >= HEALTHY_AFTER_MS)
                retry_reset(rs);
        } else if (!pending && now - last_probe >= s->silence_ms / 3) {
            /*
             * A walsender that stopped (or a network that drops silently) never
             * says goodbye. Dead only once a request for a keepalive went
             * unanswered too: a pause of our own is no silence of the server's.
             */
            if (now - last_heard >= s->silence_ms && last_probe > last_heard)
                return lost(s, "nothing received on the replication connection for %lld s, "
                               "keepalive requests unanswered",
                            (long long)((now - last_heard) / 1000));
            last_probe = now;
            if (!confirm(s, true)) /* reply requested: a live server answers with a keepalive */
                return confirm_failed(s);
        }
        if (msg.kind == REPL_XLOGDATA) {
            if ((rc = on_message(s, msg.data, msg.len)) != ENGINE_OK)
                return rc;
        } else if (msg.kind == REPL_KEEPALIVE) {
            if (msg.wal_end > wal_end)
                wal_end = msg.wal_end;
            if (!s->in_tx && !qw_has_pending(s->qw))
                s->idle_wal_end = msg.wal_end;
            if (msg.reply_requested && !confirm(s, false))
                return confirm_failed(s);
        }
        /* Durable step: when the stream pauses, or every DURABLE_EVERY_MS while it flows. */
        if (qw_has_pending(s->qw) && (msg.kind != REPL_XLOGDATA || now - last_durable >= DURABLE_EVERY_MS)) {
            if (!qw_make_durable(s->qw))
                return queue_failed(s);
            cdc_crash_point("record");
            last_durable = now;
            retry_reset(rs); /* progress: this connection works */
            if (!confirm(s, false))
                return confirm_failed(s);
            last_status = now;
        }
        if (now - last_status >= STATUS_EVERY_MS) {
            if (!confirm(s, false))
                return confirm_failed(s);
            last_status = now;
        }
        if (now - last_metrics >= METRICS_EVERY_MS) {
            last_metrics = now;
            export_metrics_update(&mx, qw_total_events(s->qw) - total0, false);
        }
        if (!draining && now - last_poll >= POLL_CUTOVER_MS) {
            last_poll = now;
            cJSON *rec = catalog_status_load(s->eng->cat);
            draining = rec && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                                  rec, cutover_request_key(p->cutover)));
            cJSON_Delete(rec);
            if (draining) {
                if (!drain_point(s, &need))
                    return sql_failed(s);
                log_say("cutover to %s requested: exporting the last changes (up to LSN %s)",
                        cutover_kind_name(p->cutover), lsn_format(need, a));
            }
        }
        /* compare data waits for the stream to pass its snapshot's LSN: keepalives tell when */
        bool cp_waits = s->cp.ring && !draining &&
                        cp_exporter_poll(&s->cp, s->eng->cat, s->in_tx ? 0 : s->idle_wal_end,
                                         qw_next_vsn(s->qw));
        if ((draining || cp_waits) && now - last_ping >= DRAIN_PING_MS) {
            last_ping = now;
            if (!confirm(s, true))
                return confirm_failed(s);
        }
        if (draining && !s->in_tx && msg.kind == REPL_KEEPALIVE && msg.wal_end >= need) {
            if (!qw_make_durable(s->qw))
                return queue_failed(s);
            if (!read_sequences(s, p->end_op))
                return sql_failed(s);
            strbuf_reset(&s->line);
            event_json_append_marker(&s->line, qw_next_vsn(s->qw), p->end_op, p->exporter_role);
            if (!qw_finish_stream(s->qw, s->line.data, s->line.len))
                return queue_failed(s);
            confirm(s, false);
            export_metrics_update(&mx, qw_total_events(s->qw) - total0, true);
            return finish(s);
        }
    }
}

/* The silence after which a replication connection counts as dead (see REPLICATION_TIMEOUT_ENV). */
static int64_t silence_timeout_ms(stream *s)
{
    const char *env = getenv(REPLICATION_TIMEOUT_ENV);
    int64_t v;
    if (env && *env) {
        if (parse_int64(env, 1, INT64_MAX / 1000, &v))
            return v * 1000;
        log_warn("%s=%s is not a positive number of seconds; using the default", REPLICATION_TIMEOUT_ENV,
                 env);
    }
    PGresult *r = pgconn_query_quiet(
        s->sql, "SELECT setting FROM pg_settings WHERE name = 'wal_sender_timeout'", 0, NULL);
    int64_t wst = 60000;
    if (r && PQntuples(r) == 1)
        parse_int64(PQgetvalue(r, 0, 0), 0, INT64_MAX / 2, &wst);
    PQclear(r);
    /* 0: the server sends no keepalive on its own; it still answers our requests. */
    if (wst <= 0)
        return 600000;
    return 2 * wst > 60000 ? 2 * wst : 60000;
}

static void stream_disconnect(stream *s)
{
    repl_stream_clear(&s->rs);
    s->rs.conn = NULL;
    pgconn_close(s->repl);
    s->repl = NULL;
    pgconn_close(s->sql);
    s->sql = NULL;
}

/* A connection refused: the fault being ridden out once this run had connected (frees why). */
static int connect_failed(stream *s, char *why)
{
    int rc = db_role_failure(s->p->conf->role);
    if (s->ever_connected) {
        /* The description starts with the role, as the reconnect warning does. */
        const char *msg = why ? why : "cannot connect";
        const char *role = db_role_name(s->p->conf->role);
        size_t n = strlen(role);
        if (strncmp(msg, role, n) == 0 && strncmp(msg + n, " database: ", 11) == 0)
            msg += n + 11;
        rc = lost(s, "%s", msg);
    }
    free(why);
    return rc;
}

/*
 * Open the normal and the replication connection and start streaming after
 * the queue's durable position. ENGINE_OK, STREAM_LOST (a failure worth another
 * attempt), or a failure after a logged error.
 */
static int stream_connect(stream *s)
{
    const cdc_stream_params *p = s->p;
    db_role role = p->conf->role;
    char *why = NULL;
    /* After the first connection, a failure to connect is the fault being ridden out: quiet. */
    pgconn_options o = {.application_name = "yb-voyager-cdc", .quiet = s->ever_connected, .why = &why};
    s->sql = pgconn_connect(p->conf, &o);
    if (!s->sql)
        return connect_failed(s, why);
    if (qw_stream_done(s->qw))
        return ENGINE_OK;
    pgconn_options ro = {.replication = "database", .application_name = "yb-voyager-cdc",
                         .quiet = s->ever_connected, .why = &why};
    s->repl = pgconn_connect(p->conf, &ro);
    if (!s->repl)
        return connect_failed(s, why);
    s->ever_connected = true;
    char err[512];
    if (!repl_start(s->repl, p->slot, qw_last_commit_lsn(s->qw), p->publication, err, sizeof err)) {
        /* 55006: the walsender of a connection that just died (or stalled) still holds the slot. */
        if (strcmp(s->repl->sqlstate, "55006") == 0)
            return lost(s, "replication slot %s is still in use by another process (%s)", p->slot, err);
        if (s->repl->last_error_retryable)
            return lost(s, "could not start replication from slot %s: %s", p->slot, err);
        log_error("%s database: could not start replication from slot %s: %s", db_role_name(role),
                  p->slot, err);
        return db_role_failure(role);
    }
    s->rs.conn = s->repl;
    s->connected_ms = now_monotonic_ms();
    s->silence_ms = silence_timeout_ms(s);
    char a[24];
    log_info("streaming changes from slot %s (publication %s) after LSN %s into segment %lld, "
             "next vsn %lld",
             p->slot, p->publication, lsn_format(qw_last_commit_lsn(s->qw), a), qw_segment_no(s->qw),
             qw_next_vsn(s->qw));
    return ENGINE_OK;
}

engine_status cdc_stream_run(engine_ctx *eng, const cdc_stream_params *p)
{
    stream s = {.eng = eng, .p = p};
    int rc = ENGINE_FAILED;
    s.qw = qw_open(eng->cat, eng->export_dir, p->exporter_role, cdc_segment_max_bytes());
    if (!s.qw)
        return ENGINE_FAILED;
    const char *role = db_role_name(p->conf->role);
    char a[24];
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    if (strcmp(p->exporter_role, "source_db_exporter") == 0)
        cp_exporter_init(&s.cp);
    /*
     * A source restart, a terminated walsender, a network drop or a stalled
     * server: each ends one connection, never the command. What the queue holds
     * durably is where the next connection starts (exactly once, as after a
     * restart of the command); only a run of failures longer than the retry
     * deadline ends it, resumably.
     */
    for (;;) {
        rc = stream_connect(&s);
        if (rc == ENGINE_OK && qw_stream_done(s.qw)) {
            log_say("the change stream of %s already ended at cutover", p->exporter_role);
            rc = finish(&s);
            break;
        }
        if (rc == ENGINE_OK)
            rc = stream_loop(&s, &rs);
        if (rc != STREAM_LOST)
            break;
        stream_disconnect(&s);
        /* Whole transactions received so far are kept; the open one comes again. */
        qw_discard_tx(s.qw);
        s.in_tx = s.skip_tx = false;
        if (!qw_make_durable(s.qw)) {
            rc = queue_failed(&s);
            break;
        }
        if (!retry_failed(&rs)) {
            log_error("%s database: %s; gave up reconnecting after %lld s (%s): changes are in the "
                      "queue up to LSN %s; run the same command again to continue",
                      role, s.lost, (long long)(retry_elapsed_ms(&rs) / 1000), RETRY_TIMEOUT_ENV,
                      lsn_format(qw_last_commit_lsn(s.qw), a));
            rc = ENGINE_BAD_STATE;
            break;
        }
        log_warn("%s database: %s; reconnecting (attempt %d, giving up after %lld s), changes are "
                 "in the queue up to LSN %s",
                 role, s.lost, rs.attempt, (long long)(rs.policy.deadline_ms / 1000),
                 lsn_format(qw_last_commit_lsn(s.qw), a));
        if (!retry_backoff(&rs, eng->interrupted)) {
            log_error("interrupted: changes are in the queue up to LSN %s; run the same command "
                      "again to continue",
                      lsn_format(qw_last_commit_lsn(s.qw), a));
            rc = ENGINE_BAD_STATE;
            break;
        }
    }
    if (s.skipped_tx)
        log_info("skipped %lld transaction(s) already in the queue", s.skipped_tx);
    stream_disconnect(&s);
    for (size_t i = 0; i < s.nrels; i++) {
        pgo_relation_clear(&s.rels[i].rel);
        free(s.rels[i].key_cols);
    }
    free(s.rels);
    strbuf_free(&s.line);
    cp_exporter_free(&s.cp);
    qw_close(s.qw);
    return (engine_status)rc;
}
