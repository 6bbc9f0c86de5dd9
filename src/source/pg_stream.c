/*
 * The change feed of a PostgreSQL database, streaming (source.h feed_connect
 * .. feed_disconnect): a query connection (key columns, the drain point,
 * sequences) and a replication connection reading the slot with pgoutput.
 * Each pgoutput message is decoded (db/replication/pgoutput.c) and handed on
 * as neutral begin / change / commit calls (source/change.h); the relations
 * pgoutput announces, with their key columns, are kept here.
 */
#include "source/pg_int.h"

#include "core/log.h"
#include "core/util.h"
#include "db/connect.h"
#include "db/replication/pgoutput.h"
#include "db/replication/replstream.h"

#include <stdlib.h>
#include <string.h>

/* At most this many messages handled by one poll (the caller's timers run between polls). */
#define POLL_BATCH 256
/*
 * How often the publication's tables are compared with the captured ones: a
 * table dropped (or created again) leaves it without a message on the stream.
 */
#define MEMBERS_CHECK_MS 10000

typedef struct rel_entry {
    pgo_relation rel;
    const char **names; /* rel.columns[i].name */
    size_t *key_cols;   /* indexes into rel.columns: the primary key */
    size_t nkey;
    bool *old_needed;   /* rel.natts flags: columns of unique indexes (src_change.old_needed) */
    uint64_t shape_id;  /* src_change.shape_id: new with each relation message */
} rel_entry;

struct pg_stream {
    pgconn *sql;  /* normal connection: key columns, the drain point, sequences */
    pgconn *repl; /* replication connection */
    repl_stream rs;
    bool ever_connected; /* a failure to connect after this is a fault to ride out */
    int64_t members_checked_ms; /* pg_layout_check_members' last run; 0: at the next poll */
    rel_entry *rels;
    size_t nrels, caprels;
    uint64_t shapes; /* the last shape_id given */
    src_value *after, *before; /* the record handed on: reused, capacity cap */
    size_t cap;
    char *describe;
};

static pg_stream *stream_of(source *s)
{
    pg_source *p = pg_of(s);
    if (!p->stream)
        p->stream = xcalloc(1, sizeof *p->stream);
    return p->stream;
}

/* A failed statement on the query connection: lost when a new connection may do better. */
static int sql_failed(source *s, pg_stream *st)
{
    pgconn *c = st->sql;
    if (!c || PQstatus(c->pg) == CONNECTION_BAD || c->last_error_retryable)
        return source_lost(s, "query connection: %s", c ? PQerrorMessage(c->pg) : "not connected");
    return db_role_failure(s->conf->role);
}

static rel_entry *rel_find(pg_stream *st, uint32_t relid)
{
    for (size_t i = 0; i < st->nrels; i++)
        if (st->rels[i].rel.relid == relid)
            return &st->rels[i];
    return NULL;
}

/*
 * Primary-key columns of rel (else its replica identity columns, else all
 * columns), and the columns of its unique indexes: the old values an update
 * or delete must carry for the apply side's conflict detection. Columns only
 * inside an index expression or predicate are not among them: the apply side
 * applies such a table in source order without looking at values.
 */
static bool rel_load_keys(source *s, pg_stream *st, rel_entry *e)
{
    char oid[16];
    snprintf(oid, sizeof oid, "%u", e->rel.relid);
    const char *prm[] = {oid};
    PGresult *r = pgconn_query_quiet(st->sql,
                                     "SELECT a.attname, i.indisprimary FROM pg_index i "
                                     "JOIN pg_attribute a "
                                     "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                                     "WHERE i.indrelid = $1::oid AND i.indisunique "
                                     "ORDER BY i.indisprimary DESC, i.indexrelid, "
                                     "array_position(i.indkey::int2[], a.attnum)",
                                     1, prm);
    if (!r) {
        if (PQstatus(st->sql->pg) != CONNECTION_BAD && !st->sql->last_error_retryable)
            log_error("%s database: reading the key of %s.%s: %s", db_role_name(s->conf->role),
                      e->rel.nspname, e->rel.relname, PQerrorMessage(st->sql->pg));
        return false;
    }
    free(e->key_cols);
    free(e->old_needed);
    e->key_cols = xcalloc(e->rel.natts ? e->rel.natts : 1, sizeof *e->key_cols);
    e->old_needed = xcalloc(e->rel.natts ? e->rel.natts : 1, sizeof *e->old_needed);
    e->nkey = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        bool primary = strcmp(PQgetvalue(r, i, 1), "t") == 0;
        for (uint16_t c = 0; c < e->rel.natts; c++) {
            if (strcmp(e->rel.columns[c].name, PQgetvalue(r, i, 0)) != 0)
                continue;
            e->old_needed[c] = true;
            if (primary)
                e->key_cols[e->nkey++] = c;
        }
    }
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

