/* Queue segments: append, fsync, then record; rotate between transactions. */
#include "cdc/queue_writer.h"

#include "catalog/queue_meta.h"
#include "cdc/crash_point.h"
#include "cdc/queue_format.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Buffered bytes are written out beyond this (memory stays bounded in big transactions). */
#define QW_BUFFER_BYTES (1 << 20)
/* A buffer grown beyond this by a big row is given back once written (small rows follow). */
#define QW_BUFFER_KEEP_BYTES (4 << 20)

typedef struct table_count {
    char *schema;
    char *table;
    long long n[3]; /* inserts, updates, deletes */
} table_count;

typedef struct count_set {
    table_count *items;
    size_t count, cap;
} count_set;

struct queue_writer {
    catalog *m;
    char *export_dir;
    char *role;
    long long max_bytes;
    bool stream_done;

    long long seg_no;
    char *rel_path;
    int fd;
    long long committed_size; /* durable in meta.db */
    long long written_size;   /* handed to write() */
    long long file_size;      /* written + buffered */
    strbuf buf;               /* bytes [written_size, file_size) */

    long long next_vsn;
    long long seg_first_vsn; /* 0: the segment has no event yet */
    long long seg_events;    /* events in the segment, the open transaction included */

    /* Last transaction boundary (not yet durable when ahead of the durable fields). */
    long long bnd_size, bnd_vsn, bnd_seg_events;
    uint64_t bnd_lsn;
    long long durable_vsn;
    uint64_t durable_lsn;
    long long total_events; /* durable, this role */
    long long pending_events;

    count_set tx_counts;      /* open transaction */
    count_set pending_counts; /* boundaries not yet durable */
    bool no_space;            /* the last failure: file system full */
};

static bool errno_no_space(int e) { return e == ENOSPC || e == EDQUOT; }

/* A failed segment write or fsync (err: its errno), said once with the path and what to do. */
static void segment_io_failed(queue_writer *w, const char *what, int err)
{
    if (errno_no_space(err)) {
        w->no_space = true;
        log_report(LOG_ERROR, NULL,
                   "free space on that file system and run the same command again (the queue "
                   "continues from its last durable step)",
                   "cannot %s queue segment %s/%s: %s", what, w->export_dir, w->rel_path,
                   strerror(err));
    } else {
        log_error("cannot %s queue segment %s/%s: %s", what, w->export_dir, w->rel_path, strerror(err));
    }
}

/* After a failed meta.db step (logged by catalog, with the advice for a full disk). */
static void catalog_failed(queue_writer *w)
{
    if (qm_store_full(w->m))
        w->no_space = true;
}

static void counts_clear(count_set *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->items[i].schema);
        free(s->items[i].table);
    }
    s->count = 0;
}

static void counts_free(count_set *s)
{
    counts_clear(s);
    free(s->items);
    s->items = NULL;
    s->cap = 0;
}

static table_count *counts_get(count_set *s, const char *schema, const char *table)
{
    /* Few tables change per transaction: a short linear scan, most recent first. */
    for (size_t i = s->count; i-- > 0;)
        if (strcmp(s->items[i].table, table) == 0 && strcmp(s->items[i].schema, schema) == 0)
            return &s->items[i];
    if (s->count == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->items = xrealloc(s->items, s->cap * sizeof *s->items);
    }
    table_count *t = &s->items[s->count++];
    t->schema = xstrdup(schema);
    t->table = xstrdup(table);
    t->n[0] = t->n[1] = t->n[2] = 0;
    return t;
}

static void counts_merge(count_set *into, count_set *from)
{
    for (size_t i = 0; i < from->count; i++) {
        table_count *t = counts_get(into, from->items[i].schema, from->items[i].table);
        for (int k = 0; k < 3; k++)
            t->n[k] += from->items[i].n[k];
    }
    counts_clear(from);
}

static bool write_bytes(queue_writer *w, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(w->fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            segment_io_failed(w, "write", errno);
            return false;
        }
        off += (size_t)n;
    }
    w->written_size += (long long)len;
    return true;
}

static bool write_all(queue_writer *w)
{
    if (!write_bytes(w, w->buf.data, w->buf.len))
        return false;
    strbuf_reset(&w->buf);
    return true;
}

