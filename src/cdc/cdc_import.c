/*
 * Continuous exactly-once apply of the change queue to one database
 * (import data to target | source | source-replica, after the snapshot).
 *
 * The reader (this thread) reads the queue in vsn order, skips what this
 * database already committed, routes each event to a channel
 * (cdc/channels.h) and adds the waits unique-key conflicts need
 * (cdc/conflicts.h). Channels commit batches with their progress
 * (cdc/import_metainfo.h). At the end-of-stream event of its cutover the
 * importer drains, restores sequences, records the cutover and, on the
 * target with a way back prepared, tells the command to become `export data
 * from target` (CDC_APPLY_EXPORT_FROM_TARGET).
 */
#include "cdc/cdc_import.h"

#include "cdc/apply.h"
#include "cdc/channels.h"
#include "cdc/conflicts.h"
#include "cdc/consistent_point.h"
#include "cdc/event.h"
#include "cdc/import_metrics.h"
#include "cdc/queue_format.h"
#include "cdc/queue_generation.h"
#include "cdc/queue_reader.h"
#include "cdc/target_keys.h"
#include "core/dir_watch.h"
#include "core/key_parts.h"
#include "core/strmap.h"
#include "catalog/import_state.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/util.h"
#include "db/connect.h" /* db_role_failure */
#include "source/writer.h"
#include "snapshot/table_list.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Events a batch (one target transaction) takes at most; channels.c also
 * bounds it in bytes (4 MiB, or half a channel's share of 24 MiB when that is
 * less: 3 MiB with 4 channels). Every commit waits for the target's WAL flush
 * (synchronous_commit on), which leaves its backend idle: 1000 a batch spent
 * ~20% of a backlog's drain in those waits (bench/RESULTS-cdc.md, issue 15).
 */
#define CDC_BATCH_MAX 4000
#define CDC_MAX_CHANNELS 64

/* Who consumes what (queue_format.h, SPEC.md "CDC event"). */
typedef struct importer_kind {
    const char *role;
    const char *roles[3];   /* exporter roles consumed, NULL-terminated */
    const char *final_op;   /* the end-of-stream event that ends this importer */
    const char *final_role; /* the exporter that writes it, in its last segment */
    const char *done_key;   /* status-record flag set once it is applied */
} importer_kind;

static const importer_kind kinds[] = {
    {"target_db_importer", {"source_db_exporter", NULL, NULL}, QUEUE_OP_CUTOVER_TARGET,
     "source_db_exporter", "CutoverProcessedByTargetImporter"},
    {"source_replica_db_importer", {"source_db_exporter", "target_db_exporter_ff", NULL},
     QUEUE_OP_CUTOVER_SOURCE_REPLICA, "target_db_exporter_ff",
     "CutoverProcessedBySourceReplicaImporter"},
    {"source_db_importer", {"target_db_exporter_fb", NULL, NULL}, QUEUE_OP_CUTOVER_SOURCE,
     "target_db_exporter_fb", "CutoverProcessedBySourceImporter"},
};

typedef struct seg_mark {
    int64_t segment_no;
    int64_t last_vsn; /* every event of the segment has vsn <= this */
} seg_mark;

/* A channel's connection being made on a thread of its own (connect_channels). */
typedef struct chan_connect {
    pthread_t th;
    bool started; /* th runs (else s was made, or not, in line) */
    writer *w;
    int idx;
    const volatile sig_atomic_t *interrupted;
    writer_session *s; /* owned until channels_start takes it */
    bool gave_up;
} chan_connect;

typedef struct importer {
    engine_ctx *eng;
    const cdc_apply_spec *spec;
    db_conf *conf;         /* spec->conf */
    writer *w;             /* the database applied to (its nodes, YugabyteDB's included) */
    channel_reconnect reconnect;
    const importer_kind *kind;
    const char *uuid;
    char *generation;      /* of the queue this run reads (cdc/queue_generation.h) */
    writer_session *main;  /* catalog, bookkeeping, sequences */
    int nchannels;
    int64_t *start_applied; /* each channel's last_applied_vsn when this run began */
    channel_set *chans;
    conflicts *conf_map;
    queue_reader *reader;
    dir_watch *meta_watch; /* meta.db's directory; NULL: poll on a timer */
    import_metrics *metrics;
    strmap tables;         /* key_part schema, table -> table_meta*, or &not_selected */
    int ntables;
    strbuf keybuf;         /* scratch for table lookups */
    seg_mark *marks;
    size_t nmarks;
    bool replica;          /* channels apply in replica sessions (no foreign-key checks) */
    bool legacy_routes;    /* progress from a run that recorded no routes: route by key */
    engine_status table_rc; /* when table_of() fails */
    strmap order_groups;   /* foreign-key group name -> 1 + its order group */
    int64_t read_vsn;      /* highest vsn consumed */
    int64_t skipped;       /* events already committed by an earlier run */
    int64_t zero_saved;    /* of this run's updates/deletes that found no row, added to meta.db */
    bool finished;         /* applied the final end-of-stream event */
    bool replaced;         /* the queue's generation changed while running (logged) */
    cp_importer hold;      /* compare data's consistent point */
    chan_connect *cc;      /* channel connections made while the bookkeeping is read */
    int ncc;
    bool resumable;        /* gave up on a lost connection: a rerun goes on (ENGINE_BAD_STATE) */
} importer;

static const importer_kind *kind_of(const char *role)
{
    for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
        if (strcmp(kinds[i].role, role) == 0)
            return &kinds[i];
    return NULL;
}

static bool consumes(const importer_kind *k, const char *exporter_role)
{
    for (const char *const *r = k->roles; *r; r++)
        if (strcmp(*r, exporter_role) == 0)
            return true;
    return false;
}

static int64_t committed_cb(int channel, void *arg)
{
    return channels_committed(arg, channel);
}

static bool drain_cb(void *chans) { return channels_drain(chans); }

/* A database failure: ENGINE_BAD_STATE when running the same command again goes on. */
static engine_status db_error(importer *im)
{
    if (im->resumable || (im->chans && channels_resumable(im->chans)))
        return ENGINE_BAD_STATE;
    return db_role_failure(im->conf->role);
}

