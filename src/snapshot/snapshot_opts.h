/* Options shared by the snapshot commands. */
#ifndef VOYAGER_SNAPSHOT_SNAPSHOT_OPTS_H
#define VOYAGER_SNAPSHOT_SNAPSHOT_OPTS_H

#include "cli/cmd_ctx.h"

#include <stdbool.h>

/* --parallel-jobs; 0 (the default) means one per CPU, at least 2. */
int snapshot_parallel_jobs(const cmd_ctx *ctx);
/* Progress bars: stdout is a terminal and --disable-pb is not set. */
bool snapshot_use_bars(const cmd_ctx *ctx);
/* "table" or "json" from --output-format. */
bool snapshot_output_json(const cmd_ctx *ctx);
/*
 * --output-format json of the status commands: also save rows (a cJSON array,
 * still the caller's) as reports/<file>, as upstream does, and say where.
 */
struct cJSON;
void snapshot_save_status_report(const cmd_ctx *ctx, const char *file, const struct cJSON *rows);



#include <stddef.h>
/* Print a grid with a header line: cells[r * ncols + c]. */
void snapshot_print_grid(const char *const *headers, size_t ncols, char *const *cells, size_t nrows);
#endif
