/*
 * Snapshot state kept in meta.db, shared by export data, import data and the
 * status / report commands:
 *   snapshot_export_table(schema_name, table_name, status, exported_rows,
 *     estimated_rows, attempt): one row per exported table; status NOT_STARTED |
 *     EXPORTING | DONE. attempt counts the times export data began the table:
 *     a table left unfinished by a crash is exported again whole, from a new
 *     snapshot, under the next attempt. Written by export data only.
 *   snapshot_export_file(schema_name, table_name, part, file_path, row_count,
 *     file_size, columns): the completed data files of the current attempt of
 *     each table, recorded as each part file is renamed into place (file_path
 *     relative to the export dir, columns a JSON array). An importer may load
 *     the parts of a table still exporting. metainfo/dataFileDescriptor.json is
 *     generated from the rows of DONE tables.
 *   sequence_last_values (catalog/catalog_schema.c): sequence values read in the snapshot,
 *     phase "snapshot".
 *   snapshot_import_table(importer_role, schema_name, table_name, status,
 *     imported_rows, total_rows, export_attempt): per importer and table, for
 *     import data status and get data-migration-report (IMPORTED SNAPSHOT
 *     ROWS). export_attempt is the export attempt whose files the importer
 *     loads, recorded before the first batch of that attempt commits.
 *   snapshot_import_batch(importer_role, file_path, batch_number, schema_name,
 *     table_name, start_offset, end_offset, first_line, row_count): the batch
 *     plan of each data file,
 *     fixed on first sight so that a restart (even with another --batch-size)
 *     numbers batches the same way. Which batches committed is recorded on the
 *     database imported into, never here.
 */
#ifndef VOYAGER_CATALOG_SNAPSHOT_STATE_H
#define VOYAGER_CATALOG_SNAPSHOT_STATE_H

#include "catalog/catalog.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Status-record key: id of the current generation of data files, renewed by
 * export data --start-clean. Each importer keeps the id it imported from
 * (snapshot_import_generation) and refuses files of another generation unless
 * started clean. (A table exported again after a crash, or every table after
 * a new replication slot, keeps the id and gets a new attempt instead.)
 */
#define SNAPSHOT_EXPORT_ID_KEY "SnapshotExportId"

#define SNAP_NOT_STARTED "NOT_STARTED"
#define SNAP_EXPORTING "EXPORTING"
#define SNAP_IMPORTING "MIGRATING"
#define SNAP_DONE "DONE"

/* One import batch: a byte range of whole lines of a data file (snapshot/batcher.h cuts them). */
typedef struct batch_range {
    int64_t number;       /* 1, 2, ... within the file */
    int64_t start_offset;
    int64_t end_offset;   /* exclusive */
    int64_t first_line;   /* 1-based line number of the first row */
    int64_t rows;
} batch_range;

/* The batches of one data file, in order. Whoever filled it frees it with batch_plan_free(). */
typedef struct batch_plan {
    batch_range *items;
    size_t count;
} batch_plan;

void batch_plan_free(batch_plan *plan);

/* One completed data file of a table (snapshot_export_file). Strings owned by whoever filled it. */
typedef struct snapshot_file {
    char *schema;
    char *table;
    char *path;          /* relative to the export dir; NULL: no file (see snapshot_export_entry) */
    int part;
    int64_t rows;
    int64_t size;
    char *columns_json;  /* JSON array of column names */
} snapshot_file;

/* Export side. */
bool snapshot_export_table_ensure(catalog *m, const char *schema, const char *table,
                                  int64_t estimated_rows);
bool snapshot_export_table_set(catalog *m, const char *schema, const char *table,
                               const char *status, int64_t rows);
/* Status of a table, "" when unknown. Caller frees. */
char *snapshot_export_table_status(catalog *m, const char *schema, const char *table);
/*
 * Begin a new attempt at a table, in one transaction: forget its files, status
 * NOT_STARTED, attempt + 1. Called before its old files are removed.
 */
