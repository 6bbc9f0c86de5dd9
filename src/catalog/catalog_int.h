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
/*
 * The first row of sql (parameters as catalog_run's), if any, handed to fill
 * with row; *found says whether there was one. The statement is finished
 * before returning: a statement left on its row holds a read snapshot that
 * fails the caller's next write ("database is locked"). False on an error
 * (logged as catalog_load_rows logs it, not logged when what is NULL: a
 * polling read asked again a moment later; fill was not called).
 */
bool catalog_load_row(catalog *m, const char *what, void (*fill)(sqlite3_stmt *st, void *row),
                      void *row, bool *found, const char *sql, const char *types, ...);

/* A text column as a new string, NULL for NULL (caller frees). */
char *catalog_column_dup(sqlite3_stmt *st, int col);

/* Log a failed step of the store (a full disk gets its advice). */
void catalog_log_error(catalog *m, const char *what);

/* Create every table, or bring an older store up to date (catalog_schema.c). */
bool catalog_schema_ensure(catalog *m);

#endif