/*
 * im->main before each use: it sits idle for hours between new tables and
 * until the cutover, and a server restart meanwhile leaves it closed with
 * PQstatus still OK. False when the retry policy gave up (logged).
 */
static bool main_ready(importer *im, retry_state *rs)
{
    if (im->main->ops->ensure(im->main, rs, "catalog and bookkeeping connection",
                              im->eng->interrupted))
        return true;
    im->resumable = true;
    return false;
}

/*
 * After a failed statement on im->main: true when another attempt (after
 * main_ready) is worth it, once the backoff is slept; false for an error a
 * retry does not cure, or when the policy gave up (logged, resumable).
 */
static bool main_retry(importer *im, retry_state *rs, const char *what)
{
    if (im->main->ops->connected(im->main) && !im->main->ops->retryable(im->main))
        return false;
    if (retry_failed(rs) && retry_backoff(rs, im->eng->interrupted))
        return true;
    log_report(LOG_ERROR, NULL,
               "run the same command again once the database is reachable (or raise "
               RETRY_TIMEOUT_ENV ")",
               "%s database: %s failed for %llds", db_role_name(im->conf->role), what,
               (long long)(retry_elapsed_ms(rs) / 1000));
    im->resumable = true;
    return false;
}

/*
 * meta.db's record of what each channel had committed when segments were last
 * marked imported: a database that later reports less lost acknowledged
 * commits, some of them in segments the queue reader would skip.
 */
static bool record_committed(importer *im)
{
    for (int i = 0; i < im->nchannels; i++)
        if (!import_state_committed_set(im->eng->cat, im->kind->role, i,
                                        channels_committed(im->chans, i)))
            return false;
    return true;
}

/*
 * At start: when a channel's progress on the database is below what it had
 * committed by the time segments were marked imported, the database lost
 * commits (a crash with synchronous_commit off, a restore): the segments
 * past the lowest such progress are read again (events each channel has are
 * skipped as usual). False after logging.
 */
static bool reread_lost(importer *im)
{
    catalog *m = im->eng->cat;
    int64_t floor = -1;
    for (int i = 0; i < im->nchannels; i++) {
        int64_t had = 0;
        if (!import_state_committed_get(m, im->kind->role, i, &had))
            return false;
        if (had > im->start_applied[i]) {
            log_warn("the %s database lost commits: apply channel %d is at vsn %lld, it had "
                     "committed vsn %lld; its changes are applied again from the queue",
                     db_role_name(im->conf->role), i, (long long)im->start_applied[i], (long long)had);
            if (floor < 0 || im->start_applied[i] < floor)
                floor = im->start_applied[i];
        }
    }
    if (floor < 0)
        return true;
    bool ok = import_state_segments_unmark_after(m, im->kind->role, floor);
    for (int i = 0; ok && i < im->nchannels; i++)
        ok = import_state_committed_set(m, im->kind->role, i, im->start_applied[i]);
    return ok;
}

/* Events written to the queue for this importer so far; -1 when unknown. */
static int64_t exported_total(importer *im)
{
    return import_state_queued_events(im->eng->cat, im->kind->roles[0], im->kind->roles[1]);
}

/* The status record's count, per importer role, of updates and deletes that found no row. */
#define ZERO_ROW_KEY "ZeroRowChanges"

typedef struct zero_add {
    const char *role;
    int64_t delta;
} zero_add;

static bool add_zero_rows(cJSON *rec, void *arg)
{
    const zero_add *a = arg;
    cJSON *by_role = cJSON_GetObjectItemCaseSensitive(rec, ZERO_ROW_KEY);
    if (!cJSON_IsObject(by_role)) {
        cJSON_DeleteItemFromObjectCaseSensitive(rec, ZERO_ROW_KEY);
        by_role = cJSON_AddObjectToObject(rec, ZERO_ROW_KEY);
    }
    const cJSON *had = cJSON_GetObjectItemCaseSensitive(by_role, a->role);
    double n = (cJSON_IsNumber(had) ? had->valuedouble : 0) + (double)a->delta;
    cJSON_DeleteItemFromObjectCaseSensitive(by_role, a->role);
    cJSON_AddNumberToObject(by_role, a->role, n);
    return true;
}

/*
 * Updates and deletes that found no row mean the database differs from the
 * source at those rows (written to before cutover, or by hand): the count is
 * kept in meta.db, so that the end of the migration can say so whatever runs
 * met them. A kill between a batch's commit and this save loses its count.
 */
static void save_zero_rows(importer *im)
{
    int64_t now = channels_counts(im->chans).zero_row_changes;
    if (now <= im->zero_saved)
        return;
    zero_add a = {im->kind->role, now - im->zero_saved};
    if (catalog_status_update(im->eng->cat, add_zero_rows, &a))
        im->zero_saved = now;
}

/* This migration's count for role (every run). */
static int64_t zero_rows_of(catalog *m, const char *role)
{
    cJSON *rec = catalog_status_load(m);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, ZERO_ROW_KEY), role);
    int64_t v = cJSON_IsNumber(n) ? (int64_t)n->valuedouble : 0;
    cJSON_Delete(rec);
    return v;
}

static void update_metrics(importer *im, bool force)
{
    static int64_t last_ms;
    int64_t now = now_monotonic_ms();
    if (!force && now - last_ms < 500)
        return;
    last_ms = now;
    import_metrics_update(im->metrics, channels_applied(im->chans), exported_total(im), force);
    save_zero_rows(im);
}

/* Mark the segments whose every event is committed. */
static void mark_segments(importer *im)
{
    if (!im->nmarks)
        return;
    int64_t lw = channels_low_watermark(im->chans, im->read_vsn);
    if (im->marks[0].last_vsn > lw || !record_committed(im))
        return;
    size_t done = 0;
    while (done < im->nmarks && im->marks[done].last_vsn <= lw) {
        if (!queue_reader_mark_imported(im->reader, im->marks[done].segment_no))
            break;
        log_info("queue: segment %lld fully applied", (long long)im->marks[done].segment_no);
        done++;
    }
    memmove(im->marks, im->marks + done, (im->nmarks - done) * sizeof *im->marks);
    im->nmarks -= done;
}

