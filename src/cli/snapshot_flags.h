/* Flags shared by the data commands (export data, import data and their status). */
#ifndef VOYAGER_CLI_SNAPSHOT_FLAGS_H
#define VOYAGER_CLI_SNAPSHOT_FLAGS_H

#include "cli/cmd_ctx.h"
#include "snapshot/table_list.h"

#include <stdbool.h>
#include <stddef.h>

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

/* Print a grid with a header line: cells[r * ncols + c]. */
void snapshot_print_grid(const char *const *headers, size_t ncols, char *const *cells, size_t nrows);
/*
 * Read the four filter flags of the command into include/exclude. Logs a
 * one-line error and returns false on a bad list, an unreadable file, or a
 * list given both inline and as a file.
 */
bool table_filter_from_opts(const cmd_ctx *ctx, table_patterns *include, table_patterns *exclude);

#endif
