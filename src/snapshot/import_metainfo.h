/*
 * ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3 on the database
 * imported into: one row per committed batch, inserted in the batch's own
 * transaction. It is the only record of which batches committed.
 */
#ifndef VOYAGER_SNAPSHOT_IMPORT_METAINFO_H
#define VOYAGER_SNAPSHOT_IMPORT_METAINFO_H

#include "db/pgconn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct import_metainfo_row {
    char *file_name;
    int64_t batch_number;
    int64_t rows;
} import_metainfo_row;

/* Batches already committed for this migration, sorted for lookup. */
typedef struct import_metainfo_set {
    import_metainfo_row *items;
    size_t count;
} import_metainfo_set;

/* CREATE SCHEMA / TABLE IF NOT EXISTS. */
bool import_metainfo_create(pgconn *c);
bool import_metainfo_load(pgconn *c, const char *migration_uuid, import_metainfo_set *out);
bool import_metainfo_set_has(const import_metainfo_set *s, const char *file_name, int64_t batch,
                             int64_t *rows);
void import_metainfo_set_free(import_metainfo_set *s);
/* The INSERT of a batch's row, inside the caller's transaction. Caller PQclear()s. */
PGresult *import_metainfo_insert(pgconn *c, const char *migration_uuid, const char *file_name,
                                 int64_t batch, const char *schema, const char *table, int64_t rows);
bool import_metainfo_delete_table(pgconn *c, const char *migration_uuid, const char *schema,
                                  const char *table);
/*
 * Take back everything this migration imported into a table, in one
 * transaction: when it has committed batches, empty the table (TRUNCATE, or
 * DELETE when a foreign key forbids TRUNCATE) and delete their rows. For a
 * table whose data files were exported again from a new snapshot.
 * *rows_removed: the rows those batches had loaded.
 */
bool import_metainfo_undo_table(pgconn *c, const char *migration_uuid, const char *schema,
                                const char *table, int64_t *rows_removed);

#endif