/* The cache's mark of a table the import's table list leaves out. */
static table_meta not_selected;

static bool selected(const importer *im, const char *schema, const char *table)
{
    const table_patterns *inc = im->spec->table_lists ? im->spec->include : NULL;
    const table_patterns *exc = im->spec->table_lists ? im->spec->exclude : NULL;
    bool in = !inc || inc->count == 0;
    for (size_t i = 0; inc && i < inc->count && !in; i++)
        in = table_pattern_matches(&inc->items[i], schema, table);
    for (size_t i = 0; exc && i < exc->count && in; i++)
        in = !table_pattern_matches(&exc->items[i], schema, table);
    return in;
}

/*
 * How each table's changes are routed is recorded in meta.db when the table
 * is first seen and kept for the whole migration: a channel's progress only
 * says which of the events routed to it are committed, so a restart that
 * routed a table otherwise (the catalog or the user's rights changed) would
 * skip or replay events. route_group '' means by primary key.
 */
static bool routes_init(importer *im)
{
    bool fresh = true;
    for (int i = 0; i < im->nchannels; i++)
        fresh = fresh && im->start_applied[i] == 0;
    if (fresh) /* nothing committed yet: nothing routed that must stay where it went */
        return import_state_routes_clear(im->eng->cat, im->kind->role);
    int64_t nroutes = 0;
    if (!import_state_routes_count(im->eng->cat, im->kind->role, &nroutes))
        return false;
    im->legacy_routes = nroutes == 0;
    if (im->legacy_routes)
        log_info("apply: changes were applied by a run that recorded no routes: every table "
                 "stays routed by primary key");
    return true;
}

/* The recorded route of tm ("" by key; caller frees), recording want first when there is none. */
static char *route_of(importer *im, const table_meta *tm, const char *want)
{
    return import_state_route(im->eng->cat, im->kind->role, tm->schema_name, tm->table_name, want);
}

/*
 * Order a table's changes need beyond "each row in order": source order for
 * the whole table (unique indexes the conflict map cannot follow), or for its
 * whole foreign-key group (no replica role). One channel gives it, with the
 * group's tables in one order group within a batch. A table an earlier run
 * routed by key gets it by applying each change alone; but without the
 * replica role an earlier run's parallel apply may have left a child before
 * its parent, so foreign-key order cannot be restored: refused, naming the
 * GRANT that lets the migration go on.
 */
static bool route_table(importer *im, table_meta *tm)
{
    bool fk_order = !im->replica && tm->fk_group;
    strbuf own = STRBUF_INIT;
    strbuf_appendf(&own, "%s\x1f%s", tm->schema_name, tm->table_name);
    const char *need = fk_order ? tm->fk_group : tm->unique_serial ? own.data : NULL;
    char *got = route_of(im, tm, im->legacy_routes || !need ? "" : need);
    strbuf_free(&own);
    if (!got) {
        im->table_rc = ENGINE_BAD_STATE;
        return false;
    }
    if (*got)
        tm->route_group = got;
    else
        free(got);
    if (fk_order && (!tm->route_group || strcmp(tm->route_group, tm->fk_group) != 0)) {
        char *user = im->main->ops->user_ident(im->main);
        char *hint = xasprintf("as a superuser run: GRANT SET ON PARAMETER session_replication_role "
                               "TO %s; (PostgreSQL 15 and later; else ALTER ROLE %s SUPERUSER;) "
                               "then run the same command again",
                               user, user);
        log_report(LOG_ERROR,
                   "without that role its foreign keys would be checked against the order that "
                   "run left",
                   hint,
                   "table %s is linked by foreign keys and an earlier run of this migration "
                   "applied its changes in parallel (with session_replication_role = replica)",
                   tm->qualified);
        free(hint);
        free(user);
        return false;
    }
    if (fk_order) {
        void *g = strmap_get(&im->order_groups, tm->fk_group, strlen(tm->fk_group));
        if (!g) {
            g = (void *)(intptr_t)(tm->idx + 1);
            strmap_put(&im->order_groups, tm->fk_group, strlen(tm->fk_group), g);
        }
        tm->order_group = (int)(intptr_t)g - 1;
    }
    tm->apply_alone = tm->unique_serial && !tm->route_group;
    tm->rows_commute = tm->pk.count > 0 && tm->nuniq == 0 && !tm->unique_serial &&
                       !tm->route_group && !fk_order;
    const char *why = fk_order            ? "foreign keys without the replica role"
                      : tm->unique_serial ? "unique index not followed by value"
                                          : "as an earlier run routed it";
    if (tm->apply_alone)
        log_warn("apply: table %s needs source order (unique index not followed by value) but an "
                 "earlier run routed it by primary key: each of its changes is applied alone "
                 "(slow)",
                 tm->qualified);
    else if (tm->route_group)
        log_info("apply: table %s: all its changes go through one channel in source order (%s)",
                 tm->qualified, why);
    return true;
}

/* The table of ev: its metadata, &not_selected, or NULL after an error (logged). */
static table_meta *table_of(importer *im, const cdc_event *ev)
{
    strbuf *key = &im->keybuf;
    strbuf_reset(key);
    key_part(key, ev->schema_name);
    key_part(key, ev->table_name);
    table_meta *tm = strmap_get(&im->tables, key->data, key->len);
    if (!tm && !selected(im, ev->schema_name, ev->table_name)) {
        log_info("apply: changes of %s.%s are skipped (not in the import's table list)",
                 ev->schema_name, ev->table_name);
        tm = &not_selected;
        strmap_put(&im->tables, key->data, key->len, tm);
    }
    if (!tm) {
        retry_policy pol = retry_policy_default();
        retry_state rs;
        retry_init(&rs, &pol);
        while (main_ready(im, &rs)) {
            if (im->main->ops->table_meta(im->main, ev->schema_name, ev->table_name, im->ntables,
                                          &tm)) {
                if (!target_keys_check(im->eng->cat, im->kind->roles, im->conf->role, tm,
                                       &im->table_rc) || !route_table(im, tm)) {
                    table_meta_free(tm);
                    return NULL;
                }
                im->ntables++;
                strmap_put(&im->tables, key->data, key->len, tm);
                break;
            }
            if (!main_retry(im, &rs, "reading a table's definition"))
                break;
        }
    }
    return tm;
}

