#include "cdc/queue_reader.h"

#include "catalog/import_state.h"
#include "cdc/queue_format.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read size; a longer line grows the buffer (to the line's length), for that line only. */
#define QR_BUF_SIZE ((size_t)1 << 20)
/* The skip's bisection stops this close to its answer (the rest is read and skipped). */
#define SEEK_NEAR ((int64_t)64 << 10)
/* It looks this far for the next line start; a longer line ends the search there. */
#define SEEK_SCAN ((int64_t)1 << 20)

struct queue_reader {
    catalog *meta;
    char *export_dir;
    char *importer_role;
    strlist roles;
    int64_t seg;        /* current segment number */
    bool open;          /* fd is seg's file */
    int fd;
    int64_t committed;  /* committed size of seg as last read */
    bool closed;        /* seg is closed (no growth after committed) */
    int64_t file_pos;   /* bytes of seg read into buf so far */
    char *buf;          /* bytes [buf_start, buf_len) not yet returned */
    size_t buf_len, buf_start, buf_cap;
    size_t scanned;     /* [buf_start, scanned) holds no newline */
    size_t line_off;    /* where in buf the line returned last starts */
    int64_t skip_vsn;   /* events up to this vsn are committed: read past them (0: none) */
    int64_t skipped_vsn; /* the last skip passed over events up to this vsn (0: none yet) */
};

queue_reader *queue_reader_open(catalog *m, const char *export_dir, const char *importer_role,
                                const char *const *roles)
{
    queue_reader *r = xcalloc(1, sizeof *r);
    r->meta = m;
    r->export_dir = xstrdup(export_dir);
    r->importer_role = xstrdup(importer_role);
    for (const char *const *p = roles; *p; p++)
        strlist_push(&r->roles, *p);
    r->fd = -1;
    r->buf_cap = QR_BUF_SIZE;
    r->buf = xmalloc(r->buf_cap);
    return r;
}

void queue_reader_close(queue_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->export_dir);
    free(r->importer_role);
    strlist_free(&r->roles);
    free(r->buf);
    free(r);
}

static char *segment_path(queue_reader *r, const char *p)
{
    return p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", r->export_dir, p);
}