static void rel_clear(rel_entry *e)
{
    pgo_relation_clear(&e->rel);
    free(e->names);
    free(e->key_cols);
    free(e->old_needed);
    memset(e, 0, sizeof *e);
}

/* ENGINE_OK, a failed query (*query_failed) or a DDL that stops the stream (ENGINE_BAD_STATE, logged). */
static int on_relation(source *s, pg_stream *st, pgo_msg *m, bool *query_failed)
{
    /*
     * Before anything of the relation is taken: a change of its columns since
     * the feed started stops here, ahead of its first row (pg_layout.c).
     */
    int rc = pg_layout_check(s, st->sql, &m->relation, query_failed);
    if (rc != ENGINE_OK || *query_failed)
        return rc;
    rel_entry *e = rel_find(st, m->relation.relid);
    if (!e) {
        if (st->nrels == st->caprels) {
            st->caprels = st->caprels ? st->caprels * 2 : 16;
            st->rels = xrealloc(st->rels, st->caprels * sizeof *st->rels);
        }
        e = &st->rels[st->nrels++];
        memset(e, 0, sizeof *e);
    } else {
        rel_clear(e);
    }
    e->rel = m->relation; /* moved */
    memset(&m->relation, 0, sizeof m->relation);
    e->shape_id = ++st->shapes;
    e->names = xcalloc(e->rel.natts ? e->rel.natts : 1, sizeof *e->names);
    for (uint16_t c = 0; c < e->rel.natts; c++)
        e->names[c] = e->rel.columns[c].name;
    if (e->rel.natts > st->cap) {
        st->cap = e->rel.natts;
        st->after = xrealloc(st->after, st->cap * sizeof *st->after);
        st->before = xrealloc(st->before, st->cap * sizeof *st->before);
    }
    *query_failed = !rel_load_keys(s, st, e);
    return ENGINE_OK;
}

static void to_values(const pgo_tuple *t, src_value *out)
{
    for (uint16_t i = 0; i < t->natts; i++) {
        const pgo_value *v = &t->values[i];
        out[i] = (src_value){.kind = v->kind == 'n'   ? SRC_NULL
                                     : v->kind == 'u' ? SRC_UNCHANGED
                                                      : SRC_TEXT,
                             .data = v->data,
                             .len = v->len};
    }
}

bool pg_change_of(const pgo_relation *rel, const char *const *names, const size_t *key, size_t nkey,
                  const bool *old_needed, const pgo_msg *m, src_value *after, src_value *before,
                  src_change *out)
{
    const pgo_tuple *nt = m->kind == PGO_DELETE ? NULL : &m->new_tuple;
    const pgo_tuple *ot = m->old_kind ? &m->old_tuple : NULL;
    if ((nt && nt->natts != rel->natts) || (ot && ot->natts != rel->natts) ||
        (m->kind == PGO_DELETE && !ot))
        return false;
    if (nt)
        to_values(nt, after);
    if (ot)
        to_values(ot, before);
    *out = (src_change){
        .op = m->kind == PGO_INSERT ? SRC_INSERT : m->kind == PGO_UPDATE ? SRC_UPDATE : SRC_DELETE,
        .schema = rel->nspname,
        .table = rel->relname,
        .ncols = rel->natts,
        .columns = names,
        .after = nt ? after : NULL,
        .before = ot ? before : NULL,
        .before_full = m->old_kind == 'O',
        .key = key,
        .nkey = nkey,
        .old_needed = old_needed,
    };
    return true;
}

static int on_row(pg_stream *st, pgo_msg *m, const source_feed_handler *h)
{
    rel_entry *e = rel_find(st, m->relid);
    if (!e) {
        log_bug("row change for relation %u before its relation message", m->relid);
        return ENGINE_FAILED;
    }
    src_change ch;
    if (!pg_change_of(&e->rel, e->names, e->key_cols, e->nkey, e->old_needed, m, st->after,
                      st->before, &ch)) {
        log_bug("change of %s.%s does not match its relation (%u columns)", e->rel.nspname,
                e->rel.relname, e->rel.natts);
        return ENGINE_FAILED;
    }
    ch.shape_id = e->shape_id;
    return h->change(h->arg, &ch);
}

/* One table of a TRUNCATE: a change of its own (the publication sends only captured tables). */
static int on_truncate(pg_stream *st, uint32_t relid, const source_feed_handler *h)
{
    rel_entry *e = rel_find(st, relid);
    if (!e) {
        log_bug("truncate of relation %u before its relation message", relid);
        return ENGINE_FAILED;
    }
    src_change ch = {.op = SRC_TRUNCATE, .schema = e->rel.nspname, .table = e->rel.relname};
    return h->change(h->arg, &ch);
}