/*
 * Set the database's sequences to the values meta.db holds for phase (the
 * cutover op): none recorded is no error. False after logging.
 */
static bool restore_sequences(importer *im, const char *phase, int *restored)
{
    sequence_value *seqs = NULL;
    size_t n = 0;
    *restored = 0;
    if (!sequence_values_load(im->eng->cat, phase, &seqs, &n))
        return false;
    bool ok = im->main->ops->set_sequences(im->main, seqs, n, restored);
    sequence_values_free(seqs, n);
    return ok;
}

/*
 * Before the cutover is recorded (a rerun would then skip everything): does
 * each channel's progress on the database still say what it committed? A
 * database that lost commits after the channels' last batch is seen here.
 * 0 yes, 1 lost (logged), -1 the database could not be read (logged).
 */
static int progress_lost(importer *im, retry_state *rs)
{
    for (int i = 0; i < im->nchannels; i++) {
        int64_t vsn = 0;
        for (;;) {
            if (!main_ready(im, rs))
                return -1;
            if (im->main->ops->progress(im->main, im->uuid, i, &vsn))
                break;
            if (!main_retry(im, rs, "reading the apply progress"))
                return -1;
        }
        int64_t had = channels_committed(im->chans, i);
        if (vsn < had) {
            log_report(LOG_ERROR,
                       "the database lost acknowledged commits (a crash with synchronous_commit "
                       "off?)",
                       "run the same command again to re-apply the changes from its progress",
                       "%s database: the progress of apply channel %d is at vsn %lld, below vsn "
                       "%lld that it had committed",
                       db_role_name(im->conf->role), i, (long long)vsn, (long long)had);
            return 1;
        }
    }
    return 0;
}

/* An end-of-stream event: ENGINE_OK to go on (see im->finished). */
static engine_status on_cutover(importer *im, const cdc_event *ev, int64_t segment_no)
{
    bool final = strcmp(ev->cutover_op, im->kind->final_op) == 0;
    bool phase = strcmp(ev->cutover_op, QUEUE_OP_CUTOVER_TARGET) == 0 &&
                 strcmp(im->kind->role, "source_replica_db_importer") == 0;
    if (!final && !phase) {
        log_info("queue: end-of-stream %s (vsn %lld) is not for this importer", ev->cutover_op,
                 (long long)ev->vsn);
        return ENGINE_OK;
    }
    if (!channels_drain(im->chans))
        return db_error(im);
    update_metrics(im, true);
    import_metrics_release_screen(im->metrics);
    log_say("all changes up to %s (vsn %lld) are applied", ev->cutover_op, (long long)ev->vsn);
    int nseq = 0;
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    int lost = progress_lost(im, &rs);
    if (lost != 0)
        return lost < 0 ? db_error(im) : ENGINE_BAD_STATE;
    for (;;) {
        if (!main_ready(im, &rs))
            return db_error(im);
        /* setval is idempotent: a restore cut off half-way is run again whole */
        if (restore_sequences(im, ev->cutover_op, &nseq))
            break;
        if (!main_retry(im, &rs, "restoring the sequences"))
            return db_error(im);
    }
    log_say("cutover: restored %d sequence(s) on the %s database", nseq,
            db_role_name(im->conf->role));
    if (!final)
        return ENGINE_OK;
    /*
     * The flag first: once the last segment is marked imported a restart would
     * skip it and never see this event again.
     */
    if (!catalog_status_set_bool(im->eng->cat, im->kind->done_key, true))
        return ENGINE_BAD_STATE;
    im->finished = true;
    mark_segments(im);
    /* events after the end of stream in its segment do not exist: the exporter stopped */
    queue_reader_mark_imported(im->reader, segment_no);
    return ENGINE_OK;
}

/* A line this long is parsed in the reader's buffer (cdc_event_parse_in_place), not copied. */
#define LONG_LINE ((size_t)1 << 20)

static engine_status handle_line(importer *im, const char *line, size_t len, int64_t segment_no)
{
    /* the item and its parsed event in one arena: one allocation an event */
    cdc_arena *ar = cdc_arena_for_line(len, sizeof(cdc_item));
    cdc_item *it = cdc_arena_alloc(ar, sizeof *it);
    memset(it, 0, sizeof *it);
    it->arena = ar;
    char err[256];
    bool parsed;
    if (len > LONG_LINE) {
        /*
         * Its long values stay where the reader read them (decoded in place),
         * in the reader's buffer, which the event takes over: no second copy.
         */
        void *block;
        size_t block_size;
        char *own = queue_reader_take_line(im->reader, &block, &block_size);
        cdc_arena_adopt(ar, block, block_size);
        line = own;
        parsed = cdc_event_parse_in_place(ar, own, len, &it->ev, err, sizeof err);
    } else {
        parsed = cdc_event_parse_in(ar, line, len, &it->ev, err, sizeof err);
    }
    if (!parsed) {
        log_error("queue segment %lld: bad event line (%s): %.200s", (long long)segment_no, err,
                  line);
        cdc_item_free(it);
        return ENGINE_BAD_STATE;
    }
    /* what it holds in memory (the parse's nodes and copies, a long line's buffer) */
    it->bytes = cdc_arena_bytes(ar);
    queue_reader_trim(im->reader); /* a line copied: a buffer a long one grew goes now */
    if (it->ev.vsn <= im->read_vsn) {
        log_error("queue segment %lld: vsn %lld after vsn %lld: the queue holds a duplicate or "
                  "out-of-order event",
                  (long long)segment_no, (long long)it->ev.vsn, (long long)im->read_vsn);
        cdc_item_free(it);
        return ENGINE_BAD_STATE;
    }
    if (!cp_importer_check(&im->hold, im->eng->cat, it->ev.vsn, im->read_vsn, drain_cb, im->chans,
                           im->eng->interrupted)) {
        cdc_item_free(it);
        return db_error(im);
    }
    im->read_vsn = it->ev.vsn;
    if (!consumes(im->kind, it->ev.exporter_role)) {
        cdc_item_free(it);
        return ENGINE_OK;
    }
    if (it->ev.op == CDC_OP_CUTOVER) {
        engine_status rc = on_cutover(im, &it->ev, segment_no);
        cdc_item_free(it);
        return rc;
    }
    im->table_rc = 0;
    it->tm = table_of(im, &it->ev);
    if (!it->tm) {
        cdc_item_free(it);
        return im->table_rc ? im->table_rc : db_error(im);
    }
    if (it->tm == &not_selected) {
        cdc_item_free(it);
        return ENGINE_OK;
    }
    int ch = cdc_route(it, im->nchannels);
    if (it->ev.vsn <= im->start_applied[ch]) {
        im->skipped++;
        cdc_item_free(it);
        return ENGINE_OK;
    }
    if (it->ev.op == CDC_OP_TRUNCATE || it->tm->apply_alone) {
        /* Alone: after every earlier event is committed, before any later one is dispatched. */
        if (!channels_drain(im->chans) || !channels_dispatch(im->chans, ch, it) ||
            !channels_drain(im->chans))
            return db_error(im);
        return ENGINE_OK;
    }
    if (cdc_changes_key(it)) {
        /*
         * The row moves to the channel of its new key: everything before must
         * be committed (an earlier delete of the new key), and the move itself
         * before any later event of the new key.
         */
        if (!channels_drain(im->chans) || !channels_dispatch(im->chans, ch, it) ||
            !channels_drain(im->chans))
            return db_error(im);
        return ENGINE_OK;
    }
    if (!it->tm->route_group) /* else one channel applies the table in order */
        conflicts_check(im->conf_map, it, ch);
    if (!channels_dispatch(im->chans, ch, it))
        return db_error(im);
    return ENGINE_OK;
}

