/*
 * What the migration-wide commands keep in, and read from, meta.db:
 *   sequence_last_values: sequence values handed from exporters to importers
 *     (phase "snapshot", or the cutover op of a draining exporter);
 *   queue_segment: archive changes reads each segment's state and marks the
 *     ones it moved or deleted (columns archived, deleted, archive_location);
 *   snapshot_export_table, queue_table_counts: what get data-migration-report
 *     counts per table;
 *   and the check, before meta.db is opened, that it knows the files of the
 *     export dir (cli/export_dir_guard.c).
 * Every function finishes its statements before returning; returned arrays
 * are owned by the caller and freed with the matching _free function.
 */
#ifndef VOYAGER_CATALOG_MIGRATION_STATE_H
#define VOYAGER_CATALOG_MIGRATION_STATE_H

#include "catalog/catalog.h"

#include <stdbool.h>
#include <stddef.h>

/* ---- sequence_last_values ---- */

typedef struct sequence_value {
    char *schema;
    char *name;
    long long last_value;
    bool is_called;
} sequence_value;

/* Record values[0..n) for phase, replacing earlier values, in one transaction. Logs on error. */
bool sequence_values_save(catalog *m, const char *phase, const sequence_value *values, size_t n);
/*
 * The values recorded for phase, ordered by schema and name, into *out
 * (caller frees with sequence_values_free; NULL when none). Logs on error.
 */
bool sequence_values_load(catalog *m, const char *phase, sequence_value **out, size_t *n);
void sequence_values_free(sequence_value *values, size_t n);

/* ---- queue_segment, for archive changes ---- */

typedef struct queue_segment_state {
    long long segment_no;
    char *file_path;     /* relative to the export dir; NULL when unset */
    char *exporter_role; /* NULL when unset */
    bool closed;
    bool imported_by_target, imported_by_source_replica, imported_by_source;
    bool archived, deleted;
} queue_segment_state;

/* Every segment, by number, into *out (caller frees with queue_segment_states_free). Logs on error. */
bool queue_segment_states_load(catalog *m, queue_segment_state **out, size_t *n);
void queue_segment_states_free(queue_segment_state *segs, size_t n);

/*
 * Mark segment no as gone: archived (location: where it went) or deleted
 * (location NULL). In the transaction that marks, the segment must still be
 * eligible: a source-replica registered since the caller chose it (status
 * record FallForwardEnabled, set under the same write lock) or an importer
 * that started over (its applied flags reset) may need it; then nothing
 * changes and *kept is set. False after logging a meta.db error.
 */
bool queue_segment_mark_gone(catalog *m, long long no, bool archived, const char *location,
                             bool *kept);

/* ---- what get data-migration-report counts ---- */

typedef struct exported_table {
    char *schema;
    char *table;
    char *status;       /* SNAP_* of catalog/snapshot_state.h */
    long long rows;     /* exported so far */
} exported_table;

/* snapshot_export_table by schema and table, into *out (caller frees with exported_tables_free). */
bool exported_tables_load(catalog *m, exported_table **out, size_t *n);
void exported_tables_free(exported_table *t, size_t n);

typedef struct queue_table_count {
    char *exporter_role;
    char *schema;
    char *table;
    long long inserts, updates, deletes;
} queue_table_count;

/* queue_table_counts, every exporter and table, into *out (caller frees with queue_table_counts_free). */
bool queue_table_counts_load(catalog *m, queue_table_count **out, size_t *n);
void queue_table_counts_free(queue_table_count *c, size_t n);

/* ---- does meta.db know the export dir's files? ---- */

typedef enum catalog_records {
    CATALOG_RECORDS_OK = 0,
    CATALOG_RECORDS_CANNOT_OPEN,     /* see *detail */
    CATALOG_RECORDS_UNREADABLE,      /* opened, but a read failed: see *detail */
    CATALOG_RECORDS_NO_SEGMENT,      /* no row for segment *missing */
    CATALOG_RECORDS_NO_TABLES,       /* data files, but no exported table recorded */
} catalog_records;

/*
 * Check the meta.db at path, without creating or migrating it (it runs
 * before catalog_open), against what the export dir holds: a row for each
 * of segments[0..nsegments), and, when has_data_files, at least one exported
 * table (tables are recorded before any of their files is written). Stops
 * at the first thing missing. *detail (caller frees; NULL unless
 * CANNOT_OPEN or UNREADABLE) is SQLite's message.
 */
catalog_records catalog_check_records(const char *path, const long long *segments,
                                      size_t nsegments, bool has_data_files, long long *missing,
                                      char **detail);

#endif
