#include "cdc/channels.h"

#include "core/strmap.h"
#include "core/log.h"
#include "core/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a unique value held by another channel is released within a few retries */
#define APPLY_UNIQUE_MAX_ATTEMPTS 5
/*
 * Memory bounds (cdc_item.bytes, the parsed events' memory): all channels'
 * events together, queued or in the batch being applied, and one batch (at
 * most half its channel's share, so the next one fills while it applies; the
 * statements of a batch are no larger: YugabyteDB refuses RPCs over ~255 MB).
 * A single larger event still goes through, alone.
 */
#define QUEUED_BYTES_TOTAL (24u << 20)
#define BATCH_BYTES_MAX (4u << 20)
/*
 * An idle channel records progress (writer_ops.apply_progress) after this
 * long without a batch or such a record, when the reader has moved past it:
 * a restart reads the queue from the least progress of all channels, and a
 * channel no change is routed to would hold that at its last batch (or at 0)
 * for the whole migration. One small transaction a second per idle channel.
 */
#define PROGRESS_BEAT_MS 1000

int cdc_route(const cdc_item *it, int n)
{
    const cdc_event *ev = &it->ev;
    const table_meta *tm = it->tm;
    if (tm->route_group)
        return (int)(strmap_hash(tm->route_group, strlen(tm->route_group), 0) % (uint64_t)n);
    uint64_t h = strmap_hash(ev->schema_name, strlen(ev->schema_name), 0);
    h = strmap_hash(ev->table_name, strlen(ev->table_name), h);
    for (size_t i = 0; i < tm->pk.count; i++) {
        bool found;
        const char *v = ev->op == CDC_OP_INSERT
                            ? cdc_cols_get(&ev->fields, tm->pk.items[i], &found)
                            : cdc_event_old_value(ev, tm->pk.items[i], &found);
        /* a separator byte between values: ("ab","c") and ("a","bc") differ */
        h = strmap_hash("\x1f", 1, h);
        if (found && v)
            h = strmap_hash(v, strlen(v), h);
    }
    return (int)(h % (uint64_t)n);
}

bool cdc_changes_key(const cdc_item *it)
{
    if (it->ev.op != CDC_OP_UPDATE)
        return false;
    for (size_t i = 0; i < it->tm->pk.count; i++) {
        bool fnew, fold;
        const char *nv = cdc_cols_get(&it->ev.fields, it->tm->pk.items[i], &fnew);
        if (!fnew)
            continue;
        const char *ov = cdc_event_old_value(&it->ev, it->tm->pk.items[i], &fold);
        if (!fold || !nv || !ov || strcmp(nv, ov) != 0)
            return true;
    }
    return false;
}

typedef struct channel {
    int no;
    pthread_t th;
    struct channel_set *set;
    writer_session *ws;     /* the channel's session; ws->role names the database */
    writer_item *wi;        /* the batch as the writer takes it (batch_max each) */
    writer_item **wp;
    cdc_item **q; /* ring of queued items */
    size_t head, count, cap;
    size_t queued_bytes;    /* of queued items and of the batch in hand */
    bool busy;              /* a batch is being applied */
    int64_t busy_first_vsn; /* its first vsn */
    int64_t committed;
    int64_t quiet_since_ms; /* the end of its last batch or progress record */
    /* copies of ws's counters, which only the worker touches, taken under set->mu */
    apply_counts counts;
    pthread_cond_t work;
} channel;

struct channel_set {
    pthread_mutex_t mu;
    pthread_cond_t progress; /* broadcast on every commit, hand-over, failure and stop */
    channel *ch;
    int n;
    int n_started; /* workers running (to join) */
    int batch_max;
    size_t queue_bytes_max; /* per channel */
    size_t batch_bytes_max;
    size_t held_bytes;      /* every channel's queued_bytes */
    bool stop, failed;
    /*
     * The first vsn of the earliest batch that did not commit (0: none): the
     * low watermark stays below it, or a segment whose last batch failed
     * would be marked applied between the reader's failure check and its
     * marking, and a rerun would skip that batch's changes.
     */
    int64_t uncommitted_first_vsn;
    bool replica; /* every connection took session_replication_role = replica at start */
    bool resumable; /* the failure is transient or the target lost commits: a rerun goes on */
    int64_t applied;
    int64_t read_vsn; /* channels_note_read: each event up to it was dispatched or dropped */
    char *migration_uuid;
    const channel_reconnect *reconnect; /* NULL: a broken connection only comes back to its server */
};

