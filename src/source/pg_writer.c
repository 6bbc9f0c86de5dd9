/*
 * The PostgreSQL writer (source/writer.h): sessions over pgconn, YugabyteDB's
 * nodes for spreading sessions, and the entries that pg_apply.c,
 * pg_bookkeeping.c, pg_batches.c and pg_load.c implement. Memory: the writer
 * owns its nodes; a session owns its pgconn and its applier's statement cache.
 */
#include "source/pg_writer_int.h"

#include "db/connect.h"
#include "core/log.h"
#include "db/yb_nodes.h"

#include <stdlib.h>
#include <string.h>

extern const writer_ops writer_pg_ops;

typedef struct pg_writer {
    yb_nodes nodes; /* YugabyteDB: the nodes channels spread over (and move between) */
} pg_writer;

static pg_writer *pgw(writer *w)
{
    if (!w->impl)
        w->impl = xcalloc(1, sizeof(pg_writer));
    return w->impl;
}

writer_session *pg_session_of(pgconn *c)
{
    pg_wsession *p = xcalloc(1, sizeof *p);
    p->pub.ops = &writer_pg_ops;
    p->pub.role = c->role;
    p->pub.impl = p;
    p->c = c;
    return &p->pub;
}

const yb_nodes *pg_writer_nodes(writer *w)
{
    return &pgw(w)->nodes;
}

static writer_session *pg_w_connect(writer *w, retry_state *rs,
                                    const volatile sig_atomic_t *interrupt, bool *gave_up)
{
    pgw(w); /* made here, before any thread shares the writer (move runs on channels' threads) */
    pgconn *c = db_connect_recorded_retrying(w->eng->cat, w->conf, NULL, rs, interrupt, gave_up);
    if (!c)
        return NULL;
    c->retries = true; /* its statements run under the engine's retry policy */
    return pg_session_of(c);
}

static bool pg_w_discover_nodes(writer *w, writer_session *s, const char *endpoints,
                                bool use_public_ip)
{
    return yb_nodes_discover(pg_ws(s)->c, endpoints, use_public_ip, &pgw(w)->nodes);
}

static size_t pg_w_node_count(writer *w)
{
    return pgw(w)->nodes.count;
}

static writer_session *pg_w_connect_channel(writer *w, int idx, retry_state *rs,
                                            const volatile sig_atomic_t *interrupt, bool *gave_up)
{
    const yb_nodes *nodes = &pgw(w)->nodes;
    pgconn_options opt = {.application_name = "yb-voyager-apply"};
    /* every node once (quiet), then the channel's own node under the retry policy */
    opt.quiet = true;
    pgconn *c = nodes->count > 1 ? yb_nodes_connect(nodes, (size_t)idx, w->conf, &opt) : NULL;
    opt.quiet = false;
    if (!c) {
        if (nodes->count) {
            opt.host = nodes->items[(size_t)idx % nodes->count].host;
            opt.port = nodes->items[(size_t)idx % nodes->count].port;
        }
        c = pgconn_connect_retrying(w->conf, &opt, rs, interrupt, gave_up);
    }
    if (!c)
        return NULL;
    c->retries = true; /* the channel's retries */
    return pg_session_of(c);
}

/*
 * Keeps the session's pgconn (its role and retry settings) with the new
 * server's connection in it; its prepared statements are gone with the old one.
 */
static bool pg_w_move(writer *w, writer_session *s, int idx)
{
    pg_wsession *p = pg_ws(s);
    pgconn_options opt = {.application_name = "yb-voyager-apply", .quiet = true};
    pgconn *moved = yb_nodes_connect(&pgw(w)->nodes, (size_t)idx, w->conf, &opt);
    if (!moved)
        return false;
    PQfinish(p->c->pg);
    p->c->pg = moved->pg;
    p->c->is_yugabyte = moved->is_yugabyte;
    p->c->server_version_num = moved->server_version_num;
    moved->pg = NULL;
    pgconn_close(moved);
    applier_reset(&p->ap);
    return true;
}

static bool pg_w_connected(writer_session *s)
{
    return PQstatus(pg_ws(s)->c->pg) == CONNECTION_OK;
}

static bool pg_w_reset(writer_session *s)
{
    pg_wsession *p = pg_ws(s);
    PQreset(p->c->pg);
    applier_reset(&p->ap);
    return PQstatus(p->c->pg) == CONNECTION_OK;
}

static bool pg_w_ensure(writer_session *s, retry_state *rs, const char *what,
                        const volatile sig_atomic_t *interrupt)
{
    return pgconn_ensure(pg_ws(s)->c, rs, what, interrupt, NULL);
}

static bool pg_w_retryable(writer_session *s)
{
    return pg_ws(s)->c->last_error_retryable;
}