/* Open (create) segment file seg_no and cut it to its committed size. */
static bool open_segment(queue_writer *w, long long seg_no, long long committed)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->rel_path);
    w->seg_no = seg_no;
    w->rel_path = xasprintf(QUEUE_SEGMENT_FMT, seg_no);
    char *path = xasprintf("%s/%s", w->export_dir, w->rel_path);
    bool ok = false;
    w->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat sb;
    if (w->fd < 0 || fstat(w->fd, &sb) != 0) {
        int e = errno;
        w->no_space = errno_no_space(e);
        log_report(LOG_ERROR, NULL,
                   w->no_space ? "free space on that file system and run the same command again"
                               : NULL,
                   "cannot open queue segment %s: %s", path, strerror(e));
    } else if (sb.st_size < committed) {
        log_report(LOG_ERROR, "the queue was damaged", "start the migration again with --start-clean",
                   "queue segment %s is shorter (%lld bytes) than its recorded committed size "
                   "(%lld)",
                   path, (long long)sb.st_size, committed);
    } else if (sb.st_size > committed && ftruncate(w->fd, committed) != 0) {
        log_error("cannot truncate queue segment %s: %s", path, strerror(errno));
    } else if (lseek(w->fd, committed, SEEK_SET) < 0 || !fs_fsync_parent(path)) {
        log_error("cannot prepare queue segment %s: %s", path, strerror(errno));
    } else {
        if (sb.st_size > committed)
            log_info("queue: segment %lld cut from %lld to its committed %lld bytes", seg_no,
                     (long long)sb.st_size, committed);
        ok = true;
    }
    free(path);
    w->committed_size = w->written_size = w->file_size = w->bnd_size = committed;
    strbuf_reset(&w->buf);
    return ok;
}

/*
 * A segment meta.db has no row for yet must not exist with data: it would
 * be cut to nothing. Only a lost or replaced meta.db leaves one.
 */
static bool segment_is_new(queue_writer *w, const char *rel)
{
    char *path = xasprintf("%s/%s", w->export_dir, rel);
    struct stat sb;
    bool clash = stat(path, &sb) == 0 && sb.st_size > 0;
    free(path);
    if (clash)
        log_report(LOG_ERROR,
                   "meta.db is damaged or of another migration; the file is left as it is",
                   "restore meta.db from a backup, or use a new, empty --export-dir",
                   "queue segment %s already holds %lld bytes but meta.db has no record of it",
                   rel, (long long)sb.st_size);
    return !clash;
}

static bool insert_segment_row(queue_writer *w, long long seg_no)
{
    char *rel = xasprintf(QUEUE_SEGMENT_FMT, seg_no);
    bool ok = segment_is_new(w, rel) && qm_segment_insert(w->m, seg_no, rel, w->role);
    free(rel);
    return ok;
}

queue_writer *qw_open(catalog *m, const char *export_dir, const char *exporter_role,
                      long long max_bytes)
{
    queue_writer *w = xcalloc(1, sizeof *w);
    w->m = m;
    w->fd = -1;
    w->export_dir = xstrdup(export_dir);
    w->role = xstrdup(exporter_role);
    w->max_bytes = max_bytes > 0 ? max_bytes : QUEUE_DEFAULT_SEGMENT_MAX_BYTES;
    char *qdir = xasprintf("%s/%s", export_dir, QUEUE_DIR);
    bool ok = fs_mkdir_p(qdir, 0700);
    if (!ok)
        log_error("cannot create %s: %s", qdir, strerror(errno));
    free(qdir);
    if (!ok || !catalog_begin(m)) {
        qw_close(w);
        return NULL;
    }
    qm_exporter pos = {0};
    qm_tail tail = {0};
    ok = qm_exporter_init(m, exporter_role) && qm_exporter_get(m, exporter_role, &pos) &&
         qm_queue_tail(m, exporter_role, &tail);
    long long seg = tail.seg_no, committed = tail.committed_size, seg_events = tail.total_events,
              first_vsn = tail.first_vsn;
    bool closed = tail.is_closed;
    w->stream_done = pos.stream_done;
    /*
     * Only a writer that will write: a stream that ended at cutover writes
     * nothing, and the open tail is then that of the exporter that took over
     * (export data from target, with a way back). Refused, a rerun of the
     * ended stream's command never got to its cutover bookkeeping (the retry
     * of a feed drop that failed, the turn into import data to source).
     */
    if (ok && !w->stream_done && seg >= 0 && !closed && !tail.role_matches) {
        log_error("queue segment %lld is still open for another exporter: that exporter must "
                  "finish (cutover) before %s can write",
                  seg, exporter_role);
        ok = false;
    }
    bool fresh = seg < 0 || closed;
    if (ok && fresh && !w->stream_done) {
        seg = seg < 0 ? 0 : seg + 1;
        committed = seg_events = first_vsn = 0;
        ok = insert_segment_row(w, seg);
    }
    long long lsn = pos.last_commit_lsn, last_vsn = pos.last_vsn, total = pos.total_events;
    qm_exporter_free(&pos);
    if (!ok || !catalog_commit(m)) {
        catalog_rollback(m);
        qw_close(w);
        return NULL;
    }
    w->durable_lsn = w->bnd_lsn = (uint64_t)lsn;
    /* an ended stream's last vsn is its own marker's, whatever another exporter wrote since */
    w->durable_vsn = w->bnd_vsn =
        (w->stream_done || tail.max_vsn <= last_vsn) ? last_vsn : tail.max_vsn;
    w->next_vsn = w->durable_vsn + 1;
    w->total_events = total;
    w->seg_events = w->bnd_seg_events = seg_events;
    w->seg_first_vsn = first_vsn;
    if (!w->stream_done && !open_segment(w, seg, committed)) {
        qw_close(w);
        return NULL;
    }
    return w;
}

