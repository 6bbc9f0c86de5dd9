#include "cdc/export_metrics.h"

#include "cdc/import_metrics.h"
#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_EVERY_MS 5000
#define TTY_REFRESH_MS 1000
#define LOG_EVERY_MS 30000

void export_metrics_init(export_metrics *m, bool tty, long long total_before_run)
{
    memset(m, 0, sizeof *m);
    m->tty = tty;
    m->total_before_run = total_before_run;
    m->started_ms = now_monotonic_ms();
    m->last_show_ms = m->started_ms;
    m->sample_ms[0] = m->started_ms;
    m->sample_n[0] = 0;
    m->nsamples = 1;
}

double export_metrics_rate(const export_metrics *m, int64_t now_ms, int64_t window_ms)
{
    /* The oldest sample inside the window (or the oldest we have). */
    int64_t t0 = now_ms;
    long long n0 = m->run_events;
    for (int i = 0; i < m->nsamples; i++) {
        int k = (m->head - i + EXPORT_METRICS_SAMPLES) % EXPORT_METRICS_SAMPLES;
        if (now_ms - m->sample_ms[k] > window_ms)
            break;
        t0 = m->sample_ms[k];
        n0 = m->sample_n[k];
    }
    int64_t dt = now_ms - t0;
    return dt > 0 ? (double)(m->run_events - n0) * 1000.0 / (double)dt : 0.0;
}

static void show(export_metrics *m, int64_t now)
{
    long long total = m->total_before_run + m->run_events;
    double r3 = export_metrics_rate(m, now, 3 * 60 * 1000), r10 = export_metrics_rate(m, now, 10 * 60 * 1000);
    if (!m->tty) {
        log_say("exported events: total %lld, this run %lld, rate %.0f/s (last 3 min), "
                "%.0f/s (last 10 min)",
                total, m->run_events, r3, r10);
        return;
    }
    char *plain = xasprintf("Total Exported Events: %lld\n"
                            "Total Exported Events (Current Run): %lld\n"
                            "Export Rate(Last 3 min): %.0f/sec\n"
                            "Export Rate(Last 10 min): %.0f/sec\n",
                            total, m->run_events, r3, r10);
    char *grid = metrics_grid(plain, 39); /* the documented layout */
    if (m->lines_drawn)
        printf("\033[%dA", m->lines_drawn);
    int lines = 0;
    for (char *line = grid, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        printf("\033[K%.*s\n", (int)(nl - line), line);
        lines++;
    }
    fflush(stdout);
    free(grid);
    free(plain);
    m->lines_drawn = lines;
}

void export_metrics_update(export_metrics *m, long long run_events, bool force)
{
    int64_t now = now_monotonic_ms();
    m->run_events = run_events;
    if (now - m->sample_ms[m->head] >= SAMPLE_EVERY_MS) {
        m->head = (m->head + 1) % EXPORT_METRICS_SAMPLES;
        m->sample_ms[m->head] = now;
        m->sample_n[m->head] = run_events;
        if (m->nsamples < EXPORT_METRICS_SAMPLES)
            m->nsamples++;
    }
    if (force || now - m->last_show_ms >= (m->tty ? TTY_REFRESH_MS : LOG_EVERY_MS)) {
        m->last_show_ms = now;
        show(m, now);
    }
}
