/*
 * get data-migration-report: per table and database involved (source, target,
 * source-replica), the snapshot rows exported and imported, the change events
 * exported from and imported into it, and its current row count.
 */
#ifndef VOYAGER_MIGRATION_REPORT_H
#define VOYAGER_MIGRATION_REPORT_H

#include "cli/cmd_ctx.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

#define REPORT_NA (-1LL) /* a count that does not apply to this database */

typedef struct report_row {
    char *schema;
    char *table;
    const char *db_type; /* "source", "target", "source-replica" */
    long long snapshot_rows;          /* exported in the snapshot */
    long long imported_snapshot_rows; /* REPORT_NA on the source */
    long long exported_inserts, exported_updates, exported_deletes;
    long long imported_inserts, imported_updates, imported_deletes;
    long long final_row_count;
} report_row;

typedef struct report {
    report_row *rows;
    size_t n, cap;
} report;

/* Append a zeroed row (counts REPORT_NA) for schema.table on db_type; report owns the copies. */
report_row *report_add(report *r, const char *schema, const char *table, const char *db_type);
/* The row of schema.table on db_type, or NULL. */
report_row *report_find(report *r, const char *schema, const char *table, const char *db_type);
void report_free(report *r);

/* Plain-text table (caller frees) and JSON array (caller owns) of the report. */
char *report_render_table(const report *r);
cJSON *report_render_json(const report *r);

/*
 * Gather the report into r (caller frees with report_free). quiet: never ask
 * on a terminal (end migration). Returns an exit code, errors logged.
 */
int migration_data_report_build(cmd_ctx *ctx, report *r, bool quiet);
/*
 * Save r as reports/data-migration-report.json (upstream's name) and, when
 * table_text is given, reports/data-migration-report.txt. False after a warning.
 */
bool migration_data_report_save(cmd_ctx *ctx, const report *r, const char *table_text);

/* The whole command. */
int migration_data_report(cmd_ctx *ctx);

#endif
