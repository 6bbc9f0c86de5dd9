/*
 * The source database's catalog as the snapshot exporter needs it: tables of
 * the selected schemas with their copyable columns and size estimates, and the
 * sequences whose values the importer restores.
 */
#ifndef VOYAGER_SNAPSHOT_SOURCE_TABLES_H
#define VOYAGER_SNAPSHOT_SOURCE_TABLES_H

#include "catalog/catalog.h"
#include "core/util.h"
#include "db/pgconn.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct src_table {
    char *schema;
    char *name;
    char relkind;          /* 'r' table, 'p' partitioned (copied through its root) */
    int64_t est_rows;      /* reltuples (summed over partitions), 0 when unknown */
    int64_t bytes;         /* heap size, for ctid splitting */
    int block_size;
    char *columns_json;    /* JSON array of the columns copied (no generated, no dropped) */
    char *column_list;     /* the same, quoted for SQL: "a", "B" ("" when none) */
} src_table;

typedef struct src_tables {
    src_table *items;
    size_t count;
} src_tables;

/*
 * Replace each --source-db-schema item by its catalog name: "Quoted" exactly,
 * unquoted exactly or else case-insensitively when that is unambiguous. Logs
 * an error naming a schema that does not exist.
 */
bool src_schemas_resolve(pgconn *c, strlist *schemas);

/*
 * Tables (relkind r and p, partitions only through their root) of the
 * NULL-terminated list of resolved schemas. Caller frees with src_tables_free().
 */
bool src_tables_list(pgconn *c, const char *const *schemas, src_tables *out);
void src_tables_free(src_tables *t);

/* data/<name>_data.sql naming: schema "public" omitted, '/', '.' and '%' escaped as %XX. Caller frees. */
char *src_table_file_base(const char *schema, const char *name);

#endif
