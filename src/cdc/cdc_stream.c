/*
 * Receive loop: decode pgoutput, turn row changes into event lines, group
 * commits into durable steps (fsync + meta.db), confirm to the server only
 * what is durable, watch for the cutover request and drain.
 */
#include "cdc/cdc_stream.h"

#include "cdc/crash_point.h"
#include "cdc/event_json.h"
#include "cdc/export_metrics.h"
#include "cdc/queue_format.h"
#include "cdc/queue_writer.h"
#include "cli/cli.h"
#include "cli/cmd_connect.h"
#include "core/exitcodes.h"
#include "core/log.h"
#include "core/metadb.h"
#include "core/util.h"
#include "db/pgconn.h"
#include "db/replication/pgoutput.h"
#include "db/replication/replstream.h"
#include "migration/sequences.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Commits are grouped: one fsync + meta.db step at most this often while data flows. */
#define DURABLE_EVERY_MS 250
#define METRICS_EVERY_MS 250
#define STATUS_EVERY_MS 10000
#define POLL_CUTOVER_MS 1000
#define DRAIN_PING_MS 200

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
    cmd_ctx *ctx;
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
} stream;

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
    PGresult *r = pgconn_query(s->sql,
                               "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                               "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                               "WHERE i.indrelid = $1::oid AND i.indisprimary "
                               "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                               1, p);
    if (!r)
        return false;
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

/* One XLogData payload. */
static bool on_message(stream *s, const char *data, size_t len)
{
    pgo_msg m;
    const char *err = NULL;
    if (!pgo_decode(data, len, &m, &err)) {
        log_error("%s database: cannot decode a pgoutput message: %s", db_role_name(s->p->conf->role),
                  err);
        return false;
    }
    bool ok = true;
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
        break;
    case PGO_COMMIT:
        if (!s->skip_tx)
            qw_end_tx(s->qw, m.end_lsn);
        s->in_tx = s->skip_tx = false;
        break;
    case PGO_RELATION:
        ok = on_relation(s, &m);
        break;
    case PGO_INSERT:
    case PGO_UPDATE:
    case PGO_DELETE:
        if (!s->skip_tx)
            ok = on_row(s, &m);
        break;
    case PGO_TRUNCATE:
        for (uint32_t i = 0; ok && !s->skip_tx && i < m.ntruncate; i++)
            ok = on_truncate(s, m.truncate_relids[i]);
        break;
    default:
        break; /* origin, type, message: nothing to export */
    }
    pgo_msg_clear(&m);
    return ok;
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
    bool ok = sequences_record(s->sql, &schemas, s->ctx->meta, phase, &n);
    strlist_free(&schemas);
    if (ok)
        log_info("recorded %d sequence value(s) of the %s database for %s", n,
                 db_role_name(s->p->conf->role), phase);
    return ok;
}