/* The vsn of the event line starting at off (its first member, as cdc/event_json.c writes it), or -1. */
static int64_t fd_vsn_at(int fd, int64_t off)
{
    static const char prefix[] = "{\"vsn\":";
    char b[48];
    ssize_t n = pread(fd, b, sizeof b - 1, off);
    if (n < (ssize_t)sizeof prefix)
        return -1;
    b[n] = '\0';
    if (memcmp(b, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *digits = b + sizeof prefix - 1;
    char *end;
    errno = 0;
    long long v = strtoll(digits, &end, 10);
    if (end == digits || *end != ',' || errno != 0 || v < 0)
        return -1;
    return v;
}

static int64_t line_vsn_at(const queue_reader *r, int64_t off) { return fd_vsn_at(r->fd, off); }

/*
 * A segment archive changes moved or deleted is read from a file someone
 * else may have put there: the archive directory, or one restored by hand.
 * It must be the file the writer recorded: its first event the segment's
 * first vsn, and, closed (every archived segment is), exactly its committed
 * size. Any other file is another queue's (another migration's, or an earlier
 * queue of this one): reading it would apply events that never happened
 * here. Segment numbers and the first vsn of a queue's first segment repeat
 * in every queue, so the size is what tells most of those apart. False after
 * logging; a check meta.db has nothing recorded for is skipped.
 */
static bool gone_segment_is_ours(int64_t no, const import_segment *s, int fd, const char *path)
{
    if (!s->gone)
        return true;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        log_error("queue segment %lld (%s): %s", (long long)no, path, strerror(errno));
        return false;
    }
    int64_t v = s->first_vsn > 0 ? fd_vsn_at(fd, 0) : 0;
    bool size_ok = !s->closed || s->committed <= 0 || (int64_t)st.st_size == s->committed;
    if (v == s->first_vsn && size_ok)
        return true;
    char *detail = xasprintf("meta.db records the segment's first event as vsn %lld and its size "
                             "as %lld bytes: the file holds another queue's events (another "
                             "migration's, or an earlier queue of this migration)",
                             (long long)s->first_vsn, (long long)s->committed);
    char *hint = xasprintf("put this migration's segment %lld at %s", (long long)no, path);
    if (v < 0)
        log_report(LOG_ERROR, detail, hint,
                   "queue segment %lld (%s) is not this queue's segment: it does not start with "
                   "an event",
                   (long long)no, path);
    else if (v != s->first_vsn)
        log_report(LOG_ERROR, detail, hint,
                   "queue segment %lld (%s) is not this queue's segment: its first event has vsn "
                   "%lld",
                   (long long)no, path, (long long)v);
    else
        log_report(LOG_ERROR, detail, hint,
                   "queue segment %lld (%s) is not this queue's segment: it has %lld bytes",
                   (long long)no, path, (long long)st.st_size);
    free(detail);
    free(hint);
    return false;
}

/* The start of the first line after the newline at or after off, below limit; -1 if none within SEEK_SCAN. */
static int64_t next_line_start(const queue_reader *r, int64_t off, int64_t limit)
{
    char b[4096];
    for (int64_t pos = off; pos < limit && pos - off < SEEK_SCAN;) {
        size_t want = sizeof b;
        if ((int64_t)want > limit - pos)
            want = (size_t)(limit - pos);
        ssize_t n = pread(r->fd, b, want, pos);
        if (n <= 0)
            return -1;
        const char *nl = memchr(b, '\n', (size_t)n);
        if (nl) {
            int64_t start = pos + (nl - b) + 1;
            return start < limit ? start : -1;
        }
        pos += n;
    }
    return -1;
}

/*
 * Where to start reading the segment just opened when every event up to
 * r->skip_vsn is committed: a line start whose event has a vsn <= skip_vsn,
 * found by bisection of the committed bytes, or 0. Vsns only grow along the
 * queue, so every line before it holds an event with a smaller vsn, all
 * committed; the line itself is read again (its vsn - 1 goes to *before).
 * Lines that are no event (the end-of-segment marker) or too long to find the
 * next start within SEEK_SCAN only end the search sooner, never later.
 */
static int64_t skip_start(const queue_reader *r, int64_t *before)
{
    int64_t lo = 0, hi = r->committed, lo_vsn = 0;
    while (hi - lo > SEEK_NEAR) {
        int64_t mid = lo + (hi - lo) / 2;
        int64_t start = next_line_start(r, mid, hi);
        if (start < 0) {
            hi = mid;
            continue;
        }
        int64_t v = line_vsn_at(r, start);
        if (v > 0 && v <= r->skip_vsn) {
            lo = start;
            lo_vsn = v;
        } else {
            hi = start;
        }
    }
    *before = lo > 0 ? lo_vsn - 1 : 0;
    return lo;
}

/* Enter segment r->seg or skip it. Returns QR_LINE when the file is open, QR_WAIT/QR_ERROR else. */
static qr_status enter_segment(queue_reader *r)
{
    for (;;) {
        import_segment s;
        if (!import_state_segment_load(r->meta, r->importer_role, r->seg, &s))
            return QR_ERROR;
        if (!s.exists)
            return QR_WAIT;
        if (!strlist_contains(&r->roles, s.exporter_role) || s.imported) {
            log_debug("queue: segment %lld skipped (%s)", (long long)r->seg,
                      s.imported ? "already imported" : s.exporter_role);
            import_segment_free(&s);
            r->seg++;
            continue;
        }
        char *path = segment_path(r, s.path);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && s.archive_location && s.archive_location[0]) {
            free(path);
            path = segment_path(r, s.archive_location);
            fd = open(path, O_RDONLY | O_CLOEXEC);
        }
        if (fd < 0 && errno == ENOENT && !s.closed && !s.gone && s.committed == 0) {
            /*
             * Registered, nothing committed in it yet, and no file: a writer
             * killed between the two creates it when it starts again.
             */
            log_debug("queue: segment %lld has no file yet: waiting", (long long)r->seg);
            free(path);
            import_segment_free(&s);
            return QR_WAIT;
        }
        if (fd < 0) {
            log_report(LOG_ERROR,
                       s.gone ? "it was archived or deleted before this importer applied it" : NULL,
                       s.gone ? "restore it to the queue directory" : NULL,
                       "queue segment %lld (%s) cannot be opened: %s", (long long)r->seg, path,
                       strerror(errno));
            free(path);
            import_segment_free(&s);
            return QR_ERROR;
        }
        if (!gone_segment_is_ours(r->seg, &s, fd, path)) {
            close(fd);
            free(path);
            import_segment_free(&s);
            return QR_ERROR;
        }
        log_info("queue: reading segment %lld (%s)", (long long)r->seg, path);
        free(path);
        r->fd = fd;
        r->open = true;
        r->committed = s.committed;
        r->closed = s.closed;
        r->file_pos = 0;
        r->buf_len = r->buf_start = r->scanned = 0;
        if (r->skip_vsn > 0) {
            int64_t before = 0;
            r->file_pos = skip_start(r, &before);
            if (r->file_pos > 0) {
                log_info("queue: segment %lld read from byte %lld on: the events before it (up "
                         "to vsn %lld) are committed",
                         (long long)r->seg, (long long)r->file_pos, (long long)before);
                r->skipped_vsn = before;
            }
        }
        import_segment_free(&s);
        return QR_LINE;
    }
}

void queue_reader_trim(queue_reader *r)
{
    /* a long line grew it: its memory goes back once the line is consumed, but for what follows */
    size_t rest = r->buf_len - r->buf_start, cap = QR_BUF_SIZE;
    while (cap < rest)
        cap *= 2;
    if (r->buf_cap <= cap)
        return;
    memmove(r->buf, r->buf + r->buf_start, rest);
    r->buf_len = rest;
    r->scanned = r->scanned > r->buf_start ? r->scanned - r->buf_start : 0;
    r->buf_start = 0;
    r->buf_cap = cap;
    r->buf = xrealloc(r->buf, r->buf_cap);
}

