/* util, fsutil, catalog, lock, export dir. */
#include "testlib.h"

#include "core/dir_watch.h"
#include "core/exportdir.h"
#include "core/fsutil.h"
#include "core/key_parts.h"
#include "core/lock.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

TEST(util_parse_bool_and_int)
{
    bool b;
    CHECK(parse_bool("Yes", &b) && b);
    CHECK(parse_bool("0", &b) && !b);
    CHECK(!parse_bool("", &b));
    CHECK(!parse_bool("2", &b));
    int64_t v;
    CHECK(parse_int64("42", 0, 100, &v) && v == 42);
    CHECK(!parse_int64("101", 0, 100, &v));
    CHECK(!parse_int64("4x", 0, 100, &v));
    CHECK(!parse_int64("", 0, 100, &v));
}

TEST(util_strlist_split_trims_and_drops_empty)
{
    strlist l = STRLIST_INIT;
    strlist_split(&l, " a , b,,c ", ',');
    CHECK_INT_EQ(l.count, 3);
    CHECK_STR_EQ(l.items[0], "a");
    CHECK_STR_EQ(l.items[2], "c");
    CHECK(l.items[3] == NULL);
    strlist_free(&l);
}

TEST(util_str_take_quoted)
{
    const char *in = "a``b`` c`.rest", *p = in, *end = in + strlen(in);
    strbuf sb = STRBUF_INIT;
    CHECK(str_take_quoted(&p, end, '`', &sb));
    CHECK_STR_EQ(sb.data, "a`b` c");
    CHECK_STR_EQ(p, ".rest");
    strbuf_reset(&sb);
    const char *open = "no end``", *q = open;
    bool closed = str_take_quoted(&q, open + strlen(open), '`', &sb);
    strbuf_free(&sb);
    CHECK(!closed);
    CHECK(q == open);
}

TEST(util_strbuf_append_int_as_printf)
{
    const long long vs[] = {0, 7, -1, 10, 1234567890123LL, -9223372036854775807LL - 1,
                            9223372036854775807LL};
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        strbuf a = STRBUF_INIT, b = STRBUF_INIT;
        strbuf_append(&a, "x");
        strbuf_append_int(&a, vs[i]);
        strbuf_appendf(&b, "x%lld", vs[i]);
        CHECK_STR_EQ(a.data, b.data);
        CHECK_INT_EQ(a.len, b.len);
        strbuf_free(&a);
        strbuf_free(&b);
    }
}

TEST(util_uuid_v4_format)
{
    char a[37], b[37];
    CHECK(uuid_v4(a) && uuid_v4(b));
    CHECK_INT_EQ(strlen(a), 36);
    CHECK(a[14] == '4');
    CHECK(strcmp(a, b) != 0);
}

TEST(fsutil_write_atomic_replaces_content)
{
    char *dir = test_tmpdir();
    char *p = xasprintf("%s/f.json", dir);
    CHECK(fs_write_atomic(p, "one", 3));
    CHECK(fs_write_atomic(p, "second", 6));
    char *got;
    size_t n;
    CHECK(fs_read_all(p, &got, &n));
    CHECK_STR_EQ(got, "second");
    CHECK_INT_EQ(n, 6);
    free(got);
    CHECK(fs_dir_is_empty(dir) == false);
    free(p);
    free(dir);
}

/* archive changes publishes a segment with it: a file already at the name is never replaced */
TEST(fsutil_rename_noreplace_and_same_bytes)
{
    char *dir = test_tmpdir();
    char *a = xasprintf("%s/a", dir), *b = xasprintf("%s/b", dir), *c = xasprintf("%s/c", dir);
    CHECK(fs_write_atomic(a, "segment", 7));
    CHECK(fs_write_atomic(b, "another", 7));
    CHECK(!fs_rename_noreplace(a, b));
    CHECK_INT_EQ(errno, EEXIST);
    char *got;
    size_t n;
    CHECK(fs_read_all(b, &got, &n));
    CHECK_STR_EQ(got, "another"); /* not replaced */
    free(got);
    CHECK(fs_exists(a));          /* and the source is left as it was */
    bool same = true;
    CHECK(fs_same_bytes(a, b, &same) && !same); /* same size, other bytes */
    CHECK(fs_rename_noreplace(a, c));
    CHECK(!fs_exists(a));
    CHECK(fs_write_atomic(a, "segment", 7));
    CHECK(fs_same_bytes(a, c, &same) && same);
    CHECK(fs_write_atomic(a, "segment and more", 16));
    CHECK(fs_same_bytes(a, c, &same) && !same); /* a longer file */
    CHECK(!fs_same_bytes(a, "/no/such/file", &same) && !same);
    free(a);
    free(b);
    free(c);
    free(dir);
}

