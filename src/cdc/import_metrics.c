#include "cdc/import_metrics.h"

#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLES 128          /* one per 5 s: > 10 minutes */
#define SAMPLE_EVERY_MS 5000
#define DRAW_EVERY_MS 1000
#define LOG_EVERY_MS 30000

typedef struct sample {
    int64_t t_ms;
    int64_t applied;
} sample;

struct import_metrics {
    bool in_place;
    int64_t before;
    int64_t start_ms;
    sample ring[SAMPLES];
    size_t nsamples, next;
    int64_t last_draw_ms, last_log_ms;
    int lines_drawn;
    int64_t applied, exported;
};

import_metrics *import_metrics_new(bool in_place, int64_t imported_before)
{
    import_metrics *m = xcalloc(1, sizeof *m);
    m->in_place = in_place;
    m->before = imported_before;
    m->start_ms = now_monotonic_ms();
    m->exported = -1;
    m->ring[0] = (sample){m->start_ms, 0};
    m->nsamples = 1;
    m->next = 1;
    m->last_log_ms = m->start_ms;
    return m;
}

void import_metrics_free(import_metrics *m) { free(m); }

void import_metrics_release_screen(import_metrics *m)
{
    if (m)
        m->lines_drawn = 0;
}

/* Events per second over the last window_ms (or the whole run when shorter). */
static double rate(const import_metrics *m, int64_t now, int64_t window_ms)
{
    const sample *best = NULL;
    for (size_t i = 0; i < m->nsamples; i++) {
        const sample *s = &m->ring[i];
        if (now - s->t_ms <= window_ms && (!best || s->t_ms < best->t_ms))
            best = s;
    }
    if (!best || now - best->t_ms < 1000)
        return 0;
    return (double)(m->applied - best->applied) * 1000.0 / (double)(now - best->t_ms);
}

static void duration(char *buf, size_t n, int64_t secs)
{
    snprintf(buf, n, "%02lld:%02lld:%02lld", (long long)(secs / 3600),
             (long long)(secs / 60 % 60), (long long)(secs % 60));
}

char *import_metrics_render(import_metrics *m)
{
    int64_t now = now_monotonic_ms();
    double r3 = rate(m, now, 180000), r10 = rate(m, now, 600000);
    char taken[32], eta[32], remaining[32];
    duration(taken, sizeof taken, (now - m->start_ms) / 1000);
    int64_t total = m->before + m->applied;
    if (m->exported < 0) {
        snprintf(remaining, sizeof remaining, "unknown");
        snprintf(eta, sizeof eta, "unknown");
    } else {
        int64_t rem = m->exported > total ? m->exported - total : 0;
        snprintf(remaining, sizeof remaining, "%lld", (long long)rem);
        if (rem == 0)
            snprintf(eta, sizeof eta, "00:00:00");
        else if (r3 > 0)
            duration(eta, sizeof eta, (int64_t)((double)rem / r3));
        else
            snprintf(eta, sizeof eta, "calculating...");
    }
    return xasprintf("Total Imported events: %lld\n"
                     "Events Imported in this Run: %lld\n"
                     "Ingestion Rate (last 3 mins): %.0f events/sec\n"
                     "Ingestion Rate (last 10 mins): %.0f events/sec\n"
                     "Time taken in this Run: %s\n"
                     "Remaining Events: %s\n"
                     "Estimated Time to catch up: %s\n",
                     (long long)total, (long long)m->applied, r3, r10, taken, remaining, eta);
}

char *import_metrics_grid(const char *lines) { return metrics_grid(lines, 29); }

char *metrics_grid(const char *lines, int label_width)
{
    enum { MAXW = 60, VW = 29 }; /* the documented value width */
    int LW = label_width < 1 ? 1 : label_width > MAXW ? MAXW : label_width;
    char dashes[MAXW + 1];
    memset(dashes, '-', sizeof dashes - 1);
    dashes[sizeof dashes - 1] = '\0';
    strbuf sb = STRBUF_INIT;
    strbuf_appendf(&sb, "| %.*s  |  %.*s |\n", LW, dashes, VW, dashes);
    strbuf_appendf(&sb, "| %-*s  |  %*s |\n", LW, "Metric", VW, "Value");
    strbuf_appendf(&sb, "| %.*s  |  %.*s |\n", LW, dashes, VW, dashes);
    for (const char *line = lines, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        const char *colon = memchr(line, ':', (size_t)(nl - line));
        if (!colon)
            continue;
        const char *v = colon + 1;
        while (v < nl && *v == ' ')
            v++;
        strbuf_appendf(&sb, "| %-*.*s  |  %*.*s |\n", LW, (int)(colon - line), line, VW,
                       (int)(nl - v), v);
    }
    strbuf_appendf(&sb, "| %.*s  |  %.*s |\n", LW, dashes, VW, dashes);
    return strbuf_detach(&sb);
}

void import_metrics_update(import_metrics *m, int64_t applied_this_run, int64_t exported,
                           bool force)
{
    int64_t now = now_monotonic_ms();
    m->applied = applied_this_run;
    if (exported >= 0)
        m->exported = exported;
    const sample *last = &m->ring[(m->next + SAMPLES - 1) % SAMPLES];
    if (now - last->t_ms >= SAMPLE_EVERY_MS) {
        m->ring[m->next] = (sample){now, applied_this_run};
        m->next = (m->next + 1) % SAMPLES;
        if (m->nsamples < SAMPLES)
            m->nsamples++;
    }
    if (m->in_place) {
        if (!force && now - m->last_draw_ms < DRAW_EVERY_MS)
            return;
        m->last_draw_ms = now;
        char *plain = import_metrics_render(m);
        char *text = import_metrics_grid(plain);
        free(plain);
        if (m->lines_drawn)
            printf("\033[%dA", m->lines_drawn);
        int lines = 0;
        for (char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
            printf("\033[2K%.*s\n", (int)(nl - line), line);
            lines++;
        }
        m->lines_drawn = lines;
        fflush(stdout);
        free(text);
    }
    if (force || now - m->last_log_ms >= LOG_EVERY_MS) {
        m->last_log_ms = now;
        char *text = import_metrics_render(m);
        for (char *p = text; *p; p++)
            if (*p == '\n')
                *p = p[1] ? ';' : '\0';
        if (m->in_place)
            log_info("%s", text);
        else
            log_say("%s", text);
        free(text);
    }
}
