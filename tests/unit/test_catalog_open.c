/*
 * catalog_open on a new meta.db another process is writing: switching the
 * store to WAL fails at once with SQLITE_BUSY (not through the busy timeout)
 * while the other holds its write lock; catalog_open must wait it out, as it
 * would for any other write, and leave one status record.
 */
#include "testlib.h"

#include "catalog/catalog_int.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * In a child: hold a write transaction on path for hold_ms, say so on fd once
 * held ('y'), then say whether the COMMIT went through ('c'). The result goes
 * through the pipe, not the exit status: under valgrind --error-exitcode a
 * forked child's exit status reports the leak check of the parent's heap.
 */
static void hold_write_lock(const char *path, int fd, long hold_ms)
{
    sqlite3 *db = NULL;
    /* The COMMIT needs the other side's read lock gone: wait for it, as any writer would. */
    int ok = sqlite3_open(path, &db) == SQLITE_OK && sqlite3_busy_timeout(db, 30000) == SQLITE_OK &&
             sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    char c = ok ? 'y' : 'n';
    if (write(fd, &c, 1) != 1)
        ok = 0;
    nanosleep(&(struct timespec){.tv_sec = hold_ms / 1000, .tv_nsec = hold_ms % 1000 * 1000000}, NULL);
    ok = ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    c = ok ? 'c' : 'n';
    _exit(write(fd, &c, 1) == 1 ? 0 : 1);
}

TEST(catalog_open_waits_for_a_writer_of_a_new_store)
{
    char *dir = test_tmpdir();
    char *p = xasprintf("%s/meta.db", dir);
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        hold_write_lock(p, fds[1], 400);
    }
    close(fds[1]);
    char c = 0;
    CHECK(read(fds[0], &c, 1) == 1 && c == 'y');

    int64_t t0 = now_monotonic_ms();
    catalog *m = catalog_open(p);
    CHECK(m != NULL);
    CHECK(now_monotonic_ms() - t0 < 20000);
    CHECK(read(fds[0], &c, 1) == 1 && c == 'c');
    close(fds[0]);
    CHECK(waitpid(pid, NULL, 0) == pid);
    if (m) {
        long long n = -1;
        CHECK(catalog_run(m, &n, "SELECT count(*) FROM migration_status", ""));
        CHECK_INT_EQ(n, 1);
        sqlite3_stmt *st = NULL;
        CHECK(sqlite3_prepare_v2(catalog_sqlite(m), "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
        CHECK(sqlite3_step(st) == SQLITE_ROW);
        CHECK_STR_EQ((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        CHECK(strlen(catalog_migration_uuid(m)) == 36);
    }
    catalog_close(m);
    free(p);
    free(dir);
}