void qw_close(queue_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w->export_dir);
    free(w->role);
    free(w->rel_path);
    strbuf_free(&w->buf);
    counts_free(&w->tx_counts);
    counts_free(&w->pending_counts);
    free(w);
}

long long qw_next_vsn(const queue_writer *w) { return w->next_vsn; }
uint64_t qw_last_commit_lsn(const queue_writer *w) { return w->durable_lsn; }
long long qw_total_events(const queue_writer *w) { return w->total_events; }
bool qw_stream_done(const queue_writer *w) { return w->stream_done; }
long long qw_segment_no(const queue_writer *w) { return w->seg_no; }
bool qw_no_space(const queue_writer *w) { return w->no_space; }
bool qw_has_pending(const queue_writer *w) { return w->bnd_lsn != w->durable_lsn || w->bnd_size != w->committed_size; }
long long qw_open_tx_bytes(const queue_writer *w) { return w->file_size - w->bnd_size; }

/* Count a line of len bytes just buffered (or written) as the next event. */
static void count_event(queue_writer *w, size_t len, const char *schema, const char *table, char op)
{
    w->file_size += (long long)len;
    if (!w->seg_first_vsn)
        w->seg_first_vsn = w->next_vsn;
    w->next_vsn++;
    w->seg_events++;
    int k = op == 'c' ? 0 : op == 'u' ? 1 : op == 'd' ? 2 : -1;
    if (k >= 0)
        counts_get(&w->tx_counts, schema, table)->n[k]++;
}

/* Write the buffer out once it is full; a buffer a big row grew is freed. */
static bool flush_full(queue_writer *w)
{
    if (w->buf.len < QW_BUFFER_BYTES)
        return true;
    if (!write_all(w))
        return false;
    if (w->buf.cap > QW_BUFFER_KEEP_BYTES)
        strbuf_free(&w->buf);
    return true;
}

bool qw_add_event(queue_writer *w, const char *line, size_t len, const char *schema,
                  const char *table, char op)
{
    /* A line of a big row goes out from the caller's memory: no third copy of its values. */
    if (len >= QW_BUFFER_BYTES) {
        if (!write_all(w) || !write_bytes(w, line, len))
            return false;
    } else {
        strbuf_append_len(&w->buf, line, len);
    }
    count_event(w, len, schema, table, op);
    return flush_full(w);
}

strbuf *qw_line_buffer(queue_writer *w) { return &w->buf; }

bool qw_add_appended(queue_writer *w, size_t start, const char *schema, const char *table, char op)
{
    count_event(w, w->buf.len - start, schema, table, op);
    return flush_full(w);
}

void qw_end_tx(queue_writer *w, uint64_t commit_lsn)
{
    w->pending_events += w->seg_events - w->bnd_seg_events;
    w->bnd_size = w->file_size;
    w->bnd_vsn = w->next_vsn - 1;
    w->bnd_seg_events = w->seg_events;
    if (commit_lsn > w->bnd_lsn)
        w->bnd_lsn = commit_lsn;
    counts_merge(&w->pending_counts, &w->tx_counts);
}

bool qw_discard_tx(queue_writer *w)
{
    long long drop = w->file_size - w->bnd_size;
    if (drop <= 0)
        return true;
    if (w->written_size > w->bnd_size) {
        /*
         * Part of the open transaction reached the file: cut it away. Not cut,
         * the next transaction would follow the torn one in the segment.
         */
        if (ftruncate(w->fd, w->bnd_size) != 0) {
            segment_io_failed(w, "cut", errno);
            return false;
        }
        if (lseek(w->fd, w->bnd_size, SEEK_SET) < 0) {
            segment_io_failed(w, "seek in", errno);
            return false;
        }
        w->written_size = w->bnd_size;
        strbuf_reset(&w->buf);
    } else {
        w->buf.len -= (size_t)drop;
        if (w->buf.data)
            w->buf.data[w->buf.len] = '\0';
    }
    w->file_size = w->bnd_size;
    w->next_vsn = w->bnd_vsn + 1;
    if (w->bnd_seg_events == 0)
        w->seg_first_vsn = 0;
    w->seg_events = w->bnd_seg_events;
    counts_clear(&w->tx_counts);
    return true;
}

