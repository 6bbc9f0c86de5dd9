/*
 * Live metrics of a change exporter (SPEC.md "Live metrics"): a table
 * refreshed in place on a terminal, a periodic log line otherwise
 * (--disable-pb or no TTY).
 */
#ifndef VOYAGER_CDC_EXPORT_METRICS_H
#define VOYAGER_CDC_EXPORT_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#define EXPORT_METRICS_SAMPLES 128

typedef struct export_metrics {
    bool tty;
    int lines_drawn;
    long long total_before_run; /* events exported by earlier runs */
    long long run_events;
    int64_t started_ms;
    int64_t last_show_ms;
    /* One sample every 5 s: (time, run_events), a ring of 10+ minutes. */
    int64_t sample_ms[EXPORT_METRICS_SAMPLES];
    long long sample_n[EXPORT_METRICS_SAMPLES];
    int nsamples, head;
} export_metrics;

void export_metrics_init(export_metrics *m, bool tty, long long total_before_run);
/* Events per second over the last window_ms (from the samples), given the current count. */
double export_metrics_rate(const export_metrics *m, int64_t now_ms, int64_t window_ms);
/* Record run_events and redraw/log when due (force: now). */
void export_metrics_update(export_metrics *m, long long run_events, bool force);

#endif
