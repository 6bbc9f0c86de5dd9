/*
 * Inside the catalog module only (src/catalog/): the SQLite handle and the
 * statement helpers the typed accessors are written with. Nothing outside
 * src/catalog/ includes this file.
 */
#ifndef VOYAGER_CATALOG_CATALOG_INT_H
#define VOYAGER_CATALOG_CATALOG_INT_H

#include "catalog/catalog.h"

#include <sqlite3.h>

sqlite3 *catalog_sqlite(catalog *m);

/* Run SQL with no result rows; logs and returns false on error. */
bool catalog_exec(catalog *m, const char *sql);
/*
 * Run one statement with bound parameters: types has one letter per parameter,
 * 'i' (long long) or 's' (const char *, may be NULL). When out is given, the
 * first column of the last row is stored there (untouched when no row or NULL).
 * Logs and returns false on error.
 */
bool catalog_run(catalog *m, long long *out, const char *sql, const char *types, ...);

/*
 * Every row of sql (?1 bound to text arg unless NULL), each made into an
 * elem-sized element of a new array by fill (from a zeroed element): all rows
 * or none. The statement is finished before returning, so no read snapshot
 * outlives the call. On an error (logged as "cannot read <what>"), dispose
 * frees what fill had set and *out is NULL. *out is the caller's to free.
 */
bool catalog_load_rows(catalog *m, const char *sql, const char *arg, const char *what, size_t elem,
                       void (*fill)(sqlite3_stmt *st, void *row),
                       void (*dispose)(void *rows, size_t n), void **out, size_t *n);

/* Log a failed step of the store (a full disk gets its advice). */
void catalog_log_error(catalog *m, const char *what);

/* Create every table, or bring an older store up to date (catalog_schema.c). */
bool catalog_schema_ensure(catalog *m);

#endif
