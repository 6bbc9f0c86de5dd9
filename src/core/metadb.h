/*
 * The metadata store of an export dir: metainfo/meta.db (SQLite, WAL mode).
 * Several processes of one migration open it at once; every write is a short
 * transaction, and readers never block the writer.
 *
 * The migration status record is one JSON object (yb-voyager's field names:
 * MigrationUUID, SourceDBConf, ExportSchemaDone, CutoverToTargetRequested, ...)
 * updated atomically with metadb_status_update(). Modules that need tables of
 * their own create them with metadb_exec() (CREATE TABLE IF NOT EXISTS).
 */
#ifndef VOYAGER_CORE_METADB_H
#define VOYAGER_CORE_METADB_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdbool.h>

typedef struct metadb metadb;

/* Open or create; creates the status record with a new migration UUID. NULL on error (logged). */
metadb *metadb_open(const char *path);
void metadb_close(metadb *m);
sqlite3 *metadb_sqlite(metadb *m);
const char *metadb_migration_uuid(const metadb *m);

/* Run SQL with no result rows; logs and returns false on error. */
bool metadb_exec(metadb *m, const char *sql);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK with the store's busy handling. */
/*
 * Run one statement with bound parameters: types has one letter per parameter,
 * 'i' (long long) or 's' (const char *, may be NULL). When out is given, the
 * first column of the last row is stored there (untouched when no row or NULL).
 * Logs and returns false on error.
 */
bool metadb_run(metadb *m, long long *out, const char *sql, const char *types, ...);
bool metadb_begin(metadb *m);
bool metadb_commit(metadb *m);
void metadb_rollback(metadb *m);

/* A copy of the status record; caller frees with cJSON_Delete(). NULL on error. */
cJSON *metadb_status_load(metadb *m);
/*
 * Atomic read-modify-write of the status record: fn edits rec in place and
 * returns true to commit, false to roll back (then update returns false).
 */
typedef bool (*metadb_status_fn)(cJSON *rec, void *arg);
bool metadb_status_update(metadb *m, metadb_status_fn fn, void *arg);
bool metadb_status_set_bool(metadb *m, const char *key, bool value);
bool metadb_status_set_string(metadb *m, const char *key, const char *value);
/* Sets key to a copy of value (which the caller keeps). */
bool metadb_status_set_json(metadb *m, const char *key, const cJSON *value);
bool metadb_status_get_bool(metadb *m, const char *key);
/* Caller frees; NULL when missing. */
char *metadb_status_get_string(metadb *m, const char *key);

#endif
