#include "catalog/catalog_int.h"

#include "core/log.h"
#include "core/util.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct catalog {
    sqlite3 *db;
    char uuid[37];
};

/* How long a process waits for another one's hold on the store, in all cases. */
#define CATALOG_BUSY_MS 30000

/* A full disk gets the same advice everywhere: what to do, and that a rerun is safe. */
static void log_db_error(sqlite3 *db, const char *msg)
{
    if (sqlite3_errcode(db) == SQLITE_FULL)
        log_report(LOG_ERROR, NULL,
                   "free space on the export dir's file system and run the same command again",
                   "metadata store (meta.db): %s (No space left on device)", msg);
    else
        log_error("metadata store (meta.db): %s", msg);
}

void catalog_log_error(catalog *m, const char *what)
{
    log_db_error(m->db, what ? what : sqlite3_errmsg(m->db));
}

bool catalog_exec(catalog *m, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(m->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_db_error(m->db, err ? err : sqlite3_errmsg(m->db));
        sqlite3_free(err);
        return false;
    }
    return true;
}

bool catalog_begin(catalog *m) { return catalog_exec(m, "BEGIN IMMEDIATE"); }
bool catalog_commit(catalog *m) { return catalog_exec(m, "COMMIT"); }
void catalog_rollback(catalog *m) { sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL); }

sqlite3 *catalog_sqlite(catalog *m) { return m->db; }
const char *catalog_migration_uuid(const catalog *m) { return m->uuid; }

static cJSON *load_record(catalog *m)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(m->db, "SELECT record FROM migration_status WHERE id = 1", -1, &st,
                           NULL) != SQLITE_OK) {
        log_error("metadata store (meta.db): %s", sqlite3_errmsg(m->db));
        return NULL;
    }
    cJSON *rec = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *txt = (const char *)sqlite3_column_text(st, 0);
        rec = cJSON_Parse(txt ? txt : "");
        if (!rec)
            log_error("metadata store (meta.db): the migration status record is corrupt");
    } else if (rc == SQLITE_DONE) {
        rec = cJSON_CreateObject();
    } else {
        log_error("metadata store (meta.db): %s", sqlite3_errmsg(m->db));
    }
    sqlite3_finalize(st);
    return rec;
}

static bool store_record(catalog *m, const cJSON *rec)
{
    char *txt = cJSON_PrintUnformatted(rec);
    sqlite3_stmt *st;
    bool ok = false;
    if (sqlite3_prepare_v2(m->db,
                           "INSERT INTO migration_status(id, record) VALUES (1, ?1) "
                           "ON CONFLICT(id) DO UPDATE SET record = excluded.record",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, txt, -1, SQLITE_TRANSIENT);
        ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
    }
    if (!ok)
        log_db_error(m->db, sqlite3_errmsg(m->db));
    free(txt);
    return ok;
}

bool catalog_status_update(catalog *m, catalog_status_fn fn, void *arg)
{
    if (!catalog_begin(m))
        return false;
    cJSON *rec = load_record(m);
    if (!rec || !fn(rec, arg) || !store_record(m, rec)) {
        cJSON_Delete(rec);
        catalog_rollback(m);
        return false;
    }
    cJSON_Delete(rec);
    return catalog_commit(m);
}

cJSON *catalog_status_load(catalog *m)
{
    return load_record(m);
}

static bool init_uuid(cJSON *rec, void *arg)
{
    catalog *m = arg;
    cJSON *u = cJSON_GetObjectItemCaseSensitive(rec, "MigrationUUID");
    if (cJSON_IsString(u) && strlen(u->valuestring) == 36) {
        memcpy(m->uuid, u->valuestring, 37);
        return true;
    }
    if (!uuid_v4(m->uuid)) {
        log_error("cannot read /dev/urandom to make a migration UUID");
        return false;
    }
    cJSON_AddStringToObject(rec, "MigrationUUID", m->uuid);
    cJSON_AddStringToObject(rec, "VoyagerVersion", VOYAGER_VERSION);
    return true;
}

