#include "cli/snapshot_flags.h"

#include "core/fsutil.h"
#include "core/log.h"
#include "core/text_table.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_parallel_jobs(const cmd_ctx *ctx, int cap, const char *why)
{
    int64_t n = opts_get_int(ctx->opts, "parallel-jobs");
    bool given = n > 0;
    if (!given) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus < 2 ? 2 : cpus;
    }
    if (n <= cap)
        return (int)n;
    if (given)
        log_warn("--parallel-jobs %lld lowered to %d: %s", (long long)n, cap, why);
    else
        log_info("one job per CPU (%lld) lowered to %d: %s", (long long)n, cap, why);
    return cap;
}

int snapshot_parallel_jobs(const cmd_ctx *ctx)
{
    return cli_parallel_jobs(ctx, 256, "the most connections one command opens");
}

bool snapshot_use_bars(const cmd_ctx *ctx)
{
    return isatty(STDOUT_FILENO) && !opts_get_bool(ctx->opts, "disable-pb");
}

bool snapshot_output_json(const cmd_ctx *ctx)
{
    return str_case_eq(opts_get(ctx->opts, "output-format"), "json");
}

void snapshot_print_grid(const char *const *headers, size_t ncols, char *const *cells, size_t nrows)
{
    static const text_table_style grid = {"  ", "  ", false, (size_t)-1};
    char *t = text_table_render(&grid, headers, ncols, (const char *const *)cells, nrows);
    fputs(t, stdout);
    free(t);
}

void snapshot_save_status_report(const cmd_ctx *ctx, const char *file, const cJSON *rows)
{
    char *txt = cJSON_Print(rows);
    char *rel = xasprintf("reports/%s", file);
    char *path = cmd_path(ctx, rel);
    if (fs_write_atomic(path, txt, strlen(txt)))
        fprintf(stderr, "report written to %s\n", path);
    else
        log_warn("could not write %s", path);
    free(path);
    free(rel);
    free(txt);
}

static bool one_side(const cmd_ctx *ctx, const char *list_flag, const char *file_flag,
                     table_patterns *out)
{
    if (!opts_has_flag(ctx->opts, list_flag))
        return true;
    const char *list = opts_get(ctx->opts, list_flag);
    const char *file = opts_get(ctx->opts, file_flag);
    if (list && file) {
        log_report(LOG_ERROR, NULL, "give one of them", "--%s and --%s cannot be used together", list_flag,
                   file_flag);
        return false;
    }
    char *err = NULL;
    bool ok = file ? table_patterns_parse_file(file, out, &err) : table_patterns_parse(list, out, &err);
    if (!ok) {
        log_error("--%s: %s", file ? file_flag : list_flag, err);
        free(err);
    }
    return ok;
}

bool table_filter_from_opts(const cmd_ctx *ctx, table_patterns *include, table_patterns *exclude)
{
    return one_side(ctx, "table-list", "table-list-file-path", include) &&
           one_side(ctx, "exclude-table-list", "exclude-table-list-file-path", exclude);
}

void status_output_print(const cmd_ctx *ctx, const status_output *out)
{
    if (snapshot_output_json(ctx)) {
        char *txt = cJSON_Print(out->rows);
        puts(txt);
        free(txt);
        snapshot_save_status_report(ctx, out->file, out->report);
    } else if (out->nrows == 0) {
        printf("%s\n", out->empty);
    } else {
        snapshot_print_grid(out->hdr, out->ncols, out->cells, out->nrows);
    }
    for (size_t i = 0; i < out->nnotes; i++)
        fprintf(snapshot_output_json(ctx) ? stderr : stdout, "note: %s\n", out->notes[i]);
}