/*
 * Session settings of an apply connection; false when foreign-key checks and
 * triggers could not be turned off (PostgreSQL: the replica role). Channels
 * apply rows out of the source's global order: a child row may arrive before
 * its parent. Without it the importer keeps foreign-key order itself
 * (cdc_import.c).
 */
static bool session_setup(channel *c)
{
    return c->ws->ops->apply_setup(c->ws, c->no, c->set->migration_uuid);
}

/*
 * With set->mu held, c idle (nothing queued, no batch): may it record
 * progress? Every change routed to it up to the reader's read_vsn is then
 * committed: the reader dispatches in vsn order and notes a vsn only after
 * that event was dispatched or dropped.
 */
static bool progress_beat_due(const channel *c)
{
    const channel_set *s = c->set;
    return c->ws->ops->apply_progress && s->read_vsn > c->committed &&
           now_monotonic_ms() - c->quiet_since_ms >= PROGRESS_BEAT_MS;
}

/* Wait on c->work (set->mu held) until signalled or PROGRESS_BEAT_MS passed. */
static void wait_work(channel *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += PROGRESS_BEAT_MS / 1000;
    ts.tv_nsec += (PROGRESS_BEAT_MS % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&c->work, &c->set->mu, &ts);
}

void cdc_item_free(cdc_item *it)
{
    if (!it)
        return;
    cdc_event_free(&it->ev);
    free(it->deps);
    if (it->arena)
        cdc_arena_free(it->arena);
    else
        free(it);
}

static writer_cols cols_of(const cdc_cols *c)
{
    return (writer_cols){c->names, c->values, c->count};
}

/*
 * Apply the batch through the writer: its changes as writer_items (pointers
 * into the events), *failed mapped back to the batch's item.
 */
static bool apply_batch(channel *c, cdc_item **batch, size_t n, int64_t after, cdc_item **failed,
                        strbuf *err)
{
    for (size_t i = 0; i < n; i++) {
        const cdc_event *ev = &batch[i]->ev;
        c->wi[i] = (writer_item){
            .ev = {.vsn = ev->vsn,
                   .op = ev->op == CDC_OP_TRUNCATE ? WRITER_OP_TRUNCATE : (writer_op)ev->op,
                   .exporter_role = ev->exporter_role,
                   .key = cols_of(&ev->key),
                   .fields = cols_of(&ev->fields),
                   .before = cols_of(&ev->before)},
            .tm = batch[i]->tm,
        };
        c->wp[i] = &c->wi[i];
    }
    writer_item *wf = NULL;
    bool ok = c->ws->ops->apply_batch(c->ws, after, c->wp, n, &wf, err);
    *failed = wf ? batch[wf - c->wi] : NULL;
    return ok;
}

static bool deps_ok(channel_set *s, const cdc_item *it)
{
    for (size_t i = 0; i < it->ndeps; i++)
        if (s->ch[it->deps[i].channel].committed < it->deps[i].vsn)
            return false;
    return true;
}

static void set_error_line(strbuf *err, const char *msg)
{
    strbuf_reset(err);
    strbuf_append_len(err, msg, strcspn(msg, "\n"));
}

/* The channel's progress on the database (vsn) is below what it had committed. */
static void report_lost_commits(const channel *c, int64_t vsn, int64_t had)
{
    log_report(LOG_ERROR,
               "the database lost acknowledged commits (a crash with synchronous_commit off?)",
               "run the same command again to re-apply the changes from its progress",
               "%s database: the progress of apply channel %d is at vsn %lld, below vsn %lld that "
               "it had committed",
               db_role_name(c->ws->role), c->no, (long long)vsn, (long long)had);
}