TEST(dir_watch_wakes_on_a_write_in_its_directory_only)
{
    char *dir = test_tmpdir();
    dir_watch *w = dir_watch_open(dir);
    CHECK(w != NULL);
    CHECK(!dir_watch_wait(w, 0)); /* nothing yet: the timeout ends it */
    char *p = xasprintf("%s/meta.db", dir);
    CHECK(fs_write_atomic(p, "x", 1));
    CHECK(dir_watch_wait(w, 1000));
    CHECK(!dir_watch_wait(w, 0)); /* the events were drained */
    char *sub = xasprintf("%s/other", dir);
    CHECK(mkdir(sub, 0700) == 0);
    CHECK(dir_watch_wait(w, 1000)); /* created in it */
    char *deep = xasprintf("%s/f", sub);
    CHECK(fs_write_atomic(deep, "y", 1));
    CHECK(!dir_watch_wait(w, 50)); /* a subdirectory's files are not watched */
    dir_watch_close(w);
    CHECK(dir_watch_open("/nonexistent/voyager-dir") == NULL);
    free(deep);
    free(sub);
    free(p);
    free(dir);
}

TEST(exportdir_creates_layout_with_mode_0700)
{
    char *dir = test_tmpdir();
    char *abs = exportdir_prepare(dir);
    CHECK(abs != NULL);
    for (int i = 0; exportdir_subdirs[i]; i++) {
        char *p = xasprintf("%s/%s", dir, exportdir_subdirs[i]);
        struct stat st;
        CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
        CHECK_INT_EQ(st.st_mode & 0777, 0700);
        free(p);
    }
    /* second time: fine, nothing changes */
    char *again = exportdir_prepare(dir);
    CHECK_STR_EQ(again, abs);
    free(again);
    free(abs);
    free(dir);
}

TEST(exportdir_errors)
{
    CHECK(exportdir_prepare("/nonexistent/voyager/dir") == NULL);
    CHECK(exportdir_prepare("") == NULL);
    char *dir = test_tmpdir();
    char *file = xasprintf("%s/plainfile", dir);
    CHECK(fs_write_atomic(file, "x", 1));
    CHECK(exportdir_prepare(file) == NULL); /* not a directory */
    if (geteuid() != 0) {                   /* root can write anywhere */
        char *ro = xasprintf("%s/ro", dir);
        mkdir(ro, 0500);
        CHECK(exportdir_prepare(ro) == NULL);
        free(ro);
    }
    free(file);
    free(dir);
}

TEST(catalog_status_record_round_trip)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(path);
    CHECK(m != NULL);
    char uuid[37];
    snprintf(uuid, sizeof uuid, "%s", catalog_migration_uuid(m));
    CHECK_INT_EQ(strlen(uuid), 36);
    CHECK(catalog_status_set_bool(m, "ExportSchemaDone", true));
    CHECK(catalog_status_set_string(m, "ExportType", "snapshot-and-changes"));
    cJSON *conf = cJSON_CreateObject();
    cJSON_AddStringToObject(conf, "Host", "h");
    CHECK(catalog_status_set_json(m, "SourceDBConf", conf));
    cJSON_Delete(conf);
    CHECK(catalog_status_set_bool(m, "ExportSchemaDone", false)); /* replace */
    catalog_close(m);

    /* reopen: the same migration, the same values */
    m = catalog_open(path);
    CHECK(m != NULL);
    CHECK_STR_EQ(catalog_migration_uuid(m), uuid);
    CHECK(!catalog_status_get_bool(m, "ExportSchemaDone"));
    char *t = catalog_status_get_string(m, "ExportType");
    CHECK_STR_EQ(t, "snapshot-and-changes");
    free(t);
    cJSON *rec = catalog_status_load(m);
    cJSON *h = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "SourceDBConf"), "Host");
    CHECK(cJSON_IsString(h) && strcmp(h->valuestring, "h") == 0);
    cJSON_Delete(rec);
    CHECK(catalog_status_get_string(m, "Missing") == NULL);
    catalog_close(m);
    free(path);
    free(dir);
}

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