/* One XLogData payload: ENGINE_OK, SOURCE_LOST or a failure (logged). */
static int on_message(source *s, pg_stream *st, const char *data, size_t len,
                      const source_feed_handler *h)
{
    pgo_msg m;
    const char *err = NULL;
    if (!pgo_decode(data, len, &m, &err)) {
        log_error("%s database: cannot decode a pgoutput message: %s", db_role_name(s->conf->role),
                  err);
        return ENGINE_FAILED;
    }
    int rc = ENGINE_OK;
    switch (m.kind) {
    case PGO_BEGIN:
        rc = h->begin(h->arg, m.xid, m.lsn);
        break;
    case PGO_COMMIT:
        rc = h->commit(h->arg, m.end_lsn);
        break;
    case PGO_RELATION: {
        bool query_failed = false;
        rc = on_relation(s, st, &m, &query_failed);
        if (rc == ENGINE_OK && query_failed)
            rc = sql_failed(s, st);
        break;
    }
    case PGO_INSERT:
    case PGO_UPDATE:
    case PGO_DELETE:
        rc = on_row(st, &m, h);
        break;
    case PGO_TRUNCATE:
        for (uint32_t i = 0; rc == ENGINE_OK && i < m.ntruncate; i++)
            rc = on_truncate(st, m.truncate_relids[i], h);
        break;
    default:
        break; /* origin, type, message: nothing to export */
    }
    pgo_msg_clear(&m);
    return rc;
}

int pg_feed_poll(source *s, int timeout_ms, const source_feed_handler *h, source_feed_poll *out)
{
    pg_stream *st = stream_of(s);
    *out = (source_feed_poll){0};
    int64_t now = now_monotonic_ms();
    if (!st->members_checked_ms || now - st->members_checked_ms >= MEMBERS_CHECK_MS) {
        st->members_checked_ms = now;
        bool query_failed = false;
        int rc = pg_layout_check_members(s, st->sql, &query_failed);
        if (rc != ENGINE_OK)
            return rc;
        if (query_failed)
            return sql_failed(s, st);
    }
    /*
     * The messages already received, up to POLL_BATCH, in one call: the
     * caller's loop (its clocks and timers) runs once per batch, not once per
     * message. A keepalive or the end of what was received ends the batch.
     */
    for (int n = 0; n < POLL_BATCH; n++) {
        repl_msg msg;
        repl_receive(&st->rs, n == 0 ? timeout_ms : 0, &msg);
        switch (msg.kind) {
        case REPL_ERROR:
        case REPL_END:
            /* Lost when a new connection may continue, else fatal (logged). */
            if (st->rs.retryable)
                return source_lost(s, "%s", st->rs.error);
            log_error("%s database: %s", db_role_name(s->conf->role), st->rs.error);
            return db_role_failure(s->conf->role);
        case REPL_KEEPALIVE:
            out->kind = SOURCE_FEED_KEEPALIVE;
            out->end = msg.wal_end;
            out->reply_requested = msg.reply_requested;
            return ENGINE_OK;
        case REPL_XLOGDATA: {
            out->kind = SOURCE_FEED_DATA;
            int rc = on_message(s, st, msg.data, msg.len, h);
            if (rc != ENGINE_OK)
                return rc;
            break;
        }
        default:
            return ENGINE_OK;
        }
    }
    return ENGINE_OK;
}

int pg_feed_confirm(source *s, src_position pos, bool reply)
{
    pg_stream *st = stream_of(s);
    /* A failed status update: the socket took no more, the connection is as good as lost. */
    if (!repl_send_status(&st->rs, pos, reply))
        return source_lost(s, "%s", st->rs.error);
    return ENGINE_OK;
}

/*
 * A transactional logical message committed with synchronous_commit on is
 * written after every earlier commit and flushed at once, so even an idle
 * walsender (which only reads flushed WAL, and whose WAL writer may hibernate
 * for seconds) moves past it promptly. pgoutput does not send it (messages
 * are off).
 */
int pg_feed_drain_point(source *s, src_position *need)
{
    pg_stream *st = stream_of(s);
    char *x = pgconn_query_value(st->sql, "SELECT pg_current_wal_insert_lsn()", 0, NULL);
    uint64_t lx = 0;
    bool ok = x && lsn_parse(x, &lx);
    free(x);
    if (!ok)
        return sql_failed(s, st);
    *need = lx;
    pgconn_exec(st->sql, "SET synchronous_commit = on");
    PGresult *r = pgconn_query_quiet(
        st->sql, "SELECT pg_logical_emit_message(true, 'yb-voyager-cutover', '')", 0, NULL);
    uint64_t ly;
    if (r && PQntuples(r) == 1 && lsn_parse(PQgetvalue(r, 0, 0), &ly) && ly >= lx) {
        *need = ly + 1;
    } else {
        /* No logical messages here: a committed xid still forces the flush. */
        PGresult *t = pgconn_query_quiet(st->sql, "SELECT txid_current()", 0, NULL);
        PQclear(t);
    }
    PQclear(r);
    return ENGINE_OK;
}

