/*
 * Receive loop: take the feed's neutral transactions (source/source.h), turn
 * their changes into event lines, group commits into durable steps (fsync +
 * meta.db), confirm to the source only what is durable, watch for the
 * cutover request and drain, answer compare data's consistent point, and ride
 * out lost connections under the one retry policy.
 */
#include "cdc/cdc_stream.h"

#include "catalog/catalog.h"
#include "catalog/migration_state.h"
#include "catalog/queue_meta.h"
#include "cdc/consistent_point.h"
#include "cdc/crash_point.h"
#include "cdc/event_json.h"
#include "cdc/export_metrics.h"
#include "cdc/queue_format.h"
#include "cdc/queue_writer.h"
#include "cdc/target_keys.h"
#include "core/log.h"
#include "core/util.h"
#include "db/retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Commits are grouped into durable steps (fsync + one meta.db transaction,
 * ~5 fsyncs in all): one at least every DURABLE_EVERY_MS while data flows;
 * earlier once the stream pauses (a keepalive: the walsender caught up; or
 * nothing for PAUSE_MS), but not within DURABLE_GAP_MS of the last one. A
 * step each time the receive buffer ran dry made ~1000 steps a second on a
 * backlog of small transactions, the exporter waiting on fsync most of its time.
 */
#define DURABLE_EVERY_MS 250
#define DURABLE_GAP_MS 10
#define PAUSE_MS 10
#define METRICS_EVERY_MS 250
#define STATUS_EVERY_MS 10000
#define POLL_CUTOVER_MS 1000
#define DRAIN_PING_MS 200
/* A connection that stayed up this long ends a run of failures (as a durable step does). */
#define HEALTHY_AFTER_MS 30000

/*
 * Seconds without any message from the source (data or keepalive) after
 * which the feed's connection counts as dead; default: the source's own
 * (source.h feed_silence_ms; PostgreSQL: twice wal_sender_timeout, at least 60 s).
 */
#define REPLICATION_TIMEOUT_ENV "YB_VOYAGER_REPLICATION_TIMEOUT"

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

/*
 * The event encoder (SPEC.md "CDC event"): the exporter's hot path, written
 * by hand. What a shape (src_change.shape_id) always writes the same way, its
 * table and its column names as JSON, is encoded once and kept here; lines
 * are written straight into the queue writer's buffer.
 *
 * Memory: the encoder owns its shapes and tail; cdc_encoder_free frees them.
 */
#define ENC_SHAPES_MAX 4096

typedef struct enc_shape {
    uint64_t id;
    size_t ncols;
    strbuf buf;  /* ,"schema_name":S,"table_name":T then each column's ,"name": */
    size_t *off; /* ncols + 1: the end of the table piece, then of each column's */
} enc_shape;

struct cdc_encoder {
    strbuf tail; /* ,"exporter_role":R}\n */
    enc_shape *shapes;
    size_t nshapes, cap, last;
};

static void encoder_init(cdc_encoder *e, const char *role)
{
    memset(e, 0, sizeof *e);
    strbuf_append(&e->tail, ",\"exporter_role\":");
    json_append_string(&e->tail, role, strlen(role));
    strbuf_append(&e->tail, "}\n");
}

static void shapes_clear(cdc_encoder *e)
{
    for (size_t i = 0; i < e->nshapes; i++) {
        strbuf_free(&e->shapes[i].buf);
        free(e->shapes[i].off);
    }
    e->nshapes = e->last = 0;
}

static void encoder_free(cdc_encoder *e)
{
    shapes_clear(e);
    free(e->shapes);
    strbuf_free(&e->tail);
    memset(e, 0, sizeof *e);
}

static void append_table_piece(strbuf *sb, const src_change *ch)
{
    strbuf_append(sb, ",\"schema_name\":");
    json_append_string(sb, ch->schema, strlen(ch->schema));
    strbuf_append(sb, ",\"table_name\":");
    json_append_string(sb, ch->table, strlen(ch->table));
}