/* Drop group and other access from path when it exists (left by an older version). */
static void restrict_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        (void)chmod(path, st.st_mode & 0700);
}

/*
 * meta.db holds the migration's state and its tables' names: 0600 like the
 * data. SQLite would create it 0644; created here first, it keeps 0600, and
 * SQLite gives -wal and -shm the database file's mode.
 */
static void create_private(const char *path)
{
    int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    restrict_mode(path);
    char *side = xasprintf("%s-wal", path);
    restrict_mode(side);
    free(side);
    side = xasprintf("%s-shm", path);
    restrict_mode(side);
    free(side);
}

/*
 * Switching a store to WAL reads its header, then rewrites it: when another
 * process is writing the store (the same switch on the same new meta.db, as
 * export data and import data started together do), SQLite fails the upgrade
 * from read to write with SQLITE_BUSY at once, not through the busy handler,
 * which would wait holding a read lock. The switch is idempotent (a store
 * already in WAL is left as it is; nothing else is written), so it is asked
 * again, for as long as the busy timeout would have waited.
 */
static bool set_wal(catalog *m)
{
    int64_t deadline = now_monotonic_ms() + CATALOG_BUSY_MS;
    for (;;) {
        int rc = sqlite3_exec(m->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return true;
        if ((rc & 0xff) != SQLITE_BUSY || now_monotonic_ms() >= deadline) {
            log_db_error(m->db, sqlite3_errmsg(m->db));
            return false;
        }
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
}

catalog *catalog_open(const char *path)
{
    create_private(path);
    catalog *m = xcalloc(1, sizeof *m);
    if (sqlite3_open_v2(path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        log_report(LOG_ERROR, NULL, "check the export dir's permissions",
                   "cannot open the metadata store %s: %s", path,
                   m->db ? sqlite3_errmsg(m->db) : "out of memory");
        sqlite3_close(m->db);
        free(m);
        return NULL;
    }
    /* Other voyager processes may hold the write lock for a moment. */
    sqlite3_busy_timeout(m->db, CATALOG_BUSY_MS);
    if (!set_wal(m) || !catalog_exec(m, "PRAGMA synchronous=FULL") ||
        !catalog_schema_ensure(m) || !catalog_status_update(m, init_uuid, m)) {
        catalog_close(m);
        return NULL;
    }
    return m;
}

void catalog_close(catalog *m)
{
    if (!m)
        return;
    sqlite3_close(m->db);
    free(m);
}

static bool set_item(cJSON *rec, void *arg)
{
    cJSON **kv = arg; /* kv[0]: key as cJSON string, kv[1]: value to take */
    const char *key = kv[0]->valuestring;
    if (cJSON_GetObjectItemCaseSensitive(rec, key))
        cJSON_ReplaceItemInObjectCaseSensitive(rec, key, kv[1]);
    else
        cJSON_AddItemToObject(rec, key, kv[1]);
    kv[1] = NULL; /* now owned by rec */
    return true;
}

static bool set_owned(catalog *m, const char *key, cJSON *value)
{
    cJSON *k = cJSON_CreateString(key);
    cJSON *kv[2] = {k, value};
    bool ok = catalog_status_update(m, set_item, kv);
    cJSON_Delete(kv[1]);
    cJSON_Delete(k);
    return ok;
}

bool catalog_status_set_bool(catalog *m, const char *key, bool value)
{
    return set_owned(m, key, cJSON_CreateBool(value));
}

bool catalog_status_set_string(catalog *m, const char *key, const char *value)
{
    return set_owned(m, key, cJSON_CreateString(value));
}

bool catalog_status_set_json(catalog *m, const char *key, const cJSON *value)
{
    return set_owned(m, key, cJSON_Duplicate(value, 1));
}

bool catalog_status_get_bool(catalog *m, const char *key)
{
    cJSON *rec = load_record(m);
    bool v = rec && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, key));
    cJSON_Delete(rec);
    return v;
}

char *catalog_status_get_string(catalog *m, const char *key)
{
    cJSON *rec = load_record(m);
    cJSON *v = rec ? cJSON_GetObjectItemCaseSensitive(rec, key) : NULL;
    char *s = cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
    cJSON_Delete(rec);
    return s;
}

/* Bind parameters as types says: 'i' long long, 's' text (may be NULL). */
static void bind_params(sqlite3_stmt *st, const char *types, va_list ap)
{
    for (int i = 0; types[i]; i++) {
        if (types[i] == 'i')
            sqlite3_bind_int64(st, i + 1, va_arg(ap, long long));
        else
            sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
    }
}

bool catalog_run(catalog *m, long long *out, const char *sql, const char *types, ...)
{
    sqlite3 *db = catalog_sqlite(m);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("metadata store (meta.db): %s", sqlite3_errmsg(db));
        return false;
    }
    va_list ap;
    va_start(ap, types);
    bind_params(st, types, ap);
    va_end(ap);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (out && sqlite3_column_type(st, 0) != SQLITE_NULL)
            *out = sqlite3_column_int64(st, 0);
    bool ok = rc == SQLITE_DONE;
    if (!ok)
        log_db_error(db, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return ok;
}

char *catalog_column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    return v ? xstrdup((const char *)v) : NULL;
}