/*
 * After a failed attempt, on the (re)connected session: what of the batch
 * batch[*from..n) committed anyway? The channel's progress row tells: it moves
 * only in a batch's transaction, and only from the vsn that batch follows.
 * At *after: nothing (0). At or past the batch's last vsn: all of it (1), in
 * this attempt before the connection dropped (an ambiguous COMMIT: dropped)
 * or in another session's transaction. In between: another session committed
 * its first events, the transaction of an importer killed while it committed
 * (its server session goes on with what it was sent), read as uncommitted when
 * this run started; *from moves past them (2; also when it moved short of the
 * batch: a progress record). *after becomes the progress read. -1: unknown (the connection is down); -2: the progress went below
 * *after, what this process saw committed (the target lost acknowledged
 * commits).
 */
static int committed_meanwhile(channel *c, cdc_item **batch, size_t n, size_t *from,
                               int64_t *after, bool dropped)
{
    int64_t vsn = 0;
    if (!c->ws->ops->connected(c->ws) ||
        !c->ws->ops->progress(c->ws, c->set->migration_uuid, c->no, &vsn))
        return -1;
    if (vsn < *after) {
        report_lost_commits(c, vsn, *after);
        return -2;
    }
    if (vsn == *after)
        return 0;
    *after = vsn;
    int64_t first = batch[*from]->ev.vsn, last = batch[n - 1]->ev.vsn;
    if (vsn >= last) {
        if (dropped)
            log_warn("%s database: vsns %lld..%lld of channel %d committed before the connection "
                     "dropped: not applied again",
                     db_role_name(c->ws->role), (long long)first, (long long)last, c->no);
        else
            log_warn("%s database: vsns %lld..%lld of channel %d were committed by an earlier "
                     "session (an importer killed while it committed): not applied again",
                     db_role_name(c->ws->role), (long long)first, (long long)vsn, c->no);
        return 1;
    }
    if (vsn < first) {
        /* a progress record (this run's, whose answer was lost, or an earlier run's) */
        log_info("%s database: the progress of apply channel %d moved to vsn %lld meanwhile",
                 db_role_name(c->ws->role), c->no, (long long)vsn);
        return 2;
    }
    while (batch[*from]->ev.vsn <= vsn)
        (*from)++;
    log_warn("%s database: vsns %lld..%lld of channel %d were committed by an earlier session (an "
             "importer killed while it committed): not applied again, the batch goes on from vsn "
             "%lld",
             db_role_name(c->ws->role), (long long)first, (long long)vsn, c->no,
             (long long)batch[*from]->ev.vsn);
    return 2;
}

/*
 * The channel's server does not take it back: connect where the caller says
 * (another node), keeping the channel's session. Its progress is read again
 * from that database before the batch is retried (committed_meanwhile), so nothing
 * is applied twice whichever node it lands on.
 */
static void move_connection(channel *c)
{
    const channel_reconnect *rc = c->set->reconnect;
    if (rc)
        rc->connect(rc->arg, c->ws, c->no);
}

/*
 * c's connection broke: connect again (its server, else where the caller says)
 * and set the session up. Either way its prepared statements are gone with the
 * old connection. 1: connected and set up; 0: not connected; -1: a replica
 * session refused on a connection that works (logged): the grant was taken
 * away, and applying there would fire triggers and check foreign keys across
 * channels routed as if they did not.
 */
static int reconnect_session(channel *c)
{
    if (!c->ws->ops->reset(c->ws))
        move_connection(c);
    if (!c->ws->ops->connected(c->ws))
        return 0;
    if (!session_setup(c) && c->set->replica && c->ws->ops->connected(c->ws)) {
        log_report(LOG_ERROR, NULL,
                   "grant it again (GRANT SET ON PARAMETER session_replication_role, or "
                   "superuser), then run the same command again",
                   "%s database: a new connection of channel %d may no longer set "
                   "session_replication_role = replica",
                   db_role_name(c->ws->role), c->no);
        return -1;
    }
    return 1;
}

/*
 * Record c's progress at the reader's read_vsn (progress_beat_due), with
 * set->mu held (let go meanwhile). Busy while it runs, so that a drain waits
 * for it and the low watermark stays at or below it. A connection that broke
 * is made again first, as before a batch (an idle channel's connection killed
 * by the server would otherwise never record again). A failure changes
 * nothing, except a replica session refused: that fails the channel, as its
 * next batch would.
 */
