/*
 * Per-table progress of the snapshot commands. On a terminal (and without
 * --disable-pb): one bar per active table, redrawn in place (rows, percentage
 * of the estimate, rate). Otherwise: a plain line per active table every
 * PROGRESS_PLAIN_INTERVAL_MS. Either way a line when a table finishes.
 */
#ifndef VOYAGER_SNAPSHOT_PROGRESS_H
#define VOYAGER_SNAPSHOT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROGRESS_PLAIN_INTERVAL_MS 10000

typedef struct progress_item {
    const char *name;  /* display name, owned by the caller */
    int64_t done;      /* rows so far */
    int64_t total;     /* estimate, 0 when unknown */
    bool active;
    bool finished;
    int64_t earlier;   /* of done: rows an earlier run did (said apart when finished) */
} progress_item;

typedef struct progress progress;

/* verb: "exported" / "imported". items keep their index between calls. */
progress *progress_new(bool bars, const char *verb, size_t nitems);
/* Call often (every ~500 ms); it decides what to print. */
void progress_show(progress *p, const progress_item *items, size_t n);
/* Clear the bars (before printing something else, and at the end). */
void progress_clear(progress *p);
void progress_free(progress *p);

#endif