/*
 * export data --start-clean replaced the queue under this importer: its vsns
 * mean nothing against the new one. Logs the way out.
 */
static bool queue_replaced(importer *im)
{
    if (im->replaced)
        return true;
    char *now = catalog_status_get_string(im->eng->cat, QUEUE_GENERATION_KEY);
    bool replaced = now && strcmp(now, im->generation) != 0;
    free(now);
    im->replaced = replaced;
    if (replaced) {
        import_metrics_release_screen(im->metrics);
        log_report(LOG_ERROR, NULL,
                   "rerun it with --start-clean true (import data: with --truncate-tables true, "
                   "to load the new snapshot)",
                   "the change queue was started over (export data --start-clean) while this "
                   "importer ran");
    }
    return replaced;
}

static engine_status run_loop(importer *im)
{
    engine_status rc = ENGINE_OK;
    int idle_ms = 0;
    int watch_ms = 100;
    int64_t gen_checked = now_monotonic_ms();
    while (rc == ENGINE_OK && !im->finished) {
        if (*im->eng->interrupted) {
            import_metrics_release_screen(im->metrics);
            log_report(LOG_ERROR, NULL, "run the same command again to continue",
                       "interrupted: every change up to vsn %lld is applied (some later ones too)",
                       (long long)channels_low_watermark(im->chans, im->read_vsn));
            rc = ENGINE_BAD_STATE;
            break;
        }
        if (channels_failed(im->chans)) {
            rc = db_error(im);
            break;
        }
        const char *line = NULL;
        size_t len = 0;
        int64_t seg = 0;
        switch (queue_reader_next(im->reader, &line, &len, &seg)) {
        case QR_ERROR:
            rc = ENGINE_BAD_STATE;
            break;
        case QR_WAIT:
            if (now_monotonic_ms() - gen_checked >= 1000) {
                gen_checked = now_monotonic_ms();
                if (queue_replaced(im)) {
                    rc = ENGINE_BAD_STATE;
                    break;
                }
            }
            if (!cp_importer_check(&im->hold, im->eng->cat, 0, im->read_vsn, drain_cb, im->chans,
                                   im->eng->interrupted)) {
                rc = db_error(im);
                break;
            }
            channels_note_read(im->chans, im->read_vsn);
            mark_segments(im);
            update_metrics(im, false);
            if (im->meta_watch) {
                /*
                 * The exporter's durable steps commit to meta.db: woken by them,
                 * not a timer. A commit is seen (its WAL write) before readers
                 * see it (after its fsync): a wake that found nothing new looks
                 * again after 1 ms, then 2, 4, ... up to 100 ms.
                 */
                watch_ms = dir_watch_wait(im->meta_watch, watch_ms) ? 1
                           : watch_ms < 50                          ? watch_ms * 2
                                                                    : 100;
            } else {
                usleep(idle_ms < 1000 ? 10000 : 100000);
                idle_ms += idle_ms < 1000 ? 10 : 100;
            }
            break;
        case QR_SEGMENT_END:
            im->marks = xrealloc(im->marks, (im->nmarks + 1) * sizeof *im->marks);
            im->marks[im->nmarks++] = (seg_mark){seg, im->read_vsn};
            mark_segments(im);
            break;
        case QR_LINE: {
            idle_ms = 0;
            int64_t skipped = queue_reader_take_skipped(im->reader);
            if (skipped > im->read_vsn)
                im->read_vsn = skipped;
            rc = handle_line(im, line, len, seg);
            if (rc == ENGINE_OK && (im->read_vsn & 1023) == 0) {
                channels_note_read(im->chans, im->read_vsn);
                update_metrics(im, false);
            }
            break;
        }
        }
    }
    /* a queue removed and restarted under the reader shows up as a read error first */
    if (rc == ENGINE_BAD_STATE && !*im->eng->interrupted)
        queue_replaced(im);
    return rc;
}

static bool status_flag(importer *im, const char *key)
{
    return catalog_status_get_bool(im->eng->cat, key);
}

/*
 * The target importer's cutover is processed: with a way back prepared, this
 * process becomes `export data from target` next (the command execs it).
 */