static void progress_beat(channel *c)
{
    channel_set *s = c->set;
    int64_t vsn = s->read_vsn, after = c->committed;
    c->busy = true;
    c->busy_first_vsn = vsn + 1;
    pthread_mutex_unlock(&s->mu);
    int up = c->ws->ops->connected(c->ws) ? 1 : reconnect_session(c);
    bool ok = up == 1 && c->ws->ops->apply_progress(c->ws, after, vsn);
    /*
     * Refused, the progress may have moved: this record's commit went unanswered
     * (then it is at vsn), or an earlier session committed (at most to what this
     * run has yet to read: those events are dropped as the worker takes them).
     */
    int64_t now = after;
    bool lost = false;
    if (!ok && up == 1 && c->ws->ops->connected(c->ws) &&
        c->ws->ops->progress(c->ws, s->migration_uuid, c->no, &now)) {
        if (now > after)
            log_info("%s database: the progress of apply channel %d moved to vsn %lld meanwhile",
                     db_role_name(c->ws->role), c->no, (long long)now);
        lost = now < after;
        if (lost)
            report_lost_commits(c, now, after);
    }
    pthread_mutex_lock(&s->mu);
    c->busy = false;
    if (ok && vsn > c->committed)
        c->committed = vsn;
    if (now > c->committed)
        c->committed = now;
    if (lost)
        s->resumable = true;
    if ((up < 0 || lost) && !s->stop)
        s->failed = true;
    c->quiet_since_ms = now_monotonic_ms();
    pthread_cond_broadcast(&s->progress);
}

/*
 * Apply batch with retries, following progress *after; false after logging
 * the final error. On success *after is the channel's progress (the batch's
 * last vsn, or past it when another session committed further).
 */
static bool apply_with_retries(channel *c, cdc_item **batch, size_t n, int64_t *after)
{
    size_t from = 0;
    bool dropped = false; /* the last attempt's connection broke */
    strbuf err = STRBUF_INIT;
    bool ok = false;
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    for (int attempt = 1;; attempt++) {
        cdc_item *failed = NULL;
        bool reconnected = c->ws->ops->connected(c->ws);
        if (!reconnected) {
            /* the reconnect failed: that is this attempt's error (not "no connection") */
            set_error_line(&err, c->ws->ops->error_line(c->ws));
        }
        int done = attempt > 1 && reconnected
                       ? committed_meanwhile(c, batch, n, &from, after, dropped)
                       : 0;
        if (done == 1) {
            ok = true;
            break;
        }
        if (done != -2 && reconnected &&
            apply_batch(c, batch + from, n - from, *after, &failed, &err)) {
            *after = batch[n - 1]->ev.vsn;
            ok = true;
            break;
        }
        /* the failure's kind, before another statement on the session */
        bool retryable = c->ws->ops->retryable(c->ws);
        bool transient = retryable;
        /*
         * A unique value another channel has yet to release (an index the
         * conflict map does not follow: expression or partial): once the other
         * channels move on, the retry succeeds. A real duplicate fails again.
         */
        bool unique_violation = c->ws->ops->unique_violation(c->ws);
        if (unique_violation)
            retryable = true;
        /* refused on a working session: did another session commit meanwhile? */
        dropped = !c->ws->ops->connected(c->ws);
        if (done != -2 && reconnected && !dropped) {
            done = committed_meanwhile(c, batch, n, &from, after, false);
            if (done == 1) {
                ok = true;
                break;
            }
            if (done == 2)
                continue; /* the rest of the batch, at once */
        }
        if (done == -2) {
            pthread_mutex_lock(&c->set->mu);
            c->set->resumable = true;
            pthread_mutex_unlock(&c->set->mu);
            break;
        }
        char where[512];
        if (failed)
            snprintf(where, sizeof where, "applying vsn %lld (%s on %s)",
                     (long long)failed->ev.vsn,
                     failed->ev.op == CDC_OP_INSERT     ? "insert"
                     : failed->ev.op == CDC_OP_UPDATE   ? "update"
                     : failed->ev.op == CDC_OP_TRUNCATE ? "truncate"
                                                        : "delete",
                     failed->tm->qualified);
        else
            snprintf(where, sizeof where, "applying vsns %lld..%lld of channel %d",
                     (long long)batch[from]->ev.vsn, (long long)batch[n - 1]->ev.vsn, c->no);
        pthread_mutex_lock(&c->set->mu);
        bool stop = c->set->stop;
        pthread_mutex_unlock(&c->set->mu);
        if (stop)
            break;
        bool again = retryable && retry_failed(&rs) &&
                     !(unique_violation && attempt >= APPLY_UNIQUE_MAX_ATTEMPTS);
        if (!again) {
            if (transient) {
                log_report(LOG_ERROR, NULL,
                           "run the same command again once the database is reachable (or raise "
                           RETRY_TIMEOUT_ENV ")",
                           "%s database: %s failed for %llds, giving up: %s",
                           db_role_name(c->ws->role), where,
                           (long long)(retry_elapsed_ms(&rs) / 1000), strbuf_cstr(&err));
                pthread_mutex_lock(&c->set->mu);
                c->set->resumable = true;
                pthread_mutex_unlock(&c->set->mu);
            } else {
                log_error("%s database: %s failed%s: %s", db_role_name(c->ws->role), where,
                          retryable ? " after retries" : "", strbuf_cstr(&err));
            }
            break;
        }
        log_warn("%s database: %s failed (attempt %d, will retry): %s",
                 db_role_name(c->ws->role), where, attempt, strbuf_cstr(&err));
        retry_backoff(&rs, NULL);
        if (!c->ws->ops->connected(c->ws) && reconnect_session(c) < 0)
            break;
    }
    strbuf_free(&err);
    return ok;
}