static bool pg_w_unique_violation(writer_session *s)
{
    /*
     * 23P01 (exclusion_violation) too: an EXCLUDE constraint conflicts like a
     * unique index another channel has yet to release, and the retry/alone
     * logic converges for it the same way.
     */
    return strcmp(pg_ws(s)->c->sqlstate, "23505") == 0 ||
           strcmp(pg_ws(s)->c->sqlstate, "23P01") == 0;
}

static const char *pg_w_error_line(writer_session *s)
{
    /* a reconnect that failed: that is the attempt's error, not a statement's */
    pgconn *c = pg_ws(s)->c;
    c->last_error_retryable = true;
    c->sqlstate[0] = '\0';
    return PQerrorMessage(c->pg);
}

static char *pg_w_user_ident(writer_session *s)
{
    return pg_quote_ident(PQuser(pg_ws(s)->c->pg));
}

static bool pg_w_is_yugabyte(writer_session *s)
{
    return pg_ws(s)->c->is_yugabyte;
}

static void pg_w_set_retrying(writer_session *s, bool on)
{
    pg_ws(s)->c->retries = on;
}

static bool pg_w_idle(writer_session *s)
{
    PGconn *pg = pg_ws(s)->c->pg;
    return PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) == PQTRANS_IDLE;
}

static bool pg_w_begin(writer_session *s) { return pgconn_exec(pg_ws(s)->c, "BEGIN"); }
static bool pg_w_commit(writer_session *s) { return pgconn_exec(pg_ws(s)->c, "COMMIT"); }
static void pg_w_rollback_after_failure(writer_session *s)
{
    pgconn_rollback_after_failure(pg_ws(s)->c);
}

static bool pg_w_table_meta(writer_session *s, const char *schema, const char *table, int idx,
                            table_meta **out)
{
    return table_meta_load(pg_ws(s)->c, schema, table, idx, out);
}

static bool pg_w_create(writer_session *s) { return cdc_metainfo_create(pg_ws(s)->c); }

static int pg_w_generation_check(writer_session *s, const char *uuid, const char *generation,
                                 int64_t *applied_vsn)
{
    return cdc_metainfo_generation_check(pg_ws(s)->c, uuid, generation, applied_vsn);
}

static bool pg_w_channels(writer_session *s, const char *uuid, const char *generation, int want,
                          int *nchannels, int64_t **last_applied)
{
    return cdc_metainfo_channels(pg_ws(s)->c, uuid, generation, want, nchannels, last_applied);
}

static bool pg_w_reset_progress(writer_session *s, const char *uuid)
{
    return cdc_metainfo_reset(pg_ws(s)->c, uuid);
}

static bool pg_w_progress(writer_session *s, const char *uuid, int channel, int64_t *vsn)
{
    return cdc_metainfo_channel_progress(pg_ws(s)->c, uuid, channel, vsn);
}

static bool pg_w_total_applied(writer_session *s, const char *uuid, int64_t *total)
{
    return cdc_metainfo_total_applied(pg_ws(s)->c, uuid, total);
}

static bool pg_w_batches_create(writer_session *s)
{
    return import_metainfo_create(pg_ws(s)->c);
}

static bool pg_w_batches_load(writer_session *s, const char *uuid, import_metainfo_set *out)
{
    return import_metainfo_load(pg_ws(s)->c, uuid, out);
}

static bool pg_w_batches_forget_table(writer_session *s, const char *uuid, const char *schema,
                                      const char *table)
{
    return import_metainfo_delete_table(pg_ws(s)->c, uuid, schema, table);
}

static bool pg_w_batches_undo_table(writer_session *s, const char *uuid, const char *schema,
                                    const char *table, int64_t *rows_removed)
{
    return import_metainfo_undo_table(pg_ws(s)->c, uuid, schema, table, rows_removed);
}

static bool pg_w_check_table(writer_session *s, const char *schema, const char *table)
{
    pgconn *c = pg_ws(s)->c;
    char *q = pg_quote_qualified(schema, table);
    int exists = pgconn_relation_exists(c, q);
    if (exists == 0)
        log_report(LOG_ERROR, NULL, "create the schema first (yb-voyager import schema)",
                   "table %s does not exist on the %s database", q, db_role_name(c->role));
    free(q);
    return exists == 1;
}

static int pg_w_table_has_rows(writer_session *s, const char *schema, const char *table)
{
    char *q = pg_quote_qualified(schema, table);
    char *sql = xasprintf("SELECT EXISTS (SELECT 1 FROM %s)", q);
    char *v = pgconn_query_value(pg_ws(s)->c, sql, 0, NULL);
    free(sql);
    free(q);
    int out = v ? strcmp(v, "t") == 0 : -1;
    free(v);
    return out;
}

