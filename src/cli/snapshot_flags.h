/* Flags shared by the data commands (export data, import data and their status). */
#ifndef VOYAGER_CLI_SNAPSHOT_FLAGS_H
#define VOYAGER_CLI_SNAPSHOT_FLAGS_H

#include "cli/cmd_ctx.h"
#include "snapshot/table_list.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * --parallel-jobs, at most cap; 0 (the default) means one per CPU, at least 2.
 * A value given above cap is lowered with a warning on stderr naming the value
 * used and why (`why`: "a MySQL snapshot serves at most 16 export workers");
 * one per CPU above cap only gets an info line.
 */
int cli_parallel_jobs(const cmd_ctx *ctx, int cap, const char *why);
/* The most connections a data command opens: cli_parallel_jobs(ctx, 256, ...). */
int snapshot_parallel_jobs(const cmd_ctx *ctx);
/* The most export or compare workers a MySQL snapshot serves (source/source_mysql.c MYSQL_POOL_MAX). */
#define MYSQL_MAX_PARALLEL_JOBS 16
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

/*
 * The answer of a status command (export data status, import data status):
 * with --output-format json, rows printed and report saved as reports/<file>;
 * else the grid of cells (hdr: ncols headers), or `empty` when there is no row;
 * then each of notes as a "note: " line.
 */
typedef struct status_output {
    const struct cJSON *rows;   /* what is printed */
    const struct cJSON *report; /* upstream's report file: schema-qualified names */
    const char *file;
    const char *const *hdr;
    size_t ncols;
    char *const *cells;
    size_t nrows;
    const char *empty;
    char *const *notes;         /* lines after the grid (on stderr with json: stdout stays JSON) */
    size_t nnotes;
} status_output;
void status_output_print(const cmd_ctx *ctx, const status_output *out);

/* Print a grid with a header line: cells[r * ncols + c]. */
void snapshot_print_grid(const char *const *headers, size_t ncols, char *const *cells, size_t nrows);
/*
 * Read the four filter flags of the command into include/exclude. Logs a
 * one-line error and returns false on a bad list, an unreadable file, or a
 * list given both inline and as a file.
 */
bool table_filter_from_opts(const cmd_ctx *ctx, table_patterns *include, table_patterns *exclude);

#endif