static void *worker(void *arg)
{
    channel *c = arg;
    channel_set *s = c->set;
    cdc_item **batch = xcalloc((size_t)s->batch_max, sizeof *batch);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && !s->failed && c->count == 0) {
            if (progress_beat_due(c))
                progress_beat(c);
            else
                wait_work(c);
        }
        if (s->stop || s->failed)
            break;
        /* committed by an earlier session (committed_meanwhile moved the progress past them) */
        while (c->count && c->q[c->head]->ev.vsn <= c->committed) {
            cdc_item *it = c->q[c->head];
            c->head = (c->head + 1) % c->cap;
            c->count--;
            c->queued_bytes -= it->bytes;
            s->held_bytes -= it->bytes;
            s->applied++;
            cdc_item_free(it);
            pthread_cond_broadcast(&s->progress);
        }
        if (c->count == 0)
            continue;
        if (!deps_ok(s, c->q[c->head])) {
            pthread_cond_wait(&s->progress, &s->mu);
            continue;
        }
        size_t k = 0, bytes = 0;
        while (k < c->count && k < (size_t)s->batch_max) {
            cdc_item *it = c->q[(c->head + k) % c->cap];
            if (!deps_ok(s, it) || (k > 0 && bytes + it->bytes > s->batch_bytes_max))
                break;
            bytes += it->bytes;
            batch[k++] = it;
        }
        c->head = (c->head + k) % c->cap;
        c->count -= k;
        c->busy = true;
        c->busy_first_vsn = batch[0]->ev.vsn;
        int64_t after = c->committed;
        pthread_cond_broadcast(&s->progress);
        pthread_mutex_unlock(&s->mu);

        bool ok = apply_with_retries(c, batch, k, &after);
        if (ok && bytes > WRITER_RENEW_AFTER_BYTES && c->ws->ops->apply_renew)
            c->ws->ops->apply_renew(c->ws);
        int64_t first = batch[0]->ev.vsn;
        for (size_t i = 0; i < k; i++)
            cdc_item_free(batch[i]);

        pthread_mutex_lock(&s->mu);
        c->busy = false;
        c->queued_bytes -= bytes;
        s->held_bytes -= bytes;
        c->counts = (apply_counts){c->ws->zero_row_changes, c->ws->merged_events,
                                   c->ws->folded_into_inserts,
                                   c->ws->folded_into_updates};
        c->quiet_since_ms = now_monotonic_ms();
        if (ok) {
            c->committed = after;
            s->applied += (int64_t)k;
        } else {
            if (!s->uncommitted_first_vsn || first < s->uncommitted_first_vsn)
                s->uncommitted_first_vsn = first;
            if (!s->stop)
                s->failed = true;
        }
        pthread_cond_broadcast(&s->progress);
    }
    pthread_mutex_unlock(&s->mu);
    free(batch);
    return NULL;
}