void cdc_drop_slot_and_publication(pgconn *c, const char *slot, const char *publication)
{
    const char *p[] = {slot};
    /* A walsender of a killed exporter may hold the slot a little longer. */
    for (int i = 0; i < 50; i++) {
        char *active = pgconn_query_value(c,
                                          "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                                          1, p);
        bool busy = active && active[0] == 't';
        bool exists = active != NULL;
        free(active);
        if (!exists)
            break;
        if (!busy) {
            if (pgconn_exec_params(c, "SELECT pg_drop_replication_slot($1)", 1, p))
                log_info("dropped replication slot %s", slot);
            break;
        }
        usleep(200 * 1000);
    }
    char *q = pg_quote_ident(publication);
    char *sql = xasprintf("DROP PUBLICATION IF EXISTS %s", q);
    if (pgconn_exec(c, sql))
        log_info("dropped publication %s", publication);
    free(sql), free(q);
}

static bool set_done(metadb *m, const char *key)
{
    return metadb_status_set_bool(m, key, true);
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
    if (!set_done(s->ctx->meta, s->p->done_key))
        return EXIT_INTERNAL;
    log_say("cutover to %s: every change of the %s database is in the queue (last vsn %lld); "
            "%s is done",
            cutover_kind_name(s->p->cutover), db_role_name(s->p->conf->role),
            qw_next_vsn(s->qw) - 1, s->ctx->path);
    return EXIT_OK;
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

static int stream_loop(stream *s)
{
    const cdc_stream_params *p = s->p;
    export_metrics mx;
    bool tty = isatty(STDOUT_FILENO) && !opts_get_bool(s->ctx->opts, "disable-pb");
    long long total0 = qw_total_events(s->qw);
    export_metrics_init(&mx, tty, total0);
    int64_t last_durable = now_monotonic_ms(), last_status = 0, last_poll = 0, last_ping = 0,
            last_metrics = 0;
    bool draining = false;
    uint64_t need = 0, wal_end = 0;
    char a[24];
    for (;;) {
        if (cmd_interrupted) {
            if (qw_make_durable(s->qw))
                confirm(s, false);
            log_error("interrupted: changes are in the queue up to LSN %s; run the same command "
                      "again to continue",
                      lsn_format(qw_last_commit_lsn(s->qw), a));
            return EXIT_BAD_STATE;
        }
        bool pending = qw_has_pending(s->qw);
        repl_msg msg;
        repl_receive(&s->rs, pending ? 0 : 100, &msg);
        if (msg.kind == REPL_ERROR || msg.kind == REPL_END)
            return cmd_db_exit_code(p->conf->role);
        if (msg.kind == REPL_XLOGDATA) {
            if (!on_message(s, msg.data, msg.len))
                return EXIT_INTERNAL;
        } else if (msg.kind == REPL_KEEPALIVE) {
            if (msg.wal_end > wal_end)
                wal_end = msg.wal_end;
            if (!s->in_tx && !qw_has_pending(s->qw))
                s->idle_wal_end = msg.wal_end;
            if (msg.reply_requested && !confirm(s, false))
                return cmd_db_exit_code(p->conf->role);
        }
        int64_t now = now_monotonic_ms();
        /* Durable step: when the stream pauses, or every DURABLE_EVERY_MS while it flows. */
        if (qw_has_pending(s->qw) && (msg.kind != REPL_XLOGDATA || now - last_durable >= DURABLE_EVERY_MS)) {
            if (!qw_make_durable(s->qw))
                return EXIT_INTERNAL;
            cdc_crash_point("record");
            last_durable = now;
            if (!confirm(s, false))
                return cmd_db_exit_code(p->conf->role);
            last_status = now;
        }
        if (now - last_status >= STATUS_EVERY_MS) {
            if (!confirm(s, false))
                return cmd_db_exit_code(p->conf->role);
            last_status = now;
        }
        if (now - last_metrics >= METRICS_EVERY_MS) {
            last_metrics = now;
            export_metrics_update(&mx, qw_total_events(s->qw) - total0, false);
        }
        if (!draining && now - last_poll >= POLL_CUTOVER_MS) {
            last_poll = now;
            cJSON *rec = metadb_status_load(s->ctx->meta);
            draining = rec && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                                  rec, cutover_request_key(p->cutover)));
            cJSON_Delete(rec);
            if (draining) {
                if (!drain_point(s, &need))
                    return cmd_db_exit_code(p->conf->role);
                log_say("cutover to %s requested: exporting the last changes (up to LSN %s)",
                        cutover_kind_name(p->cutover), lsn_format(need, a));
            }
        }
        if (draining && now - last_ping >= DRAIN_PING_MS) {
            last_ping = now;
            if (!confirm(s, true))
                return cmd_db_exit_code(p->conf->role);
        }
        if (draining && !s->in_tx && msg.kind == REPL_KEEPALIVE && msg.wal_end >= need) {
            if (!qw_make_durable(s->qw) || !read_sequences(s, p->end_op))
                return EXIT_INTERNAL;
            strbuf_reset(&s->line);
            event_json_append_marker(&s->line, qw_next_vsn(s->qw), p->end_op, p->exporter_role);
            if (!qw_finish_stream(s->qw, s->line.data, s->line.len))
                return EXIT_INTERNAL;
            confirm(s, false);
            export_metrics_update(&mx, qw_total_events(s->qw) - total0, true);
            return finish(s);
        }
    }
}

int cdc_stream_run(cmd_ctx *ctx, const cdc_stream_params *p)
{
    stream s = {.ctx = ctx, .p = p};
    int rc = EXIT_INTERNAL;
    s.qw = qw_open(ctx->meta, ctx->export_dir, p->exporter_role, cdc_segment_max_bytes());
    if (!s.qw)
        return EXIT_INTERNAL;
    pgconn_options o = {.application_name = "yb-voyager-cdc"};
    s.sql = pgconn_connect(p->conf, &o);
    if (!s.sql) {
        rc = cmd_db_exit_code(p->conf->role);
        goto out;
    }
    if (qw_stream_done(s.qw)) {
        log_say("the change stream of %s already ended at cutover", p->exporter_role);
        rc = finish(&s);
        goto out;
    }
    pgconn_options ro = {.replication = "database", .application_name = "yb-voyager-cdc"};
    char a[24];
    /* A restart right after a kill finds the slot held by the dead process's walsender for a moment. */
    for (int attempt = 0;; attempt++) {
        s.repl = pgconn_connect(p->conf, &ro);
        if (!s.repl) {
            rc = cmd_db_exit_code(p->conf->role);
            goto out;
        }
        if (repl_start(s.repl, p->slot, qw_last_commit_lsn(s.qw), p->publication))
            break;
        bool busy = strcmp(s.repl->sqlstate, "55006") == 0;
        pgconn_close(s.repl);
        s.repl = NULL;
        if (!busy || attempt >= 100 || cmd_interrupted) {
            if (busy)
                log_error("%s database: replication slot %s stays in use by another process: stop "
                          "it (or wait for it to go) and run the same command again",
                          db_role_name(p->conf->role), p->slot);
            rc = cmd_db_exit_code(p->conf->role);
            goto out;
        }
        usleep(200 * 1000);
    }
    s.rs.conn = s.repl;
    log_info("streaming changes from slot %s (publication %s) after LSN %s into segment %lld, "
             "next vsn %lld",
             p->slot, p->publication, lsn_format(qw_last_commit_lsn(s.qw), a),
             qw_segment_no(s.qw), qw_next_vsn(s.qw));
    rc = stream_loop(&s);
    if (s.skipped_tx)
        log_info("skipped %lld transaction(s) already in the queue", s.skipped_tx);
out:
    repl_stream_clear(&s.rs);
    pgconn_close(s.repl);
    pgconn_close(s.sql);
    for (size_t i = 0; i < s.nrels; i++) {
        pgo_relation_clear(&s.rels[i].rel);
        free(s.rels[i].key_cols);
    }
    free(s.rels);
    strbuf_free(&s.line);
    qw_close(s.qw);
    return rc;
}
