#include "catalog/schema_state.h"
#include "catalog/catalog_int.h"

#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>

bool schema_progress_forget(catalog *m, const char *target, const char *const *files, size_t n,
                            bool postponed_too)
{
    static const char *const sqls[] = {
        "DELETE FROM schema_import_progress WHERE target = ? AND file = ?",
        "DELETE FROM schema_import_postponed WHERE target = ? AND file = ?"};
    for (size_t i = 0; i < n; i++)
        for (size_t q = 0; q < ARRAY_LEN(sqls); q++)
            if (!catalog_run(m, NULL, sqls[q], "ss", target, files[i]))
                return false;
    return !postponed_too ||
           catalog_run(m, NULL,
                       "DELETE FROM schema_import_progress WHERE target = ?1 AND EXISTS (SELECT 1 FROM "
                       "schema_import_postponed p WHERE p.target = ?1 AND p.file = schema_import_progress.file "
                       "AND p.stmt_hash = schema_import_progress.stmt_hash AND p.nth = schema_import_progress.nth)",
                       "s", target);
}

static bool bind_key(sqlite3 *db, const char *sql, const schema_stmt_key *k, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(*st, 1, k->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(*st, 2, k->file, -1, SQLITE_STATIC);
    sqlite3_bind_text(*st, 3, k->hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(*st, 4, k->nth);
    return true;
}

void schema_progress_get(catalog *m, const schema_stmt_key *k, char state[16])
{
    state[0] = '\0';
    sqlite3_stmt *st = NULL;
    if (!bind_key(catalog_sqlite(m),
                  "SELECT state FROM schema_import_progress "
                  "WHERE target = ? AND file = ? AND stmt_hash = ? AND nth = ?",
                  k, &st))
        return;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(state, 16, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

bool schema_progress_set(catalog *m, const schema_stmt_key *k, size_t stmt_index,
                         const char *state, const char *error)
{
    return catalog_run(m, NULL,
                       "INSERT OR REPLACE INTO schema_import_progress "
                       "(target, file, stmt_hash, nth, stmt_index, state, error, updated_ms) "
                       "VALUES (?,?,?,?,?,?,?,?)",
                       "sssiissi", k->target, k->file, k->hash, (long long)k->nth,
                       (long long)stmt_index, state, error, (long long)now_wall_ms());
}

bool schema_postponed_add(catalog *m, const schema_stmt_key *k)
{
    return catalog_run(m, NULL,
                       "INSERT OR IGNORE INTO schema_import_postponed (target, file, stmt_hash, nth) "
                       "VALUES (?,?,?,?)",
                       "sssi", k->target, k->file, k->hash, (long long)k->nth);
}

bool schema_postponed_has(catalog *m, const schema_stmt_key *k)
{
    sqlite3 *db = catalog_sqlite(m);
    sqlite3_stmt *st = NULL;
    if (!bind_key(db,
                  "SELECT 1 FROM schema_import_postponed "
                  "WHERE target = ? AND file = ? AND stmt_hash = ? AND nth = ?",
                  k, &st)) {
        log_warn("meta.db: cannot read the postponed statements: %s", sqlite3_errmsg(db));
        return false;
    }
    bool has = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return has;
}