TEST(catalog_and_log_files_are_private)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/meta.db", dir);
    char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
    char *logp = xasprintf("%s/x.log", dir);
    catalog *m = catalog_open(path);
    CHECK(m != NULL);
    CHECK(catalog_status_set_bool(m, "Written", true)); /* the WAL and its index exist now */
    CHECK_INT_EQ(mode_of(path), 0600);
    CHECK_INT_EQ(mode_of(wal), 0600);
    CHECK_INT_EQ(mode_of(shm), 0600);
    catalog_close(m);
    /* files of an older version, world-readable, are made private on open */
    CHECK(chmod(path, 0644) == 0);
    m = catalog_open(path);
    CHECK(m != NULL);
    CHECK_INT_EQ(mode_of(path), 0600);
    catalog_close(m);
    CHECK(log_open_file(logp));
    log_close();
    CHECK_INT_EQ(mode_of(logp), 0600);
    CHECK(chmod(logp, 0644) == 0);
    CHECK(log_open_file(logp));
    log_close();
    CHECK_INT_EQ(mode_of(logp), 0600);
    free(logp);
    free(wal);
    free(shm);
    free(path);
    free(dir);
}

static bool refuse(cJSON *rec, void *arg)
{
    (void)arg;
    cJSON_AddBoolToObject(rec, "ShouldNotStick", true);
    return false;
}

TEST(catalog_update_rolls_back_when_refused)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(path);
    CHECK(m != NULL);
    CHECK(!catalog_status_update(m, refuse, NULL));
    cJSON *rec = catalog_status_load(m);
    CHECK(cJSON_GetObjectItem(rec, "ShouldNotStick") == NULL);
    cJSON_Delete(rec);
    catalog_close(m);
    free(path);
    free(dir);
}

TEST(catalog_concurrent_writers_lose_no_update)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(path);
    CHECK(m != NULL);
    catalog_close(m);
    /*
     * Four processes each set 25 distinct keys at the same time. They report
     * through a pipe, not their exit code (which valgrind takes over).
     */
    pid_t kids[4];
    int fds[2];
    CHECK(pipe(fds) == 0);
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            catalog *c = catalog_open(path);
            bool good = c != NULL;
            for (int i = 0; good && i < 25; i++) {
                char key[32];
                snprintf(key, sizeof key, "k%d_%d", k, i);
                good = catalog_status_set_bool(c, key, true);
            }
            catalog_close(c);
            char r = good ? 'y' : 'n';
            _exit(write(fds[1], &r, 1) == 1 ? 0 : 1);
        }
    }
    close(fds[1]);
    int good = 0;
    char r;
    while (read(fds[0], &r, 1) == 1)
        good += r == 'y';
    close(fds[0]);
    for (int k = 0; k < 4; k++)
        waitpid(kids[k], NULL, 0);
    CHECK_INT_EQ(good, 4);
    m = catalog_open(path);
    cJSON *rec = catalog_status_load(m);
    CHECK_INT_EQ(cJSON_GetArraySize(rec), 100 + 2); /* + MigrationUUID, VoyagerVersion */
    cJSON_Delete(rec);
    catalog_close(m);
    free(path);
    free(dir);
}

