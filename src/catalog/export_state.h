/*
 * What `export data` (and its status command) read back from the snapshot
 * export rows of meta.db (snapshot_export_table, catalog/snapshot_state.h
 * writes them): whether an earlier run started, which tables it had, how many
 * rows each holds. Every accessor finishes its statement before it returns.
 */
#ifndef VOYAGER_CATALOG_EXPORT_STATE_H
#define VOYAGER_CATALOG_EXPORT_STATE_H

#include "catalog/catalog.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct export_table_row {
    char *schema;
    char *table;
    char *status;  /* SNAP_* (catalog/snapshot_state.h) */
    int64_t exported_rows;
} export_table_row;

typedef struct export_table_rows {
    export_table_row *items;
    size_t count;
} export_table_rows;

/* Did an earlier run export anything (status past NOT_STARTED)? False also when the read failed. */
bool export_state_started(catalog *m);

/*
 * Every row of snapshot_export_table, loaded into out (the caller frees with
 * export_table_rows_free); sorted by schema and table when sorted, else in
 * the order the tables were first recorded. False after a logged error.
 */
bool export_state_tables(catalog *m, bool sorted, export_table_rows *out);
void export_table_rows_free(export_table_rows *rows);

/* Rows exported so far for one table; 0 when the table has no row. */
int64_t export_state_table_rows(catalog *m, const char *schema, const char *table);

#endif