/* The shape of ch (made on first sight), or NULL when the feed gives it none. */
static const enc_shape *shape_of(cdc_encoder *e, const src_change *ch)
{
    if (!e || !ch->shape_id)
        return NULL;
    enc_shape *sh = NULL;
    if (e->nshapes && e->shapes[e->last].id == ch->shape_id) {
        sh = &e->shapes[e->last];
    } else {
        for (size_t i = 0; i < e->nshapes && !sh; i++)
            if (e->shapes[i].id == ch->shape_id)
                sh = &e->shapes[e->last = i];
    }
    if (sh && sh->ncols == ch->ncols)
        return sh;
    if (!sh) {
        /* Ids of relations announced again (a reconnect) are never seen again: start over. */
        if (e->nshapes == ENC_SHAPES_MAX)
            shapes_clear(e);
        if (e->nshapes == e->cap) {
            e->cap = e->cap ? e->cap * 2 : 16;
            e->shapes = xrealloc(e->shapes, e->cap * sizeof *e->shapes);
        }
        e->last = e->nshapes++;
        sh = &e->shapes[e->last];
        memset(sh, 0, sizeof *sh);
    }
    sh->id = ch->shape_id;
    sh->ncols = ch->ncols;
    strbuf_reset(&sh->buf);
    free(sh->off);
    sh->off = xmalloc((ch->ncols + 1) * sizeof *sh->off);
    append_table_piece(&sh->buf, ch);
    sh->off[0] = sh->buf.len;
    for (size_t c = 0; c < ch->ncols; c++) {
        strbuf_append_char(&sh->buf, ',');
        json_append_string(&sh->buf, ch->columns[c], strlen(ch->columns[c]));
        strbuf_append_char(&sh->buf, ':');
        sh->off[c + 1] = sh->buf.len;
    }
    return sh;
}

/* Column c's "name": (preceded by a comma unless first). */
static void append_name(strbuf *sb, const enc_shape *sh, const src_change *ch, size_t c, bool first)
{
    if (sh) {
        size_t a = sh->off[c] + (first ? 1 : 0);
        strbuf_append_len(sb, sh->buf.data + a, sh->off[c + 1] - a);
        return;
    }
    if (!first)
        strbuf_append_char(sb, ',');
    json_append_string(sb, ch->columns[c], strlen(ch->columns[c]));
    strbuf_append_char(sb, ':');
}

static void append_value(strbuf *sb, const src_value *v)
{
    if (v->kind == SRC_NULL)
        strbuf_append_len(sb, "null", 4);
    else
        json_append_string(sb, v->data ? v->data : "", v->len);
}

/* {col:value} over the given columns (all when cols == NULL), skipping values not sent. */
static void append_values(strbuf *sb, const enc_shape *sh, const src_change *ch,
                          const src_value *v, const size_t *cols, size_t ncols)
{
    strbuf_append_char(sb, '{');
    bool first = true;
    size_t n = cols ? ncols : ch->ncols;
    for (size_t i = 0; i < n; i++) {
        size_t c = cols ? cols[i] : i;
        if (v[c].kind == SRC_UNCHANGED)
            continue;
        append_name(sb, sh, ch, c, first);
        append_value(sb, &v[c]);
        first = false;
    }
    strbuf_append_char(sb, '}');
}

static bool same_value(const src_value *a, const src_value *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == SRC_NULL)
        return true;
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Whether an update with the whole old row changes column c. */
static bool column_changed(const src_change *ch, size_t c)
{
    return ch->after[c].kind != SRC_UNCHANGED && !same_value(&ch->after[c], &ch->before[c]);
}

static bool in_key(const src_change *ch, size_t col)
{
    for (size_t k = 0; k < ch->nkey; k++)
        if (ch->key[k] == col)
            return true;
    return false;
}

/*
 * ,"before_fields":{...}: the old values the apply side needs beyond the key
 * (old_needed), left out when there are none; every old value sent when the
 * feed does not say which are needed. An update that changes none of the key
 * and old_needed columns carries none: the apply side's conflict detection
 * (cdc/conflicts.c) reads an update's old values only for a unique index with
 * a column in fields, and such an update neither releases nor takes a value.
 * One that changes any carries them all, so that every index of the written
 * table made of carried columns (cdc/target_keys.h), not only the source's,
 * finds all of its old values.
 */