static cdc_apply_next after_cutover(importer *im)
{
    if (strcmp(im->kind->role, "target_db_importer") != 0)
        return CDC_APPLY_DONE;
    if (!status_flag(im, "FallbackEnabled") && !status_flag(im, "FallForwardEnabled"))
        return CDC_APPLY_DONE;
    if (status_flag(im, "CutoverProcessedByTargetExporter")) {
        log_say("'export data from target' already finished its part of the cutover");
        return CDC_APPLY_DONE;
    }
    /*
     * The cutover is complete once the source exporter acknowledged it too; it
     * wrote the end of stream before we could apply it, so its flag follows
     * within moments (or after its restart). Do not start too early.
     */
    for (int i = 0; i < 300 && !*im->eng->interrupted; i++) {
        if (status_flag(im, "CutoverProcessedBySourceExporter"))
            break;
        if (i == 0)
            log_info("waiting for the source exporter to acknowledge the cutover");
        usleep(200000);
    }
    return CDC_APPLY_EXPORT_FROM_TARGET;
}

/* The channels of a first run: --parallel-jobs, within what one apply can use. */
static int channel_count(const cdc_apply_spec *spec)
{
    int n = spec->parallel_jobs < 1 ? 1 : spec->parallel_jobs;
    return n > CDC_MAX_CHANNELS ? CDC_MAX_CHANNELS : n;
}

static void free_table(void *t)
{
    if (t != &not_selected)
        table_meta_free(t);
}

static void *connect_one(void *arg)
{
    chan_connect *cc = arg;
    /* its own deadline: the threads do not share a retry_state */
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    cc->s = cc->w->ops->connect_channel(cc->w, cc->idx, &rs, cc->interrupted, &cc->gave_up);
    return NULL;
}

/*
 * Start connecting channels [from, to) each on a thread of its own: SCRAM
 * costs both sides CPU and a backend start is a fork and a cache warm-up;
 * one after another they were a good part of a short run. Threads that cannot
 * be started connect in line.
 */
static void connect_channels(importer *im, int from, int to)
{
    if (to > im->ncc) {
        /* running threads write into the array: they finish before it moves */
        for (int i = 0; i < im->ncc; i++)
            if (im->cc[i].started) {
                pthread_join(im->cc[i].th, NULL);
                im->cc[i].started = false;
            }
        im->cc = xrealloc(im->cc, (size_t)to * sizeof *im->cc);
        memset(im->cc + im->ncc, 0, (size_t)(to - im->ncc) * sizeof *im->cc);
        im->ncc = to;
    }
    for (int i = from; i < to; i++) {
        chan_connect *cc = &im->cc[i];
        *cc = (chan_connect){.w = im->w, .idx = i, .interrupted = im->eng->interrupted};
        cc->started = pthread_create(&cc->th, NULL, connect_one, cc) == 0;
        if (!cc->started)
            connect_one(cc);
    }
}

/* Wait for every channel connection started; false when one failed (logged). */
static bool channels_connected(importer *im)
{
    bool ok = true;
    for (int i = 0; i < im->ncc; i++) {
        chan_connect *cc = &im->cc[i];
        if (cc->started)
            pthread_join(cc->th, NULL);
        cc->started = false;
        if (!cc->s) {
            ok = false;
            im->resumable = im->resumable || cc->gave_up;
        }
    }
    return ok;
}

/* Close the channel connections from `from` on (not taken by channels_start). */
static void close_channel_conns(importer *im, int from)
{
    channels_connected(im);
    for (int i = from; i < im->ncc; i++) {
        writer_session_close(im->cc[i].s);
        im->cc[i].s = NULL;
    }
    if (from < im->ncc)
        im->ncc = from;
}

static void importer_free(importer *im)
{
    close_channel_conns(im, 0);
    free(im->cc);
    channels_stop(im->chans);
    conflicts_free(im->conf_map);
    queue_reader_close(im->reader);
    dir_watch_close(im->meta_watch);
    import_metrics_free(im->metrics);
    strmap_free(&im->tables, free_table);
    strmap_free(&im->order_groups, NULL);
    free(im->marks);
    strbuf_free(&im->keybuf);
    free(im->start_applied);
    free(im->generation);
    writer_session_close(im->main);
    writer_free(im->w);
}

/* One part of a pattern as it matches: unquoted parts fold to lower case. */
static void canonical_part(strbuf *sb, const char *text, bool quoted)
{
    if (!quoted) {
        char *l = str_to_lower(text);
        strbuf_append(sb, l);
        free(l);
        return;
    }
    strbuf_append_char(sb, '"');
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            strbuf_append_char(sb, '"');
        strbuf_append_char(sb, *p);
    }
    strbuf_append_char(sb, '"');
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A pattern list in a form that ignores order, duplicates and the case of unquoted names. */
static char *canonical_patterns(const table_patterns *p)
{
    char **items = xcalloc(p->count + 1, sizeof *items);
    for (size_t i = 0; i < p->count; i++) {
        strbuf sb = STRBUF_INIT;
        if (p->items[i].schema) {
            canonical_part(&sb, p->items[i].schema, p->items[i].schema_quoted);
            strbuf_append_char(&sb, '.');
        }
        canonical_part(&sb, p->items[i].name, p->items[i].name_quoted);
        items[i] = strbuf_detach(&sb);
    }
    qsort(items, p->count, sizeof *items, cmp_str);
    strbuf out = STRBUF_INIT;
    for (size_t i = 0; i < p->count; i++) {
        if (i == 0 || strcmp(items[i], items[i - 1]) != 0) {
            if (out.len)
                strbuf_append_char(&out, ',');
            strbuf_append(&out, items[i]);
        }
    }
    for (size_t i = 0; i < p->count; i++)
        free(items[i]);
    free(items);
    char *r = strbuf_detach(&out);
    return r ? r : xstrdup("");
}