int pg_feed_read_sequences(source *s, const strlist *schemas, sequence_value **out, size_t *n)
{
    pg_stream *st = stream_of(s);
    return pg_sequences_read(st->sql, schemas, out, n) ? ENGINE_OK : sql_failed(s, st);
}

int64_t pg_feed_silence_ms(source *s)
{
    pg_stream *st = stream_of(s);
    PGresult *r = pgconn_query_quiet(
        st->sql, "SELECT setting FROM pg_settings WHERE name = 'wal_sender_timeout'", 0, NULL);
    int64_t wst = 60000;
    if (r && PQntuples(r) == 1)
        parse_int64(PQgetvalue(r, 0, 0), 0, INT64_MAX / 2, &wst);
    PQclear(r);
    /*
     * Twice the server's wal_sender_timeout, at least 60 s: the walsender sends
     * a keepalive within half of it when asked, and during long decoding on
     * its own. 0: the server sends no keepalive on its own; it still answers
     * our requests.
     */
    if (wst <= 0)
        return 600000;
    return 2 * wst > 60000 ? 2 * wst : 60000;
}

static void close_replication(pg_stream *st)
{
    repl_stream_clear(&st->rs);
    st->rs.conn = NULL;
    pgconn_close(st->repl);
    st->repl = NULL;
}

void pg_feed_disconnect(source *s)
{
    pg_source *p = pg_of(s);
    if (!p->stream)
        return;
    close_replication(p->stream);
    pgconn_close(p->stream->sql);
    p->stream->sql = NULL;
}

pgconn *pg_stream_query_conn(source *s)
{
    pg_source *p = pg_of(s);
    if (!p->stream)
        return NULL;
    close_replication(p->stream);
    return p->stream->sql;
}

/* A connection refused: the fault being ridden out once this feed had connected (frees why). */
static int connect_failed(source *s, pg_stream *st, char *why)
{
    int rc = db_role_failure(s->conf->role);
    if (st->ever_connected) {
        /* The description starts with the role, as the engine's reconnect warning does. */
        const char *msg = why ? why : "cannot connect";
        const char *role = db_role_name(s->conf->role);
        size_t n = strlen(role);
        if (strncmp(msg, role, n) == 0 && strncmp(msg + n, " database: ", 11) == 0)
            msg += n + 11;
        rc = source_lost(s, "%s", msg);
    }
    free(why);
    return rc;
}

int pg_feed_connect(source *s, bool stream, src_position after, const char **describe)
{
    pg_source *p = pg_of(s);
    pg_stream *st = stream_of(s);
    db_role role = s->conf->role;
    char *why = NULL;
    /* After the first connection, a failure to connect is the fault being ridden out: quiet. */
    pgconn_options o = {.application_name = "yb-voyager-cdc", .quiet = st->ever_connected, .why = &why};
    st->sql = pgconn_connect(s->conf, &o);
    if (!st->sql)
        return connect_failed(s, st, why);
    if (!stream)
        return ENGINE_OK;
    pgconn_options ro = {.replication = "database", .application_name = "yb-voyager-cdc",
                         .quiet = st->ever_connected, .why = &why};
    st->repl = pgconn_connect(s->conf, &ro);
    if (!st->repl)
        return connect_failed(s, st, why);
    st->ever_connected = true;
    char err[512];
    if (!repl_start(st->repl, p->slot, after, p->publication, err, sizeof err)) {
        /* 55006: the walsender of a connection that just died (or stalled) still holds the slot. */
        if (strcmp(st->repl->sqlstate, "55006") == 0)
            return source_lost(s, "replication slot %s is still in use by another process (%s)",
                               p->slot, err);
        if (st->repl->last_error_retryable)
            return source_lost(s, "could not start replication from slot %s: %s", p->slot, err);
        log_error("%s database: could not start replication from slot %s: %s", db_role_name(role),
                  p->slot, err);
        return db_role_failure(role);
    }
    st->rs.conn = st->repl;
    st->members_checked_ms = 0;
    free(st->describe);
    st->describe = xasprintf("slot %s (publication %s)", p->slot, p->publication);
    if (describe)
        *describe = st->describe;
    return ENGINE_OK;
}

void pg_stream_free(pg_source *p)
{
    pg_stream *st = p->stream;
    if (!st)
        return;
    close_replication(st);
    pgconn_close(st->sql);
    for (size_t i = 0; i < st->nrels; i++)
        rel_clear(&st->rels[i]);
    free(st->rels);
    free(st->after);
    free(st->before);
    free(st->describe);
    free(st);
    p->stream = NULL;
}