static void append_before(strbuf *sb, const enc_shape *sh, const src_change *ch)
{
    if (!ch->old_needed) {
        strbuf_append(sb, ",\"before_fields\":");
        append_values(sb, sh, ch, ch->before, NULL, 0);
        return;
    }
    if (ch->op == SRC_UPDATE) {
        bool changed = false;
        for (size_t i = 0; i < ch->ncols && !changed; i++)
            changed = (ch->old_needed[i] || in_key(ch, i)) && column_changed(ch, i);
        if (!changed)
            return;
    }
    bool first = true;
    for (size_t i = 0; i < ch->ncols; i++) {
        const src_value *v = &ch->before[i];
        if (!ch->old_needed[i] || v->kind == SRC_UNCHANGED || in_key(ch, i))
            continue;
        if (first)
            strbuf_append(sb, ",\"before_fields\":{");
        append_name(sb, sh, ch, i, first);
        append_value(sb, v);
        first = false;
    }
    if (!first)
        strbuf_append_char(sb, '}');
}

static void append_i64(strbuf *sb, long long v)
{
    char d[24];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        d[sizeof d - ++n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        d[sizeof d - ++n] = '-';
    strbuf_append_len(sb, d + sizeof d - n, n);
}

static void encode_change(strbuf *sb, long long vsn, const src_change *ch, const enc_shape *sh,
                          const strbuf *tail)
{
    strbuf_append_len(sb, "{\"vsn\":", 7);
    append_i64(sb, vsn);
    char op[] = {',', '"', 'o', 'p', '"', ':', '"', (char)ch->op, '"'};
    strbuf_append_len(sb, op, sizeof op);
    if (sh)
        strbuf_append_len(sb, sh->buf.data, sh->off[0]);
    else
        append_table_piece(sb, ch);
    strbuf_append_len(sb, ",\"key\":", 7);
    append_values(sb, sh, ch, ch->before ? ch->before : ch->after, ch->key, ch->nkey);
    if (ch->op == SRC_INSERT) {
        strbuf_append_len(sb, ",\"fields\":", 10);
        append_values(sb, sh, ch, ch->after, NULL, 0);
    } else if (ch->op == SRC_UPDATE) {
        strbuf_append_len(sb, ",\"fields\":{", 11);
        bool first = true;
        bool diff = ch->before && ch->before_full;
        for (size_t i = 0; i < ch->ncols; i++) {
            const src_value *v = &ch->after[i];
            if (v->kind == SRC_UNCHANGED || (diff && same_value(v, &ch->before[i])))
                continue;
            append_name(sb, sh, ch, i, first);
            append_value(sb, v);
            first = false;
        }
        strbuf_append_char(sb, '}');
    }
    if (ch->before && ch->before_full && ch->op != SRC_INSERT)
        append_before(sb, sh, ch);
    strbuf_append_len(sb, tail->data, tail->len);
}

void cdc_event_append_change(strbuf *sb, long long vsn, const src_change *ch, const char *role)
{
    cdc_encoder e;
    encoder_init(&e, role);
    encode_change(sb, vsn, ch, NULL, &e.tail);
    encoder_free(&e);
}

cdc_encoder *cdc_encoder_new(const char *role)
{
    cdc_encoder *e = xmalloc(sizeof *e);
    encoder_init(e, role);
    return e;
}

void cdc_encoder_append(cdc_encoder *e, strbuf *sb, long long vsn, const src_change *ch)
{
    encode_change(sb, vsn, ch, shape_of(e, ch), &e->tail);
}

void cdc_encoder_free(cdc_encoder *e)
{
    if (!e)
        return;
    encoder_free(e);
    free(e);
}

typedef struct stream {
    engine_ctx *eng;
    const cdc_stream_params *p;
    source *src;
    queue_writer *qw;
    cdc_encoder *enc;
    strbuf line; /* lines other than row changes */
    bool in_tx, skip_tx;
    uint64_t confirmed;   /* last position sent as durable */
    uint64_t recorded;    /* the highest idle position recorded in meta.db (confirmed_lsn) */
    uint64_t idle_wal_end; /* keepalive position when nothing was open or pending */
    long long skipped_tx;
    int64_t connected_ms;  /* when the current feed connection started */
    int64_t silence_ms;    /* nothing heard for this long: the connection is dead */
    cp_exporter cp;        /* recent commits, for compare data's consistent point */
    target_keys_memo *keys; /* the tables whose carried key columns are recorded */
    uint64_t tx_id;
    uint64_t tx_commit;
    long long tx_first_vsn;
} stream;

static const char *role_name(const stream *s) { return db_role_name(s->src->conf->role); }

/* A position for messages: "LSN 0/16B3748" (buf: 48 bytes). */
static const char *position_text(const stream *s, src_position pos, char *buf)
{
    char v[32];
    snprintf(buf, 48, "%s %s", s->src->ops->position_name, s->src->ops->format_position(pos, v));
    return buf;
}

static int queue_failed(stream *s) { return qw_no_space(s->qw) ? ENGINE_BAD_STATE : ENGINE_FAILED; }

/* ---- the feed's callbacks (source/change.h) ---- */

static int on_begin(void *arg, uint64_t txid, src_position commit)
{
    stream *s = arg;
    char a[48], b[48];
    s->in_tx = true;
    /* Already in the queue: its commit ended at or before the recorded commit end. */
    s->skip_tx = commit < qw_last_commit_lsn(s->qw);
    if (s->skip_tx) {
        s->skipped_tx++;
        log_msg(s->skipped_tx == 1 ? LOG_INFO : LOG_DEBUG,
                "skipping transaction %llu (commit %s <= %s): already in the queue",
                (unsigned long long)txid, s->src->ops->format_position(commit, a),
                s->src->ops->format_position(qw_last_commit_lsn(s->qw), b));
    }
    s->tx_id = txid;
    s->tx_commit = commit;
    s->tx_first_vsn = qw_next_vsn(s->qw);
    return ENGINE_OK;
}

static int on_change(void *arg, const src_change *ch)
{
    stream *s = arg;
    if (s->skip_tx)
        return ENGINE_OK;
    if (!target_keys_note(s->eng->cat, s->p->exporter_role, &s->keys, ch))
        return ENGINE_FAILED;
    if (ch->op == SRC_TRUNCATE) {
        strbuf_reset(&s->line);
        event_json_append_truncate(&s->line, qw_next_vsn(s->qw), ch->schema, ch->table,
                                   s->p->exporter_role);
        log_info("TRUNCATE of %s.%s on the %s database: queued as vsn %lld", ch->schema, ch->table,
                 role_name(s), (long long)qw_next_vsn(s->qw));
        if (!qw_add_event(s->qw, s->line.data, s->line.len, ch->schema, ch->table, (char)ch->op))
            return queue_failed(s);
        return ENGINE_OK;
    }
    strbuf *out = qw_line_buffer(s->qw);
    size_t start = out->len;
    cdc_encoder_append(s->enc, out, qw_next_vsn(s->qw), ch);
    return qw_add_appended(s->qw, start, ch->schema, ch->table, (char)ch->op) ? ENGINE_OK
                                                                                : queue_failed(s);
}

static int on_commit(void *arg, src_position end)
{
    stream *s = arg;
    /* The consistent point matches PostgreSQL's 32-bit xids against compare data's snapshot. */
    if (!s->skip_tx && s->cp.ring)
        cp_exporter_commit(&s->cp, (uint32_t)s->tx_id, s->tx_commit, s->tx_first_vsn);
    if (!s->skip_tx)
        qw_end_tx(s->qw, end);
    s->in_tx = s->skip_tx = false;
    return ENGINE_OK;
}

/* Tell the source what the queue holds durably (or, idle, where it is): ENGINE_OK or SOURCE_LOST. */
static int confirm(stream *s, bool reply)
{
    uint64_t pos = qw_last_commit_lsn(s->qw);
    if (s->idle_wal_end > pos && s->idle_wal_end > s->recorded) {
        /*
         * Past the queue's last commit (only changes of other tables there):
         * recorded first, so export data on this dir knows the feed may stand
         * there (cdc_export.c check_feed_position). Unrecorded, not confirmed.
         */
        if (qm_exporter_set_confirmed(s->eng->cat, s->p->exporter_role, (long long)s->idle_wal_end))
            s->recorded = s->idle_wal_end;
    }
    uint64_t idle = s->idle_wal_end < s->recorded ? s->idle_wal_end : s->recorded;
    if (idle > pos)
        pos = idle;
    if (pos < s->confirmed)
        pos = s->confirmed;
    s->confirmed = pos;
    return s->src->ops->feed_confirm(s->src, pos, reply);
}

static int read_sequences(stream *s, const char *phase)
{
    strlist schemas = STRLIST_INIT;
    for (size_t i = 0; i < s->p->tables->schemas.count; i++)
        if (!strlist_contains(&schemas, s->p->tables->schemas.items[i]))
            strlist_push(&schemas, s->p->tables->schemas.items[i]);
    for (size_t i = 0; s->p->seq_schemas && i < s->p->seq_schemas->count; i++)
        if (!strlist_contains(&schemas, s->p->seq_schemas->items[i]))
            strlist_push(&schemas, s->p->seq_schemas->items[i]);
    sequence_value *v = NULL;
    size_t n = 0;
    int rc = s->src->ops->feed_read_sequences(s->src, &schemas, &v, &n);
    strlist_free(&schemas);
    if (rc == ENGINE_OK && !sequence_values_save(s->eng->cat, phase, v, n))
        rc = ENGINE_FAILED;
    sequence_values_free(v, n);
    if (rc == ENGINE_OK)
        log_info("recorded %zu sequence value(s) of the %s database for %s", n, role_name(s), phase);
    return rc;
}

static bool set_done(catalog *m, const char *key)
{
    return catalog_status_set_bool(m, key, true);
}

/* Cutover bookkeeping once the end marker is durable (also redone on a restart). */
static int finish(stream *s)
{
    /*
     * Quiet about what is gone already: a restart after cutover finds nothing
     * to drop, and a feed an earlier run left behind is dropped now. A drop
     * that fails even after retries (the source logged a warning naming the
     * fix) does not hold the cutover back: every change is in the queue, and
     * the left feed is recorded for cutover status (docs/DECISIONS.md).
     */
    bool dropped = s->src->ops->feed_drop(s->src, true);
    char *what = xasprintf("%s on the %s database", s->src->ops->feed_noun, role_name(s));
    bool cleared = false;
    bool noted = cutover_note_feed_left(s->eng, s->p->done_key, what, !dropped, &cleared);
    if (cleared)
        log_say("dropped the %s an earlier run left behind", what);
    free(what);
    if (!noted || !set_done(s->eng->cat, s->p->done_key))
        return ENGINE_FAILED;
    log_say("cutover to %s: every change of the %s database is in the queue (last vsn %lld); "
            "%s is done",
            cutover_kind_name(s->p->cutover), role_name(s), qw_next_vsn(s->qw) - 1,
            s->p->command_name);
    if (!dropped)
        log_say("but its %s is left on the %s database (see the warning above): run the same "
                "command again to retry the drop",
                s->src->ops->feed_noun, role_name(s));
    return ENGINE_OK;
}

/* One feed connection's life: ENGINE_OK at cutover, SOURCE_LOST, or a failure (logged). */
static int stream_loop(stream *s, retry_state *rs)
{
    const cdc_stream_params *p = s->p;
    const source_ops *ops = s->src->ops;
    source_feed_handler h = {.arg = s, .begin = on_begin, .change = on_change, .commit = on_commit};
    export_metrics mx;
    bool tty = p->progress_bars;
    long long total0 = qw_total_events(s->qw);
    export_metrics_init(&mx, tty, total0);
    int64_t last_durable = now_monotonic_ms(), last_status = 0, last_poll = 0, last_ping = 0,
            last_metrics = 0;
    int64_t last_heard = now_monotonic_ms(), last_probe = last_heard;
    bool draining = false;
    bool paused = false; /* the stream paused since the last durable step */
    uint64_t need = 0, wal_end = 0;
    char a[48];
    int rc;
    for (;;) {
        if (*s->eng->interrupted) {
            if (qw_make_durable(s->qw))
                confirm(s, false);
            log_report(LOG_ERROR, NULL, "run the same command again to continue",
                       "interrupted: changes are in the queue up to %s",
                       position_text(s, qw_last_commit_lsn(s->qw), a));
            return ENGINE_BAD_STATE;
        }
        bool pending = qw_has_pending(s->qw);
        int wait_ms = 100;
        if (pending && paused) {
            int64_t left = last_durable + DURABLE_GAP_MS - now_monotonic_ms();
            wait_ms = left > 0 ? (int)left : 0;
        } else if (pending) {
            wait_ms = PAUSE_MS;
        }
        source_feed_poll msg;
        rc = ops->feed_poll(s->src, wait_ms, &h, &msg);
        if (rc != ENGINE_OK)
            return rc;
        int64_t now = now_monotonic_ms();
        if (pending && msg.kind != SOURCE_FEED_DATA)
            paused = true;
        if (msg.kind != SOURCE_FEED_NOTHING) {
            last_heard = last_probe = now;
            if (rs->attempt > 0 && now - s->connected_ms >= HEALTHY_AFTER_MS)
                retry_reset(rs);
        } else if (!pending && now - last_probe >= s->silence_ms / 3) {
            /*
             * A source that stopped (or a network that drops silently) never
             * says goodbye. Dead only once a request for a keepalive went
             * unanswered too: a pause of our own is no silence of the server's.
             */
            if (now - last_heard >= s->silence_ms && last_probe > last_heard)
                return source_lost(s->src, "nothing received on the replication connection for "
                                           "%lld s, keepalive requests unanswered",
                                   (long long)((now - last_heard) / 1000));
            last_probe = now;
            if ((rc = confirm(s, true)) != ENGINE_OK) /* reply requested: a live server answers */
                return rc;
        }
        if (msg.kind == SOURCE_FEED_KEEPALIVE) {
            if (msg.end > wal_end)
                wal_end = msg.end;
            if (!s->in_tx && !qw_has_pending(s->qw))
                s->idle_wal_end = msg.end;
            if (msg.reply_requested && (rc = confirm(s, false)) != ENGINE_OK)
                return rc;
        }
        int64_t since = now - last_durable;
        if (qw_has_pending(s->qw) &&
            ((paused && since >= DURABLE_GAP_MS) || since >= DURABLE_EVERY_MS)) {
            if (!qw_make_durable(s->qw))
                return queue_failed(s);
            cdc_crash_point("record");
            last_durable = now;
            paused = false;
            retry_reset(rs); /* progress: this connection works */
            if ((rc = confirm(s, false)) != ENGINE_OK)
                return rc;
            last_status = now;
        }
        if (now - last_status >= STATUS_EVERY_MS) {
            if ((rc = confirm(s, false)) != ENGINE_OK)
                return rc;
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
                if ((rc = ops->feed_drain_point(s->src, &need)) != ENGINE_OK)
                    return rc;
                log_say("cutover to %s requested: exporting the last changes (up to %s)",
                        cutover_kind_name(p->cutover), position_text(s, need, a));
            }
        }
        /* compare data waits for the stream to pass its snapshot's position: keepalives tell when */
        bool cp_waits = s->cp.ring && !draining &&
                        cp_exporter_poll(&s->cp, s->eng->cat, s->in_tx ? 0 : s->idle_wal_end,
                                         qw_next_vsn(s->qw));
        if ((draining || cp_waits) && now - last_ping >= DRAIN_PING_MS) {
            last_ping = now;
            if ((rc = confirm(s, true)) != ENGINE_OK)
                return rc;
        }
        if (draining && !s->in_tx && msg.kind == SOURCE_FEED_KEEPALIVE && msg.end >= need) {
            if (!qw_make_durable(s->qw))
                return queue_failed(s);
            if ((rc = read_sequences(s, p->end_op)) != ENGINE_OK)
                return rc;
            strbuf_reset(&s->line);
            event_json_append_marker(&s->line, qw_next_vsn(s->qw), p->end_op, p->exporter_role);
            if (!qw_finish_stream(s->qw, s->line.data, s->line.len))
                return queue_failed(s);
            confirm(s, false);
            /* the queue counts the end-of-stream marker as an event: the operator counts changes */
            export_metrics_update(&mx, qw_total_events(s->qw) - total0 - 1, true);
            return finish(s);
        }
    }
}