channel_set *channels_start(writer_session **conns, int n, const char *migration_uuid, int batch_max,
                            const channel_reconnect *reconnect)
{
    channel_set *s = xcalloc(1, sizeof *s);
    s->reconnect = reconnect;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->progress, NULL);
    s->n = n;
    s->batch_max = batch_max;
    s->queue_bytes_max = QUEUED_BYTES_TOTAL / (size_t)n;
    s->batch_bytes_max = s->queue_bytes_max / 2 < BATCH_BYTES_MAX ? s->queue_bytes_max / 2
                                                                   : BATCH_BYTES_MAX;
    s->migration_uuid = xstrdup(migration_uuid);
    s->ch = xcalloc((size_t)n, sizeof *s->ch);
    s->replica = true;
    for (int i = 0; i < n; i++) {
        channel *c = &s->ch[i];
        c->no = i;
        c->set = s;
        c->cap = (size_t)batch_max * 2;
        c->q = xcalloc(c->cap, sizeof *c->q);
        c->wi = xcalloc((size_t)batch_max, sizeof *c->wi);
        c->wp = xcalloc((size_t)batch_max, sizeof *c->wp);
        c->quiet_since_ms = now_monotonic_ms();
        pthread_condattr_t ca; /* wait_work's deadline is on the monotonic clock */
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&c->work, &ca);
        pthread_condattr_destroy(&ca);
        c->ws = conns[i];
        if (!session_setup(c) && s->replica) {
            char *user = conns[i]->ops->user_ident(conns[i]);
            char *hint = xasprintf("to apply in parallel, run as a superuser: GRANT SET ON PARAMETER "
                                   "session_replication_role TO %s; (PostgreSQL 15 and later; else "
                                   "ALTER ROLE %s SUPERUSER; on YugabyteDB GRANT yb_superuser TO "
                                   "%s;) and restart",
                                   user, user, user);
            log_report(LOG_WARN,
                       "tables linked by foreign keys are applied through one channel in source "
                       "order (slower), and triggers fire",
                       hint,
                       "apply: the %s database user may not set session_replication_role, so "
                       "foreign keys are checked as changes apply",
                       db_role_name(conns[i]->role));
            free(hint);
            free(user);
            s->replica = false;
        }
    }
    for (int i = 0; i < n; i++) {
        int err = pthread_create(&s->ch[i].th, NULL, worker, &s->ch[i]);
        if (err != 0) {
            log_report(LOG_ERROR, NULL,
                       "lower --parallel-jobs or raise the process's thread limit, then run the "
                       "same command again",
                       "apply: cannot start channel thread %d of %d: %s", i + 1, n, strerror(err));
            s->n_started = i;
            channels_stop(s);
            return NULL;
        }
        s->n_started = i + 1;
    }
    return s;
}

bool channels_dispatch(channel_set *s, int ch, cdc_item *it)
{
    channel *c = &s->ch[ch];
    pthread_mutex_lock(&s->mu);
    /*
     * Within the channel's share; an event larger than that waits until no
     * channel holds anything (queued or applying), so one such event at a
     * time is over the bound, not one a channel.
     */
    while (!s->stop && !s->failed &&
           (c->count == c->cap ||
            (c->queued_bytes + it->bytes > s->queue_bytes_max &&
             (it->bytes <= s->queue_bytes_max ? c->queued_bytes > 0 : s->held_bytes > 0))))
        pthread_cond_wait(&s->progress, &s->mu);
    bool ok = !s->stop && !s->failed;
    if (ok) {
        size_t bytes = it->bytes; /* the worker may free it once the lock is let go */
        c->q[(c->head + c->count) % c->cap] = it;
        c->count++;
        c->queued_bytes += it->bytes;
        s->held_bytes += it->bytes;
        pthread_cond_signal(&c->work);
        /*
         * Alone over the bound: the reader reads on (into its buffer, then a
         * parsed copy) only once it is applied, not while libpq holds a
         * third copy.
         */
        if (bytes > s->queue_bytes_max)
            while (!s->stop && !s->failed && s->held_bytes > 0)
                pthread_cond_wait(&s->progress, &s->mu);
        ok = !s->stop && !s->failed;
        it = NULL; /* the channel's now */
    }
    pthread_mutex_unlock(&s->mu);
    if (it)
        cdc_item_free(it);
    return ok;
}

