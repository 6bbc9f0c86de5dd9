/*
 * import schema's progress in meta.db (see schema/schema_import.h for what the
 * states mean):
 *   schema_import_progress: the state of each statement applied to a target;
 *   schema_import_postponed: the pre-data statements left for the post-data run.
 * A statement is keyed by target ("host:port/dbname"), file (relative to
 * schema/), the hash of its text and which occurrence of that text it is in
 * the file. Every function finishes its statements before returning.
 */
#ifndef VOYAGER_CATALOG_SCHEMA_STATE_H
#define VOYAGER_CATALOG_SCHEMA_STATE_H

#include "catalog/catalog.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct schema_stmt_key {
    const char *target;
    const char *file;
    const char *hash;
    int nth;
} schema_stmt_key;

/*
 * Forget the progress and the postponed statements of files[0..n) on target
 * (--start-clean). With postponed_too also the progress of every statement
 * postponed to the post-data run, which that run applies again. Logs on error.
 */
bool schema_progress_forget(catalog *m, const char *target, const char *const *files, size_t n,
                            bool postponed_too);

/* The recorded state of a statement into state ("" when never tried, or unreadable). */
void schema_progress_get(catalog *m, const schema_stmt_key *k, char state[16]);
/* Record a statement's state (error may be NULL), with its index in the file. Logs on error. */
bool schema_progress_set(catalog *m, const schema_stmt_key *k, size_t stmt_index,
                         const char *state, const char *error);

/* Record a statement as postponed to the post-data run. Logs on error. */
bool schema_postponed_add(catalog *m, const schema_stmt_key *k);
/* Was it postponed? False (after a warning) when meta.db cannot be read. */
bool schema_postponed_has(catalog *m, const schema_stmt_key *k);

#endif