/* The silence after which a feed connection counts as dead (see REPLICATION_TIMEOUT_ENV). */
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
    return s->src->ops->feed_silence_ms(s->src);
}

/*
 * Connect the feed and start it after the queue's durable position.
 * ENGINE_OK, SOURCE_LOST (a failure worth another attempt), or a failure
 * after a logged error. A stream that already ended only needs the query side.
 */
static int stream_connect(stream *s)
{
    const char *describe = NULL;
    bool done = qw_stream_done(s->qw);
    int rc = s->src->ops->feed_connect(s->src, !done, qw_last_commit_lsn(s->qw), &describe);
    if (rc != ENGINE_OK || done)
        return rc;
    s->connected_ms = now_monotonic_ms();
    s->silence_ms = silence_timeout_ms(s);
    char a[48];
    log_info("streaming changes from %s after %s into segment %lld, next vsn %lld", describe,
             position_text(s, qw_last_commit_lsn(s->qw), a), qw_segment_no(s->qw),
             qw_next_vsn(s->qw));
    return ENGINE_OK;
}

engine_status cdc_stream_run(engine_ctx *eng, const cdc_stream_params *p)
{
    stream s = {.eng = eng, .p = p, .src = p->src};
    int rc = ENGINE_FAILED;
    s.qw = qw_open(eng->cat, eng->export_dir, p->exporter_role, cdc_segment_max_bytes());
    if (!s.qw)
        return ENGINE_FAILED;
    const char *role = role_name(&s);
    s.enc = cdc_encoder_new(p->exporter_role);
    char a[48];
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
        if (rc != SOURCE_LOST)
            break;
        s.src->ops->feed_disconnect(s.src);
        /* Whole transactions received so far are kept; the open one comes again. */
        bool discarded = qw_discard_tx(s.qw);
        s.in_tx = s.skip_tx = false;
        if (!discarded || !qw_make_durable(s.qw)) {
            rc = queue_failed(&s);
            break;
        }
        if (!retry_failed(&rs)) {
            char *detail = xasprintf("changes are in the queue up to %s",
                                     position_text(&s, qw_last_commit_lsn(s.qw), a));
            log_report(LOG_ERROR, detail, "run the same command again to continue",
                       "%s database: %s; gave up reconnecting after %lld s (%s)", role,
                       s.src->lost, (long long)(retry_elapsed_ms(&rs) / 1000), RETRY_TIMEOUT_ENV);
            free(detail);
            rc = ENGINE_BAD_STATE;
            break;
        }
        log_warn("%s database: %s; reconnecting (attempt %d, giving up after %lld s), changes are "
                 "in the queue up to %s",
                 role, s.src->lost, rs.attempt, (long long)(rs.policy.deadline_ms / 1000),
                 position_text(&s, qw_last_commit_lsn(s.qw), a));
        if (!retry_backoff(&rs, eng->interrupted)) {
            log_report(LOG_ERROR, NULL, "run the same command again to continue",
                       "interrupted: changes are in the queue up to %s",
                       position_text(&s, qw_last_commit_lsn(s.qw), a));
            rc = ENGINE_BAD_STATE;
            break;
        }
    }
    if (s.skipped_tx)
        log_info("skipped %lld transaction(s) already in the queue", s.skipped_tx);
    s.src->ops->feed_disconnect(s.src);
    strbuf_free(&s.line);
    cdc_encoder_free(s.enc);
    cp_exporter_free(&s.cp);
    target_keys_memo_free(s.keys);
    qw_close(s.qw);
    return (engine_status)rc;
}