char *queue_reader_take_line(queue_reader *r, void **block, size_t *block_size)
{
    /* what follows the line is less than one read (fill()): a fresh buffer holds it */
    char *old = r->buf;
    size_t rest = r->buf_len - r->buf_start, cap = QR_BUF_SIZE;
    while (cap < rest)
        cap *= 2;
    r->buf = xmalloc(cap);
    memcpy(r->buf, old + r->buf_start, rest);
    *block = old;
    *block_size = r->buf_cap;
    r->buf_cap = cap;
    r->buf_len = rest;
    r->scanned = r->scanned > r->buf_start ? r->scanned - r->buf_start : 0;
    r->buf_start = 0;
    return old + r->line_off;
}

/* Read more committed bytes into buf. Returns bytes added (0: none now), -1 on error. */
static ssize_t fill(queue_reader *r)
{
    if (r->file_pos >= r->committed) {
        import_segment s;
        if (!import_state_segment_load(r->meta, r->importer_role, r->seg, &s))
            return -1;
        if (s.exists) {
            if (s.committed < r->committed)
                log_warn("queue: committed size of segment %lld went down (%lld -> %lld)",
                         (long long)r->seg, (long long)r->committed, (long long)s.committed);
            r->committed = s.committed;
            r->closed = s.closed;
        }
        import_segment_free(&s);
        if (r->file_pos >= r->committed)
            return 0;
    }
    if (r->buf_start > 0) {
        memmove(r->buf, r->buf + r->buf_start, r->buf_len - r->buf_start);
        r->buf_len -= r->buf_start;
        r->scanned = r->scanned > r->buf_start ? r->scanned - r->buf_start : 0;
        r->buf_start = 0;
    }
    queue_reader_trim(r);
    if (r->buf_len == r->buf_cap) {
        r->buf_cap *= 2;
        r->buf = xrealloc(r->buf, r->buf_cap);
    }
    /*
     * At most QR_BUF_SIZE a read: what follows a long line in the buffer is
     * then short, and the buffer can shrink back as soon as the line is done.
     */
    size_t want = r->buf_cap - r->buf_len;
    if (want > QR_BUF_SIZE)
        want = QR_BUF_SIZE;
    if ((int64_t)want > r->committed - r->file_pos)
        want = (size_t)(r->committed - r->file_pos);
    ssize_t n = pread(r->fd, r->buf + r->buf_len, want, r->file_pos);
    if (n < 0) {
        log_error("queue segment %lld: read failed: %s", (long long)r->seg, strerror(errno));
        return -1;
    }
    if (n == 0) {
        log_error("queue segment %lld is shorter (%lld bytes) than its committed size %lld",
                  (long long)r->seg, (long long)r->file_pos, (long long)r->committed);
        return -1;
    }
    r->buf_len += (size_t)n;
    r->file_pos += n;
    return n;
}

qr_status queue_reader_next(queue_reader *r, const char **line, size_t *len, int64_t *segment_no)
{
    for (;;) {
        if (!r->open) {
            qr_status st = enter_segment(r);
            if (st != QR_LINE)
                return st;
        }
        *segment_no = r->seg;
        char *start = r->buf + r->buf_start;
        if (r->scanned < r->buf_start)
            r->scanned = r->buf_start;
        /* a long line takes many reads: each looks at the new bytes only */
        char *nl = memchr(r->buf + r->scanned, '\n', r->buf_len - r->scanned);
        r->scanned = nl ? (size_t)(nl - r->buf) : r->buf_len;
        if (!nl) {
            ssize_t n = fill(r);
            if (n < 0)
                return QR_ERROR;
            if (n == 0) {
                if (r->closed && r->buf_len == r->buf_start) {
                    log_error("queue segment %lld is closed but has no end-of-segment marker",
                              (long long)r->seg);
                    return QR_ERROR;
                }
                return QR_WAIT;
            }
            continue;
        }
        size_t l = (size_t)(nl - start);
        r->buf_start += l + 1;
        if (l == strlen(QUEUE_EOF_MARKER) && memcmp(start, QUEUE_EOF_MARKER, l) == 0) {
            close(r->fd);
            r->fd = -1;
            r->open = false;
            r->seg++;
            return QR_SEGMENT_END;
        }
        if (l == 0)
            continue;
        *nl = '\0';
        r->line_off = (size_t)(start - r->buf);
        *line = start;
        *len = l;
        return QR_LINE;
    }
}

void queue_reader_skip_committed(queue_reader *r, int64_t vsn) { r->skip_vsn = vsn; }

int64_t queue_reader_take_skipped(queue_reader *r)
{
    int64_t v = r->skipped_vsn;
    r->skipped_vsn = 0;
    return v;
}

bool queue_reader_mark_imported(queue_reader *r, int64_t segment_no)
{
    return import_state_segment_mark_imported(r->meta, r->importer_role, segment_no);
}