engine_status cdc_import_table_filter_check(engine_ctx *eng, const cdc_apply_spec *spec)
{
    if (!spec->table_lists)
        return ENGINE_OK;
    static const table_patterns none;
    char *ci = canonical_patterns(spec->include ? spec->include : &none);
    char *ce = canonical_patterns(spec->exclude ? spec->exclude : &none);
    engine_status rc = ENGINE_BAD_STATE;
    char *was_inc = NULL, *was_exc = NULL;
    if (!import_state_table_filter_get(eng->cat, spec->importer_role, &was_inc, &was_exc))
        goto out;
    if (was_inc && !spec->start_clean && (strcmp(was_inc, ci) != 0 || strcmp(was_exc, ce) != 0)) {
        /* its progress would move past the changes of tables it leaves out now, for good */
        log_report(LOG_ERROR, NULL,
                   "run with the same lists, or with --start-clean true to start the import over",
                   "the table list differs from this import's first run (--table-list \"%s\", "
                   "--exclude-table-list \"%s\"; now \"%s\", \"%s\")",
                   was_inc, was_exc, ci, ce);
        goto out;
    }
    if ((!was_inc || spec->start_clean) &&
        !import_state_table_filter_set(eng->cat, spec->importer_role, ci, ce))
        goto out;
    rc = ENGINE_OK;
out:
    free(was_inc);
    free(was_exc);
    free(ci);
    free(ce);
    return rc;
}

bool cdc_import_clean_in_tx(engine_ctx *eng, const char *importer_role, writer_session *s)
{
    /*
     * meta.db first: segments marked applied would be skipped after the
     * database forgot them; and what the channels had committed, or the next
     * run would take the clean start for a database that lost commits.
     */
    return queue_generation_forget_applied(eng->cat, importer_role) &&
           import_state_committed_clear(eng->cat, importer_role) &&
           s->ops->create(s) && s->ops->reset_progress(s, catalog_migration_uuid(eng->cat));
}

/*
 * This database's progress against the queue of this run: of another
 * generation, it is forgotten with --start-clean (in one transaction) and
 * refused without. import data to source has no snapshot to reload, so its
 * --start-clean cannot undo what it applied: refused once it applied any.
 */
static engine_status check_generation(importer *im, bool start_clean)
{
    int64_t old_vsn = 0;
    int g = im->main->ops->generation_check(im->main, im->uuid, im->generation, &old_vsn);
    if (g < 0)
        return db_error(im);
    bool no_snapshot = strcmp(im->kind->role, "source_db_importer") == 0;
    if (g == 0 && start_clean && no_snapshot) {
        int64_t applied = 0;
        if (!im->main->ops->total_applied(im->main, im->uuid, &applied))
            return db_error(im);
        if (applied > 0) {
            char *detail = xasprintf("%lld are applied, and there is no snapshot to reload",
                                      (long long)applied);
            log_report(LOG_ERROR, detail,
                       "run import data to source without --start-clean to continue",
                       "--start-clean would apply the target's changes to the source database a "
                       "second time");
            free(detail);
            return ENGINE_BAD_INPUT;
        }
    }
    if (g == 0)
        return ENGINE_OK;
    if (!start_clean) {
        log_report(LOG_ERROR, NULL,
                   no_snapshot ? "rerun with --start-clean true"
                               : "rerun with --start-clean true --truncate-tables true, to load "
                                 "the new snapshot too",
                   "the %s database holds this importer's progress (up to vsn %lld) in a change "
                   "queue that was started over since (export data --start-clean)",
                   db_role_name(im->conf->role), (long long)old_vsn);
        return ENGINE_BAD_STATE;
    }
    bool ok = im->main->ops->begin(im->main) &&
              cdc_import_clean_in_tx(im->eng, im->kind->role, im->main) &&
              im->main->ops->commit(im->main);
    if (!ok) {
        im->main->ops->rollback_after_failure(im->main);
        return db_error(im);
    }
    log_say("--start-clean: forgot the progress of the earlier change queue on the %s database",
            db_role_name(im->conf->role));
    return ENGINE_OK;
}

/*
 * channel_reconnect for YugabyteDB: a channel whose node went away mid apply
 * connects to the next node that answers (its own first). Runs on the
 * channel's thread: the writer only reads its nodes there.
 */
static bool reconnect_elsewhere(void *arg, writer_session *s, int channel_no)
{
    importer *im = arg;
    return im->w->ops->move(im->w, s, channel_no);
}