TEST(lock_excludes_second_owner_and_is_released)
{
    char *dir = test_tmpdir();
    cmd_lock *a = cmd_lock_acquire(dir, "export-data-from-source");
    CHECK(a != NULL);
    pid_t pid = 0;
    CHECK(cmd_lock_is_held(dir, "export-data-from-source", &pid)); /* held, by us */
    CHECK_INT_EQ(pid, getpid());
    /* a child process cannot take it while we hold it */
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t kid = fork();
    if (kid == 0) {
        cmd_lock *b = cmd_lock_acquire(dir, "export-data-from-source");
        bool held = cmd_lock_is_held(dir, "export-data-from-source", &pid);
        char r = b == NULL && held && pid == getppid() ? 'y' : 'n';
        _exit(write(fds[1], &r, 1) == 1 ? 0 : 1);
    }
    close(fds[1]);
    char r = 0;
    CHECK(read(fds[0], &r, 1) == 1);
    close(fds[0]);
    waitpid(kid, NULL, 0);
    CHECK(r == 'y');
    /* other commands have their own lock */
    cmd_lock *other = cmd_lock_acquire(dir, "import-data-to-target");
    CHECK(other != NULL);
    cmd_lock_release(other);
    cmd_lock_release(a);
    cmd_lock *again = cmd_lock_acquire(dir, "export-data-from-source");
    CHECK(again != NULL);
    CHECK_INT_EQ(cmd_lock_stale_pid(again), 0);
    cmd_lock_release(again);
    free(dir);
}

TEST(lock_left_by_killed_process_is_taken_over)
{
    char *dir = test_tmpdir();
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    pid_t kid = fork();
    if (kid == 0) {
        cmd_lock *l = cmd_lock_acquire(dir, "import-data-to-target");
        char c = l ? 'y' : 'n';
        if (write(pipefd[1], &c, 1) != 1)
            _exit(1);
        pause(); /* killed with SIGKILL: no cleanup runs */
        _exit(0);
    }
    char c = 0;
    CHECK(read(pipefd[0], &c, 1) == 1 && c == 'y');
    close(pipefd[0]);
    close(pipefd[1]);
    pid_t pid = 0;
    CHECK(cmd_lock_is_held(dir, "import-data-to-target", &pid));
    CHECK_INT_EQ(pid, kid);
    CHECK(cmd_lock_acquire(dir, "import-data-to-target") == NULL);
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    CHECK(!cmd_lock_is_held(dir, "import-data-to-target", NULL));
    cmd_lock *l = cmd_lock_acquire(dir, "import-data-to-target");
    CHECK(l != NULL);
    CHECK_INT_EQ(cmd_lock_stale_pid(l), kid);
    cmd_lock_release(l);
    free(dir);
}

TEST(log_report_writes_detail_and_hint_lines)
{
    test_log_begin(log_get_level());
    log_report(LOG_ERROR, "the slot holds 3 GB of WAL", "drop it with end migration", "cannot %s",
               "continue");
    log_report(LOG_ERROR, NULL, NULL, "plain");
    char *txt = test_log_end();
    CHECK(txt != NULL);
    const char *e = txt ? strstr(txt, "error: cannot continue\n") : NULL;
    const char *d = e ? strstr(e, "detail: the slot holds 3 GB of WAL\n") : NULL;
    const char *h = d ? strstr(d, "hint: drop it with end migration\n") : NULL;
    CHECK(e && d && h);
    CHECK(h && strstr(h, "error: plain\n") && !strstr(strstr(h, "error: plain\n"), "detail:"));
    free(txt);
}

/* key_part: lists of parts that a 0x1F join confuses give different keys. */
TEST(key_parts_keep_lists_apart)
{
    const char *lists[][3] = {
        {"x\x1f", "y", NULL}, {"x", "\x1fy", NULL}, {"x\x1fy", "", NULL}, {"", "x\x1fy", NULL},
        {"1:a", "", NULL},    {"1", "a", NULL},     {"a", "", NULL},      {"\x01", "", NULL},
    };
    bool null_second[] = {false, false, false, false, false, false, true, false};
    size_t n = ARRAY_LEN(lists);
    char *keys[ARRAY_LEN(lists)];
    size_t lens[ARRAY_LEN(lists)];
    for (size_t i = 0; i < n; i++) {
        strbuf k = STRBUF_INIT;
        key_part(&k, lists[i][0]);
        key_part(&k, null_second[i] ? NULL : lists[i][1]);
        lens[i] = k.len;
        keys[i] = strbuf_detach(&k);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (lens[i] == lens[j] && memcmp(keys[i], keys[j], lens[i]) == 0)
                test_fail(__FILE__, __LINE__, "lists %zu and %zu give one key", i, j);
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    strbuf k = STRBUF_INIT;
    key_part(&k, "ab");
    key_part(&k, NULL);
    CHECK_STR_EQ(k.data, "2:ab-");
    strbuf_free(&k);
}