bool snapshot_export_table_restart(catalog *m, const char *schema, const char *table);
/* Forget the files of a table. */
bool snapshot_export_files_clear(catalog *m, const char *schema, const char *table);
bool snapshot_export_file_add(catalog *m, const char *schema, const char *table, int part,
                              const char *rel_path, int64_t rows, int64_t size,
                              const char *columns_json);
/* Drop all export state (--start-clean). */
bool snapshot_export_reset(catalog *m);

/* Read by importers and the status commands. */
/* How many exported tables are not DONE; -1 on error (logged). */
int64_t snapshot_export_tables_unfinished(catalog *m);
/* The attempt a table's export is at; -1 when it is not recorded or on error. */
int64_t snapshot_export_table_attempt(catalog *m, const char *schema, const char *table);
/*
 * The completed files of the DONE tables, by table and part (what
 * dataFileDescriptor.json lists). Caller frees with snapshot_files_free().
 */
bool snapshot_export_done_files(catalog *m, snapshot_file **out, size_t *n);
void snapshot_files_free(snapshot_file *files, size_t n);

/*
 * The export as an importer polls it, in one read: one entry per file of each
 * table's current attempt, by table and part; a table without files yet has
 * one entry with file.path NULL. file.schema and file.table are always set.
 * Caller frees with snapshot_export_entries_free().
 */
typedef struct snapshot_export_entry {
    char *status;        /* of the table: SNAP_* */
    int64_t attempt;     /* of the table */
    snapshot_file file;
} snapshot_export_entry;
bool snapshot_export_entries_load(catalog *m, snapshot_export_entry **out, size_t *n);
void snapshot_export_entries_free(snapshot_export_entry *e, size_t n);

/* Import side. */
bool snapshot_import_table_set(catalog *m, const char *role, const char *schema, const char *table,
                               const char *status, int64_t imported, int64_t total);
/* The export id this importer's batches come from (caller frees; NULL when none yet) and its update. */
char *snapshot_import_generation_get(catalog *m, const char *role);
bool snapshot_import_generation_set(catalog *m, const char *role, const char *export_id);
/* Forget one importer's progress, export attempt and batch plans of one table. */
bool snapshot_import_reset_table(catalog *m, const char *role, const char *schema, const char *table);
/* The export attempt whose batches this importer commits for a table: 0 when none yet, -1 on error. */
int64_t snapshot_import_attempt_get(catalog *m, const char *role, const char *schema, const char *table);
bool snapshot_import_attempt_set(catalog *m, const char *role, const char *schema, const char *table,
                                 int64_t attempt);
/* The batch plan fixed for a data file (empty when none yet). Caller frees with batch_plan_free(). */
bool snapshot_import_plan_load(catalog *m, const char *role, const char *rel_path, batch_plan *plan);
/* Fix the plan of a data file, in one transaction. */
bool snapshot_import_plan_store(catalog *m, const char *role, const char *schema, const char *table,
                                const char *rel_path, const batch_plan *plan);

/*
 * import data status: every exported table with this importer's progress
 * (NOT_STARTED and 0 before it began; total: the importer's count, the
 * exported rows of a DONE table, else the export's estimate), by table.
 * export_total: the current export's count alone (exported rows of a DONE
 * table, else the estimate), for an import of an earlier export (its
 * generation is not SNAPSHOT_EXPORT_ID_KEY's). Caller frees with
 * snapshot_import_progress_free().
 */
typedef struct snapshot_import_progress {
    char *schema;
    char *table;
    char *status;
    int64_t imported;
    int64_t total;
    int64_t export_total;
} snapshot_import_progress;
bool snapshot_import_progress_load(catalog *m, const char *role, snapshot_import_progress **out,
                                   size_t *n);
void snapshot_import_progress_free(snapshot_import_progress *rows, size_t n);

#endif
