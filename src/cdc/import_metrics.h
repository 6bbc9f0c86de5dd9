/*
 * Live metrics of a change importer (SPEC.md "Live metrics"): refreshed in
 * place on a terminal, or as a log line every interval otherwise
 * (--disable-pb, or stdout not a terminal).
 */
#ifndef VOYAGER_CDC_IMPORT_METRICS_H
#define VOYAGER_CDC_IMPORT_METRICS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct import_metrics import_metrics;

/* imported_before: events applied on this database by earlier runs. Caller frees. */
import_metrics *import_metrics_new(bool in_place, int64_t imported_before);
void import_metrics_free(import_metrics *m);

/*
 * Record progress: applied_this_run, and exported (events written to the queue
 * for this importer so far, -1 when unknown). Draws when due, or when force.
 */
void import_metrics_update(import_metrics *m, int64_t applied_this_run, int64_t exported,
                           bool force);

/*
 * Call before printing anything else on a terminal: the next refresh draws
 * below it instead of over it.
 */
void import_metrics_release_screen(import_metrics *m);

/* The metrics as "label: value" lines (caller frees), for logs and tests. */
char *import_metrics_render(import_metrics *m);

/*
 * "label: value" lines as the documented terminal grid (caller frees):
 * | Metric | Value | with dashed rules, labels left, values right.
 */
char *import_metrics_grid(const char *lines);
/* The same grid with the label column label_width wide (export data's is 39). */
char *metrics_grid(const char *lines, int label_width);

#endif
