#include "snapshot/progress.h"

#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct item_state {
    int64_t started_ms; /* 0: not seen active yet */
    int64_t started_done; /* rows already counted when first seen */
    bool reported_done;
} item_state;

struct progress {
    bool bars;
    const char *verb;
    item_state *st;
    size_t n;
    int lines_drawn;
    int64_t last_plain_ms;
};

progress *progress_new(bool bars, const char *verb, size_t nitems)
{
    progress *p = xcalloc(1, sizeof *p);
    p->bars = bars;
    p->verb = verb;
    p->n = nitems;
    p->st = xcalloc(nitems + 1, sizeof *p->st);
    p->last_plain_ms = now_monotonic_ms();
    return p;
}

void progress_clear(progress *p)
{
    if (!p->bars || p->lines_drawn == 0)
        return;
    for (int i = 0; i < p->lines_drawn; i++)
        fputs("\033[1A\033[2K", stdout);
    p->lines_drawn = 0;
    fflush(stdout);
}

static double rate_of(const item_state *s, int64_t done, int64_t now)
{
    int64_t ms = now - s->started_ms;
    return ms > 0 ? (double)(done - s->started_done) * 1000.0 / (double)ms : 0.0;
}

void progress_show(progress *p, const progress_item *items, size_t n)
{
    int64_t now = now_monotonic_ms();
    if (n > p->n)
        n = p->n;
    progress_clear(p);
    for (size_t i = 0; i < n; i++) {
        item_state *s = &p->st[i];
        if ((items[i].active || items[i].finished) && s->started_ms == 0) {
            s->started_ms = now;
            s->started_done = items[i].done;
        }
        if (items[i].finished && !s->reported_done) {
            s->reported_done = true;
            if (items[i].earlier > 0 && items[i].earlier >= items[i].done)
                log_say("%s: %lld rows %s, all by an earlier run", items[i].name, (long long)items[i].done,
                        p->verb);
            else if (items[i].earlier > 0)
                log_say("%s: %lld rows %s, %lld of them by an earlier run", items[i].name,
                        (long long)items[i].done, p->verb, (long long)items[i].earlier);
            else
                log_say("%s: %lld rows %s", items[i].name, (long long)items[i].done, p->verb);
        }
    }
    bool plain_due = !p->bars && now - p->last_plain_ms >= PROGRESS_PLAIN_INTERVAL_MS;
    if (plain_due)
        p->last_plain_ms = now;
    for (size_t i = 0; i < n; i++) {
        const progress_item *it = &items[i];
        if (!it->active || it->finished)
            continue;
        double pct = it->total > 0 ? 100.0 * (double)it->done / (double)it->total : -1;
        if (pct > 99.0)
            pct = 99.0; /* an estimate: never claim done before the end */
        double rate = rate_of(&p->st[i], it->done, now);
        if (p->bars) {
            char bar[31];
            int fill = pct < 0 ? 0 : (int)(pct * 30 / 100);
            for (int k = 0; k < 30; k++)
                bar[k] = k < fill ? '#' : '.';
            bar[30] = '\0';
            if (pct < 0)
                printf("%-30.30s [%s]   ?%%  %lld rows  %.0f rows/s\n", it->name, bar,
                       (long long)it->done, rate);
            else
                printf("%-30.30s [%s] %3.0f%%  %lld rows  %.0f rows/s\n", it->name, bar, pct,
                       (long long)it->done, rate);
            p->lines_drawn++;
        } else if (plain_due) {
            if (pct < 0)
                log_say("%s: %lld rows so far (%.0f rows/s)", it->name, (long long)it->done, rate);
            else
                log_say("%s: %lld rows so far (~%.0f%%, %.0f rows/s)", it->name,
                        (long long)it->done, pct, rate);
        }
    }
    fflush(stdout);
}

void progress_free(progress *p)
{
    if (!p)
        return;
    progress_clear(p);
    free(p->st);
    free(p);
}