static bool pg_w_truncate_tables(writer_session *s, const strlist *schemas, const strlist *names)
{
    /* One statement: foreign keys among the tables do not get in the way. */
    pgconn *c = pg_ws(s)->c;
    strbuf sql = STRBUF_INIT;
    strbuf_append(&sql, "TRUNCATE TABLE ");
    for (size_t i = 0; i < names->count; i++) {
        char *q = pg_quote_qualified(schemas->items[i], names->items[i]);
        const char *qp[1] = {q};
        char *kind = pgconn_query_value(c, "SELECT relkind FROM pg_class WHERE oid = to_regclass($1)",
                                        1, qp);
        /*
         * ONLY: an inheritance child is a table of its own, which the selection may
         * leave out (and whose batches stay counted). A partitioned table refuses
         * ONLY, and its partitions are its rows. No kind: TRUNCATE names the problem.
         */
        const char *only = kind && strcmp(kind, "p") != 0 ? "ONLY " : "";
        strbuf_appendf(&sql, "%s%s%s", i ? ", " : "", only, q);
        free(kind);
        free(q);
    }
    bool ok = pgconn_exec(c, strbuf_cstr(&sql));
    strbuf_free(&sql);
    return ok;
}

/*
 * setval($1, $2, $3) unless the sequence would then hand out a value it handed out already,
 * or one on the far side of its current position (the direction of its increment): "set", or
 * "kept". A rerun of a finished import, or a cutover's hand-over, may meet a database the
 * application already writes to; moving its sequence back makes its next inserts collide with
 * its own rows. A position is the next value the sequence gives: last_value, plus the
 * increment once it was called; numeric, so that a sequence at its bound does not overflow.
 * %s: the sequence, quoted (a relation name cannot be a parameter).
 */
static const char SET_SEQUENCE_FORWARD_SQL[] =
    "SELECT CASE WHEN sign(p.seqincrement) * (($2::bigint::numeric + CASE WHEN $3::boolean "
    "THEN p.seqincrement ELSE 0 END) - (s.last_value::numeric + CASE WHEN s.is_called THEN "
    "p.seqincrement ELSE 0 END)) > 0 THEN setval($1::regclass, $2::bigint, $3::boolean)::text "
    "ELSE 'kept' END FROM %s s, pg_sequence p WHERE p.seqrelid = $1::regclass";

static bool pg_w_set_sequences(writer_session *s, const sequence_value *seqs, size_t n,
                               int *restored)
{
    pgconn *c = pg_ws(s)->c;
    *restored = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        if (!seqs[i].schema || !seqs[i].name)
            continue;
        char *q = pg_quote_qualified(seqs[i].schema, seqs[i].name);
        char *value = xasprintf("%lld", seqs[i].last_value);
        const char *p[3] = {q, value, seqs[i].is_called ? "true" : "false"};
        int exists = pgconn_relation_exists(c, q);
        if (exists == 1) {
            char *sql = xasprintf(SET_SEQUENCE_FORWARD_SQL, q);
            char *r = pgconn_query_value(c, sql, 3, p);
            free(sql);
            ok = r != NULL;
            if (r && strcmp(r, "kept") == 0)
                log_info("sequence %s of the %s database is at or past the value to restore "
                         "(%s, is_called %s): left as it is",
                         q, db_role_name(c->role), value, p[2]);
            else if (r)
                (*restored)++;
            free(r);
        } else if (exists == 0) {
            log_warn("sequence %s does not exist on the %s database: not restored", q,
                     db_role_name(c->role));
        } else {
            ok = false;
        }
        free(value);
        free(q);
    }
    return ok;
}

/*
 * Channels apply rows out of the source's global order: a child row may
 * arrive before its parent. Like PostgreSQL's own apply workers, run as a
 * replica session so foreign keys and triggers are not re-checked.
 */
/* The settings of an apply session; false when the replica role was refused. */
static bool apply_settings(pgconn *c)
{
    /*
     * Statements are prepared once and run thousands of times, by primary key
     * (multi-row ones join unnest() to it): the server's default plans each of
     * the first five runs anew, and keeps doing so while a custom plan looks
     * cheaper, for no better plan. PostgreSQL 12 and later (older ones,
     * YugabyteDB 2.x among them, refuse the setting: harmless). Quiet, both:
     * a refusal is recovered from, so it must not print an "error:" line.
     */
    PGresult *g = pgconn_query_quiet(c, "SET plan_cache_mode = force_generic_plan", 0, NULL);
    PQclear(g);
    PGresult *r = pgconn_query_quiet(c, "SET session_replication_role = replica", 0, NULL);
    PQclear(r);
    return r != NULL;
}