engine_status cdc_import_apply(engine_ctx *eng, const cdc_apply_spec *spec, cdc_apply_next *next)
{
    *next = CDC_APPLY_DONE;
    db_conf *conf = spec->conf;
    importer im = {0};
    im.eng = eng;
    im.spec = spec;
    im.conf = conf;
    im.kind = kind_of(spec->importer_role);
    if (!im.kind) {
        log_bug("unknown importer role %s", spec->importer_role);
        return ENGINE_FAILED;
    }
    cp_importer_init(&im.hold, im.kind->role);
    im.uuid = catalog_migration_uuid(eng->cat);
    if (status_flag(&im, im.kind->done_key)) {
        log_say("this importer already applied every change up to its cutover; nothing to do");
        /*
         * on_cutover records the flag before it marks the last segments
         * imported: a run that died in between left them unmarked, and archive
         * changes would keep them for good. The flag is written only after the
         * drain, so every segment up to the end-of-stream event is applied.
         */
        int64_t marked = 0;
        if (!import_state_segments_mark_through_end(eng->cat, im.kind->role, im.kind->final_role,
                                                    im.kind->roles, &marked))
            return ENGINE_BAD_STATE;
        if (marked > 0)
            log_say("recorded %lld queue segment(s) as applied: an earlier run stopped after its "
                    "cutover, before recording them",
                    (long long)marked);
        *next = after_cutover(&im);
        return ENGINE_OK;
    }
    engine_status rc;
    bool start_clean = spec->start_clean;
    if ((rc = cdc_import_table_filter_check(eng, spec)) != ENGINE_OK)
        goto out;
    im.generation = queue_generation_get(eng->cat);
    if (!im.generation) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    /* a restart during a target outage waits for it, as a running importer does */
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    bool gave_up = false;
    im.w = writer_for(eng, conf, &rc);
    if (!im.w)
        goto out;
    im.main = im.w->ops->connect(im.w, &rs, eng->interrupted, &gave_up);
    if (!im.main) {
        im.resumable = gave_up;
        rc = db_error(&im);
        goto out;
    }
    /* YugabyteDB: channels spread over the nodes, as the snapshot import's connections */
    if (conf->role == DB_TARGET &&
        !im.w->ops->discover_nodes(im.w, im.main, spec->target_endpoints, spec->use_public_ip)) {
        rc = ENGINE_BAD_INPUT;
        goto out;
    }
    cdc_event_parser_init(); /* before any other thread exists (it sets cJSON's hooks) */
    /* as many as a first run makes (a later one adjusts below) while main reads the bookkeeping */
    connect_channels(&im, 0, channel_count(spec));
    /* its statements run under main_ready() / main_retry() */
    for (;;) {
        if (!main_ready(&im, &rs)) {
            rc = db_error(&im);
            goto out;
        }
        if (im.main->ops->create(im.main))
            break;
        if (!main_retry(&im, &rs, "creating the apply bookkeeping")) {
            rc = db_error(&im);
            goto out;
        }
    }
    for (;;) {
        /* idempotent: a clean start that committed finds the generation its own the next time */
        if ((rc = check_generation(&im, start_clean)) != db_role_failure(conf->role))
            break;
        if (!main_retry(&im, &rs, "checking the change queue's generation") ||
            !main_ready(&im, &rs)) {
            rc = db_error(&im);
            break;
        }
    }
    if (rc != ENGINE_OK)
        goto out;
    int64_t before = 0;
    for (;;) {
        if (!main_ready(&im, &rs)) {
            rc = db_error(&im);
            goto out;
        }
        free(im.start_applied);
        im.start_applied = NULL;
        if (im.main->ops->channels(im.main, im.uuid, im.generation, channel_count(spec),
                                   &im.nchannels, &im.start_applied) &&
            im.main->ops->total_applied(im.main, im.uuid, &before))
            break;
        if (!main_retry(&im, &rs, "reading the apply progress")) {
            rc = db_error(&im);
            goto out;
        }
    }
    if (!reread_lost(&im)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    size_t nodes = im.w->ops->node_count(im.w);
    if (im.nchannels > im.ncc)
        connect_channels(&im, im.ncc, im.nchannels);
    else
        close_channel_conns(&im, im.nchannels);
    if (!channels_connected(&im)) {
        rc = db_error(&im);
        goto out;
    }
    writer_session **conns = xcalloc((size_t)im.nchannels, sizeof *conns);
    for (int i = 0; i < im.nchannels; i++) {
        conns[i] = im.cc[i].s;
        im.cc[i].s = NULL; /* channels_start's, even when it fails */
    }
    im.reconnect = (channel_reconnect){reconnect_elsewhere, &im};
    im.chans = channels_start(conns, im.nchannels, im.uuid, CDC_BATCH_MAX,
                              nodes > 1 ? &im.reconnect : NULL);
    free(conns);
    if (!im.chans) {
        rc = ENGINE_BAD_STATE; /* resources, not data: the same command again resumes */
        goto out;
    }
    for (int i = 0; i < im.nchannels; i++)
        channels_set_committed(im.chans, i, im.start_applied[i]);
    im.replica = channels_replica_role(im.chans);
    if (!routes_init(&im)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    im.conf_map = conflicts_new(committed_cb, im.chans);
    im.reader = queue_reader_open(eng->cat, eng->export_dir, im.kind->role, im.kind->roles);
    if (!im.reader) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    /*
     * What every channel has committed is read past, not parsed to be skipped
     * (a segment holds up to 1 GiB: a restart read all of it again). An event
     * up to the least channel's progress is committed whichever its channel.
     */
    int64_t committed_all = im.nchannels ? im.start_applied[0] : 0;
    for (int i = 1; i < im.nchannels; i++)
        if (im.start_applied[i] < committed_all)
            committed_all = im.start_applied[i];
    queue_reader_skip_committed(im.reader, committed_all);
    char *metainfo = xasprintf("%s/metainfo", eng->export_dir);
    im.meta_watch = dir_watch_open(metainfo);
    if (!im.meta_watch)
        log_debug("apply: no inotify watch on %s: polling the queue on a timer", metainfo);
    free(metainfo);
    im.metrics = import_metrics_new(spec->bars, before);
    /* the user asked for another number: said on stderr, not only in the log */
    if (spec->parallel_jobs_given && spec->parallel_jobs != im.nchannels) {
        if (spec->parallel_jobs > CDC_MAX_CHANNELS && im.nchannels == CDC_MAX_CHANNELS)
            log_warn("apply: --parallel-jobs %d lowered to %d: changes are applied over at most %d "
                     "channels",
                     spec->parallel_jobs, CDC_MAX_CHANNELS, CDC_MAX_CHANNELS);
        else
            log_warn("apply: --parallel-jobs %d ignored: this migration's changes were routed to %d "
                     "channels by its first run, and routing must not change",
                     spec->parallel_jobs, im.nchannels);
    }
    log_say("applying changes to the %s database with %d channel(s)", db_role_name(conf->role),
            im.nchannels);
    rc = run_loop(&im);
    if (rc == ENGINE_OK && !channels_drain(im.chans))
        rc = db_error(&im);
    if (rc == ENGINE_OK)
        mark_segments(&im);
    update_metrics(&im, true);
    apply_counts counts = channels_counts(im.chans);
    if (counts.zero_row_changes)
        log_warn("apply: %lld update(s)/delete(s) found no row on the %s database",
                 (long long)counts.zero_row_changes, db_role_name(conf->role));
    if (rc == ENGINE_OK && im.finished) {
        int64_t zero = zero_rows_of(eng->cat, im.kind->role);
        if (zero > 0)
            log_report(LOG_WARN, NULL, "compare data --level rows names the rows that differ",
                       "%lld update(s)/delete(s) of this migration found no row on the %s database: "
                       "it differs from where the changes came from at those rows (was it written "
                       "to before the cutover?)",
                       (long long)zero, db_role_name(conf->role));
    }
    log_info("apply: %lld event(s) skipped as already committed by an earlier run",
             (long long)im.skipped);
    log_info("apply: %lld event(s) applied through multi-row statements",
             (long long)counts.merged_events);
    log_info("apply: %lld update(s) folded into the insert of their row in the same batch, "
             "%lld into its update before them",
             (long long)counts.folded_into_inserts, (long long)counts.folded_into_updates);
out:
    importer_free(&im);
    cdc_event_parser_release();
    if (rc == ENGINE_OK && im.finished) {
        log_say("cutover processed by %s", im.kind->role);
        *next = after_cutover(&im);
    }
    return rc;
}
