/*
 * get data-migration-report: per table and database involved (source, target,
 * source-replica), the snapshot rows exported and imported, the change events
 * exported from and imported into it, and its current row count.
 */
#ifndef VOYAGER_MIGRATION_REPORT_H
#define VOYAGER_MIGRATION_REPORT_H

#include "core/engine.h"
#include "db/dbconf.h"

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

typedef struct report_spec {
    /*
     * The databases the migration recorded (status record SourceDBConf, ...),
     * indexed by db_role; NULL for a role it has not used. A password typed
     * at a prompt is kept in the conf for later connections.
     */
    db_conf *conf[3];
    /*
     * A database whose password is not given may be asked for one on the
     * terminal (the command knows whether there is one, and whether asking
     * fits: end migration never asks).
     */
    bool may_prompt;
    bool json; /* print JSON rather than the table */
} report_spec;

/* Gather the report into r (caller frees with report_free). Errors logged. */
engine_status migration_data_report_build(const engine_ctx *eng, const report_spec *spec, report *r);
/*
 * Save r as reports/data-migration-report.json (upstream's name) and, when
 * table_text is given, reports/data-migration-report.txt. False after a warning.
 */
bool migration_data_report_save(const engine_ctx *eng, const report *r, const char *table_text);

/* get data-migration-report: gather, print, save. */
engine_status migration_data_report(const engine_ctx *eng, const report_spec *spec);

#endif