static void read_failed(catalog *m, const char *what)
{
    if (!what)
        return;
    char *msg = xasprintf("cannot read %s: %s", what, sqlite3_errmsg(m->db));
    catalog_log_error(m, msg);
    free(msg);
}

/*
 * Run sql with its parameters and hand every row to fill, which sets one
 * element of size elem: all rows into *out (grown here), the statement
 * finished before returning. On an error, nothing is returned (dispose frees
 * what fill had set) and the error is logged.
 */
static bool load_rows(catalog *m, const char *what, size_t elem,
                      void (*fill)(sqlite3_stmt *st, void *row),
                      void (*dispose)(void *rows, size_t n), void **out, size_t *n,
                      const char *sql, const char *types, va_list ap)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(m->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        bind_params(st, types, ap);
        size_t cap = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                *out = xrealloc(*out, cap * elem);
            }
            void *row = (char *)*out + (*n)++ * elem;
            memset(row, 0, elem);
            fill(st, row);
        }
    }
    bool ok = rc == SQLITE_DONE;
    if (!ok) {
        read_failed(m, what);
        dispose(*out, *n);
        *out = NULL;
        *n = 0;
    }
    sqlite3_finalize(st);
    return ok;
}

static bool load_rows_args(catalog *m, const char *what, size_t elem,
                           void (*fill)(sqlite3_stmt *st, void *row),
                           void (*dispose)(void *rows, size_t n), void **out, size_t *n,
                           const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    bool ok = load_rows(m, what, elem, fill, dispose, out, n, sql, types, ap);
    va_end(ap);
    return ok;
}

bool catalog_load_rows(catalog *m, const char *sql, const char *arg, const char *what, size_t elem,
                       void (*fill)(sqlite3_stmt *st, void *row),
                       void (*dispose)(void *rows, size_t n), void **out, size_t *n)
{
    return load_rows_args(m, what, elem, fill, dispose, out, n, sql, arg ? "s" : "", arg);
}

bool catalog_load_row(catalog *m, const char *what, void (*fill)(sqlite3_stmt *st, void *row),
                      void *row, bool *found, const char *sql, const char *types, ...)
{
    *found = false;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(m->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        va_list ap;
        va_start(ap, types);
        bind_params(st, types, ap);
        va_end(ap);
        /* a writer holding the store is waited for by the handle's busy timeout */
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            fill(st, row);
            *found = true;
        }
    }
    bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    if (!ok)
        read_failed(m, what);
    sqlite3_finalize(st);
    return ok;
}
