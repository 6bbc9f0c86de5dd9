/*
 * What the change apply counted per table on a database it wrote to
 * (ybvoyager_metadata.ybvoyager_imported_event_count_by_table), read for get
 * data-migration-report on a connection of the report's own. The apply itself
 * writes the bookkeeping through the writer (source/writer.h).
 */
#ifndef VOYAGER_CDC_IMPORT_METAINFO_H
#define VOYAGER_CDC_IMPORT_METAINFO_H

#include "db/pgconn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per-table event counts for get data-migration-report. */
typedef struct cdc_table_count {
    char *schema_name;
    char *table_name;
    int64_t inserts, updates, deletes;
} cdc_table_count;

/*
 * The events applied on this database for migration_uuid, summed over
 * channels, one entry per table, ordered by schema and table. Returns true
 * with *count 0 when nothing was applied (or the tables do not exist yet).
 * The caller owns *out and frees it with cdc_import_counts_free().
 */
bool cdc_import_counts_by_table(pgconn *c, const char *migration_uuid, cdc_table_count **out,
                                size_t *count);
void cdc_import_counts_free(cdc_table_count *counts, size_t count);

#endif
