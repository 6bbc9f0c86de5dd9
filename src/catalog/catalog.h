/*
 * The catalog: the metadata store of an export dir, metainfo/meta.db (SQLite,
 * WAL mode). Several processes of one migration open it at once; every write
 * is a short transaction, and readers never block the writer.
 *
 * This module (src/catalog/) is the only code that talks to SQLite: its
 * tables are all created in catalog_schema.c, and the rest of the program
 * reads and writes them through typed accessors (catalog/<area>.h). An
 * accessor finishes every statement it starts before it returns: a statement
 * left open on a row holds a read snapshot that makes the next write fail
 * with "database is locked" while another process writes.
 *
 * The migration status record is one JSON object (yb-voyager's field names:
 * MigrationUUID, SourceDBConf, ExportSchemaDone, CutoverToTargetRequested, ...)
 * updated atomically with catalog_status_update().
 */
#ifndef VOYAGER_CATALOG_CATALOG_H
#define VOYAGER_CATALOG_CATALOG_H

#include <cjson/cJSON.h>
#include <stdbool.h>

typedef struct catalog catalog;

/* Open or create; creates the status record with a new migration UUID. NULL on error (logged). */
catalog *catalog_open(const char *path);
void catalog_close(catalog *m);
const char *catalog_migration_uuid(const catalog *m);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK with the store's busy handling. */
bool catalog_begin(catalog *m);
bool catalog_commit(catalog *m);
void catalog_rollback(catalog *m);

/* A copy of the status record; caller frees with cJSON_Delete(). NULL on error. */
cJSON *catalog_status_load(catalog *m);
/*
 * Atomic read-modify-write of the status record: fn edits rec in place and
 * returns true to commit, false to roll back (then update returns false).
 */
typedef bool (*catalog_status_fn)(cJSON *rec, void *arg);
bool catalog_status_update(catalog *m, catalog_status_fn fn, void *arg);
bool catalog_status_set_bool(catalog *m, const char *key, bool value);
bool catalog_status_set_string(catalog *m, const char *key, const char *value);
/* Sets key to a copy of value (which the caller keeps). */
bool catalog_status_set_json(catalog *m, const char *key, const cJSON *value);
bool catalog_status_get_bool(catalog *m, const char *key);
/* Caller frees; NULL when missing. */
char *catalog_status_get_string(catalog *m, const char *key);

#endif