static bool pg_w_apply_setup(writer_session *s, int channel, const char *uuid)
{
    pg_wsession *p = pg_ws(s);
    if (p->ap.conn != p->c)
        applier_init(&p->ap, p->c, channel, uuid);
    return apply_settings(p->c);
}

static void pg_w_apply_renew(writer_session *s)
{
    pg_wsession *p = pg_ws(s);
    PGconn *old = p->c->pg;
    PQconninfoOption *opts = PQconninfo(old);
    if (!opts)
        return;
    size_t n = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        n++;
    const char **keys = xcalloc(n + 1, sizeof *keys);
    const char **vals = xcalloc(n + 1, sizeof *vals);
    size_t k = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (o->val) {
            keys[k] = o->keyword;
            vals[k++] = o->val;
        }
    }
    PGconn *pg = PQconnectdbParams(keys, vals, 0);
    PQconninfoFree(opts);
    free(keys);
    free(vals);
    if (PQstatus(pg) != CONNECTION_OK) {
        PQfinish(pg);
        return;
    }
    /* the notice processor pgconn installed (a NULL one only reads it) */
    PQsetNoticeProcessor(pg, PQsetNoticeProcessor(old, NULL, NULL), NULL);
    p->c->pg = pg;
    if (!apply_settings(p->c)) {
        /*
         * Not a replica session (refused, or without the grant from the start):
         * the renewal is only for memory, so keep the session as it was set up.
         */
        p->c->pg = old;
        PQfinish(pg);
        return;
    }
    PQfinish(old);
    applier_reset(&p->ap);
}

static bool pg_w_apply_batch(writer_session *s, int64_t after_vsn, writer_item **items, size_t n,
                             writer_item **failed, strbuf *err)
{
    pg_wsession *p = pg_ws(s);
    bool ok = applier_apply_batch(&p->ap, after_vsn, items, n, failed, err);
    s->zero_row_changes = p->ap.zero_row_changes;
    s->merged_events = p->ap.merged_events;
    s->folded_into_inserts = p->ap.folded_into_inserts;
    s->folded_into_updates = p->ap.folded_into_updates;
    return ok;
}

static bool pg_w_apply_progress(writer_session *s, int64_t after_vsn, int64_t vsn)
{
    return applier_apply_progress(&pg_ws(s)->ap, after_vsn, vsn);
}

static void pg_w_close_session(writer_session *s)
{
    pg_wsession *p = pg_ws(s);
    applier_free(&p->ap);
    pgconn_close(p->c);
    free(p);
}

static void pg_w_free(writer *w)
{
    if (w->impl)
        yb_nodes_free(&pgw(w)->nodes);
    free(w->impl);
}

const writer_ops writer_pg_ops = {
    .type = "postgresql",
    .connect = pg_w_connect,
    .discover_nodes = pg_w_discover_nodes,
    .node_count = pg_w_node_count,
    .connect_channel = pg_w_connect_channel,
    .move = pg_w_move,
    .connected = pg_w_connected,
    .reset = pg_w_reset,
    .ensure = pg_w_ensure,
    .retryable = pg_w_retryable,
    .unique_violation = pg_w_unique_violation,
    .error_line = pg_w_error_line,
    .user_ident = pg_w_user_ident,
    .is_yugabyte = pg_w_is_yugabyte,
    .set_retrying = pg_w_set_retrying,
    .idle = pg_w_idle,
    .begin = pg_w_begin,
    .commit = pg_w_commit,
    .rollback_after_failure = pg_w_rollback_after_failure,
    .table_meta = pg_w_table_meta,
    .create = pg_w_create,
    .generation_check = pg_w_generation_check,
    .channels = pg_w_channels,
    .reset_progress = pg_w_reset_progress,
    .progress = pg_w_progress,
    .total_applied = pg_w_total_applied,
    .batches_create = pg_w_batches_create,
    .batches_load = pg_w_batches_load,
    .batches_forget_table = pg_w_batches_forget_table,
    .batches_undo_table = pg_w_batches_undo_table,
    .check_table = pg_w_check_table,
    .table_has_rows = pg_w_table_has_rows,
    .truncate_tables = pg_w_truncate_tables,
    .load_statement = pg_w_load_statement,
    .connect_loader = pg_w_connect_loader,
    .load_batch = pg_w_load_batch,
    .batch_committed = pg_w_batch_committed,
    .set_sequences = pg_w_set_sequences,
    .apply_setup = pg_w_apply_setup,
    .apply_batch = pg_w_apply_batch,
    .apply_progress = pg_w_apply_progress,
    .apply_renew = pg_w_apply_renew,
    .close_session = pg_w_close_session,
    .free = pg_w_free,
};