bool channels_drain(channel_set *s)
{
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->stop || s->failed)
            break;
        bool idle = true;
        for (int i = 0; i < s->n && idle; i++)
            idle = !s->ch[i].busy && s->ch[i].count == 0;
        if (idle)
            break;
        pthread_cond_wait(&s->progress, &s->mu);
    }
    bool ok = !s->stop && !s->failed;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int64_t channels_committed(channel_set *s, int ch)
{
    pthread_mutex_lock(&s->mu);
    int64_t v = s->ch[ch].committed;
    pthread_mutex_unlock(&s->mu);
    return v;
}

void channels_note_read(channel_set *s, int64_t vsn)
{
    pthread_mutex_lock(&s->mu);
    if (vsn > s->read_vsn)
        s->read_vsn = vsn;
    pthread_mutex_unlock(&s->mu);
}

void channels_set_committed(channel_set *s, int ch, int64_t vsn)
{
    pthread_mutex_lock(&s->mu);
    s->ch[ch].committed = vsn;
    pthread_mutex_unlock(&s->mu);
}

int64_t channels_low_watermark(channel_set *s, int64_t read_vsn)
{
    int64_t lw = read_vsn;
    pthread_mutex_lock(&s->mu);
    if (s->uncommitted_first_vsn && s->uncommitted_first_vsn - 1 < lw)
        lw = s->uncommitted_first_vsn - 1;
    for (int i = 0; i < s->n; i++) {
        channel *c = &s->ch[i];
        int64_t first = c->busy ? c->busy_first_vsn : c->count ? c->q[c->head]->ev.vsn : 0;
        if (first && first - 1 < lw)
            lw = first - 1;
    }
    pthread_mutex_unlock(&s->mu);
    return lw;
}

int64_t channels_applied(channel_set *s)
{
    pthread_mutex_lock(&s->mu);
    int64_t v = s->applied;
    pthread_mutex_unlock(&s->mu);
    return v;
}

apply_counts channels_counts(channel_set *s)
{
    apply_counts v = {0, 0, 0, 0};
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n; i++) {
        v.zero_row_changes += s->ch[i].counts.zero_row_changes;
        v.merged_events += s->ch[i].counts.merged_events;
        v.folded_into_inserts += s->ch[i].counts.folded_into_inserts;
        v.folded_into_updates += s->ch[i].counts.folded_into_updates;
    }
    pthread_mutex_unlock(&s->mu);
    return v;
}

bool channels_replica_role(channel_set *s)
{
    pthread_mutex_lock(&s->mu);
    bool v = s->replica;
    pthread_mutex_unlock(&s->mu);
    return v;
}

bool channels_failed(channel_set *s)
{
    pthread_mutex_lock(&s->mu);
    bool v = s->failed;
    pthread_mutex_unlock(&s->mu);
    return v;
}

bool channels_resumable(channel_set *s)
{
    pthread_mutex_lock(&s->mu);
    bool v = s->resumable;
    pthread_mutex_unlock(&s->mu);
    return v;
}

void channels_stop(channel_set *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->progress);
    for (int i = 0; i < s->n; i++)
        pthread_cond_signal(&s->ch[i].work);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->n_started; i++)
        pthread_join(s->ch[i].th, NULL);
    for (int i = 0; i < s->n; i++) {
        channel *c = &s->ch[i];
        for (size_t k = 0; k < c->count; k++)
            cdc_item_free(c->q[(c->head + k) % c->cap]);
        free(c->q);
        writer_session_close(c->ws);
        free(c->wi);
        free(c->wp);
        pthread_cond_destroy(&c->work);
    }
    free(s->ch);
    free(s->migration_uuid);
    pthread_cond_destroy(&s->progress);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