/* Write out, fsync, then record: the order that makes a crash at any point harmless. */
static bool sync_file(queue_writer *w)
{
    if (!write_all(w))
        return false;
    cdc_crash_point("write");
    if (fdatasync(w->fd) != 0) {
        segment_io_failed(w, "fsync", errno);
        return false;
    }
    cdc_crash_point("fsync");
    return true;
}

static bool record_durable(queue_writer *w, bool ends_stream)
{
    qm_count *counts = xcalloc(w->pending_counts.count + 1, sizeof *counts);
    for (size_t i = 0; i < w->pending_counts.count; i++) {
        const table_count *t = &w->pending_counts.items[i];
        counts[i] = (qm_count){t->schema, t->table, t->n[0], t->n[1], t->n[2]};
    }
    qm_step step = {
        .role = w->role,
        .seg_no = w->seg_no,
        .committed_size = w->bnd_size,
        .first_vsn = w->bnd_seg_events > 0 ? w->seg_first_vsn : 0LL,
        .last_vsn = w->bnd_vsn,
        .seg_events = w->bnd_seg_events,
        .commit_lsn = (long long)w->bnd_lsn,
        .added_events = w->pending_events,
        .counts = counts,
        .ncounts = w->pending_counts.count,
        .ends_stream = ends_stream,
    };
    bool ok = qm_record_step(w->m, &step);
    free(counts);
    if (!ok) {
        catalog_failed(w);
        return false;
    }
    w->committed_size = w->bnd_size;
    w->durable_lsn = w->bnd_lsn;
    w->durable_vsn = w->bnd_vsn;
    w->total_events += w->pending_events;
    w->pending_events = 0;
    counts_clear(&w->pending_counts);
    return true;
}

/* The end-of-segment marker at the boundary (written by the next sync_file). */
static void append_eof_line(queue_writer *w)
{
    strbuf_append(&w->buf, QUEUE_EOF_MARKER "\n");
    w->file_size += (long long)strlen(QUEUE_EOF_MARKER "\n");
    w->bnd_size = w->file_size;
}

/* Close the segment at its boundary and open the next (the last one is closed by qw_finish_stream). */
static bool close_segment(queue_writer *w)
{
    append_eof_line(w);
    if (!sync_file(w))
        return false;
    char *next = xasprintf(QUEUE_SEGMENT_FMT, w->seg_no + 1);
    if (!segment_is_new(w, next)) {
        free(next);
        return false;
    }
    bool ok = qm_segment_close(w->m, w->role, w->seg_no, w->bnd_size, next);
    free(next);
    if (!ok) {
        catalog_failed(w);
        return false;
    }
    w->committed_size = w->bnd_size;
    log_info("queue: segment %lld closed at %lld bytes", w->seg_no, w->bnd_size);
    w->seg_first_vsn = 0;
    w->seg_events = w->bnd_seg_events = 0;
    cdc_crash_point("rotate");
    return open_segment(w, w->seg_no + 1, 0);
}

bool qw_make_durable(queue_writer *w)
{
    if (w->stream_done)
        return true;
    if (qw_has_pending(w) && (!sync_file(w) || !record_durable(w, false)))
        return false;
    if (w->bnd_size >= w->max_bytes && w->file_size == w->bnd_size && w->seg_events > 0)
        return close_segment(w);
    return true;
}

bool qw_finish_stream(queue_writer *w, const char *marker_line, size_t len)
{
    if (w->stream_done)
        return true;
    if (!qw_add_event(w, marker_line, len, "", "", 0))
        return false;
    qw_end_tx(w, w->bnd_lsn);
    /*
     * The marker, the end-of-segment line and the stream's end in one durable
     * step. Recorded apart, a crash between them left a durable marker in a
     * segment still open: the restart streamed on after it (changes committed
     * since the first drain, then a second marker), and the target importer,
     * which stops at the first marker, never applied them.
     */
    append_eof_line(w);
    if (!sync_file(w))
        return false;
    cdc_crash_point("end-fsync");
    if (!record_durable(w, true))
        return false;
    w->stream_done = true;
    log_info("queue: segment %lld closed at %lld bytes (end of stream)", w->seg_no, w->bnd_size);
    cdc_crash_point("end");
    return true;
}
